"""Tracking results in a report: per-class KITTI 3D-MOT tables beside AB3DMOT's published rows.

A tracking metrics.json comes in two layouts, read by :func:`tracking_blocks` into one list of
blocks (similarity, IoU threshold, mode and per-class metrics):

- ``drivestack eval tracking``: ``metrics["iou_<t>"] = {"protocol": {...}, "classes": {class:
  metrics}}``, one tracker (mode ``""``);
- ``drivestack eval tracking --fusion camera``: ``metrics["3d_iou<t>" | "2d_iou<t>"][mode][class]``,
  mode ``lidar`` (the LiDAR-only tracker) or ``fused`` (camera-LiDAR), 3D and 2D MOT.

A table is compared with the baseline's table of the same file, similarity and threshold: of the
same mode, else the baseline's single or LiDAR-only tracker (:func:`baseline_table`), so a
fused run compares with a LiDAR-only baseline and the other way round.

The published anchors are read from ``PUBLISHED_RESULTS.md`` (section A: AB3DMOT + PointRCNN
on KITTI tracking val): each ``### A<n>.`` table is keyed by similarity (``iou_3d`` or, for
"2D MOT", ``iou_2d``) and its IoU threshold (the last number of the heading).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: Columns of the AB3DMOT tables, in percent except the counts.
COLUMNS = ("sAMOTA", "AMOTA", "AMOTP", "MOTA", "MOTP", "IDS", "FRAG", "FP", "FN")
RATE_COLUMNS = ("sAMOTA", "AMOTA", "AMOTP", "MOTA", "MOTP")
COUNT_COLUMNS = ("IDS", "FRAG", "FP", "FN")

Anchors = dict[tuple[str, float], dict[str, dict[str, float | None]]]


def _cell(text: str) -> float | None:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return None


def parse_published(path: Path) -> Anchors:
    """``{(similarity, iou): {category: {column: value}}}`` from section A of the file."""
    anchors: Anchors = {}
    key: tuple[str, float] | None = None
    header: list[str] = []
    for line in Path(path).read_text().splitlines():
        if line.startswith("## "):
            key = None
        heading = re.match(r"### A\d+\.\s*(.*)", line)
        if heading:
            numbers = re.findall(r"\d+\.\d+|\d+", heading.group(1).split(",")[-1])
            similarity = "iou_2d" if "2D MOT" in heading.group(1) else "iou_3d"
            key = (similarity, float(numbers[-1])) if numbers else None
            header = []
            continue
        if key is None or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not header:
            header = cells
            continue
        if set(cells[0]) <= {"-", ":"}:
            continue
        anchors.setdefault(key, {})[cells[0]] = {
            col: _cell(val) for col, val in zip(header[1:], cells[1:], strict=False)
        }
    return anchors


def class_row(metrics: dict[str, Any]) -> dict[str, float]:
    """Our row in AB3DMOT's columns (rates in percent) from one class's ``as_dict``."""
    clear = metrics["clear"]
    best = clear["best"]
    return {
        "sAMOTA": 100.0 * clear["sAMOTA"],
        "AMOTA": 100.0 * clear["AMOTA"],
        "AMOTP": 100.0 * clear["AMOTP"],
        "MOTA": 100.0 * best["MOTA"],
        "MOTP": 100.0 * best["MOTP"],
        "IDS": float(best["IDS"]),
        "FRAG": float(best["FRAG"]),
        "FP": float(best["FP"]),
        "FN": float(best["FN"]),
    }


def overall_row(rows: dict[str, dict[str, float]]) -> dict[str, float]:
    """AB3DMOT's "Overall": rates averaged over the classes, counts summed."""
    out = {c: sum(r[c] for r in rows.values()) / len(rows) for c in RATE_COLUMNS}
    out.update({c: sum(r[c] for r in rows.values()) for c in COUNT_COLUMNS})
    return out


def published_rows(
    published: dict[str, dict[str, float | None]], ours: list[str]
) -> dict[str, dict[str, float | None]]:
    """The published rows beside ours: the same classes, and an "Overall" over *those*
    classes. The table's own Overall averages all its classes, so beside a run of fewer
    classes it is recomputed from the published class rows (rates averaged, counts summed);
    left out when a class row or a column is missing."""
    rows = {c: published[c] for c in ours if c in published and c != "Overall"}
    if "Overall" not in ours:
        return rows
    classes = [c for c in ours if c != "Overall"]
    if set(classes) == set(published) - {"Overall"} and "Overall" in published:
        rows["Overall"] = published["Overall"]
    elif all(c in rows for c in classes):
        overall: dict[str, float | None] = {}
        for column, combine in [(c, "mean") for c in RATE_COLUMNS] + [
            (c, "sum") for c in COUNT_COLUMNS
        ]:
            values = [rows[c].get(column) for c in classes]
            if all(isinstance(v, float) for v in values):
                total = sum(v for v in values if v is not None)
                overall[column] = total / len(values) if combine == "mean" else total
        rows["Overall"] = overall
    return rows


#: Protocol names of the fused layout: ``3d_iou0.25`` -> similarity ``iou_3d``, IoU 0.25.
_FUSED_PROTOCOL = re.compile(r"^(?P<dim>[23])d_iou(?P<iou>\d+(?:\.\d+)?)$")
#: How the report names a mode (``""``: the one tracker of a plain ``eval tracking`` run).
MODE_LABELS = {"": "", "lidar": "LiDAR only", "fused": "camera-LiDAR fused"}


