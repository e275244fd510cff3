"""Recorded bag -> drivestack log: the replay input format (MCAP, Foxglove schemas).

``bag_to_log`` reads a ROS 1 / ROS 2 bag with :class:`~drivestack.ingest.rosbag.RosbagLog`
(topic map, TF / odometry poses, de-skewing, packet decoding) and writes every synchronised
frame with :meth:`LogWriter.sensor_frame` (LiDAR clouds, ``world -> ego`` pose, mountings),
plus one ``drivestack.Metrics`` message (scope ``ingest``) with the ingest counts
(``skipped.<kind>``; ``kept.<kind>`` of them kept, degraded or repaired), the first message of
each kind (``first.<kind>``) and the first 50 skipped or repaired messages by name
(``issues``): ``drivestack replay`` of the log reads it back into its summary's ``ingest``
(:func:`recorded_ingest`), so a sweep the conversion dropped keeps the replay unclean. The bag's ego and world frames become
drivestack's ``ego`` and ``world``; sensor frames keep their names. Camera images go in as
lossless PNG with their calibration; images PNG cannot hold (float depth, RGBA) are left out
of that frame and reported (kind ``camera_not_written``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from drivestack.core.atomic import write_atomic
from drivestack.core.progress import progress as progress_bar
from drivestack.ingest.rosbag.bag_io import IngestReport
from drivestack.ingest.rosbag.reader import RosbagLog
from drivestack.ingest.rosbag.topic_map import RosbagConfig
from drivestack.replay.log_format import LogWriter


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def bag_to_log(
    bag: str | Path,
    out: str | Path,
    config: RosbagConfig | None = None,
    *,
    progress: bool = True,
) -> tuple[int, IngestReport]:
    """Convert ``bag`` into the drivestack log ``out``; returns (frames written, ingest report).
    The log is written whole or not at all (under ``out.partial``, renamed when complete)."""
    return write_atomic(Path(out), lambda path: _convert(bag, path, config, progress=progress))


def _convert(
    bag: str | Path, out: Path, config: RosbagConfig | None, *, progress: bool
) -> tuple[int, IngestReport]:
    log = RosbagLog(bag, config)
    config = log.config
    frames = 0
    with LogWriter(
        out,
        config={"rosbag": _jsonable(dataclasses.replace(config, topics=log.topic_map))},
        command="bag_to_log",
        inputs=[str(bag)],
    ) as writer:
        last_ns = 0
        written: set[tuple[str, int]] = set()  # (LiDAR, time) of the clouds written
        for frame in progress_bar(log.frames(), desc="frames", unit="frame", disable=not progress):
            # a second LiDAR's sweep paired with two frames (the nearest to both) is written
            # once: a log has one scan per topic and time (the reader pairs it by its time)
            lidars = {
                name: cloud
                for name, cloud in frame.lidars.items()
                if (name, cloud.timestamp_ns) not in written
            }
            if len(lidars) < len(frame.lidars):
                frame = dataclasses.replace(frame, lidars=lidars)
            written.update((name, cloud.timestamp_ns) for name, cloud in lidars.items())
            try:
                writer.sensor_frame(frame)
            except ValueError as exc:  # an image PNG cannot hold: keep the frame without cameras
                log.report.repair(
                    frame.source, frames, frame.timestamp_ns, "camera_not_written", str(exc)
                )
                writer.sensor_frame(dataclasses.replace(frame, cameras={}))
            frames += 1
            last_ns = frame.timestamp_ns
        report = log.report
        first: dict[str, str] = {}
        kept: dict[str, int] = {}
        for entry in report.skipped:
            first.setdefault(entry.kind, f"{entry.topic} #{entry.index}: {entry.reason}")
            kept[entry.kind] = kept.get(entry.kind, 0) + entry.kept
        writer.metrics(
            INGEST_TOPIC,
            last_ns,
            {
                "frames": frames,
                "messages_read": sum(report.messages_read.values()),
                "nonfinite_points_dropped": report.nonfinite_points_dropped,
                **{f"skipped.{kind}": n for kind, n in sorted(report.counts().items())},
                **{f"kept.{kind}": n for kind, n in sorted(kept.items())},
                **{f"first.{kind}": reason for kind, reason in sorted(first.items())},
                "issues": "; ".join(str(s) for s in report.skipped[:50]),
            },
            scope="ingest",
        )
    return frames, report


#: The channel of a converted log's ingest record.
INGEST_TOPIC = "/drivestack/metrics"


def recorded_ingest(reader: Any, path: str) -> dict[str, Any] | None:
    """A converted log's ingest record (:func:`bag_to_log`) in the shape of a replay
    summary's ``ingest`` entry, with ``recorded_in`` the log: ``counts``, ``messages_read``
    (``{"<bag>": total}``) and one ``skipped`` entry per kind (its first message's reason;
    ``kept`` when every message of the kind was kept, ``dropped`` how many were not; its
    ``reason`` names the first's topic and index); None for a log without one (written by
    another converter). ``reader``: the log's open :class:`~drivestack.replay.log_reader.
    LogReader`."""
    if INGEST_TOPIC not in reader.topics():
        return None
    record = None
    for message in reader.messages([INGEST_TOPIC]):
        if isinstance(message.value, dict) and message.value.get("scope") == "ingest":
            record = message.value.get("metrics")
    if not isinstance(record, dict):
        return None
    counts = {
        key.removeprefix("skipped."): int(n)
        for key, n in record.items()
        if key.startswith("skipped.") and isinstance(n, int)
    }
    skipped = [
        {
            "topic": "<bag>",
            "index": -1,
            "timestamp_ns": -1,
            "kind": kind,
            "reason": str(record.get(f"first.{kind}", "(not recorded)")),
            "kept": record.get(f"kept.{kind}") == n,
            # the messages of the kind the conversion dropped (an entry stands for them all)
            "dropped": n - int(record.get(f"kept.{kind}") or 0),
        }
        for kind, n in counts.items()
    ]
    return {
        "clean": not counts,
        "counts": counts,
        "messages_read": {"<bag>": record.get("messages_read")},
        "lidar_topics": [],
        "unused_topics": [],
        "skipped": skipped,
        "recorded_in": path,
    }
