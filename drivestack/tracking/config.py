"""Tracker configuration: frozen typed dataclasses loaded from strict YAML
(:func:`drivestack.config.load_yaml_config`: unknown keys and wrong types raise
:class:`ConfigError` naming the file and the dotted key)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from drivestack.config import load_yaml_config
from drivestack.config.strict import ConfigValueError, check_config_numbers
from drivestack.structures._checks import check_number


# -- tracker configuration --------------------------------------------------------------------
@dataclass(frozen=True)
class MotionConfig:
    """Kalman filter of one class.

    ``model``: ``cv`` (constant velocity, state x y z yaw l w h vx vy vz) or ``ctrv`` (constant
    turn rate and velocity, EKF, state x y z yaw l w h v yaw_rate). Process noise is a standard
    deviation accumulated per second (``Q = std^2 * dt``); measurement noise a standard
    deviation per detection. ``initial_lateral_velocity_std_mps`` (CV only; ``None``:
    ``initial_velocity_std_mps`` in every direction): a new track's velocity prior across
    its first box's axis, ``initial_velocity_std_mps`` along it. Vehicles drive along their
    long axis, so a new track's second box moving sideways is then mostly taken as box noise
    rather than as speed (a 0.7 m sideways jump no longer reads 7 m/s), while a move along the
    axis is taken as speed as before.

    ``process_acceleration_std_mps2`` (CV only; ``None``: off) adds the discrete white-noise
    acceleration model (Bar-Shalom): an acceleration of that standard deviation held over each
    step, so a step of ``dt`` adds ``a^2 [[dt^4/4, dt^3/2], [dt^3/2, dt^2]]`` to each axis'
    position-velocity block. Unlike the independent random walks of position and velocity,
    its position noise follows from the velocity noise: a filter given a braking object's
    deceleration follows it without reading every centre jitter of a box as speed.
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
    initial_lateral_velocity_std_mps: float | None = None
    process_acceleration_std_mps2: float | None = None

    @staticmethod
    def config_keys_ignored(mapping: dict[Any, Any]) -> dict[str, str]:
        """The keys of a ``motion`` mapping its model never reads (see
        :mod:`drivestack.config.strict`): the yaw-rate noises under ``model: cv`` (the
        constant-velocity state has no yaw rate)."""
        if mapping.get("model", "cv") != "cv":
            return {}
        return {
            key: "the constant-velocity model (model: cv) has no yaw rate: this key is read "
            "only with model: ctrv"
            for key in ("process_yaw_rate_std_radps", "initial_yaw_rate_std_radps")
            if key in mapping
        }

    def __post_init__(self) -> None:
        optional = ("initial_lateral_velocity_std_mps", "process_acceleration_std_mps2")
        stds = [f.name for f in dataclasses.fields(self) if f.name not in ("model", *optional)]
        check_config_numbers(self, *stds, above=0.0)
        for name in optional:
            if getattr(self, name) is not None:
                check_config_numbers(self, name, above=0.0)
        for name in optional:
            if self.model != "cv" and getattr(self, name) is not None:
                raise ConfigValueError(
                    f"this key is for the constant-velocity model (model: cv), not {self.model}",
                    key=name,
                )


@dataclass(frozen=True)
class AssociationConfig:
    """Matching of predicted tracks to detections.

    ``metric``: ``giou_3d``, ``giou_bev``, ``iou_3d``, ``iou_bev`` (affinity, higher is
    better) or ``distance_3d`` / ``distance_bev`` (affinity = minus the centre distance in m).
    A pair needs ``affinity >= threshold``. ``method``: ``hungarian`` or ``greedy``.
    ``two_stage``: detections scoring below ``high_score`` are matched only in a second stage,
    to tracks left unmatched by the first, with ``second_threshold``. ``gated``: Hungarian
    matching ignores pairs below the threshold instead of dropping them after the assignment
    (see :func:`drivestack.tracking.association.match`).

    ``threshold`` and ``second_threshold`` are values of ``metric``: in [0, 1] for the IoU
    metrics, in [-1, 1] for the GIoU metrics and at most 0 for the distance metrics (``-2.0``:
    within 2 m); outside those ranges every pair matches or none does. ``high_score`` is a
    detection score (any finite number: raw detector logits can be negative).
    """

    metric: Literal["giou_3d", "giou_bev", "iou_3d", "iou_bev", "distance_3d", "distance_bev"] = (
        "giou_3d"
    )
    threshold: float = -0.2
    method: Literal["hungarian", "greedy"] = "hungarian"
    two_stage: bool = False
    high_score: float = 0.0
    second_threshold: float = 0.0
    gated: bool = False

    def __post_init__(self) -> None:
        hint = f" ({self.metric})"
        bounds: dict[str, float] = {"at_least": 0.0, "at_most": 1.0}  # the IoU metrics
        if self.metric.startswith("distance"):
            hint = f" ({self.metric}: distance thresholds are negative: -2.0 means within 2 m)"
            bounds = {"at_most": 0.0}
        elif self.metric.startswith("giou"):
            bounds = {"at_least": -1.0, "at_most": 1.0}
        check_config_numbers(self, "threshold", "second_threshold", hint=hint, **bounds)
        check_config_numbers(self, "high_score")


