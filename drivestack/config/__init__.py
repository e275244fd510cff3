"""drivestack.config."""
