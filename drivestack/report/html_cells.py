"""Table cells and images of the report page: numbers formatted (``–`` for undefined), sort
values in ``data-v`` for the page's sort script, inline images, key-value tables, the lines
naming what a comparison left out and where its baseline file is."""

from __future__ import annotations

import math
from collections.abc import Iterable
from html import escape
from typing import Any


def fmt(value: Any, digits: int = 2) -> str:
    """``value`` as cell text: ``–`` when undefined, yes / no, floats to ``digits``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return escape(str(value))


def sort_value(value: Any) -> str:
    """``value`` as a ``data-v`` attribute for the sort script (empty when undefined)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    return escape(str(value), quote=True)


def td(value: Any, digits: int = 2, css: str = "", sort: Any = "__same__") -> str:
    """A cell of ``value`` sorted by ``sort`` (by default the value itself)."""
    key = value if sort == "__same__" else sort
    cls = f' class="{css}"' if css else ""
    return f'<td{cls} data-v="{sort_value(key)}">{fmt(value, digits)}</td>'


def img(uri: str, alt: str) -> str:
    """An inline image (``uri``: a data URI of :func:`~drivestack.report.plots.to_data_uri`)."""
    return f'<img src="{uri}" alt="{escape(alt, quote=True)}">'


def kv_table(facts: Iterable[tuple[str, Any]]) -> str:
    """A two-column table of ``(name, value)`` lines (class ``kv``)."""
    rows = "".join(f"<tr><td>{escape(k)}</td><td class=l>{fmt(v)}</td></tr>" for k, v in facts)
    return f'<table class="kv">{rows}</table>'


def comparison_of(d: dict[str, Any], key: str, file: str) -> tuple[dict[str, Any], str] | None:
    """The comparison of the result ``file`` in the report's ``d[key]``
    (``detection_comparison``) and its baseline file as escaped ``base/file`` text; None when
    the result was not paired with one."""
    found = [c for c in d.get(key) or [] if c["file"] == file]
    if not found:
        return None
    c = found[0]
    base = d["baseline"]["path"] if d.get("baseline") else "the baseline"
    return c, f"{escape(base)}/{escape(c['baseline_file'])}"


def not_compared(
    only_in_run: list[str],
    only_in_baseline: list[str],
    other_params: list[str] | None = None,
    other_agents: list[str] | None = None,
) -> str:
    """The lines naming what only the run or only the baseline holds, the fleet variants
    in both that ran with other params and the runs in both whose recorded traffic ran
    another way (reactive / replay; not compared)."""
    return "".join(
        f"<p><b>{len(names)} {label}</b> (not compared): {escape(', '.join(names))}</p>"
        for label, names in (
            ("only in this run", only_in_run),
            ("only in the baseline", only_in_baseline),
            ("in both but run with other params", other_params or []),
            ("in both but with other recorded agents (reactive / replay)", other_agents or []),
        )
        if names
    )
