"""drivestack.prediction."""
