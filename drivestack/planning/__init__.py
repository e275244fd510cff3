"""drivestack.planning."""
