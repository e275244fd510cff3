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
"""
