"""How a command shows a Python warning: one ``warning: <message>`` line, not Python's
two-line form (``path.py:228: UserWarning: <message>`` and the source line), which is kept
with ``DRIVESTACK_DEBUG=1``.

The ``drivestack`` command line sets it while a command runs
(:func:`drivestack.cli.report_user_errors`), and so do the processes that run a fleet's
variants (the local pool's workers and Ray's tasks: :mod:`drivestack.exec.executors`), so
that a warning reads the same wherever the run happens. Python's default filter still
applies in each process: a given warning (same text, category and line) is shown once per
process, so a fleet shows it at most once per worker, not once per variant.
"""

from __future__ import annotations

import os
import warnings
from typing import Protocol

#: Set to 1 to see tracebacks of input errors and Python's own warning form.
DEBUG_ENV = "DRIVESTACK_DEBUG"


class Formatter(Protocol):
    """``warnings.formatwarning``'s signature."""

    def __call__(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        line: str | None = None,
    ) -> str: ...


def debug_enabled() -> bool:
    """Whether ``DRIVESTACK_DEBUG=1`` is set."""
    return os.environ.get(DEBUG_ENV) == "1"


def one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """``warning: <message>`` and a newline (``warnings.formatwarning``'s signature): what a
    user of a command needs, without the module path and source line.

    >>> one_line_warning(UserWarning("lane x ends early"), UserWarning, "/a/b.py", 3)
    'warning: lane x ends early\\n'
    """
    return f"warning: {message}\n"


def use_one_line_warnings(debug: bool | None = None) -> Formatter:
    """Show warnings as :func:`one_line_warning` from now on in this process, unless
    ``debug`` (default: :func:`debug_enabled`): then Python's form stays. Returns the
    formatter it replaced, to put back."""
    before: Formatter = warnings.formatwarning
    if not (debug_enabled() if debug is None else debug):
        warnings.formatwarning = one_line_warning
    return before
