"""drivestack.replay."""
