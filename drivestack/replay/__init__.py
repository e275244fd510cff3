"""Offline log replay: run the stack over every frame of a recorded drive, write what it did.

- :func:`~drivestack.replay.runner.replay` (``drivestack replay``): reads a drivestack log or a
  ROS bag, runs the stack frame by frame, skips and reports bad frames, writes an output log
  and a summary.
- :mod:`~drivestack.replay.log_format` / :mod:`~drivestack.replay.log_reader`: drivestack's
  log, MCAP with Foxglove schemas (opens in Foxglove Studio); :mod:`~drivestack.replay.convert`
  turns a bag into one.
- :mod:`~drivestack.replay.golden`: golden-output regression of replays;
  :mod:`~drivestack.replay.kitti_log` and :mod:`~drivestack.replay.kitti_score`: KITTI
  tracking sequences as logs, scored with the KITTI protocols (the tracks also written as KITTI
  tracking results); :mod:`~drivestack.replay.dataset_log`: the other datasets as logs, and
  which dataset a log comes from; :mod:`~drivestack.replay.stack_fit`: whether a stack's
  perception config fits the log it replays.

``replay``, ``open_frames``, ``summary_lines``, ``LogReader``, ``InputProblem`` and
``LogWriter`` import from the package (their modules on first use)::

    from drivestack.pipeline import build_stack
    from drivestack.replay import LogReader, replay

    for frame in LogReader("data/demo/drive.mcap").frames():  # SensorFrames, in time order
        ...
    summary = replay("data/demo/drive.mcap", build_stack("configs/stack/sim_lidar.yaml"), "run.mcap")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivestack.core.lazy_exports import lazy_dir, lazy_exports

if TYPE_CHECKING:
    from drivestack.replay.log_format import LogWriter
    from drivestack.replay.log_reader import InputProblem, LogReader
    from drivestack.replay.runner import open_frames, replay, summary_lines

_EXPORTS = {
    "InputProblem": "log_reader",
    "LogReader": "log_reader",
    "LogWriter": "log_format",
    "open_frames": "runner",
    "replay": "runner",
    "summary_lines": "runner",
}
__all__ = ["InputProblem", "LogReader", "LogWriter", "open_frames", "replay", "summary_lines"]
__getattr__ = lazy_exports(__name__, _EXPORTS)
__dir__ = lazy_dir(__name__, __all__)
