"""Golden-output regression for replays (in the spirit of openpilot's process replay).

A replay's outputs (detections, tracks and, when the stack predicts, each track's forecast
end point of every frame) are reduced to a small JSON record; a stored reference record is
compared with stated tolerances, and every difference is listed (frame, topic, what changed).
``tools/refresh_golden.py`` rewrites the reference when a change of outputs is intended.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.json_values import is_finite_number
from drivestack.replay.log_format import TrackForecasts
from drivestack.replay.log_reader import LogReader
from drivestack.replay.runner import DETECTIONS_TOPIC, FORECASTS_TOPIC, TRACKS_TOPIC
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks

#: Tolerances of the comparison: box parameters (m, rad) and scores.
BOX_ATOL = 1e-3
SCORE_ATOL = 1e-3


def _boxes_record(boxes: Boxes3D) -> dict[str, Any]:
    order = np.lexsort((boxes.center_m[:, 1], boxes.center_m[:, 0], boxes.label))
    b = boxes.select(order)
    return {
        "label": b.label.tolist(),
        "box": np.round(b.to_array7(), 5).tolist(),
        "score": np.round(b.score, 5).tolist(),
    }


def golden_record(output_log: str | Path) -> dict[str, Any]:
    """``{"frames": [{"t": ns, "detections": ..., "tracks": ..., "forecasts": ...}, ...]}`` of
    a replay output (``forecasts``: each track's id and forecast centre xy at the horizon, by
    track id; only in frames with forecasts)."""
    frames: dict[int, dict[str, Any]] = {}
    reader = LogReader(output_log)
    for msg in reader.messages([DETECTIONS_TOPIC, TRACKS_TOPIC, FORECASTS_TOPIC]):
        entry = frames.setdefault(msg.log_time_ns, {"t": msg.log_time_ns})
        if msg.topic == FORECASTS_TOPIC:
            entry["forecasts"] = _forecasts_record(msg.value)
        elif msg.topic == TRACKS_TOPIC:
            value = msg.value
            if not isinstance(value, Tracks):  # a frame without tracks decodes as empty boxes
                if len(value):
                    raise DataError(
                        f"message at {msg.log_time_ns} ns holds {len(value)} boxes without "
                        "track ids",
                        path=str(output_log),
                        field=TRACKS_TOPIC,
                    )
                value = Tracks(np.zeros(0, np.int64), value)
            order = np.argsort(value.track_id)
            tracks = value.select(order)
            entry["tracks"] = {"id": tracks.track_id.tolist(), **_boxes_record(tracks.boxes)}
            entry["tracks"]["box"] = np.round(tracks.boxes.to_array7(), 5).tolist()
            entry["tracks"]["label"] = tracks.boxes.label.tolist()
            entry["tracks"]["score"] = np.round(tracks.boxes.score, 5).tolist()
        elif isinstance(msg.value, Boxes3D):
            entry["detections"] = _boxes_record(msg.value)
    return {"frames": [frames[t] for t in sorted(frames)]}


def _forecasts_record(value: TrackForecasts | Boxes3D) -> dict[str, Any]:
    """Ids and end points of one frame's forecasts (a frame without tracks decodes as empty
    boxes: no forecast)."""
    if not isinstance(value, TrackForecasts):
        return {"id": [], "end_xy": []}
    order = np.argsort(value.track_id)
    end = value.forecast.boxes[order, -1, 0:2]
    return {"id": value.track_id[order].tolist(), "end_xy": np.round(end, 5).tolist()}


def _beyond(err: np.ndarray, atol: float) -> bool:
    """Whether any error is above ``atol`` or NaN (a NaN output never agrees)."""
    return bool(np.any(~(err <= atol)))


def _worst(err: np.ndarray) -> int:
    """The flat index of the largest error, a NaN first."""
    return int(np.argmax(np.where(np.isnan(err), np.inf, err)))


def _compare_forecasts(
    where: str, got: dict[str, Any] | None, want: dict[str, Any] | None
) -> list[str]:
    """The differences of one frame's forecast end points (ids, then the largest move)."""
    if got is None or want is None:
        return [] if got is want else [f"{where}: present in one run only"]
    if got["id"] != want["id"]:
        return [f"{where}: track ids {want['id']} -> {got['id']}"]
    old = np.asarray(want["end_xy"], dtype=np.float64).reshape(-1, 2)
    new = np.asarray(got["end_xy"], dtype=np.float64).reshape(-1, 2)
    moved = np.hypot(*(new - old).T) if len(old) else np.zeros(0)
    if _beyond(moved, BOX_ATOL):
        i = _worst(moved)
        return [
            f"{where}: end points moved by up to {moved[i]:.4g} m (tolerance {BOX_ATOL}): "
            f"track {want['id'][i]} ({old[i, 0]:.5g}, {old[i, 1]:.5g}) -> "
            f"({new[i, 0]:.5g}, {new[i, 1]:.5g})"
        ]
    return []


