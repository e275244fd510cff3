"""The report's 2D detection results: ``drivestack eval detection2d``'s ``metrics.json``.

Its keys: ``source`` (the labels: a KITTI tracking folder or a label_2 folder),
``detections`` (the tracking mode's detection folder name, or the result folder),
``split`` (tracking mode; null in folder mode), ``filter`` (``min_height_px``,
``max_occlusion``, ``max_truncation``: the ground-truth filter), ``interpolation``
(``all-point``) and ``classes``: ``{class: {"iou_<t>": {"iou_threshold", "ap", "n_gt", "n_tp",
"n_fp", "n_ignored", "n_dropped", "max_recall"}}}`` (``ap`` and ``max_recall`` in 0-1, ``ap``
null over no labels), and the run provenance (``git_commit``, ``command``, ...).
:func:`read_detection2d` checks it (a bad field is a ``ValueError`` naming it) into one row per
class and threshold, which :func:`section` shows as a table.
"""

from __future__ import annotations

from html import escape
from typing import Any

from drivestack.report.fields import count, number, obj, text
from drivestack.report.html_cells import fmt, kv_table, td

#: The counts of a row, as metrics.json names them (the table's columns after the AP).
COUNTS = ("n_gt", "n_tp", "n_fp", "n_ignored", "n_dropped")
#: The ground-truth filter's settings.
FILTER_KEYS = ("min_height_px", "max_occlusion", "max_truncation")


def is_detection2d(data: object) -> bool:
    """Whether a metrics.json is ``drivestack eval detection2d``'s: ``interpolation``,
    ``filter`` and per-class ``classes`` (an object) at the top level."""
    return (
        isinstance(data, dict)
        and "interpolation" in data
        and isinstance(data.get("filter"), dict)
        and isinstance(data.get("classes"), dict)
    )


def read_detection2d(data: dict[str, Any]) -> dict[str, Any]:
    """The checked result: ``source``, ``detections``, ``split``, ``filter``,
    ``interpolation``, the provenance keys as recorded, and ``rows``: ``[{"class",
    "iou_threshold", "ap", "max_recall", "n_gt", ...}]`` in file order.

    Raises:
        ValueError: naming the dotted field that is missing or malformed.
    """
    split = data.get("split")
    if split is not None:
        text(split, "split")
    flt = obj(data.get("filter"), "filter")
    rows = []
    for cls, by_iou in obj(data.get("classes"), "classes").items():
        for key, value in obj(by_iou, f"classes.{cls}").items():
            where = f"classes.{cls}.{key}"
            r = obj(value, where)
            iou = number(r.get("iou_threshold"), f"{where}.iou_threshold")
            if iou is None or not 0.0 < iou < 1.0:
                raise ValueError(f"field {where}.iou_threshold: expected a number in (0, 1)")
            row: dict[str, Any] = {"class": str(cls), "iou_threshold": iou}
            for name in ("ap", "max_recall"):
                v = number(r.get(name), f"{where}.{name}")
                if v is not None and not 0.0 <= v <= 1.0:
                    raise ValueError(f"field {where}.{name}: expected a number in [0, 1]")
                row[name] = v
            for name in COUNTS:
                row[name] = count(r.get(name, 0), f"{where}.{name}")
            rows.append(row)
    return {
        "source": text(data.get("source"), "source"),
        "detections": text(data.get("detections"), "detections"),
        "split": split,
        "filter": {k: number(flt.get(k), f"filter.{k}") for k in FILTER_KEYS},
        "interpolation": text(data.get("interpolation"), "interpolation"),
        **{k: data[k] for k in ("git_commit", "drivestack_version", "command") if k in data},
        "rows": rows,
    }


def headline(
    run: dict[str, dict[str, Any]], baseline: dict[str, dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Per result and class: the AP (percent) at the result's first IoU threshold, with the
    baseline's of the same file where it scored the same labels and detections under the same
    filter (:func:`comparable`)."""
    lines = []
    for rel, result in run.items():
        base = (baseline or {}).get(rel)
        before = (
            {(r["class"], r["iou_threshold"]): r["ap"] for r in base["rows"]}
            if base is not None and comparable(result, base)
            else {}
        )
        first = result["rows"][0]["iou_threshold"] if result["rows"] else None
        where = f", {rel}" if len(run) > 1 else ""
        for row in result["rows"]:
            if row["iou_threshold"] != first:
                continue
            old = before.get((row["class"], first))
            lines.append(
                {
                    "name": f"2D AP {row['class']} @ IoU {first:g} %{where}",
                    "value": None if row["ap"] is None else 100.0 * row["ap"],
                    "baseline": None if old is None else 100.0 * old,
                    "anchor": None,
                }
            )
    return lines


def comparable(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two checked results scored the same labels and detections (split included)
    under the same filter and interpolation."""
    keys = ("source", "detections", "split", "filter", "interpolation")
    return all(a[k] == b[k] for k in keys)


def section(d: dict[str, Any]) -> str:
    """One block per 2D detection result (the report's ``detection2d``): what was scored
    and with which filter, then a row per class and IoU threshold: AP and the counts."""
    results = d.get("detection2d") or []
    if not results:
        return ""
    html = [
        '<h2 id="detection2d">2D detection (image boxes)</h2><p class="note">drivestack eval '
        "detection2d: AP all-point interpolated under one KITTI ground-truth filter (not "
        "KITTI's AP40 at easy / moderate / hard); a match needs IoU above the threshold; "
        "n_ignored: detections on DontCare or neighbour-class labels, n_dropped: under the "
        "minimum height (neither TP nor FP).</p>"
    ]
    for r in results:
        f = r["filter"]
        html.append(
            f'<div class="detection2d" data-file="{escape(r["file"], quote=True)}">'
            f"<h3>{escape(r['file'])}</h3>"
        )
        html.append(
            kv_table(
                [
                    ("labels", r["source"]),
                    ("detections", r["detections"]),
                    ("split", r["split"] or "– (label folder)"),
                    (
                        "filter",
                        f"height ≥ {fmt(f['min_height_px'], 0)} px, occlusion ≤ "
                        f"{fmt(f['max_occlusion'], 0)}, truncation ≤ "
                        f"{fmt(f['max_truncation'])}",
                    ),
                    ("interpolation", r["interpolation"]),
                ]
            )
        )
        head = ["class", "IoU", "AP %", "max recall %", *COUNTS]
        html.append(
            '<table class="detection2d-table sortable"><thead><tr>'
            + "".join(f"<th{' class=l' if h == 'class' else ''}>{h}</th>" for h in head)
            + "</tr></thead><tbody>"
        )
        for row in r["rows"]:
            cells = td(row["class"], css="l") + td(row["iou_threshold"])
            for name in ("ap", "max_recall"):
                v = row[name]
                cells += td(None if v is None else 100.0 * v, sort=v)
            cells += "".join(td(row[c]) for c in COUNTS)
            html.append(f"<tr>{cells}</tr>")
        html.append("</tbody></table></div>")
    return "".join(html)
