"""``import drivestack`` stays light: no torch, no cupy (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys


def test_import_drivestack_does_not_import_torch_or_cupy():
    code = (
        "import sys, drivestack, drivestack.core, drivestack.structures, drivestack.kernels, drivestack.cli;"
        "print(','.join(m for m in ('torch', 'cupy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""
