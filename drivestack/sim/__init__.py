"""drivestack.sim."""
