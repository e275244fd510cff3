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

Whose rows a table shows (:func:`results_source`): drivestack's tracker's, or, for results
scored from files (``eval tracking --results DIR``, recorded as ``results``), that path's. When
those files are AB3DMOT's own outputs of another code version (:func:`reference_section`: the
folder's README names its ``PUBLISHED_RESULTS.md`` section, else the year in the folder name
falls in a section's date range), the published rows are that section's table (``B1`` for the
2020 code's 3D MOT), not section A (the 2022 code). Published rows are shown for a "val" run
only (every published KITTI table is on val). HOTA / DetA / AssA / LocA (TrackEval) are ours
too; the one published HOTA anchor (section D, DeepFusionMOT, Car on the whole training set)
is shown beside a 2D table of a ``training`` run (:func:`hota_anchor`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivestack.report.fields import array, count, number, obj, required_number

#: Columns of the AB3DMOT tables, in percent except the counts.
#: HOTA (TrackEval's) columns, in percent: ``eval tracking`` prints and records them.
HOTA_COLUMNS = ("HOTA", "DetA", "AssA", "LocA")
COLUMNS = ("sAMOTA", "AMOTA", "AMOTP", "MOTA", "MOTP", "IDS", "FRAG", "FP", "FN", *HOTA_COLUMNS)
RATE_COLUMNS = ("sAMOTA", "AMOTA", "AMOTP", "MOTA", "MOTP", *HOTA_COLUMNS)
COUNT_COLUMNS = ("IDS", "FRAG", "FP", "FN")
#: The name of the rows of drivestack's own tracker.
OWN_TRACKER = "drivestack"

Anchors = dict[tuple[str, float], dict[str, dict[str, float | None]]]


def _cell(text: str) -> float | None:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        return None


def parse_published(path: Path) -> Anchors:
    """``{(similarity, iou): {category: {column: value}}}`` from section A of the file."""
    return Published.read(path).section_a()


@dataclass(frozen=True)
class Published:
    """The tables of ``PUBLISHED_RESULTS.md`` a report may set beside a tracking result:
    ``tables`` (every ``### <L><n>. 3D MOT`` / ``2D MOT`` table: ``{"id": "B1", "section":
    "B", "similarity", "iou" (None when the heading states none), "rows"}``), ``sections``
    (letter -> its ``## `` heading) and ``hota`` (:func:`parse_hota_anchor`, or None)."""

    tables: tuple[dict[str, Any], ...] = ()
    sections: dict[str, str] = field(default_factory=dict)
    hota: dict[str, Any] | None = None

    @classmethod
    def read(cls, path: Path) -> Published:
        text = Path(path).read_text()
        sections = {
            m["letter"]: m["title"]
            for m in re.finditer(r"^## (?P<letter>[A-Z])\.\s*(?P<title>.*)$", text, re.M)
        }
        return cls(tuple(parse_published_tables(text)), sections, parse_hota_anchor(text))

    def section_a(self) -> Anchors:
        """:func:`parse_published`'s anchors: section A's tables that state their IoU."""
        return {
            (t["similarity"], t["iou"]): t["rows"]
            for t in self.tables
            if t["section"] == "A" and t["iou"] is not None
        }

    def anchors(self, section: str) -> dict[tuple[str, float | None], dict[str, Any]]:
        """``{(similarity, iou): table}`` of one section."""
        return {(t["similarity"], t["iou"]): t for t in self.tables if t["section"] == section}

    def section_of_year(self, year: int) -> str | None:
        """The section whose heading's dates cover ``year`` ("since Feb 2022": 2022 on;
        "Jul 2020 – Dec 2021": 2020-2021); None when none does."""
        for letter, title in self.sections.items():
            years = [int(y) for y in re.findall(r"\b(20\d\d)\b", title)]
            if not years:
                continue
            last = 9999 if "since" in title else max(years)
            if min(years) <= year <= last:
                return letter
        return None


def _table_line(line: str, header: list[str]) -> tuple[str, dict[str, str]] | None:
    """A markdown table line of a table whose ``header`` (filled from its first line) is
    known: its first cell and ``{column: cell}`` of the others; None for the header and the
    ``|---|`` line."""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if not header:
        header.extend(cells)
        return None
    if set(cells[0]) <= {"-", ":"}:
        return None
    return cells[0], dict(zip(header[1:], cells[1:], strict=False))


def parse_published_tables(text: str) -> list[dict[str, Any]]:
    """Every ``### <L><n>.`` table of 3D or 2D MOT in the file's ``text`` (:class:`Published`);
    the IoU threshold is the last number of the heading's last comma part (None when it has
    none)."""
    tables: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("## "):
            current = None
        heading = re.match(r"### (?P<section>[A-Z])(?P<n>\d+)\.\s*(?P<title>.*)", line)
        if heading:
            title = heading["title"]
            current, header = None, []
            if not re.match(r"[23]D MOT\b", title):  # a leaderboard, an older table: skipped
                continue
            last = title.split(",")[-1] if "," in title else ""
            numbers = re.findall(r"\d+\.\d+|\d+", last)
            current = {
                "id": f"{heading['section']}{heading['n']}",
                "section": heading["section"],
                "similarity": "iou_2d" if title.startswith("2D MOT") else "iou_3d",
                "iou": float(numbers[-1]) if numbers else None,
                "rows": {},
            }
            tables.append(current)
            continue
        if current is None or not line.startswith("|"):
            continue
        row = _table_line(line, header)
        if row is not None:
            current["rows"][row[0]] = {col: _cell(val) for col, val in row[1].items()}
    return tables


def parse_hota_anchor(text: str) -> dict[str, Any] | None:
    """The published HOTA table (a ``## `` section whose heading names HOTA: DeepFusionMOT's,
    Car): ``{"section", "tracker", "classes", "rows": {"training" | "testing": {column:
    percent}}}``; None when the file has none."""
    for block in re.split(r"^(?=## )", text, flags=re.M):
        head = re.match(r"## (?P<letter>[A-Z])\.\s*(?P<title>.*)", block)
        if head is None or "HOTA" not in head["title"]:
            continue
        title = head["title"]
        header: list[str] = []
        rows: dict[str, dict[str, float | None]] = {}
        for line in block.splitlines():
            row = _table_line(line, header) if line.startswith("|") else None
            if row is None:
                continue
            first, values = row
            split = "training" if "train" in first.lower() else first.split()[0].lower()
            rows[split] = {
                ("IDS" if col == "IDSW" else col): _cell(val.rstrip("%"))
                for col, val in values.items()
            }
        classes = [c for c in ("Car", "Pedestrian", "Cyclist") if c in title]
        return {
            "section": head["letter"],
            "tracker": title.split(" (")[0].split(" on ")[0].strip(),
            "classes": classes,
            "rows": rows,
        }
    return None


def percent(fraction: object) -> float | None:
    """A fraction as percent; None for anything but a number."""
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        return None
    return 100.0 * float(fraction)


def has_no_labels(metrics: dict[str, Any]) -> bool:
    """Whether one class's ``as_dict`` scored no labelled object (``n_gt`` 0: MOTA and the
    other rates are undefined, stored as null): its rates are not a measurement."""
    best = metrics["clear"]["best"]
    return best.get("n_gt") == 0 or best.get("MOTA") is None


def class_row(metrics: dict[str, Any]) -> dict[str, float | None]:
    """Our row in AB3DMOT's columns (rates in percent) from one class's ``as_dict``, and
    HOTA / DetA / AssA / LocA (percent; None when the result has no ``hota``). A class
    without labelled objects (:func:`has_no_labels`) has None for every rate (n/a) and its
    counts (its FP)."""
    clear = metrics["clear"]
    best = clear["best"]
    counts = {c: float(best[c]) for c in COUNT_COLUMNS}
    if has_no_labels(metrics):
        return {**dict.fromkeys(RATE_COLUMNS), **counts}
    hota = metrics.get("hota")
    hota = hota if isinstance(hota, dict) else {}
    hota_cols = {c: percent(hota.get(c)) for c in HOTA_COLUMNS}
    return {
        **hota_cols,
        "sAMOTA": 100.0 * clear["sAMOTA"],
        "AMOTA": 100.0 * clear["AMOTA"],
        "AMOTP": 100.0 * clear["AMOTP"],
        "MOTA": 100.0 * best["MOTA"],
        "MOTP": 100.0 * best["MOTP"],
        **counts,
    }


def no_remean_rows(classes: dict[str, dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per class whose figures without the devkit's per-pass score re-averaging (metrics.json
    ``clear_without_devkit_remean``, written since that key exists) differ from the devkit's
    by more than ``REMEAN_SHOWN_ABOVE_POINTS`` in sAMOTA, AMOTA or MOTA: its row of those
    figures (:func:`class_row`, no HOTA: HOTA has no score thresholds)."""
    from drivestack.eval.tracking.protocol import REMEAN_SHOWN_ABOVE_POINTS, WITHOUT_REMEAN_KEY

    out = {}
    for cls, m in classes.items():
        other = m.get(WITHOUT_REMEAN_KEY)
        if not isinstance(other, dict) or has_no_labels(m):
            continue
        mine, theirs = class_row(m), class_row({"clear": other})
        gaps = [
            abs(a - b)
            for a, b in ((mine[c], theirs[c]) for c in ("sAMOTA", "AMOTA", "MOTA"))
            if a is not None and b is not None
        ]
        if gaps and max(gaps) > REMEAN_SHOWN_ABOVE_POINTS:
            out[cls] = theirs
    return out


def overall_row(
    rows: dict[str, dict[str, float | None]], no_labels: Sequence[str] = ()
) -> dict[str, float | None]:
    """AB3DMOT's "Overall": rates averaged over the classes, counts summed (None for a
    column some class lacks, e.g. HOTA of an older result). The classes of ``no_labels``
    (no labelled object: rates n/a) add their counts but not their rates; the rates are
    None when no class has labels."""
    out: dict[str, float | None] = {}
    for column in (*RATE_COLUMNS, *COUNT_COLUMNS):
        skip = no_labels if column in RATE_COLUMNS else ()
        values = [r.get(column) for cls, r in rows.items() if cls not in skip]
        numbers = [v for v in values if v is not None]
        if len(numbers) < len(values) or not numbers:
            out[column] = None
        else:
            out[column] = sum(numbers) / len(numbers) if column in RATE_COLUMNS else sum(numbers)
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
            iou = _threshold(protocol.get("min_overlap", str(name).split("_")[-1]), name)
            similarity = str(protocol.get("similarity", "iou_3d"))
            blocks.append(
                {
                    "name": name,
                    "similarity": similarity,
                    "iou": iou,
                    "mode": "",
                    "classes": classes,
                    "field": f"metrics.{name}.classes",
                }
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
                    "field": f"metrics.{name}.{mode}",
                }
            )
    return blocks


def _threshold(value: object, name: str) -> float:
    """A block's IoU threshold (``protocol.min_overlap``, else the number ending its name);
    ``ValueError`` naming the field when it is neither a finite number nor such a name."""
    what = f"metrics.{name}.protocol.min_overlap"
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"field {what}: missing, and {name!r} ends in no number") from None
    out = number(value, what)
    if out is None:
        raise ValueError(f"field {what}: expected a number, got null")
    return out


def check_tracking(result: object) -> list[str]:
    """Check the fields of a tracking metrics.json that the report shows (each class's
    ``clear`` rates and counts, its ``per_threshold`` curve points and ``hota`` columns):
    ``ValueError`` naming the first malformed one by its dotted field
    (``metrics.iou_0.25.classes.Car.clear.AMOTP``). Rates may be null for a class without
    labelled objects (:func:`has_no_labels`), and ``hota`` and ``best.n_gt`` may be absent
    (older results). A rate that is NaN or infinite is undefined, shown as n/a: returned is
    a note per such field."""
    from drivestack.eval.tracking.protocol import WITHOUT_REMEAN_KEY

    notes: list[str] = []

    def rate(value: object, what: str, required: bool = False) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            notes.append(f"field {what}: {value!r}, shown as n/a")
        elif required:
            required_number(value, what)
        else:
            number(value, what)

    for block in tracking_blocks(result):
        for cls, m in block["classes"].items():
            where = f"{block['field']}.{cls}"
            clear = obj(m.get("clear"), f"{where}.clear")
            best = obj(clear.get("best"), f"{where}.clear.best")
            for key in COUNT_COLUMNS:
                count(best.get(key), f"{where}.clear.best.{key}")
            if best.get("n_gt") is not None:
                count(best["n_gt"], f"{where}.clear.best.n_gt")
            labelled = not has_no_labels(m)
            for key in ("sAMOTA", "AMOTA", "AMOTP"):
                rate(clear.get(key), f"{where}.clear.{key}", labelled)
            for key in ("MOTA", "MOTP"):
                rate(best.get(key), f"{where}.clear.best.{key}", labelled)
            points = array(clear.get("per_threshold"), f"{where}.clear.per_threshold")
            for i, point in enumerate(points):
                point = obj(point, f"{where}.clear.per_threshold.{i}")
                for key in ("recall_threshold", "sMOTA", "MOTA"):
                    rate(point.get(key), f"{where}.clear.per_threshold.{i}.{key}")
            hota = m.get("hota")
            if hota is not None:
                for key in HOTA_COLUMNS:
                    rate(obj(hota, f"{where}.hota").get(key), f"{where}.hota.{key}")
            other = m.get(WITHOUT_REMEAN_KEY)
            if other is not None:
                at = f"{where}.{WITHOUT_REMEAN_KEY}"
                other_best = obj(obj(other, at).get("best"), f"{at}.best")
                for key in ("sAMOTA", "AMOTA", "AMOTP"):
                    rate(other.get(key), f"{at}.{key}", labelled)
                for key in ("MOTA", "MOTP"):
                    rate(other_best.get(key), f"{at}.best.{key}", labelled)
                for key in COUNT_COLUMNS:
                    count(other_best.get(key), f"{at}.best.{key}")
    return notes


def _frames(result: dict[str, Any]) -> str:
    """``frames 74-153`` for a result of ``eval tracking --frames`` (its ``frames`` record),
    else ``""``."""
    frames = result.get("frames")
    if not isinstance(frames, dict):
        return ""
    return f"frames {frames.get('first')}-{frames.get('last')}"


def scored_span(result: dict[str, Any]) -> str | None:
    """What a tracking result scored, for headings: its split (``val``), with the frame range
    of an ``eval tracking --frames`` run (``val, frames 74-153``); None when not recorded."""
    split = result.get("split")
    frames = _frames(result)
    if split is None:
        return frames or None
    return f"{split}, {frames}" if frames else str(split)


def results_source(result: object) -> str:
    """Whose tracks a result scored: the ``--results`` path it records (results scored from
    files), else :data:`OWN_TRACKER` (drivestack's tracker ran)."""
    results = result.get("results") if isinstance(result, dict) else None
    return results if isinstance(results, str) and results else OWN_TRACKER


#: A results folder's README naming its published table: "section B1 of PUBLISHED_RESULTS.md".
_README_SECTION = re.compile(
    r"section\s+(?P<id>(?P<section>[A-Z])\d*)\s+of\s+`?[^\s`]*PUBLISHED_RESULTS\.md"
)
_AB3DMOT_FOLDER = re.compile(r"ab3dmot[_-]?(?P<year>20\d\d)", re.IGNORECASE)


def reference_section(results: str, published: Published) -> tuple[str | None, str | None]:
    """For results scored from the files in ``results``: the ``PUBLISHED_RESULTS.md`` section
    (and table id, when named) of the code that made them, when they are AB3DMOT's own
    outputs: named by the folder's README.md, else the year in the folder's name
    (``ab3dmot_2020``) within a section's dates. ``(None, None)`` when unknown."""
    folder = Path(results)
    try:
        text = (folder / "README.md").read_text()
    except (OSError, UnicodeDecodeError):
        text = ""
    named = _README_SECTION.search(text)
    if named is not None:
        return named["section"], named["id"] if named["id"] != named["section"] else None
    year = _AB3DMOT_FOLDER.search(folder.name)
    if year is not None:
        return published.section_of_year(int(year["year"])), None
    return None, None


def code_version(published: Published, section: str) -> str:
    """``AB3DMOT 2022 code``: the tracker and the first year of a section's dates."""
    years = re.findall(r"\b(20\d\d)\b", published.sections.get(section, ""))
    return f"AB3DMOT {min(years)} code" if years else f"AB3DMOT (section {section})"


def _published_choice(
    result: dict[str, Any], similarity: str, iou: float, anchors: Anchors, published: Published
) -> tuple[dict[str, Any], str, str]:
    """The published rows beside one of our tables (all classes), their name and a note."""
    split = result.get("split")
    if split not in (None, "val"):
        return {}, "", f"no published rows: they are on the val split, this run is on {split}"
    if result.get("whole_split") is False:
        sequences = ", ".join(result.get("sequences") or [])
        frames = _frames(result)
        if frames:
            return (
                {},
                "",
                f"no published rows: this run scores only {frames} of sequences {sequences} "
                "(--frames), the published figures whole sequences",
            )
        return (
            {},
            "",
            (
                f"no published rows: this run covers only sequences {sequences} of the {split} "
                "split (--sequences), the published figures all of them"
            ),
        )
    source = results_source(result)
    own = published.anchors("A").get((similarity, iou)) if published.tables else None
    own_name = (
        f"{code_version(published, 'A')} (published, {own['id']})" if own else "AB3DMOT (published)"
    )
    if source == OWN_TRACKER:
        return anchors.get((similarity, iou), {}), own_name, ""
    section, table_id = reference_section(source, published)
    if section is None or section == "A":
        note = (
            f"these results were scored from the files in {source}, not made by drivestack's "
            "tracker"
            + (f"; the published rows are {own_name}" if anchors.get((similarity, iou)) else "")
        )
        return anchors.get((similarity, iou), {}), own_name, note
    mine = published.anchors(section)
    table = mine.get((similarity, iou)) or mine.get((similarity, None))
    if table_id and table is not None and table["id"] != table_id:
        named = [t for t in mine.values() if t["id"] == table_id]
        table = named[0] if named and named[0]["similarity"] == similarity else table
    code = code_version(published, section)
    other = code_version(published, "A")
    if table is None:
        return (
            {},
            "",
            f"these are {code}'s own outputs ({source}); its published tables have no "
            f"{similarity} table, and section A's ({other}) is a different code version: "
            "not shown",
        )
    stated = "" if table["iou"] is not None else "; its IoU threshold is not stated in the source"
    if table_id and table["id"] != table_id:  # the one named has another similarity / IoU
        stated += f"; the results' README names {table_id}, which scores another similarity"
    return (
        table["rows"],
        f"{code} (published, {table['id']})",
        f"these are {code}'s own outputs ({source}): beside them its published table "
        f"{table['id']}, not section A ({other}, a different code version){stated}",
    )


def _hota_anchor(
    result: dict[str, Any], similarity: str, classes: list[str], published: Published
) -> tuple[dict[str, Any] | None, str]:
    """The published HOTA rows (:func:`parse_hota_anchor`) beside a 2D table of a run on the
    whole training split, and a note saying why there are none otherwise."""
    hota = published.hota
    if hota is None:
        return None, "no published HOTA anchor"
    train = hota["rows"].get("training")
    where = (
        f"{hota['tracker']}'s (PUBLISHED_RESULTS.md {hota['section']}) is "
        f"{', '.join(hota['classes']) or 'per class'} on the whole training split, 2D"
    )
    rows = {c: train for c in classes if c in hota["classes"]} if train else {}
    if result.get("split") != "training" or similarity != "iou_2d" or not rows:
        return None, f"no published HOTA anchor for this table: the only one, {where}"
    return {"name": f"{hota['tracker']} (published, {hota['section']}, training)", "rows": rows}, ""


def tracking_tables(
    result: dict[str, Any], anchors: Anchors | None = None, published: Published | None = None
) -> list[dict[str, Any]]:
    """One table per IoU threshold (and mode, :func:`tracking_blocks`): our rows (named
    ``source``: :func:`results_source`), the published rows (``published``, named
    ``published_name``, with a ``published_note`` when they are another code's or absent)
    and the published HOTA anchor (``hota_anchor``, or None with a ``hota_note``);
    ``no_labels``: the classes without a labelled object in the sequences scored (rates n/a,
    left out of the Overall rates)."""
    published = published if published is not None else Published()
    anchors = published.section_a() if anchors is None else anchors  # (tests give their own)
    tables = []
    for block in tracking_blocks(result):
        similarity, iou = block["similarity"], block["iou"]
        ours = {cls: class_row(m) for cls, m in block["classes"].items()}
        no_labels = [cls for cls, m in block["classes"].items() if has_no_labels(m)]
        if len(ours) > 1:
            ours["Overall"] = overall_row(ours, no_labels)
        rows, name, note = _published_choice(result, similarity, iou, anchors, published)
        hota, hota_note = _hota_anchor(result, similarity, list(ours), published)
        tables.append(
            {
                "name": block["name"],
                "similarity": similarity,
                "iou": iou,
                "mode": block["mode"],
                "source": results_source(result),
                "rows": ours,
                "published": published_rows(rows, list(ours)),
                "published_name": name,
                "published_note": note,
                "hota_anchor": hota,
                "hota_note": hota_note,
                "no_labels": no_labels,
                "no_remean": no_remean_rows(block["classes"]),
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
                    value = row.get(metric)
                    if before is not None and value is not None and value < before - tolerance:
                        out.append(
                            {
                                "file": t["file"],
                                "table": tb["name"],
                                "baseline_table": other["name"],
                                "class": cls,
                                "metric": metric,
                                "value": value,
                                "baseline": before,
                                "delta": value - before,
                            }
                        )
    return sorted(out, key=lambda r: r["delta"])
