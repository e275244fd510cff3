"""Benchmarks that run drivestack and its peers side by side in one process and print ratios."""
