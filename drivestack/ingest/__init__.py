"""drivestack.ingest."""
