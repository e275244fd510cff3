"""Where the optional real-data folder is: ``$DRIVESTACK_SHARED_DATA`` or ``../shared/data``."""

from __future__ import annotations

import os
from pathlib import Path


def default_shared_data() -> Path | None:
    """The shared real-data folder if it exists (env var first, then ``../shared/data`` of the cwd)."""
    env = os.environ.get("DRIVESTACK_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path.cwd().parent / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    return None
