"""Time-interpolated transforms: pose series (slerp + linear) and a TF-tree buffer.

``PoseSeries`` holds ``parent_from_child`` poses at increasing times and interpolates them:
rotation by spherical linear interpolation of unit quaternions, translation linearly. A time
outside ``[t_first - tolerance, t_last + tolerance]`` is an error, never an extrapolation.

``TransformBuffer`` collects the edges of a TF tree (``/tf`` dynamic, ``/tf_static`` static,
odometry as a dynamic edge) and answers ``lookup(target, source, t)`` -> ``target_from_source``
by walking the tree through the common ancestor. A missing frame, a disconnected pair or a
time outside an edge's range raises :class:`TransformLookupError` naming the frames, the edge
and the time range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from drivestack.core.errors import DataError
from drivestack.core.time import check_timestamp_ns
from drivestack.core.transforms import SE3, quaternion_to_rotation_matrix

#: A gap between an edge's poses may be this many times its median sample interval (see
#: :attr:`PoseSeries.max_gap_ns`).
GAP_TO_MEDIAN_INTERVAL = 3.0


class TransformLookupError(DataError):
    """A transform that the buffer cannot provide (unknown frame, no path, time out of range)."""


def slerp(q0: np.ndarray, q1: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Spherical interpolation of unit quaternions ``(N, 4)`` wxyz at ``alpha (N,)`` in [0, 1].

    Takes the short way (flips ``q1`` when ``q0 . q1 < 0``); falls back to normalised linear
    interpolation for nearly equal quaternions. Returns ``(N, 4)`` unit quaternions.
    """
    dot = np.einsum("ij,ij->i", q0, q1)
    q1 = np.where(dot[:, None] < 0, -q1, q1)
    dot = np.abs(dot)
    a = alpha[:, None]
    theta = np.arccos(np.clip(dot, -1.0, 1.0))[:, None]
    sin_theta = np.sin(theta)
    small = sin_theta < 1e-9
    safe = np.where(small, 1.0, sin_theta)
    w0 = np.where(small, 1.0 - a, np.sin((1.0 - a) * theta) / safe)
    w1 = np.where(small, a, np.sin(a * theta) / safe)
    q = w0 * q0 + w1 * q1
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def integer_times_ns(timestamps_ns: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Query times as int64 nanoseconds; ``TypeError`` for floats (seconds or not: a cast
    would truncate 0.05 s to 0 ns and answer with the pose at time 0) or anything else."""
    values = np.asarray(timestamps_ns)
    if values.dtype.kind not in "iu":
        raise TypeError(f"timestamps_ns must be integer nanoseconds, got dtype {values.dtype}")
    return values.astype(np.int64, copy=False)


@dataclass
class PoseSeries:
    """``parent_from_child`` poses of one TF edge over time (appended in any order).

    Attributes:
        parent, child: frame ids.
        tolerance_ns: how far outside the recorded time range a lookup may clamp.
        max_gap_ns: the longest time between two recorded poses a lookup may interpolate
            across (None: any), or :data:`GAP_TO_MEDIAN_INTERVAL` times the edge's median
            sample interval when that is longer (a map -> odom correction published at 1 Hz
            is interpolated across its own 1 s steps; a 10 Hz pose that stops for a second is
            not); a time in a longer gap is an error, never a straight line drawn through a
            turn the samples did not record.
    """

    parent: str
    child: str
    tolerance_ns: int = 0
    max_gap_ns: int | None = None
    _times: list[int] = field(default_factory=list, repr=False)
    _quats: list[np.ndarray] = field(default_factory=list, repr=False)
    _trans: list[np.ndarray] = field(default_factory=list, repr=False)
    _cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _gap_limit: float | None = field(default=None, repr=False)  # with _cache; None: no limit

    def add(
        self, timestamp_ns: int, quaternion_wxyz: npt.ArrayLike, translation: npt.ArrayLike
    ) -> None:
        q = np.asarray(quaternion_wxyz, dtype=np.float64)
        norm = float(np.linalg.norm(q))
        if not np.isfinite(norm) or norm < 1e-6:
            raise ValueError(f"{self.parent}->{self.child}: invalid quaternion {q.tolist()}")
        t = np.asarray(translation, dtype=np.float64)
        if not np.isfinite(t).all():
            raise ValueError(f"{self.parent}->{self.child}: invalid translation {t.tolist()}")
        # (a float time, seconds or ns, would be truncated: 0.1 s and 0.2 s both 0 ns)
        self._times.append(check_timestamp_ns(timestamp_ns))
        # stored as given when already unit (so recorded poses read back bit-identical)
        self._quats.append(q if abs(norm - 1.0) < 1e-9 else q / norm)
        self._trans.append(t)
        self._cache = None

    def __len__(self) -> int:
        """The poses kept: one per distinct time (a repeated time's last pose wins)."""
        return int(self.arrays()[0].size)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted ``times (M,) int64``, ``quats (M, 4)``, ``translations (M, 3)`` (duplicates: last wins)."""
        if self._cache is None:
            t = np.asarray(self._times, dtype=np.int64)
            order = np.argsort(t, kind="stable")
            t = t[order]
            keep = np.append(t[1:] != t[:-1], True) if t.size else np.zeros(0, dtype=bool)
            q = np.asarray(self._quats).reshape(-1, 4)[order][keep]
            tr = np.asarray(self._trans).reshape(-1, 3)[order][keep]
            self._cache = (t[keep], q, tr)
            times = self._cache[0]
            self._gap_limit = None
            if self.max_gap_ns is not None and times.size > 1:
                median_interval = float(np.median(np.diff(times)))
                self._gap_limit = max(self.max_gap_ns, GAP_TO_MEDIAN_INTERVAL * median_interval)
        return self._cache

    @property
    def time_range_ns(self) -> tuple[int, int]:
        """First and last transform times; TransformLookupError naming the edge when none."""
        t = self.arrays()[0]
        if t.size == 0:
            raise self._nothing_recorded()
        return int(t[0]), int(t[-1])

    def _nothing_recorded(self) -> TransformLookupError:
        return TransformLookupError(
            "no transforms recorded", record=f"edge {self.parent} -> {self.child}"
        )

    def interpolate(self, timestamps_ns: npt.ArrayLike) -> SE3:
        """``parent_from_child`` at each time: ``(K,)`` times -> batched SE3 ``(K,)`` (scalar -> single).

        Raises TransformLookupError for a time outside the range (plus ``tolerance_ns``).
        """
        times, quats, trans = self.arrays()
        query = integer_times_ns(timestamps_ns)
        scalar = query.ndim == 0
        query = query.reshape(-1)
        if times.size == 0:
            raise self._nothing_recorded()
        lo, hi = int(times[0]), int(times[-1])
        bad = (query < lo - self.tolerance_ns) | (query > hi + self.tolerance_ns)
        if bad.any():
            t_bad = int(query[np.flatnonzero(bad)[0]])
            raise TransformLookupError(
                f"time {t_bad} ns is outside the recorded range [{lo}, {hi}] ns "
                f"(tolerance {self.tolerance_ns} ns)",
                record=f"edge {self.parent} -> {self.child}",
            )
        q_clamped = np.clip(query, lo, hi)
        hi_idx = np.clip(np.searchsorted(times, q_clamped, side="left"), 0, times.size - 1)
        lo_idx = np.clip(hi_idx - 1, 0, None)
        exact = times[hi_idx] == q_clamped
        lo_idx = np.where(exact, hi_idx, lo_idx)
        gap = times[hi_idx] - times[lo_idx]
        limit = self._gap_limit  # set by arrays() above, once per set of poses
        if limit is not None and (gap > limit).any():
            k = int(np.flatnonzero(gap > limit)[0])
            raise TransformLookupError(
                f"time {int(query[k])} ns falls in a {gap[k] * 1e-9:.3f} s gap between "
                f"poses recorded at {int(times[lo_idx[k]])} and {int(times[hi_idx[k]])} "
                f"ns (the most interpolated across here: {limit * 1e-9:g} s)",
                record=f"edge {self.parent} -> {self.child}",
            )
        span = gap.astype(np.float64)
        alpha = np.where(span > 0, (q_clamped - times[lo_idx]) / np.where(span > 0, span, 1.0), 0.0)
        q = quats[lo_idx].copy()
        between = alpha > 0
        if between.any():
            q[between] = slerp(quats[lo_idx[between]], quats[hi_idx[between]], alpha[between])
        t = trans[lo_idx] + alpha[:, None] * (trans[hi_idx] - trans[lo_idx])
        pose = SE3(quaternion_to_rotation_matrix(q), t)
        return pose[0] if scalar else pose


class TransformBuffer:
    """A TF tree over time: add edges, look up ``target_from_source`` at a time.

    Static edges (``/tf_static``) hold for every time; dynamic edges interpolate within their
    recorded range (widened by ``tolerance_ns``), across gaps of at most ``max_gap_ns``
    between poses (None: any; :class:`PoseSeries`).
    """

    def __init__(self, tolerance_ns: int = 0, max_gap_ns: int | None = None) -> None:
        self.tolerance_ns = int(tolerance_ns)
        self.max_gap_ns = max_gap_ns
        self._dynamic: dict[tuple[str, str], PoseSeries] = {}
        self._static: dict[tuple[str, str], SE3] = {}
        self._parent: dict[str, str] = {}
        # single-time lookups along static edges only: time-independent, kept until TF changes
        self._static_lookups: dict[tuple[str, str], SE3] = {}

    def _link(self, parent: str, child: str) -> None:
        self._static_lookups.clear()
        old = self._parent.get(child)
        if old is not None and old != parent:
            raise TransformLookupError(
                f"frame {child!r} already has parent {old!r}; TF is a tree",
                record=f"edge {parent} -> {child}",
            )
        self._parent[child] = parent

    def add_static(self, parent: str, child: str, parent_from_child: SE3) -> None:
        self._link(parent, child)
        self._static[(parent, child)] = parent_from_child

    def add_dynamic(
        self,
        parent: str,
        child: str,
        timestamp_ns: int,
        quaternion_wxyz: npt.ArrayLike,
        translation: npt.ArrayLike,
    ) -> None:
        self._link(parent, child)
        series = self._dynamic.get((parent, child))
        if series is None:
            series = self._dynamic[(parent, child)] = PoseSeries(
                parent, child, self.tolerance_ns, self.max_gap_ns
            )
        series.add(timestamp_ns, quaternion_wxyz, translation)

    def static_transform(self, parent: str, child: str) -> SE3 | None:
        """The static edge ``parent -> child`` (``parent_from_child``), None when there is none."""
        return self._static.get((parent, child))

    @property
    def static_edges(self) -> set[tuple[str, str]]:
        """``(parent, child)`` of the static edges."""
        return set(self._static)

    @property
    def frames(self) -> set[str]:
        return set(self._parent) | set(self._parent.values())

    def edge(self, parent: str, child: str) -> PoseSeries | SE3:
        """The static transform or the dynamic series of one edge (KeyError when absent)."""
        static = self._static.get((parent, child))
        return static if static is not None else self._dynamic[(parent, child)]

    def has_ancestor(self, frame: str, ancestor: str) -> bool:
        """Whether ``ancestor`` is above ``frame`` in its tree (False on a TF cycle)."""
        try:
            return ancestor in self._chain_to_root(frame)[1:]
        except TransformLookupError:
            return False

    def root_of(self, frame: str) -> str:
        """The root of the tree ``frame`` is in (``frame`` itself when it has no parent)."""
        return self._chain_to_root(frame)[-1]

    def _chain_to_root(self, frame: str) -> list[str]:
        chain = [frame]
        while chain[-1] in self._parent:
            chain.append(self._parent[chain[-1]])
            if len(chain) > len(self._parent) + 1:
                raise TransformLookupError(f"TF cycle through {chain[-1]!r}")
        return chain

    def _root_from(self, chain: list[str], times: np.ndarray) -> SE3:
        """``chain[-1]_from_chain[0]`` at ``times (K,)`` (batched)."""
        pose = SE3.identity((times.size,))
        for child, parent in pairwise(chain):
            static = self._static.get((parent, child))
            if static is not None:
                edge = SE3(
                    np.broadcast_to(static.rotation, (times.size, 3, 3)),
                    np.broadcast_to(static.translation, (times.size, 3)),
                )
            else:
                edge = self._dynamic[(parent, child)].interpolate(times)
            pose = edge @ pose
        return pose

    def lookup(self, target: str, source: str, timestamps_ns: npt.ArrayLike) -> SE3:
        """``target_from_source`` at a time (single SE3) or at ``(K,)`` times (batched SE3).

        Raises TransformLookupError naming the frames (and known frames) when there is no
        path, or the edge and time range when a time is outside it.
        """
        query = integer_times_ns(timestamps_ns)
        scalar = query.ndim == 0
        times = query.reshape(-1)
        if scalar and (target, source) in self._static_lookups:
            return self._static_lookups[(target, source)]
        if target == source:
            return SE3.identity() if scalar else SE3.identity((times.size,))
        known = self.frames
        for name in (target, source):
            if name not in known:
                raise TransformLookupError(
                    f"no transform {target!r} <- {source!r}: frame {name!r} is unknown "
                    f"(known frames: {sorted(known)})"
                )
        up_source = self._chain_to_root(source)
        up_target = self._chain_to_root(target)
        common = next((f for f in up_source if f in set(up_target)), None)
        if common is None:
            raise TransformLookupError(
                f"no transform {target!r} <- {source!r}: the frames are in disconnected trees "
                f"(roots {up_target[-1]!r} and {up_source[-1]!r})"
            )
        src_chain = up_source[: up_source.index(common) + 1]
        tgt_chain = up_target[: up_target.index(common) + 1]
        try:
            common_from_source = self._root_from(src_chain, times)
            common_from_target = self._root_from(tgt_chain, times)
        except TransformLookupError as exc:
            raise TransformLookupError(
                f"no transform {target!r} <- {source!r} at this time: {exc.reason}",
                record=exc.record,
            ) from None
        pose = common_from_target.inverse() @ common_from_source
        if not scalar:
            return pose
        single = pose[0]
        if self._only_static(src_chain) and self._only_static(tgt_chain):
            self._static_lookups[(target, source)] = single
        return single

    def _only_static(self, chain: list[str]) -> bool:
        """Whether every edge of ``chain`` (child first, up to the common ancestor) is static."""
        return all((parent, child) in self._static for child, parent in pairwise(chain))
