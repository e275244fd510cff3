"""AB3DMOT's first-frames rule: a track is output while it is confirmed (``hits >=
min_hits``) *or* while the sequence's frame count is at most ``min_hits``. AB3DMOT
(``AB3DMOT_libs/model.py``, ``AB3DMOT.update``) counts ``self.frame_count += 1`` at the start
of every call, empty frames included, and outputs a track when ``trk.hits >= self.min_hits
or self.frame_count <= self.min_hits`` (and it is not too old); here
``LifecycleConfig``'s docstring states the rule and ``ClassTracker.step`` applies it as
``in_first_frames = s.frame_count <= life.min_hits``. Hits count the birth frame."""

from __future__ import annotations

import numpy as np

from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.tracking.config import (
    AssociationConfig,
    ClassTrackerConfig,
    LifecycleConfig,
    TrackerConfig,
)
from drivestack.tracking.tracker import Tracker, build_tracker

MIN_HITS = 3


def _tracker() -> Tracker:
    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-2.0),
        lifecycle=LifecycleConfig(min_hits=MIN_HITS, max_age=2),
    )
    return build_tracker(TrackerConfig(classes={"car": cfg}))


def _frame(frame: int, with_box: bool) -> Boxes3D:
    """Frame ``frame`` (1-based) with one car at x = 10 m, or none."""
    n = int(with_box)
    boxes = np.array([[10.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]] * n).reshape(n, 7)
    return Boxes3D.from_array7(
        boxes,
        "lidar",
        frame * 100_000_000,
        score=np.full(n, 5.0),
        label=np.full(n, int(ObjectClass.CAR)),
    )


def _run(first_box_frame: int, last_frame: int) -> list[Tracks]:
    trk = _tracker()
    return [trk.step(_frame(f, f >= first_box_frame)) for f in range(1, last_frame + 1)]


def test_track_born_in_frame_min_hits_is_output_at_once() -> None:
    # frames 1-2 empty, the car first seen in frame 3 = min_hits: still a first frame
    out = _run(first_box_frame=MIN_HITS, last_frame=MIN_HITS)
    assert [len(t) for t in out] == [0, 0, 1]
    assert out[-1].hits.tolist() == [1]
    assert out[-1].time_since_update.tolist() == [0]


def test_track_born_after_frame_min_hits_waits_for_min_hits() -> None:
    out = _run(first_box_frame=MIN_HITS + 1, last_frame=MIN_HITS + 1)
    assert [len(t) for t in out] == [0, 0, 0, 0]


def test_first_frames_output_lapses_until_the_track_is_confirmed() -> None:
    # AB3DMOT's rule taken literally: born in frame 3 (output), unconfirmed in frame 4 with 2
    # hits (no output), confirmed in frame 5 with 3 hits
    out = _run(first_box_frame=MIN_HITS, last_frame=MIN_HITS + 2)
    assert [len(t) for t in out] == [0, 0, 1, 0, 1]
    assert out[-1].hits.tolist() == [MIN_HITS]
    assert out[2].track_id.tolist() == out[4].track_id.tolist()