@dataclass(frozen=True)
class LifecycleConfig:
    """Birth, death and output of tracks.

    A detection scoring at least ``birth_score`` starts a track; a track is confirmed after
    ``min_hits`` matches (tracks are output from the first frames of a sequence while the
    frame count is at most ``min_hits``, as AB3DMOT does); it dies after more than ``max_age``
    frames without a match. Frames here (``max_age``, ``output_coast_frames``, ``min_hits``)
    count step calls, not time: after a gap in the data (a dropped stretch of a log) a track
    survives however long the gap was. ``max_coast_s`` (default ``None``: off) also kills a
    track once more than that many seconds have passed since its last matched detection's
    timestamp, whatever ``max_age`` says. Output: confirmed tracks matched in this frame, and
    confirmed tracks coasting for at most ``output_coast_frames`` frames, whose score is the
    last detection score minus ``coast_score_penalty`` per missed frame. The output score also
    gains ``hits_score_bonus`` per match, up to ``hits_score_cap`` matches (long tracks are more
    likely true, and KITTI's protocol ranks whole tracks by their mean score).
    ``output_detection_box``: a track matched in this frame outputs the detection's box instead
    of the filtered one. ``min_output_score``: a track is output only while the mean score of
    its matched detections so far reaches this value (an online form of AB3DMOT's offline
    per-track confidence filter). ``min_score_floor``: when set, output scores are clamped
    from below to it (``0.0`` keeps scores of a detector calibrated to probabilities in
    ``[0, 1]`` from going negative while coasting); ``None`` (default) leaves them unclamped,
    as raw detector logits such as PointRCNN's can be negative.
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
    min_score_floor: float | None = None
    max_coast_s: float | None = None

    def __post_init__(self) -> None:
        check_config_numbers(
            self, "birth_score", "coast_score_penalty", "hits_score_bonus", "min_output_score"
        )
        if self.max_coast_s is not None:
            check_config_numbers(self, "max_coast_s", above=0.0)
        if self.min_hits < 1:
            raise ValueError(f"min_hits must be >= 1, got {self.min_hits}")
        for name in ("max_age", "output_coast_frames"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.min_score_floor is not None and not math.isfinite(self.min_score_floor):
            raise ValueError(
                f"min_score_floor must be a finite number or null, got {self.min_score_floor}"
            )


@dataclass(frozen=True)
class AnchorConfig:
    """Anchor-point measurements of the online tracker (:mod:`drivestack.tracking.anchor`):
    with ``enabled``, a matched detection is turned to its track's axes, and its length and
    width are replaced by the median of the track's last ``size_window_frames`` matched
    detections' while its faces visible from the sensor stay put, so that a partly seen
    vehicle's box does not move its centre (and the filter's speed) whenever the visible part
    changes. A constant-velocity track faster than
    :data:`~drivestack.tracking.tracker.HEADING_MIN_SPEED_MPS` takes its axes and heading from
    its velocity (a LiDAR box's yaw is an axis; the planners match a track's heading to
    lanes); a slower track whose median box is wider than long (born from a box fitted across
    its vehicle) is turned by 90 degrees. A moving CTRV track keeps its yaw (its velocity
    follows it).
    For vehicle classes; off by default; the KITTI-benchmark configs do not use it."""

    enabled: bool = False
    size_window_frames: int = 10

    def __post_init__(self) -> None:
        if self.size_window_frames < 1:
            raise ValueError(f"size_window_frames must be >= 1, got {self.size_window_frames}")


@dataclass(frozen=True)
class OfflineEvidenceConfig:
    """Whole-track rules of offline runners (KITTI result files), from each track's evidence
    over the sequence (:func:`drivestack.tracking.offline.apply_track_evidence`); the defaults
    change nothing.

    ``min_track_hits``: drop tracks with fewer matched detections. With ``lifecycle.min_hits``
    1 this confirms tracks retroactively: a track that is confirmed later keeps its first
    frames. ``trailing_coast_frames``: keep at most this many coasting rows after a track's
    last match (``None`` keeps all; coasting rows between matches are kept).
    ``log_hits_weight``: when set, every row of a track gets the score ``mean score of its
    matched detections + log_hits_weight * ln(matches)`` (before ``offline_min_track_score``).
    The match counts (``min_track_hits``, ``ln(matches)``) are the track's hit counter, every
    match; the mean is over the matched rows the track output, so with ``lifecycle.min_hits``
    above 1 the matches before it was confirmed (no rows) are not in it; with 1 (as this step
    expects) the two agree.
    """

    min_track_hits: int = 1
    trailing_coast_frames: int | None = None
    log_hits_weight: float | None = None

    def __post_init__(self) -> None:
        if self.min_track_hits < 1:
            raise ValueError(f"min_track_hits must be >= 1, got {self.min_track_hits}")
        if self.trailing_coast_frames is not None and self.trailing_coast_frames < 0:
            raise ValueError(
                f"trailing_coast_frames must be >= 0 or null, got {self.trailing_coast_frames}"
            )
        if self.log_hits_weight is not None:
            check_config_numbers(self, "log_hits_weight")


@dataclass(frozen=True)
class OfflineRefineConfig:
    """Offline per-track box refinement of result rows from the matched detections of the whole
    track (:func:`drivestack.tracking.refine.refine_track_boxes`); the defaults change nothing.

    ``size``: one ``h w l`` for every row of a track (a rigid object), the ``median`` or
    ``mean`` of its matched detections' sizes (``off`` keeps the filtered sizes).
    ``score_weight``: the size consensus and the smoothing weight each matched detection by
    ``exp(score_weight * detection score)`` (0: equal weights; confident detections are
    better localised).
    ``smooth_half_window_frames``: when > 0, the centre (and with ``smooth_yaw`` the heading,
    modulo pi) of each matched row is a local polynomial fit of degree ``smooth_degree`` (0..2)
    to the track's matched detections within that many frames, weighted by a tricube kernel in
    time (fewer detections than the degree needs lower it). ``robust_iterations``: re-weight
    the fit that many times with bisquare weights of the centre residuals, scaled by
    ``robust_scale_m`` (a detection ``robust_scale_m`` or more from the fit gets weight 0).
    ``interpolate_gaps``: coasting rows between two matches of a track get centre and heading
    linearly interpolated between the (refined) boxes of those matches instead of the Kalman
    prediction. ``world_frame``: smooth and interpolate in the world frame of the run's ego
    poses (parked objects stand still there) instead of the camera frame; needs a run with
    poses. Rows, their order, scores and image boxes are kept.
    """

    size: Literal["off", "median", "mean"] = "off"
    score_weight: float = 0.0
    smooth_half_window_frames: int = 0
    smooth_degree: int = 1
    smooth_yaw: bool = False
    robust_iterations: int = 0
    robust_scale_m: float = 1.0
    interpolate_gaps: bool = False
    world_frame: bool = False

    def __post_init__(self) -> None:
        if self.smooth_half_window_frames < 0:
            raise ValueError(
                f"smooth_half_window_frames must be >= 0, got {self.smooth_half_window_frames}"
            )
        if not 0 <= self.smooth_degree <= 2:
            raise ValueError(f"smooth_degree must be 0, 1 or 2, got {self.smooth_degree}")
        if self.robust_iterations < 0:
            raise ValueError(f"robust_iterations must be >= 0, got {self.robust_iterations}")
        check_config_numbers(self, "robust_scale_m", above=0.0)
        check_config_numbers(self, "score_weight")


@dataclass(frozen=True)
class OfflineStitchConfig:
    """Offline stitching of a track that ends to one that starts shortly after it, as the same
    object (:func:`drivestack.tracking.stitch.stitch_tracks`); the defaults change nothing.

    ``max_gap_frames``: a track whose last match is at frame ``f1`` may be continued by a track
    whose first row is at ``f2`` with ``1 <= f2 - f1 <= max_gap_frames`` (0: off). The first
    track's centre and heading (modulo pi) are extrapolated to ``f2`` by straight-line fits in
    time to its matched rows at frames ``f1 - motion_window_frames`` to ``f1`` (both included;
    0: its last matched box); the second track's start is likewise a fit to its matched rows
    at frames ``f2`` to ``f2 + start_window_frames``, evaluated at ``f2`` (0: its first box,
    which a single poor detection can throw off). The pair is a candidate when the two centres
    lie within ``max_distance_m`` (3D), the headings differ by at most ``max_yaw_diff_rad``,
    and their median matched sizes differ by at most a
    factor ``max_size_ratio`` in each of h, w, l. Candidates are resolved one to one by a
    Hungarian assignment minimising the total distance; chains (A then B then C) are allowed.
    The joined track keeps the first track's id, its coasting rows after ``f1`` are replaced by
    rows interpolated between the two boxes, and its per-row match counts continue the first
    track's. ``world_frame``: extrapolate and interpolate in the world frame of the run's ego
    poses (needs a run with poses) instead of the camera frame. ``min_track_matches``: only
    tracks with at least this many matched detections are joined (a join adds up the two
    tracks' matches, so short clutter tracks at one place would otherwise pass the evidence
    rules' ``min_track_hits`` together). ``score_weight``: the line fits weight each matched
    row by ``exp(score_weight * detection score)`` (0: equal weights), so a low-score match
    that ends a track (often another object's detection, or a box turned the wrong way, that
    the association let through) does not throw its extrapolation off.
    """

    max_gap_frames: int = 0
    max_distance_m: float = 2.0
    max_yaw_diff_rad: float = 0.5
    max_size_ratio: float = 1.5
    motion_window_frames: int = 5
    start_window_frames: int = 0
    world_frame: bool = False
    min_track_matches: int = 1
    score_weight: float = 0.0

    def __post_init__(self) -> None:
        if min(self.max_gap_frames, self.motion_window_frames, self.start_window_frames) < 0:
            raise ValueError(
                "max_gap_frames, motion_window_frames and start_window_frames must be >= 0"
            )
        if self.min_track_matches < 1:
            raise ValueError(f"min_track_matches must be >= 1, got {self.min_track_matches}")
        check_config_numbers(self, "max_distance_m", above=0.0)
        check_config_numbers(self, "max_yaw_diff_rad", at_least=0.0)
        check_config_numbers(self, "max_size_ratio", at_least=1.0)
        check_config_numbers(self, "score_weight", at_least=0.0)


@dataclass(frozen=True)
class OfflineCrossClassConfig:
    """Offline veto of a track that is another class's object seen twice
    (:func:`drivestack.tracking.cross_class.cross_class_vetoed_tracks`); the defaults change
    nothing.

    Per-class detectors (AB3DMOT's PointRCNN files are one detector per class) can each report
    the same object: a cyclist is often also a pedestrian detection. ``other_class``: the
    class whose detections are compared (``None``: off). A track is dropped when, in at least
    ``min_fraction`` of its matched frames, a detection of ``other_class`` with a higher
    score lies within ``max_distance_m`` (bird's-eye view) of the track's matched detection.
    """

    other_class: str | None = None
    max_distance_m: float = 1.0
    min_fraction: float = 0.5

    def __post_init__(self) -> None:
        check_config_numbers(self, "max_distance_m", above=0.0)
        if not 0 < self.min_fraction <= 1:
            raise ValueError(f"min_fraction must be in (0, 1], got {self.min_fraction}")
        if self.other_class is not None:
            from drivestack.structures.labels import ObjectClass

            ObjectClass.from_name(self.other_class)


@dataclass(frozen=True)
class OfflineTrackScorerConfig:
    """Offline re-scoring of whole tracks by a logistic model of whole-track features
    (:mod:`drivestack.tracking.track_scorer`); the defaults (no weights) change nothing.

    Every row of a track gets the score ``bias + sum_k weights[k] * feature_k`` (a logit:
    ``offline_min_track_score`` then thresholds it); feature names are the keys of
    :data:`drivestack.tracking.track_scorer.TRACK_FEATURES`. ``min_mean_score``: tracks whose
    mean row score is below it are dropped before scoring (the candidates the model was
    fitted on; ``None`` keeps all). Fit the weights with ``tools/train_track_scorer.py``.
    Needs a run with ego poses.
    """

    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    min_mean_score: float | None = None

    def __post_init__(self) -> None:
        from drivestack.tracking.track_scorer import feature_columns

        feature_columns(list(self.weights))
        for name, weight in self.weights.items():
            try:
                check_number(f"weights.{name}", weight)
            except (TypeError, ValueError) as exc:
                raise ConfigValueError(str(exc), key=f"weights.{name}") from None
        check_config_numbers(self, "bias")
        if self.min_mean_score is not None:
            check_config_numbers(self, "min_mean_score")
        if not self.weights and (self.bias != 0.0 or self.min_mean_score is not None):
            raise ValueError(
                "offline_track_scorer without weights would give every track the same score "
                "(the bias): give its weights (tools/train_track_scorer.py prints them) or "
                "leave the block out"
            )


@dataclass(frozen=True)
class ClassTrackerConfig:
    """Parameters of one class. ``anchor``: anchor-point measurements of the online tracker
    (:class:`AnchorConfig`). ``offline_min_track_score``: offline runners (whole sequences,
    e.g. KITTI result files) drop tracks whose mean output score over the sequence is below it,
    as AB3DMOT's ``trk_conf_threshold.py`` post-processing does; ``None`` keeps every track.
    ``offline_track_mean_score``: offline runners write each track's mean score (rounded to
    1/64) on all its rows, so that the KITTI reference evaluator's repeated in-place
    re-averaging cannot drop a track from its own recall threshold
    (:func:`drivestack.tracking.offline.track_mean_scores`). ``offline_evidence``: whole-track
    rules from matches and detection scores (:class:`OfflineEvidenceConfig`), applied first.
    ``offline_refine``: per-track box refinement (:class:`OfflineRefineConfig`), applied before
    the evidence rules. ``offline_stitch``: joining of tracks split by a short gap
    (:class:`OfflineStitchConfig`), applied before the refinement. ``offline_cross_class``: the
    veto of tracks that another class's detector reports with a higher score
    (:class:`OfflineCrossClassConfig`), decided on the stitched tracks.
    ``offline_track_scorer``: whole tracks re-scored by a fitted model
    (:class:`OfflineTrackScorerConfig`), after the evidence rules and the veto and before
    ``offline_min_track_score``."""

    motion: MotionConfig = field(default_factory=MotionConfig)
    association: AssociationConfig = field(default_factory=AssociationConfig)
    lifecycle: LifecycleConfig = field(default_factory=LifecycleConfig)
    anchor: AnchorConfig = field(default_factory=AnchorConfig)
    offline_min_track_score: float | None = None
    offline_track_mean_score: bool = False
    offline_evidence: OfflineEvidenceConfig = field(default_factory=OfflineEvidenceConfig)
    offline_refine: OfflineRefineConfig = field(default_factory=OfflineRefineConfig)
    offline_stitch: OfflineStitchConfig = field(default_factory=OfflineStitchConfig)
    offline_cross_class: OfflineCrossClassConfig = field(default_factory=OfflineCrossClassConfig)
    offline_track_scorer: OfflineTrackScorerConfig = field(default_factory=OfflineTrackScorerConfig)

    def __post_init__(self) -> None:
        if self.offline_min_track_score is not None:
            check_config_numbers(self, "offline_min_track_score")


@dataclass(frozen=True)
class TrackerConfig:
    """Per-class tracker parameters (keys: class names of :class:`ObjectClass`, any case) and
    whether to track in a world frame using ego poses (``ego_motion_compensation``)."""

    classes: dict[str, ClassTrackerConfig] = field(default_factory=dict)
    ego_motion_compensation: bool = False

    def __post_init__(self) -> None:
        from drivestack.structures.labels import ObjectClass

        seen: dict[ObjectClass, str] = {}
        for name in self.classes:
            try:
                cls = ObjectClass.from_name(name)
            except ValueError as exc:
                raise ConfigValueError(str(exc), key=f"classes.{name}") from None
            if cls in seen:
                raise ConfigValueError(
                    f"duplicate of classes.{seen[cls]} (class keys are case-insensitive: one "
                    "block per class)",
                    key=f"classes.{name}",
                )
            seen[cls] = name


def load_tracker_config(path: str | Path) -> TrackerConfig:
    """Load a tracker YAML (see ``configs/tracking/``)."""
    return load_yaml_config(TrackerConfig, path)
