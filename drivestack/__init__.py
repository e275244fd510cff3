"""drivestack: an assisted-driving perception and planning stack.

``import drivestack`` stays light: it imports neither torch nor cupy. Heavy
backends load on first use inside the kernels that need them.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
