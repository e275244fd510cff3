"""End-to-end forecast metric of a replay: the stack's forecasts of its own tracks against the
labelled objects' later positions, in a fixed world frame.

For every replayed frame with forecasts (the anchor), labels with ids (``label_ids``: the
same object keeps its id over the log) and an ego pose:

1. each forecast track is matched to a labelled object at the anchor: centre distance (xy)
   at most :data:`MATCH_DISTANCE_M`, both in the same class group of ``drivestack eval
   prediction`` (:data:`~drivestack.eval.prediction.cases.CLASS_GROUPS`: vehicle, pedestrian,
   cyclist), one to one with the Hungarian method on the distances;
2. the matched track's forecast (its steps ``k * dt_s``, ``k = 1..T``) is placed in the world
   frame with the anchor's ``world_from_ego`` and compared with that labelled object's
   centre (same label id) at ``anchor + k * dt_s``, placed with the frames' own poses: the
   frame at that time (within a quarter of the log's median frame period, for timestamp
   jitter), else the centre interpolated linearly in time between the two frames around
   it (at most 1.5 periods apart), so a forecast step between the log's frames (``dt_s``
   0.25 s on a 10 Hz log) is compared with where the object was then, not 50 ms off;
3. a case counts when the object is labelled in every frame it needs: ADE at 1/2/3 s (those
   that are whole numbers of steps: ``dt_s`` 0.4 s reports ADE@2s only), FDE at the horizon
   and miss (FDE > 2 m) as Argoverse 2 defines them
   (:mod:`drivestack.eval.prediction.metrics`), per class group and for the moving cases
   (true displacement over the horizon >= 1 m), as ``drivestack eval prediction`` reports.

What is not scored is counted, never dropped silently: forecasts of tracks with no label
near them (``unmatched_tracks``; those outside the region the labels cover, such as KITTI's
camera view, apart: ``tracks_outside_labelled_region``) or of a class outside the groups,
labelled objects no track
matched (``unmatched_labels``), matched forecasts whose object is missing from a later labelled
frame (``no_label_future``: it left the labelled view), whose horizon runs past the log's
last frame (``past_log_end``) or over a frame that gives no truth (``truth_frames_missing``:
skipped, without pose or label ids, or absent), and anchor frames not scored at all
(``frames_not_scored`` by reason: no ego pose, velocities not over ground, no label ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.eval.prediction.cases import (
    _GROUP_OF,
    CLASS_GROUPS,
    MOVING_DISPLACEMENT_M,
    whole_samples,
)
from drivestack.eval.prediction.metrics import (
    MISS_THRESHOLD_M,
    ade,
    displacement_errors,
    fde,
    is_miss,
)
from drivestack.prediction.forecast import Forecast
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.tracks import Tracks
from drivestack.tracking.association import match

#: A forecast track and a labelled object match at the anchor within this xy distance (m).
MATCH_DISTANCE_M = 2.0
#: The horizons (s) ADE is reported at (those within the forecast's horizon).
REPORTED_HORIZONS_S = (1.0, 2.0, 3.0)


def class_groups(label: np.ndarray) -> np.ndarray:
    """``(N,)`` str: the class group of each integer label (``""``: outside the groups)."""
    return np.array([_GROUP_OF.get(int(v), "") for v in label], dtype=str)


def match_tracks_to_labels(
    tracks: Boxes3D, labels: Boxes3D, max_distance_m: float = MATCH_DISTANCE_M
) -> list[tuple[int, int]]:
    """``(track row, label row)`` pairs: one to one, same class group, xy centre distance
    ``<= max_distance_m``, the Hungarian assignment minimising the summed distance over the
    pairs that qualify (both in the same frame; the tracker's gated Hungarian
    :func:`~drivestack.tracking.association.match` on negated distances)."""
    if tracks.frame != labels.frame:
        raise ValueError(f"tracks in frame {tracks.frame!r}, labels in {labels.frame!r}")
    tg, lg = class_groups(tracks.label), class_groups(labels.label)
    d = tracks.center_m[:, None, :2] - labels.center_m[None, :, :2]
    same_group = (tg[:, None] == lg[None, :]) & (tg[:, None] != "")
    affinity = np.where(same_group, -np.hypot(d[..., 0], d[..., 1]), -np.inf)
    rows, cols = match(affinity, -max_distance_m, gated=True)
    return list(zip(rows.tolist(), cols.tolist(), strict=True))


@dataclass
class _Case:
    """A matched forecast: its world-frame centres at steps ``1..T``."""

    anchor_ns: int
    label_id: str
    group: str
    xy_world: np.ndarray  # (T, 2)


@dataclass
class ForecastScorer:
    """Collects a replay's forecasts and labelled truth frame by frame; :meth:`metrics` scores.

    ``horizon_s`` and ``dt_s``: the forecasts' (every forecast added must have that step and
    at least ``round(horizon_s / dt_s)`` steps); None: the first forecast's."""

    horizon_s: float | None = None
    dt_s: float | None = None
    match_distance_m: float = MATCH_DISTANCE_M
    _truth: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    _frames_ns: set[int] = field(default_factory=set)
    _cases: list[_Case] = field(default_factory=list)
    _counts: dict[str, int] = field(default_factory=dict)
    _not_scored: dict[str, int] = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        if self.horizon_s is None or self.dt_s is None:
            return 0
        return round(self.horizon_s / self.dt_s)

    def _count(self, key: str, n: int = 1) -> None:
        self._counts[key] = self._counts.get(key, 0) + n

    def not_scored(self, reason: str) -> None:
        """An anchor frame with forecasts that cannot be scored (a reason, counted)."""
        self._not_scored[reason] = self._not_scored.get(reason, 0) + 1

    def add_frame(
        self,
        timestamp_ns: int,
        labels: Boxes3D | None,
        label_ids: tuple[str, ...] | None,
        world_from_frame: SE3 | None,
    ) -> None:
        """A frame of the log (replayed or not): its labels (in the frame ``world_from_frame``
        places, with their ids) become truth; a frame without them is still a frame of the
        log (a horizon over it lacks truth, it does not run past the log's end)."""
        self._frames_ns.add(int(timestamp_ns))
        if labels is None or label_ids is None or world_from_frame is None:
            return
        world_xy = world_from_frame.apply(labels.center_m)[:, :2]
        self._truth[int(timestamp_ns)] = dict(zip(label_ids, world_xy, strict=True))

    def add_forecasts(
        self,
        timestamp_ns: int,
        tracks: Tracks,
        forecast: Forecast,
        labels: Boxes3D,
        label_ids: tuple[str, ...],
        world_from_frame: SE3,
        region: np.ndarray | None = None,
    ) -> None:
        """One anchor frame at ``timestamp_ns`` (added with :meth:`add_frame`): ``tracks`` and
        their ``forecast`` (rows alike, over-ground velocities), the frame's ``labels`` with
        ids, all in ``tracks.frame``, whose pose in the world frame is ``world_from_frame``;
        ``region``: which tracks lie where the labels cover (bool per track; None: all).

        Raises:
            ValueError: the forecast's step or length does not fit the scorer's, its rows are
                not the tracks', or the labels are in another frame.
        """
        if self.dt_s is None or self.horizon_s is None:
            self.dt_s = float(forecast.dt_s)
            self.horizon_s = round(forecast.n_steps * self.dt_s, 9)
        if abs(forecast.dt_s - self.dt_s) > 1e-9 or forecast.n_steps < self.n_steps:
            raise ValueError(
                f"forecast of {forecast.n_steps} steps of {forecast.dt_s} s, the scorer needs "
                f"{self.n_steps} of {self.dt_s} s"
            )
        if forecast.boxes.shape[0] != len(tracks):
            raise ValueError(f"{forecast.boxes.shape[0]} forecasts for {len(tracks)} tracks")
        groups = class_groups(tracks.boxes.label)
        in_groups = groups != ""
        self._count("forecasts", len(tracks))
        self._count("tracks_outside_class_groups", int((~in_groups).sum()))
        pairs = match_tracks_to_labels(tracks.boxes, labels, self.match_distance_m)
        self._count("matched", len(pairs))
        unmatched = in_groups.copy()
        unmatched[[r for r, _ in pairs]] = False
        if region is not None:
            outside = unmatched & ~np.asarray(region, dtype=bool)
            self._count("tracks_outside_labelled_region", int(outside.sum()))
            unmatched &= ~outside
        self._count("unmatched_tracks", int(unmatched.sum()))
        labels_in_groups = int((class_groups(labels.label) != "").sum())
        self._count("labels_in_class_groups", labels_in_groups)
        self._count("unmatched_labels", labels_in_groups - len(pairs))
        if not pairs:
            return
        rows = np.array([r for r, _ in pairs])
        centres = forecast.boxes[rows, 1 : self.n_steps + 1, :3].reshape(-1, 3)
        world_xy = world_from_frame.apply(centres)[:, :2].reshape(len(rows), self.n_steps, 2)
        for k, (r, c) in enumerate(pairs):
            self._cases.append(_Case(int(timestamp_ns), label_ids[c], str(groups[r]), world_xy[k]))

    def _truth_of(
        self, case: _Case, step_ns: np.ndarray, times: np.ndarray, period_ns: int
    ) -> np.ndarray | str:
        """``(T, 2)`` true centres of ``case`` at ``step_ns`` (the frame at that time within
        ``period_ns / 4``, else interpolated between the frames around it when they are at
        most 1.5 ``period_ns`` apart), or why there are none."""
        tolerance = period_ns // 4
        if len(times) == 0 or step_ns[-1] > times[-1] + tolerance:
            return "past_log_end"
        idx = np.clip(np.searchsorted(times, step_ns), 1, len(times) - 1)
        before, after = times[idx - 1], times[idx]
        truth = []
        for s, t0, t1 in zip(step_ns.tolist(), before.tolist(), after.tolist(), strict=True):
            near = t0 if abs(s - t0) <= abs(t1 - s) else t1
            if abs(s - near) <= tolerance:
                xy = self._label_at(case, near)
            elif t0 < s < t1 and t1 - t0 <= 1.5 * period_ns:
                xy0, xy1 = self._label_at(case, t0), self._label_at(case, t1)
                if isinstance(xy0, str) or isinstance(xy1, str):
                    xy = xy0 if isinstance(xy0, str) else xy1
                else:
                    xy = xy0 + (xy1 - xy0) * ((s - t0) / (t1 - t0))
            else:
                return "truth_frames_missing"
            if isinstance(xy, str):
                return xy
            truth.append(xy)
        return np.array(truth)

    def _label_at(self, case: _Case, t_ns: int) -> np.ndarray | str:
        """``(2,)`` the world centre of ``case``'s object in the frame at ``t_ns``, or why
        there is none (the frame gives no truth; the object is not labelled there)."""
        labelled = self._truth.get(t_ns)
        if labelled is None:
            return "truth_frames_missing"
        xy = labelled.get(case.label_id)
        return "no_label_future" if xy is None else np.asarray(xy)

    def metrics(self) -> dict[str, Any]:
        """``{"cases", counts..., "frames_not_scored", "by_class": {"<group>, <motion>":
        {"cases", "ADE@1s", ..., "FDE@3s", "miss_rate"}}}`` (figures None without cases)."""
        times = np.array(sorted(self._frames_ns), dtype=np.int64)
        dt_ns = round((self.dt_s or 0.0) * 1e9)
        steps = np.arange(1, self.n_steps + 1, dtype=np.int64) * dt_ns
        # the log's frame period (a forecast step for a log of one frame)
        period_ns = int(np.median(np.diff(times))) if len(times) > 1 else dt_ns
        outcome: dict[str, int] = {
            "no_label_future": 0,
            "past_log_end": 0,
            "truth_frames_missing": 0,
        }
        errors, groups, moving = [], [], []
        for case in self._cases:
            truth = self._truth_of(case, case.anchor_ns + steps, times, period_ns)
            if isinstance(truth, str):
                outcome[truth] += 1
                continue
            now = self._truth[case.anchor_ns][case.label_id]  # matched there: labelled
            errors.append(displacement_errors(case.xy_world, truth))
            groups.append(case.group)
            moving.append(bool(np.hypot(*(truth[-1] - now)) >= MOVING_DISPLACEMENT_M))
        err = np.array(errors).reshape(len(errors), self.n_steps)
        grp, mov = np.array(groups, dtype=str), np.array(moving, dtype=bool)
        by_class: dict[str, dict[str, Any]] = {}
        for group in ("all", *CLASS_GROUPS):
            in_group = np.ones(len(grp), dtype=bool) if group == "all" else grp == group
            for motion, sel in (("all", in_group), ("moving", in_group & mov)):
                if sel.any() or group == "all":
                    by_class[f"{group}, {motion}"] = self._figures(err[sel])
        counts = {k: self._counts.get(k, 0) for k in _COUNT_KEYS}
        return {
            "horizon_s": self.horizon_s,
            "dt_s": self.dt_s,
            "match_distance_m": self.match_distance_m,
            "miss_threshold_m": MISS_THRESHOLD_M,
            "cases": len(errors),
            **counts,
            **outcome,
            "frames_not_scored": dict(sorted(self._not_scored.items())),
            "by_class": by_class,
        }

    def _figures(self, err: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {"cases": int(err.shape[0])}
        if self.dt_s is None or self.horizon_s is None:
            return out
        for h in REPORTED_HORIZONS_S:
            n, whole = whole_samples(h, self.dt_s)
            if whole and 1 <= n <= self.n_steps:
                out[f"ADE@{h:g}s"] = float(ade(err, n).mean()) if len(err) else None
        final = fde(err) if len(err) else None
        out[f"FDE@{self.horizon_s:g}s"] = float(final.mean()) if final is not None else None
        out["miss_rate"] = float(is_miss(final).mean()) if final is not None else None
        return out


_COUNT_KEYS = (
    "forecasts",
    "matched",
    "unmatched_tracks",
    "tracks_outside_labelled_region",
    "tracks_outside_class_groups",
    "labels_in_class_groups",
    "unmatched_labels",
)


#: The reason a frame without labels is not scored (:meth:`ForecastScorer.not_scored`).
NO_LABELS = "no labels"


def forecast_lines(metrics: dict[str, Any] | None, model: str = "") -> list[str]:
    """The replay summary's lines of :meth:`ForecastScorer.metrics` (None: nothing). None
    either for a log without labels (every frame not scored for :data:`NO_LABELS`): as the
    detection and tracking lines, the forecast line is left out."""
    if metrics is None:
        return []
    if not metrics["cases"] and set(metrics["frames_not_scored"]) == {NO_LABELS}:
        return []
    name = f"{model} " if model else ""
    horizon = metrics["horizon_s"]
    head = f"  forecast {name}vs labels" + (f" ({horizon:g} s): " if horizon else ": ")
    why = ", ".join(f"{k}: {v}" for k, v in metrics["frames_not_scored"].items())
    not_scored = (
        f"not scored: {metrics['no_label_future']} with no label future, "
        f"{metrics['past_log_end']} past the log's end, "
        f"{metrics['truth_frames_missing']} over frames without truth, "
        f"{metrics['unmatched_tracks']} tracks matching no label (and "
        f"{metrics['tracks_outside_labelled_region']} outside the labelled region)"
    )
    if not metrics["cases"] or metrics["horizon_s"] is None:
        line = head + "no case scored"
        if metrics["forecasts"]:  # forecasts were made: say why none was scored
            line += f"; {not_scored}"
        return [line + (f" (frames not scored: {why})" if why else "")]
    fig = metrics["by_class"]["all, all"]
    ades = ", ".join(
        f"{k} {v:.2f}" for k, v in fig.items() if k.startswith("ADE@") and v is not None
    )
    fde_key = f"FDE@{metrics['horizon_s']:g}s"
    lines = [
        head + f"{metrics['cases']} cases, {ades}, {fde_key} {fig[fde_key]:.2f} m, miss rate "
        f"{fig['miss_rate']:.2f}; {not_scored}"
    ]
    if why:
        lines.append(f"    frames not scored: {why}")
    return lines