def _classes(value: object) -> dict[str, dict[str, Any]] | None:
    """``value`` when it is a ``{class: metrics object}`` (may be empty), else None."""
    if not isinstance(value, dict) or not all(isinstance(m, dict) for m in value.values()):
        return None
    return value


def tracking_blocks(result: object) -> list[dict[str, Any]]:
    """The per-class metrics of a tracking metrics.json in either layout (module doc), as
    ``[{"name", "similarity", "iou", "mode", "classes": {class: metrics}}]`` in file order;
    ``[]`` when ``result`` holds none (not a tracking result)."""
    metrics = result.get("metrics") if isinstance(result, dict) else None
    if not isinstance(metrics, dict):
        return []
    blocks = []
    for name, block in metrics.items():
        if not isinstance(block, dict):
            continue
        if "classes" in block:  # drivestack eval tracking
            classes = _classes(block["classes"])
            if classes is None:
                continue
            protocol = block.get("protocol")
            protocol = protocol if isinstance(protocol, dict) else {}
            iou = float(protocol.get("min_overlap", str(name).split("_")[-1]))
            similarity = str(protocol.get("similarity", "iou_3d"))
            blocks.append(
                {"name": name, "similarity": similarity, "iou": iou, "mode": "", "classes": classes}
            )
            continue
        fused = _FUSED_PROTOCOL.match(str(name))
        if fused is None:
            continue
        for mode, by_class in block.items():  # drivestack eval tracking --fusion camera
            classes = _classes(by_class)
            if not classes:
                continue
            blocks.append(
                {
                    "name": f"{name} {mode}",
                    "similarity": f"iou_{fused['dim']}d",
                    "iou": float(fused["iou"]),
                    "mode": str(mode),
                    "classes": classes,
                }
            )
    return blocks


def tracking_tables(result: dict[str, Any], anchors: Anchors) -> list[dict[str, Any]]:
    """One table per IoU threshold (and mode, :func:`tracking_blocks`): our rows, the
    published rows and the differences."""
    tables = []
    for block in tracking_blocks(result):
        similarity, iou = block["similarity"], block["iou"]
        ours = {cls: class_row(m) for cls, m in block["classes"].items()}
        if len(ours) > 1:
            ours["Overall"] = overall_row(ours)
        published = published_rows(anchors.get((similarity, iou), {}), list(ours))
        tables.append(
            {
                "name": block["name"],
                "similarity": similarity,
                "iou": iou,
                "mode": block["mode"],
                "rows": ours,
                "published": published,
                "curves": {
                    cls: {
                        "recall": [p["recall_threshold"] for p in m["clear"]["per_threshold"]],
                        "sMOTA": [p["sMOTA"] for p in m["clear"]["per_threshold"]],
                        "MOTA": [p["MOTA"] for p in m["clear"]["per_threshold"]],
                    }
                    for cls, m in block["classes"].items()
                },
            }
        )
    return tables


def mode_label(table: dict[str, Any]) -> str:
    """The tracker of a table in words (:data:`MODE_LABELS`); ``""`` for a plain run's."""
    mode = str(table.get("mode", ""))
    return MODE_LABELS.get(mode, mode)


def table_title(table: dict[str, Any]) -> str:
    """``iou_3d 0.25`` or, for a run of two trackers, ``iou_3d 0.25, camera-LiDAR fused``."""
    mode = mode_label(table)
    return f"{table['similarity']} {table['iou']:g}" + (f", {mode}" if mode else "")


def baseline_table(
    baseline: list[dict[str, Any]], file: str, table: dict[str, Any]
) -> dict[str, Any] | None:
    """The baseline's table to compare ``table`` (of ``file``) with: the same file, similarity
    and IoU threshold, and the same mode, else the baseline's single (plain run) or LiDAR-only
    tracker; None when the baseline has no such threshold."""
    candidates = {
        tb.get("mode", ""): tb
        for t in baseline
        if t["file"] == file
        for tb in t["tables"]
        if (tb["similarity"], tb["iou"]) == (table["similarity"], table["iou"])
    }
    for mode in (table.get("mode", ""), "", "lidar"):
        if mode in candidates:
            return candidates[mode]
    return None


def tracking_regressions(
    run: list[dict[str, Any]], baseline: list[dict[str, Any]], tolerance: float
) -> list[dict[str, Any]]:
    """sAMOTA / MOTA (percent) that dropped by more than ``tolerance`` points against the
    baseline's table (:func:`baseline_table`), per class; largest drop first."""
    out = []
    for t in run:
        for tb in t["tables"]:
            other = baseline_table(baseline, t["file"], tb)
            if other is None:
                continue
            for cls, row in tb["rows"].items():
                for metric in ("sAMOTA", "MOTA"):
                    before = other["rows"].get(cls, {}).get(metric)
                    if before is not None and row[metric] < before - tolerance:
                        out.append(
                            {
                                "file": t["file"],
                                "table": tb["name"],
                                "baseline_table": other["name"],
                                "class": cls,
                                "metric": metric,
                                "value": row[metric],
                                "baseline": before,
                                "delta": row[metric] - before,
                            }
                        )
    return sorted(out, key=lambda r: r["delta"])
