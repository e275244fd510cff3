"""Defaults of the report's options, importable without the report's plotting (the command
line shows them in its help)."""

from __future__ import annotations

#: Runs drawn with bird's-eye and signal plots (regressions first).
DEFAULT_MAX_DETAIL = 24
#: Score drop (points of 0-100) that counts as a regression.
DEFAULT_SCORE_TOLERANCE = 1.0
