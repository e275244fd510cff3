#!/usr/bin/env python3
"""Kernel benchmark (same as ``drivestack bench kernels``); see drivestack/bench/kernels.py."""

import sys

from drivestack.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "kernels", *sys.argv[1:]]))
