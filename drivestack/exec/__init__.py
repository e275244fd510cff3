"""drivestack.exec."""
