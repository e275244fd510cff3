"""Defaults of the report's options, importable without the report's plotting (the command
line shows them in its help)."""

from __future__ import annotations

#: Runs drawn with bird's-eye and signal plots (regressions first).
DEFAULT_MAX_DETAIL = 24
#: Score drop (points of 0-100) that counts as a regression.
DEFAULT_SCORE_TOLERANCE = 1.0
#: Rise (metres) of a forecast's FDE or a planner's ADE that counts as a regression.
DEFAULT_ERROR_TOLERANCE_M = 0.1
