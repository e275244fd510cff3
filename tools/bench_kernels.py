#!/usr/bin/env python3
"""Kernel benchmark, the same as ``drivestack bench kernels`` (drivestack/bench/kernels.py).

usage: tools/bench_kernels.py [--quick] [--repeats N] [--seed S] [--json FILE]

The options are ``drivestack bench``'s kernel options (``drivestack bench --help`` describes
them; its perception options do not apply here)."""

import sys

from drivestack.cli import main

if __name__ == "__main__":
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        sys.exit(0)
    sys.exit(main(["bench", "kernels", *sys.argv[1:]]))
