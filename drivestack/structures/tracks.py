"""Tracks: the tracker's output, boxes with identities and lifecycle counters."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from drivestack.core.value_equality import ArrayValueEquality
from drivestack.structures._checks import adopt_read_only, as_index, check_length, frozen_array
from drivestack.structures.boxes import Boxes3D


@dataclass(frozen=True, eq=False)
class Tracks(ArrayValueEquality):
    """N tracked objects at ``boxes.timestamp_ns`` in ``boxes.frame``.

    Attributes:
        track_id: ``(N,)`` int64, unique within one output and stable over time.
        boxes: the tracked boxes in the detections' frame (``score`` = track confidence;
            ``velocity_mps`` estimated by the tracker: over ground with ego-motion
            compensation, relative to the detections' frame without it, see
            :class:`~drivestack.tracking.tracker.Tracker`).
        age: ``(N,)`` int64 frames since birth, counting the birth frame (1 for a newborn
            track), >= 0 (0 where unknown: the default when not given).
        hits: ``(N,)`` int64 frames with a match, counting the birth frame, >= 0. Usually
            ``<= age``, but a stage may credit a track with more: the
            :class:`~drivestack.perception.fusion.fused_tracking.FusedTracker` confirms a
            camera-backed newborn by raising its hits to ``min_hits`` at age 1.
        time_since_update: ``(N,)`` int64 frames since the last match (0 = matched now),
            >= 0.
    """

    track_id: np.ndarray
    boxes: Boxes3D
    age: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hits: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    time_since_update: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        if not isinstance(self.boxes, Boxes3D):
            raise TypeError(
                f"Tracks.boxes must be a Boxes3D, got {type(self.boxes).__name__}"
                + (
                    "; build one from (N, 7) boxes: Boxes3D.from_array7(boxes, frame, timestamp_ns)"
                    if isinstance(self.boxes, np.ndarray)
                    else ""
                )
            )
        ids = frozen_array(self, "track_id", (None,), dtype=np.int64, kinds="iu")
        n = ids.shape[0]
        if len(self.boxes) != n:
            raise ValueError(f"Tracks has {n} ids but {len(self.boxes)} boxes")
        if n and np.unique(ids).size != n:  # the counts only for the message
            values, counts = np.unique(ids, return_counts=True)
            repeated = values[counts > 1]
            shown = ", ".join(str(int(i)) for i in repeated[:10])
            more = f" and {repeated.size - 10} more" if repeated.size > 10 else ""
            raise ValueError(
                f"Tracks.track_id must be unique, got {shown}{more} more than once ({n} ids)"
            )
        for name in ("age", "hits", "time_since_update"):
            if np.asarray(getattr(self, name)).size == 0 and n:
                object.__setattr__(self, name, np.zeros(n, dtype=np.int64))
            counter = frozen_array(self, name, (n,), dtype=np.int64, kinds="iu")
            if n and int(counter.min()) < 0:
                row = int(np.argmin(counter))
                raise ValueError(
                    f"Tracks.{name} must be >= 0 (a frame count), got {int(counter[row])} "
                    f"at row {row}"
                )
        check_length(self, n, ("age", "hits", "time_since_update"))

    @classmethod
    def empty(cls, frame: str, timestamp_ns: int = 0) -> Tracks:
        return cls(np.zeros(0, dtype=np.int64), Boxes3D.empty(frame, timestamp_ns))

    @classmethod
    def unchecked(
        cls,
        track_id: np.ndarray,
        boxes: Boxes3D,
        age: np.ndarray,
        hits: np.ndarray,
        time_since_update: np.ndarray,
    ) -> Tracks:
        """Tracks from arrays a tracker derived itself, without the checks (per-frame hot path).

        The arguments must already obey every rule of the class: int64 ``(N,)`` arrays, unique
        ``track_id``, counters >= 0, ``N`` boxes. The arrays are kept as they are (no copy) and made
        read-only: the caller hands them over.
        """
        tracks = object.__new__(cls)
        adopt_read_only(
            tracks, track_id=track_id, age=age, hits=hits, time_since_update=time_since_update
        )
        object.__setattr__(tracks, "boxes", boxes)
        return tracks

    def __len__(self) -> int:
        return int(self.track_id.shape[0])

    @property
    def frame(self) -> str:
        return self.boxes.frame

    @property
    def timestamp_ns(self) -> int:
        return self.boxes.timestamp_ns

    def select(self, selection: npt.ArrayLike | slice) -> Tracks:
        """Subset by boolean mask, integer indices or a slice."""
        idx = as_index(selection, len(self), "Tracks.select")
        return replace(
            self,
            track_id=self.track_id[idx],
            boxes=self.boxes.select(idx),
            age=self.age[idx],
            hits=self.hits[idx],
            time_since_update=self.time_since_update[idx],
        )
