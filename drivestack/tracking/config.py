"""Tracker configuration: frozen typed dataclasses loaded from strict YAML.

:func:`from_mapping` is generic (any frozen dataclass tree with ``int``, ``float``, ``bool``,
``str``, ``Literal``, ``tuple[...]``, ``dict[str, X]``, ``X | None`` and nested dataclasses);
unknown keys and wrong types raise :class:`ConfigError` naming the file and the dotted key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml

from drivestack.core.errors import ConfigError

T = TypeVar("T")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, path: str, key: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, path, key)
            except ConfigError as exc:
                errors.append(exc.reason)
        raise ConfigError(
            f"expected {' or '.join(_type_name(a) for a in args)}, got {value!r}",
            path=path,
            field=key,
        )
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"expected one of {list(args)}, got {value!r}", path=path, field=key)
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise ConfigError(
                f"expected a mapping for {tp.__name__}, got {type(value).__name__}",
                path=path,
                field=key,
            )
        return from_mapping(tp, value, path=path, prefix=key)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"expected a list, got {type(value).__name__}", path=path, field=key)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], path, f"{key}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"expected {len(args)} items, got {len(value)}", path=path, field=key)
        return tuple(
            _convert(v, a, path, f"{key}[{i}]")
            for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(
                f"expected a mapping, got {type(value).__name__}", path=path, field=key
            )
        return {
            _convert(k, args[0], path, f"{key}.{k}"): _convert(v, args[1], path, f"{key}.{k}")
            for k, v in value.items()
        }
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"expected a number, got {value!r}", path=path, field=key)
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"expected an integer, got {value!r}", path=path, field=key)
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"expected true or false, got {value!r}", path=path, field=key)
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"expected a string, got {value!r}", path=path, field=key)
        return value
    raise ConfigError(f"unsupported config type {tp!r}", path=path, field=key)


def from_mapping(
    cls: type[T], mapping: dict[str, Any], *, path: str = "<config>", prefix: str = ""
) -> T:
    """Build the frozen dataclass ``cls`` from a mapping, strictly.

    Raises:
        ConfigError: unknown key, missing required key, wrong type, or a value the dataclass's
            own ``__post_init__`` rejects (``ValueError``), naming ``path`` and the dotted key.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in mapping:
        if key not in fields:
            full = f"{prefix}.{key}" if prefix else str(key)
            raise ConfigError(
                f"unknown key (known: {', '.join(sorted(fields))})", path=path, field=full
            )
    kwargs = {}
    for name, f in fields.items():
        full = f"{prefix}.{name}" if prefix else name
        if name in mapping:
            kwargs[name] = _convert(mapping[name], hints[name], path, full)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError("missing required key", path=path, field=full)
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise ConfigError(str(exc), path=path, field=prefix or None) from None


