"""Number tokens of text files and typed values as C spells them.

Python's ``float`` / ``int`` accept more than the C ``strtod`` / ``strtol`` that the devkits,
numpy's ``loadtxt`` and XML Schema's ``xs:double`` / ``xs:integer`` do: ``1_0`` == 10,
non-ASCII digits such as ``"\\uff11"`` or Arabic-Indic digits, surrounding whitespace. A file
(or option) that other readers refuse would otherwise be read with made-up values, so every
reader of a number token goes through :func:`parse_float` / :func:`parse_int`.
"""

from __future__ import annotations

import re

#: A number token as C's ``strtod`` / ``strtol`` (and the C++ devkits and numpy's ``loadtxt``
#: of these text formats) spell it: ASCII digits, optional sign, fraction and exponent, or
#: ``inf`` / ``infinity`` / ``nan`` in any case. Python's ``float`` / ``int`` accept more
#: (``1_0`` == 10, non-ASCII digits such as ``"\uff11"``, surrounding whitespace), so a file
#: that other readers refuse would otherwise be read with made-up values.
FLOAT_TOKEN = r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[+-]?[0-9]+)?|inf(?:inity)?|nan)"
FLOAT_RE = re.compile(FLOAT_TOKEN, re.ASCII | re.IGNORECASE)
INT_RE = re.compile(r"[+-]?[0-9]+", re.ASCII)


def parse_float(token: str) -> float:
    """``float(token)`` for a C-spelled number (:data:`FLOAT_TOKEN`); ``ValueError`` for the
    Python-only spellings ``float`` would accept (``1_0``, non-ASCII digits, whitespace)."""
    if FLOAT_RE.fullmatch(token) is None:
        raise ValueError(f"could not convert string to float: {token!r}")
    return float(token)


def parse_int(token: str) -> int:
    """``int(token)`` for ASCII digits with an optional sign; ``ValueError`` for the
    Python-only spellings ``int`` would accept (``1_0``, non-ASCII digits, whitespace)."""
    if INT_RE.fullmatch(token) is None:
        raise ValueError(f"invalid literal for int() with base 10: {token!r}")
    return int(token)


def is_digits(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits ``0-9`` (``str.isdigit`` is also true for
    non-ASCII digits such as ``"\\uff11"`` and for superscripts, which ``int`` refuses)."""
    return text.isascii() and text.isdigit()
