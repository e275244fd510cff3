"""drivestack.tracking."""
