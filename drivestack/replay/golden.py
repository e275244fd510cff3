"""Golden-output regression for replays (in the spirit of openpilot's process replay).

A replay's outputs (detections and tracks of every frame) are reduced to a small JSON
record; a stored reference record is compared with stated tolerances, and every difference
is listed (frame, topic, what changed). ``tools/refresh_golden.py`` rewrites the reference
when a change of outputs is intended.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.replay.log_reader import LogReader
from drivestack.replay.runner import DETECTIONS_TOPIC, TRACKS_TOPIC
from drivestack.structures.boxes import Boxes3D
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
    """``{"frames": [{"t": ns, "detections": ..., "tracks": ...}, ...]}`` of a replay output."""
    frames: dict[int, dict[str, Any]] = {}
    for msg in LogReader(output_log).messages([DETECTIONS_TOPIC, TRACKS_TOPIC]):
        entry = frames.setdefault(msg.log_time_ns, {"t": msg.log_time_ns})
        if isinstance(msg.value, Tracks):
            order = np.argsort(msg.value.track_id)
            tracks = msg.value.select(order)
            entry["tracks"] = {"id": tracks.track_id.tolist(), **_boxes_record(tracks.boxes)}
            entry["tracks"]["box"] = np.round(tracks.boxes.to_array7(), 5).tolist()
            entry["tracks"]["label"] = tracks.boxes.label.tolist()
            entry["tracks"]["score"] = np.round(tracks.boxes.score, 5).tolist()
        elif isinstance(msg.value, Boxes3D):
            entry["detections"] = _boxes_record(msg.value)
    return {"frames": [frames[t] for t in sorted(frames)]}


def _compare_boxes(
    where: str, got: dict[str, Any] | None, want: dict[str, Any] | None
) -> list[str]:
    if got is None or want is None:
        return [] if got is want else [f"{where}: present in one run only"]
    if got["label"] != want["label"]:
        return [f"{where}: labels {want['label']} -> {got['label']}"]
    if "id" in want and got.get("id") != want["id"]:
        return [f"{where}: track ids {want['id']} -> {got.get('id')}"]
    diffs = []
    box_err = np.max(np.abs(np.asarray(got["box"]) - np.asarray(want["box"])), initial=0.0)
    if box_err > BOX_ATOL:
        diffs.append(f"{where}: box parameters moved by up to {box_err:.4g} (tolerance {BOX_ATOL})")
    score_err = np.max(np.abs(np.asarray(got["score"]) - np.asarray(want["score"])), initial=0.0)
    if score_err > SCORE_ATOL:
        diffs.append(f"{where}: scores changed by up to {score_err:.4g} (tolerance {SCORE_ATOL})")
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
        for topic in ("detections", "tracks"):
            diffs += _compare_boxes(f"t={w['t']} {topic}", g.get(topic), w.get(topic))
    return diffs


def load_golden(path: str | Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def save_golden(path: str | Path, record: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, separators=(",", ":")) + "\n")
