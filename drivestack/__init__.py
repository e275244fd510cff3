"""drivestack: an assisted-driving perception and planning stack.

``import drivestack`` stays light: it imports neither torch nor cupy. Heavy
backends load on first use inside the kernels that need them.
"""

from pathlib import Path as _Path

from drivestack._numba_cache import configure_numba_cache as _configure_numba_cache

__version__ = "0.1.0"

# compiled kernels cached per state of the sources (numba's own cache misses changes in the
# compiled functions a cached function calls from other modules): drivestack/_numba_cache.py
_configure_numba_cache(_Path(__file__).parent)

__all__ = ["__version__"]