def load_yaml_config(cls: type[T], path: str | Path) -> T:
    """``yaml.safe_load`` a file and map it onto ``cls`` (see :func:`from_mapping`)."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", path=str(p)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=str(p)) from None
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"top level must be a mapping, got {type(raw).__name__}", path=str(p))
    return from_mapping(cls, raw, path=str(p))


# -- tracker configuration --------------------------------------------------------------------
@dataclass(frozen=True)
class MotionConfig:
    """Kalman filter of one class.

    ``model``: ``cv`` (constant velocity, state x y z yaw l w h vx vy vz) or ``ctrv`` (constant
    turn rate and velocity, EKF, state x y z yaw l w h v yaw_rate). Process noise is a standard
    deviation accumulated per second (``Q = std^2 * dt``); measurement noise a standard
    deviation per detection.
    """

    model: Literal["cv", "ctrv"] = "cv"
    process_position_std_m: float = 3.0
    process_velocity_std_mps: float = 3.0
    process_yaw_std_rad: float = 0.3
    process_yaw_rate_std_radps: float = 1.0
    process_size_std_m: float = 0.3
    measurement_position_std_m: float = 1.0
    measurement_yaw_std_rad: float = 1.0
    measurement_size_std_m: float = 1.0
    initial_position_std_m: float = 3.0
    initial_velocity_std_mps: float = 100.0
    initial_yaw_rate_std_radps: float = 1.0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, float) and not v > 0:
                raise ValueError(f"{f.name} must be positive, got {v}")


@dataclass(frozen=True)
class AssociationConfig:
    """Matching of predicted tracks to detections.

    ``metric``: ``giou_3d``, ``giou_bev``, ``iou_3d``, ``iou_bev`` (affinity, higher is
    better) or ``distance_3d`` / ``distance_bev`` (affinity = minus the centre distance in m).
    A pair needs ``affinity >= threshold``. ``method``: ``hungarian`` or ``greedy``.
    ``two_stage``: detections scoring below ``high_score`` are matched only in a second stage,
    to tracks left unmatched by the first, with ``second_threshold``.
    """

    metric: Literal["giou_3d", "giou_bev", "iou_3d", "iou_bev", "distance_3d", "distance_bev"] = (
        "giou_3d"
    )
    threshold: float = -0.2
    method: Literal["hungarian", "greedy"] = "hungarian"
    two_stage: bool = False
    high_score: float = 0.0
    second_threshold: float = 0.0


@dataclass(frozen=True)
class LifecycleConfig:
    """Birth, death and output of tracks.

    A detection scoring at least ``birth_score`` starts a track; a track is confirmed after
    ``min_hits`` matches (tracks are output from the first frames of a sequence while the
    frame count is at most ``min_hits``, as AB3DMOT does); it dies after more than ``max_age``
    frames without a match. Output: confirmed tracks matched in this frame, and confirmed tracks
    coasting for at most ``output_coast_frames`` frames, whose score is the last detection score
    minus ``coast_score_penalty`` per missed frame. The output score also gains
    ``hits_score_bonus`` per match, up to ``hits_score_cap`` matches (long tracks are more
    likely true, and KITTI's protocol ranks whole tracks by their mean score).
    ``output_detection_box``: a track matched in this frame outputs the detection's box instead
    of the filtered one. ``min_output_score``: a track is output only while the mean score of
    its matched detections so far reaches this value (an online form of AB3DMOT's offline
    per-track confidence filter).
    """

    min_hits: int = 3
    max_age: int = 2
    birth_score: float = -1e9
    output_coast_frames: int = 0
    coast_score_penalty: float = 1.0
    output_detection_box: bool = False
    hits_score_bonus: float = 0.0
    hits_score_cap: int = 10
    min_output_score: float = -1e9

    def __post_init__(self) -> None:
        if self.min_hits < 1 or self.max_age < 0 or self.output_coast_frames < 0:
            raise ValueError("min_hits must be >= 1, max_age and output_coast_frames >= 0")


@dataclass(frozen=True)
class ClassTrackerConfig:
    """Parameters of one class. ``offline_min_track_score``: offline runners (whole sequences,
    e.g. KITTI result files) drop tracks whose mean output score over the sequence is below it,
    as AB3DMOT's ``trk_conf_threshold.py`` post-processing does; ``None`` keeps every track."""

    motion: MotionConfig = field(default_factory=MotionConfig)
    association: AssociationConfig = field(default_factory=AssociationConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    offline_min_track_score: float | None = None


@dataclass(frozen=True)
class TrackerConfig:
    """Per-class tracker parameters (keys: class names of :class:`ObjectClass`, any case) and
    whether to track in a world frame using ego poses (``ego_motion_compensation``)."""

    classes: dict[str, ClassTrackerConfig] = field(default_factory=dict)
    ego_motion_compensation: bool = False

    def __post_init__(self) -> None:
        from drivestack.structures.labels import ObjectClass

        for name in self.classes:
            try:
                ObjectClass.from_name(name)
            except ValueError as exc:
                raise ValueError(f"classes.{name}: {exc}") from None


def load_tracker_config(path: str | Path) -> TrackerConfig:
    """Load a tracker YAML (see ``configs/tracking/``)."""
    return load_yaml_config(TrackerConfig, path)
