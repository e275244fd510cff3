"""drivestack.eval."""