#: The box parameters of a record's ``box`` rows (``Boxes3D.to_array7``).
BOX_PARAMETERS = ("x", "y", "z", "length", "width", "height", "yaw")


def _class_name(label: int) -> str:
    try:
        return ObjectClass(int(label)).name.lower()
    except ValueError:
        return f"label {label}"


def _classes(labels: list[int]) -> str:
    return "[" + ", ".join(_class_name(label) for label in labels) + "]"


def _box_errors(got: np.ndarray, want: np.ndarray, yaw_period: float) -> np.ndarray:
    """``|got - want|`` per box and parameter (N, 7); yaw compared modulo ``yaw_period``
    (pi for a detection, whose yaw is an axis; 2 pi for a track, which has a heading)."""
    err = got - want
    if err.size:
        yaw = err[:, 6]
        err[:, 6] = (yaw + yaw_period / 2) % yaw_period - yaw_period / 2
    return np.abs(err)


def _compare_boxes(
    where: str, got: dict[str, Any] | None, want: dict[str, Any] | None
) -> list[str]:
    """The differences of one frame's detections or tracks, each naming the box (index in
    the record, or track id), its class and, for the worst moved one, the parameter."""
    if got is None or want is None:
        return [] if got is want else [f"{where}: present in one run only"]
    tracks = "id" in want

    def name(i: int) -> str:
        box = want["box"][i]
        what = f"track {want['id'][i]}" if tracks else f"box {i}"
        return f"{what} ({_class_name(want['label'][i])} at x={box[0]:.2f}, y={box[1]:.2f})"

    if got["label"] != want["label"]:
        old, new = want["label"], got["label"]
        if len(old) == len(new):
            i = next(i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b)
            first = f"{name(i)} is now {_class_name(new[i])}; "
        else:
            first = f"{len(old)} -> {len(new)} boxes; "
        return [f"{where}: {first}classes {_classes(old)} -> {_classes(new)}"]
    if tracks and got.get("id") != want["id"]:
        gone = sorted(set(want["id"]) - set(got.get("id") or []))
        added = sorted(set(got.get("id") or []) - set(want["id"]))
        return [f"{where}: track ids {want['id']} -> {got.get('id')} (gone {gone}, new {added})"]
    diffs = []
    old_box = np.asarray(want["box"], dtype=np.float64).reshape(-1, 7)
    new_box = np.asarray(got["box"], dtype=np.float64).reshape(-1, 7)
    box_err = _box_errors(new_box, old_box, 2 * np.pi if tracks else np.pi)
    if _beyond(box_err, BOX_ATOL):
        worst, k = (int(v) for v in np.unravel_index(_worst(box_err), box_err.shape))
        diffs.append(
            f"{where}: box parameters moved by up to {box_err[worst, k]:.4g} (tolerance "
            f"{BOX_ATOL}): {name(worst)} {BOX_PARAMETERS[k]} {old_box[worst, k]:.5g} -> "
            f"{new_box[worst, k]:.5g}"
        )
    old_score = np.asarray(want["score"], dtype=np.float64)
    new_score = np.asarray(got["score"], dtype=np.float64)
    score_err = np.abs(new_score - old_score)
    if _beyond(score_err, SCORE_ATOL):
        i = _worst(score_err)
        diffs.append(
            f"{where}: scores changed by up to {score_err[i]:.4g} (tolerance {SCORE_ATOL}): "
            f"{name(i)} {old_score[i]:.5g} -> {new_score[i]:.5g}"
        )
    return diffs


