"""Whether a stack's perception config fits the log it replays, checked before any frame.

- A LiDAR detector config that switches on a step reading the HD map
  (:data:`~drivestack.perception.lidar.map_priors.MAP_STEPS`) cannot run on a replayed log: no
  log carries map priors (a drivestack log holds clouds, poses, labels and images; a ROS bag
  no map either). :func:`check_stack_fits_log` refuses it (``ConfigError`` naming the config
  file and the key) before the log is read.
- A config that names the datasets it was made for (``datasets:``) replaying a log made from
  another (:func:`~drivestack.replay.dataset_log.source_dataset` of the log's run record) runs,
  but its figures mean little: one warning line naming the config, the log's source and, when
  a stack beside the one given is made for that dataset, that stack.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from drivestack.core.errors import DataError
from drivestack.pipeline import Stack

#: What the map-step refusal says the frames are.
REPLAYED_FRAMES = "a replayed log (no log carries HD-map priors)"


def perception_config(stack: Stack) -> tuple[str, Any] | None:
    """``(path, LidarDetectorConfig)`` of the stack's LiDAR detector: the path as the stack
    YAML names it, joined to the YAML's folder (``configs/perception/lidar_av2.yaml``); None for
    another detector (the open3d baseline, one's own)."""
    from drivestack.perception.lidar.config import LidarDetectorConfig

    cfg = getattr(stack.detector, "cfg", None)
    if not isinstance(cfg, LidarDetectorConfig):
        return None
    stack_yaml, perception = stack.config.get("stack"), stack.config.get("perception")
    if isinstance(stack_yaml, str) and isinstance(perception, str):
        path = os.path.normpath(Path(stack_yaml).parent / perception)
    else:
        path = f"the {type(stack.detector).__name__}'s config"
    return path, cfg


def check_stack_map_steps(stack: Stack, frames: str) -> None:
    """``ConfigError`` naming the perception config and key when the stack's LiDAR detector
    turns on a step that reads an HD map and ``frames`` (whose: a replayed log, the
    simulator) carry none (:func:`~drivestack.perception.lidar.map_priors.check_map_steps`)."""
    from drivestack.perception.lidar.map_priors import check_map_steps

    found = perception_config(stack)
    if found is not None:
        check_map_steps(found[1], found[0], False, frames)


def log_run_record(log_path: Path) -> dict[str, Any] | None:
    """The run record (``/drivestack/run``) of a drivestack log; None for a ROS bag or a log
    whose record cannot be read (the replay reports that itself)."""
    from drivestack.replay.log_reader import ROS2_PROFILE, LogReader, mcap_profile

    if not (log_path.is_file() and log_path.suffix == ".mcap"):
        return None
    try:
        if mcap_profile(log_path) == ROS2_PROFILE:
            return None
        return LogReader(log_path).run_metadata()
    except (DataError, OSError):
        return None


def check_stack_fits_log(stack: Stack, log_path: Path) -> list[str]:
    """Before any frame: the warning lines of ``stack`` replaying ``log_path`` (a config made
    for other data than the log's: one line; none when either does not say).

    Raises:
        ConfigError: the stack's perception config switches on a map step, naming the config
            and the key (:func:`~drivestack.perception.lidar.map_priors.check_map_steps`).
    """
    from drivestack.replay.dataset_log import source_dataset

    check_stack_map_steps(stack, REPLAYED_FRAMES)
    found = perception_config(stack)
    if found is None:
        return []
    path, cfg = found
    made_for = tuple(cfg.datasets)
    run = log_run_record(log_path) if made_for else None
    dataset = source_dataset(run) if run is not None else None
    if dataset is None or dataset in made_for:
        return []
    assert run is not None
    other = _stack_made_for(dataset, stack)
    hint = f": replay it with --stack {other}" if other else ""
    return [
        f"{path}: field datasets: this config was made for {', '.join(made_for)}, but "
        f"{log_path.name} holds {dataset} frames (written by {run.get('command')}): the "
        f"replay's figures mean little{hint}"
    ]


def _stack_made_for(dataset: str, stack: Stack) -> str | None:
    """A stack YAML beside the one replaying (its folder) whose LiDAR config names ``dataset``
    in its ``datasets``; None when there is none (or the stack came from no YAML)."""
    import yaml

    stack_yaml = stack.config.get("stack")
    if not isinstance(stack_yaml, str):
        return None
    for candidate in sorted(Path(stack_yaml).parent.glob("*.yaml")):
        try:
            perception = yaml.safe_load(candidate.read_text()).get("perception")
            config = yaml.safe_load((candidate.parent / perception).read_text())
        except (OSError, ValueError, yaml.YAMLError, AttributeError, TypeError):
            continue  # not a stack YAML (or not UTF-8), or its perception is no LiDAR config
        if isinstance(config, dict) and dataset in (config.get("datasets") or ()):
            return os.path.normpath(candidate)
    return None
