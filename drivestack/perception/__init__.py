"""drivestack.perception."""
