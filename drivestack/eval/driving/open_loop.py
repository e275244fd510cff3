"""nuPlan's open-loop metrics (challenge 1, ``open_loop_boxes``): a planner's trajectory at
each sampled instant of a recorded drive against the expert's (the human's) recorded future.

Definitions, as nuplan-devkit's ``planner_expert_*_within_bound`` and
``planner_miss_rate_within_bound`` metrics and its ``open_loop_boxes_weighted_average``
aggregator define them (:class:`OpenLoopParams` holds their settings):

- **Instants**: every ``sample_interval_s`` (nuPlan: 1 Hz, ``comparison_frequency``) from the
  drive's start. At an instant ``t`` the planner's trajectory and the expert's are compared at
  ``t + k * sample_interval_s`` for ``k = 1 .. max(horizons_s)`` (1 s steps: 8 samples), both
  at the vehicle's **box centre** with their headings (nuPlan compares ``center`` poses;
  drivestack's trajectories are at the rear axle, moved forward by ``center_offset_m`` along
  their own heading), the planner's interpolated at those times.
- **Per instant and horizon** ``H`` (nuPlan: 3, 5 and 8 s), over the samples up to ``H``:
  average displacement (ADE, the mean L2 error), final displacement (FDE, at ``H``), the
  largest displacement, average and final absolute heading error (wrapped to ``[-pi, pi)``).
- **Per drive**: each figure's mean over the instants, per horizon; its mean over the
  horizons; the score ``max(0, 1 - mean / bound)`` (bounds 8 m, 8 m, 0.8 rad, 0.8 rad); the
  miss rate per horizon, the share of instants whose largest displacement exceeds that
  horizon's threshold (6, 8, 16 m); the miss multiplier, 1 when every horizon's miss rate is
  at most 0.3, else 0.
- **Open-loop score** (OLS) of a drive: the miss multiplier times the weighted mean of the
  four scores, weights 1 (ADE), 1 (FDE), 2 (average heading), 2 (final heading). nuPlan's
  challenge score is the mean of its scenarios' scores.

**Drives shorter than nuPlan's scenarios.** nuPlan reads the expert's future past the
scenario's end from its database; a recorded log has no future past its last pose. An
instant counts for horizon ``H`` only when the recording covers ``t + H``
(:func:`instant_errors` keeps the samples the expert covers), so a 15.5 s Argoverse 2 log
gives 13 instants at 3 s, 11 at 5 s and 8 at 8 s. A recording that ends within half its
sample interval before ``t + H`` (:func:`end_tolerance_ns`: 50 ms on a 10 Hz log) covers
it: that last sample is compared at the recording's end, plan and expert alike.

**Plans slightly shorter than the horizon**, as nuPlan's
``planner_expert_average_l2_error_within_bound``: a plan that ends after the last compared
sample but one is compared at its own end time for that last sample (its last state
against the expert there); a plan shorter than that is an error. nuPlan averages over the horizons with one
set of instants; here each horizon has its own, and the mean over the horizons is the mean of
the per-horizon means (the same figure when every horizon has the same instants). A drive
with no instant for some horizon has no mean over the horizons and no score (``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from drivestack.core.time import seconds_to_ns
from drivestack.core.transforms import wrap_angle
from drivestack.structures._checks import check_number
from drivestack.structures.trajectory import Trajectory

#: The four bounded scores of the OLS and their weights (nuPlan's open_loop_boxes aggregator).
SCORE_WEIGHTS = {
    "average_l2": 1.0,
    "final_l2": 1.0,
    "average_heading": 2.0,
    "final_heading": 2.0,
}


@dataclass(frozen=True)
class OpenLoopParams:
    """nuPlan's open-loop settings (the defaults are its challenge's); ``ValueError`` /
    ``TypeError`` naming the field for settings that cannot be scored with (``max_miss_rate``
    is a share of the instants, in ``[0, 1]``)."""

    horizons_s: tuple[float, ...] = (3.0, 5.0, 8.0)
    sample_interval_s: float = 1.0
    max_average_l2_error_m: float = 8.0
    max_final_l2_error_m: float = 8.0
    max_average_heading_error_rad: float = 0.8
    max_final_heading_error_rad: float = 0.8
    miss_thresholds_m: tuple[float, ...] = (6.0, 8.0, 16.0)  # one per horizon
    max_miss_rate: float = 0.3

    def __post_init__(self) -> None:
        for name in (
            "sample_interval_s",
            "max_average_l2_error_m",
            "max_final_l2_error_m",
            "max_average_heading_error_rad",
            "max_final_heading_error_rad",
        ):
            check_number(f"OpenLoopParams.{name}", getattr(self, name), above=0.0)
        check_number("OpenLoopParams.max_miss_rate", self.max_miss_rate, at_least=0.0, at_most=1.0)
        if not self.horizons_s:
            raise ValueError("OpenLoopParams.horizons_s needs at least one horizon")
        for h in self.horizons_s:
            check_number("OpenLoopParams.horizons_s", h, above=0.0)
        if list(self.horizons_s) != sorted(set(self.horizons_s)):
            raise ValueError(
                f"OpenLoopParams.horizons_s must be increasing, got {self.horizons_s!r}"
            )
        for h in self.horizons_s:
            steps = h / self.sample_interval_s
            if abs(steps - round(steps)) > 1e-9:
                raise ValueError(
                    f"OpenLoopParams.horizons_s: {h!r} s is not a whole number of "
                    f"sample_interval_s = {self.sample_interval_s!r} s"
                )
        if len(self.miss_thresholds_m) != len(self.horizons_s):
            raise ValueError(
                f"OpenLoopParams.miss_thresholds_m needs one threshold per horizon "
                f"({len(self.horizons_s)}), got {self.miss_thresholds_m!r}"
            )
        for m in self.miss_thresholds_m:
            check_number("OpenLoopParams.miss_thresholds_m", m, above=0.0)

    def steps(self, horizon_s: float) -> int:
        """Compared samples up to ``horizon_s``."""
        return round(horizon_s / self.sample_interval_s)

    @property
    def max_steps(self) -> int:
        """Compared samples per instant: up to the longest horizon."""
        return self.steps(self.horizons_s[-1])


@dataclass(frozen=True)
class InstantErrors:
    """One instant's errors at the compared samples ``k = 1 .. K`` (``K`` up to
    ``params.max_steps``, fewer where the recording ends first).

    Attributes:
        time_s: the instant (the drive's time).
        displacement_m: ``(K,)`` L2 distance between the planner's and the expert's centres.
        heading_error_rad: ``(K,)`` absolute heading difference, in ``[0, pi]``.
    """

    time_s: float
    displacement_m: np.ndarray
    heading_error_rad: np.ndarray

    def __post_init__(self) -> None:
        """``ValueError`` naming the field unless ``time_s`` is finite and the errors are two
        ``(K,)`` arrays of finite values (a NaN would turn the drive's means and scores NaN)."""
        check_number("InstantErrors.time_s", self.time_s)
        d = np.asarray(self.displacement_m, dtype=np.float64)
        h = np.asarray(self.heading_error_rad, dtype=np.float64)
        if d.ndim != 1 or h.shape != d.shape:
            raise ValueError(
                "InstantErrors.displacement_m and .heading_error_rad must be two (K,) arrays, "
                f"got {d.shape} and {h.shape}"
            )
        for name, values in (("displacement_m", d), ("heading_error_rad", h)):
            bad = ~np.isfinite(values)
            if bad.any():
                k = int(np.argmax(bad))
                raise ValueError(
                    f"InstantErrors.{name}[{k}] is {values[k]!r} at the instant "
                    f"{self.time_s} s; the errors must be finite"
                )


def centre_poses(
    trajectory: Trajectory, timestamps_ns: np.ndarray, center_offset_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(K, 2)`` box centres and ``(K,)`` headings of a rear-axle ``trajectory`` at
    ``timestamps_ns (K,)`` (linear interpolation, yaw on the circle)."""
    at = trajectory.interpolate(timestamps_ns)
    yaw = np.asarray(at.yaw_rad)
    xy = at.xy_m + center_offset_m * np.stack([np.cos(yaw), np.sin(yaw)], axis=1)
    return xy, yaw


def end_tolerance_ns(expert: Trajectory) -> int:
    """How far before a compared sample the expert's recording may end and still cover it:
    half its median sample interval (0 for fewer than two samples)."""
    if len(expert) < 2:
        return 0
    return int(np.median(np.diff(np.asarray(expert.timestamp_ns, dtype=np.int64))) // 2)


def instant_errors(
    planned: Trajectory,
    expert: Trajectory,
    time_s: float,
    params: OpenLoopParams,
    center_offset_m: float,
) -> InstantErrors:
    """The errors of the plan made at ``time_s`` (``planned``: the plan, ``expert``: the whole
    recorded drive, both rear-axle trajectories on one clock, 0 at the drive's start) at the
    samples ``time_s + k * sample_interval_s`` that the recording covers (to
    :func:`end_tolerance_ns`), up to the longest horizon. The last sample is compared at the
    expert's end when the recording ends within that tolerance before it, and at the plan's
    end when the plan ends between the last sample but one and the last (nuPlan; module
    docstring).

    Raises:
        ValueError: the plan and the expert are in different frames, the expert has no
            sample or starts after ``time_s``, the plan starts after ``time_s`` or ends before
            the last compared sample but one (with one sample: by ``time_s``), or
            ``center_offset_m`` is NaN or infinite.
    """
    check_number("center_offset_m", center_offset_m)
    if len(expert) == 0:
        raise ValueError("the expert's drive has no sample")
    if planned.frame != expert.frame:
        raise ValueError(
            f"the plan is in frame {planned.frame!r}, the expert's drive in {expert.frame!r}"
        )
    start_ns = seconds_to_ns(time_s)
    if start_ns < int(expert.timestamp_ns[0]):
        raise ValueError(f"the plan made at {time_s} s is before the expert's drive starts")
    steps = np.arange(1, params.max_steps + 1)
    sample_ns = start_ns + np.array(
        [seconds_to_ns(k * params.sample_interval_s) for k in steps], dtype=np.int64
    )
    expert_end_ns = int(expert.timestamp_ns[-1])
    sample_ns = sample_ns[sample_ns <= expert_end_ns + end_tolerance_ns(expert)]
    sample_ns = np.minimum(sample_ns, expert_end_ns)  # a last sample just past the recording
    if len(planned) == 0 or int(planned.timestamp_ns[0]) > start_ns:
        raise ValueError(f"the plan made at {time_s} s does not start by then")
    plan_end_ns = int(planned.timestamp_ns[-1])
    if len(sample_ns) and plan_end_ns < int(sample_ns[-1]):
        before_last = int(sample_ns[-2]) if len(sample_ns) > 1 else start_ns
        if plan_end_ns <= before_last:
            end_s = (plan_end_ns - start_ns) / 1e9
            raise ValueError(
                f"the plan made at {time_s} s covers {end_s:.2f} s; the comparison needs "
                f"{(int(sample_ns[-1]) - start_ns) / 1e9:.2f} s (its last sample at the "
                f"plan's end: more than {(before_last - start_ns) / 1e9:.2f} s)"
            )
        sample_ns[-1] = plan_end_ns  # nuPlan: the plan's last state, the expert then
    p_xy, p_yaw = centre_poses(planned, sample_ns, center_offset_m)
    e_xy, e_yaw = centre_poses(expert, sample_ns, center_offset_m)
    displacement = np.hypot(p_xy[:, 0] - e_xy[:, 0], p_xy[:, 1] - e_xy[:, 1])
    return InstantErrors(float(time_s), displacement, np.abs(wrap_angle(p_yaw - e_yaw)))


@dataclass(frozen=True)
class HorizonMetrics:
    """One horizon's figures over a drive's instants (means over the instants that cover the
    horizon; ``None`` for each when none does)."""

    horizon_s: float
    instants: int
    average_l2_m: float | None
    final_l2_m: float | None
    average_heading_rad: float | None
    final_heading_rad: float | None
    miss_rate: float | None

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def horizon_metrics(
    errors: Sequence[InstantErrors],
    horizon_s: float,
    miss_threshold_m: float,
    params: OpenLoopParams,
) -> HorizonMetrics:
    """:class:`HorizonMetrics` of the instants in ``errors`` that cover ``horizon_s``."""
    n = params.steps(horizon_s)
    rows = [e for e in errors if len(e.displacement_m) >= n]
    if not rows:
        return HorizonMetrics(horizon_s, 0, None, None, None, None, None)
    d = np.stack([e.displacement_m[:n] for e in rows])  # (I, n)
    h = np.stack([e.heading_error_rad[:n] for e in rows])
    return HorizonMetrics(
        horizon_s,
        len(rows),
        float(d.mean(axis=1).mean()),
        float(d[:, -1].mean()),
        float(h.mean(axis=1).mean()),
        float(h[:, -1].mean()),
        float(np.mean(d.max(axis=1) > miss_threshold_m)),
    )


@dataclass(frozen=True)
class OpenLoopResult:
    """A drive's open-loop figures (module docstring): per horizon, the means over the
    horizons, the four bounded scores, their weighted mean (the OLS before the miss
    multiplier), the miss multiplier and the OLS (``None`` where a horizon has no instant)."""

    horizons: tuple[HorizonMetrics, ...]
    average_l2_m: float | None
    final_l2_m: float | None
    average_heading_rad: float | None
    final_heading_rad: float | None
    scores: dict[str, float] | None
    weighted_score: float | None
    miss_rate_within_bound: float | None
    score: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "horizons": [h.as_dict() for h in self.horizons],
            "average_l2_m": self.average_l2_m,
            "final_l2_m": self.final_l2_m,
            "average_heading_rad": self.average_heading_rad,
            "final_heading_rad": self.final_heading_rad,
            "scores": self.scores,
            "weighted_score": self.weighted_score,
            "miss_rate_within_bound": self.miss_rate_within_bound,
            "score": self.score,
        }


def bounded_score(value: float, bound: float, name: str = "value") -> float:
    """nuPlan's ``max(0, 1 - value / bound)``; ``ValueError`` naming ``name`` for a NaN,
    infinite or negative ``value``, or for a ``bound`` that is not a finite number > 0."""
    check_number(name, value, at_least=0.0)
    check_number(f"the bound of {name}", bound, above=0.0)
    return max(0.0, 1.0 - value / bound)


def open_loop_result(errors: Sequence[InstantErrors], params: OpenLoopParams) -> OpenLoopResult:
    """The drive's :class:`OpenLoopResult` from its instants' errors."""
    horizons = tuple(
        horizon_metrics(errors, h, m, params)
        for h, m in zip(params.horizons_s, params.miss_thresholds_m, strict=True)
    )
    if any(h.instants == 0 for h in horizons):
        return OpenLoopResult(horizons, None, None, None, None, None, None, None, None)

    def over_horizons(name: str) -> float:
        return float(np.mean([getattr(h, name) for h in horizons]))

    means = {
        "average_l2": over_horizons("average_l2_m"),
        "final_l2": over_horizons("final_l2_m"),
        "average_heading": over_horizons("average_heading_rad"),
        "final_heading": over_horizons("final_heading_rad"),
    }
    bounds = {
        "average_l2": params.max_average_l2_error_m,
        "final_l2": params.max_final_l2_error_m,
        "average_heading": params.max_average_heading_error_rad,
        "final_heading": params.max_final_heading_error_rad,
    }
    scores = {k: bounded_score(v, bounds[k], f"the mean {k} error") for k, v in means.items()}
    miss_rates = [h.miss_rate for h in horizons if h.miss_rate is not None]
    miss_ok = float(all(rate <= params.max_miss_rate for rate in miss_rates))
    return OpenLoopResult(
        horizons,
        means["average_l2"],
        means["final_l2"],
        means["average_heading"],
        means["final_heading"],
        scores,
        open_loop_score(scores, 1.0),
        miss_ok,
        open_loop_score(scores, miss_ok),
    )


def open_loop_score(scores: dict[str, float], miss_rate_within_bound: float) -> float:
    """The OLS: ``miss_rate_within_bound`` (0 or 1) times the :data:`SCORE_WEIGHTS`-weighted
    mean of the four bounded ``scores`` (keys of :data:`SCORE_WEIGHTS`); ``ValueError`` for a
    missing score or one (or the multiplier) that is not a finite number in ``[0, 1]``."""
    missing = sorted(set(SCORE_WEIGHTS) - set(scores))
    if missing:
        raise ValueError(f"open_loop_score: missing scores {missing}")
    for k in SCORE_WEIGHTS:
        check_number(f"open_loop_score: scores[{k!r}]", scores[k], at_least=0.0, at_most=1.0)
    check_number("miss_rate_within_bound", miss_rate_within_bound, at_least=0.0, at_most=1.0)
    total = sum(SCORE_WEIGHTS.values())
    weighted = sum(SCORE_WEIGHTS[k] * scores[k] for k in SCORE_WEIGHTS) / total
    return float(miss_rate_within_bound * weighted)


def mean_score(results: Sequence[OpenLoopResult]) -> float | None:
    """nuPlan's challenge score: the mean of the drives' OLS (``None`` when none is scored;
    unscored drives, too short for a horizon, are left out: say how many, with
    :func:`scored_drives`)."""
    values = [r.score for r in results if r.score is not None]
    return float(np.mean(values)) if values else None


def scored_drives(results: Sequence[OpenLoopResult]) -> int:
    """How many of ``results`` have an OLS (the drives :func:`mean_score` averages)."""
    return sum(r.score is not None for r in results)