def compare_golden(current: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    """Every difference between two records, as readable lines (empty: outputs agree)."""
    got, want = current["frames"], reference["frames"]
    got_t, want_t = [f["t"] for f in got], [f["t"] for f in want]
    if got_t != want_t:
        i = next(
            (i for i, (g, w) in enumerate(zip(got_t, want_t, strict=False)) if g != w),
            min(len(got_t), len(want_t)),
        )
        ref = f"t={want_t[i]}" if i < len(want_t) else "none (the reference ends)"
        new = f"t={got_t[i]}" if i < len(got_t) else "none (the run ends)"
        return [
            f"frame times differ: {len(want)} reference frames, {len(got)} now; first at "
            f"frame {i}: reference {ref}, now {new}"
        ]
    diffs: list[str] = []
    for g, w in zip(got, want, strict=True):
        at = f"t={w['t'] / 1e9:.3f} s"
        for topic in ("detections", "tracks"):
            diffs += _compare_boxes(f"{at} {topic}", g.get(topic), w.get(topic))
        diffs += _compare_forecasts(f"{at} forecasts", g.get("forecasts"), w.get("forecasts"))
    return diffs


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_rows(path: str, where: str, entry: Any, columns: dict[str, int]) -> None:
    """``entry`` is a mapping whose ``columns`` are lists of one length: of ints (width 0),
    or of rows of ``width`` finite numbers (width 1: finite numbers); else ``DataError``."""
    if not isinstance(entry, dict):
        raise DataError(f"expected a mapping, got {type(entry).__name__}", path=path, record=where)
    length = None
    for key, width in columns.items():
        column = entry.get(key)
        if not isinstance(column, list):
            got = "missing" if key not in entry else f"not a list but {type(column).__name__}"
            raise DataError(got, path=path, record=where, field=key)
        if length is not None and len(column) != length:
            raise DataError(
                f"{len(column)} values, but {length} in the columns before it",
                path=path,
                record=where,
                field=key,
            )
        length = len(column)
        for i, value in enumerate(column):
            if width == 0:
                ok = _is_int(value)
            elif width == 1:
                ok = is_finite_number(value)
            else:
                ok = isinstance(value, list) and len(value) == width
                ok = ok and all(is_finite_number(v) for v in value)
            if not ok:
                what = {0: "an integer", 1: "a finite number"}.get(width, f"{width} finite numbers")
                raise DataError(
                    f"row {i}: expected {what}, got {value!r}", path=path, record=where, field=key
                )


#: The columns of a record's entries: 0 integers, 1 finite numbers, n rows of n of them.
_BOX_COLUMNS = {"label": 0, "box": len(BOX_PARAMETERS), "score": 1}
_ENTRY_COLUMNS = {
    "detections": _BOX_COLUMNS,
    "tracks": {"id": 0, **_BOX_COLUMNS},
    "forecasts": {"id": 0, "end_xy": 2},
}


def check_golden(record: Any, path: str | Path) -> dict[str, Any]:
    """``record`` when it is a golden record as :func:`golden_record` writes it (frames of
    increasing integer ``t``; each entry's columns of one length, integer labels and ids,
    finite boxes, scores and end points); else ``DataError`` naming ``path``, the frame and
    the field."""
    where = str(path)
    if not isinstance(record, dict) or not isinstance(record.get("frames"), list):
        raise DataError("expected a mapping with a list of frames", path=where, field="frames")
    last = None
    for n, frame in enumerate(record["frames"]):
        if not isinstance(frame, dict):
            raise DataError(
                f"expected a mapping, got {type(frame).__name__}", path=where, record=f"frame {n}"
            )
        t = frame.get("t")
        if not _is_int(t) or (last is not None and t <= last):
            after = f" after t={last}" if last is not None else ""
            raise DataError(
                f"expected an integer time in ns, increasing{after}, got {t!r}",
                path=where,
                record=f"frame {n}",
                field="t",
            )
        last = t
        for name, columns in _ENTRY_COLUMNS.items():
            if name in frame:
                _check_rows(where, f"frame {n} (t={t}) {name}", frame[name], columns)
    return record


def load_golden(path: str | Path) -> dict[str, Any]:
    """The golden record stored at ``path``, checked (:func:`check_golden`): a file that is
    not JSON, not UTF-8 or not such a record is a ``DataError`` naming it, the frame and the
    field (a missing file: ``FileNotFoundError``)."""
    try:
        record = json.loads(Path(path).read_bytes())
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 JSON: {exc.reason}", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"not JSON: {exc.msg}", path=str(path), record=f"line {exc.lineno} column {exc.colno}"
        ) from None
    return check_golden(record, path)


def save_golden(path: str | Path, record: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, separators=(",", ":")) + "\n")
