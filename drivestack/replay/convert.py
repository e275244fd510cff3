"""Recorded bag -> drivestack log: the replay input format (MCAP, Foxglove schemas).

``bag_to_log`` reads a ROS 1 / ROS 2 bag with :class:`~drivestack.ingest.rosbag.RosbagLog`
(topic map, TF / odometry poses, de-skewing, packet decoding) and writes every synchronised
frame with :meth:`LogWriter.sensor_frame` (LiDAR clouds, ``world -> ego`` pose, mountings),
plus one ``drivestack.Metrics`` message (scope ``ingest``) with the ingest counts and the
first 50 skipped or repaired messages by name. The bag's ego and world frames become
drivestack's ``ego`` and ``world``; sensor frames keep their names. Camera images go in as
lossless PNG with their calibration; images PNG cannot hold (float depth, RGBA) are left out
of that frame and reported (kind ``camera_not_written``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

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
    """Convert ``bag`` into the drivestack log ``out``; returns (frames written, ingest report)."""
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
        writer.metrics(
            "/drivestack/metrics",
            last_ns,
            {
                "frames": frames,
                "messages_read": sum(report.messages_read.values()),
                "nonfinite_points_dropped": report.nonfinite_points_dropped,
                **{f"skipped.{kind}": n for kind, n in sorted(report.counts().items())},
                "issues": "; ".join(str(s) for s in report.skipped[:50]),
            },
            scope="ingest",
        )
    return frames, report
