"""Offline whole-track evidence rules (drivestack.tracking.offline): hand cases and a real run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.tracking.config import (
    ClassTrackerConfig,
    OfflineEvidenceConfig,
)
from drivestack.tracking.kitti_run import (
    SequenceRun,
)
from drivestack.tracking.offline import (
    apply_offline_track_rules,
    apply_track_evidence,
    offline_result_rows,
)
from tests.tracking.result_rows import car_rows, real_car_run

NAN = float("nan")


# track 1: matched at frames 0, 1, 2 (scores 2, 4, 6), coasting at 3 and 4;
# track 2: matched at 0 and 1; track 3: matched at 0, coasting at 1, matched at 2.
FRAMES = [0, 1, 2, 3, 4, 0, 1, 0, 1, 2]
IDS = [1, 1, 1, 1, 1, 2, 2, 3, 3, 3]
HITS = np.array([1, 2, 3, 3, 3, 1, 2, 1, 1, 2])
DET_SCORE = np.array([2.0, 4.0, 6.0, NAN, NAN, 1.0, 3.0, 5.0, NAN, 7.0])
OUT_SCORE = [2.0, 4.0, 6.0, 5.0, 4.0, 1.0, 3.0, 5.0, 4.0, 7.0]


def test_defaults_change_nothing() -> None:
    rows = car_rows(FRAMES, IDS, OUT_SCORE)
    out = apply_track_evidence(rows, HITS, DET_SCORE, OfflineEvidenceConfig())
    assert out is rows


def test_min_track_hits_drops_short_tracks_whole() -> None:
    rows = car_rows(FRAMES, IDS, OUT_SCORE)
    out = apply_track_evidence(rows, HITS, DET_SCORE, OfflineEvidenceConfig(min_track_hits=3))
    # track 1 reaches 3 matches and keeps its first two (unconfirmed) frames too
    assert out.track_id.tolist() == [1, 1, 1, 1, 1]
    assert out.score.tolist() == OUT_SCORE[:5]


def test_trailing_coast_is_trimmed_but_gaps_are_kept() -> None:
    rows = car_rows(FRAMES, IDS, OUT_SCORE)
    cfg = OfflineEvidenceConfig(trailing_coast_frames=1)
    out = apply_track_evidence(rows, HITS, DET_SCORE, cfg)
    # track 1 loses frame 4 (two frames after its last match); track 3 keeps its gap frame 1
    assert list(zip(out.track_id.tolist(), out.frame.tolist(), strict=True)) == [
        (1, 0),
        (1, 1),
        (1, 2),
        (1, 3),
        (2, 0),
        (2, 1),
        (3, 0),
        (3, 1),
        (3, 2),
    ]
    none = apply_track_evidence(
        rows, HITS, DET_SCORE, OfflineEvidenceConfig(trailing_coast_frames=0)
    )
    assert (1, 3) not in set(zip(none.track_id.tolist(), none.frame.tolist(), strict=True))
    assert len(none) == 8


def test_log_hits_score_is_per_track() -> None:
    rows = car_rows(FRAMES, IDS, OUT_SCORE)
    out = apply_track_evidence(rows, HITS, DET_SCORE, OfflineEvidenceConfig(log_hits_weight=0.5))
    expected = {1: 4.0 + 0.5 * np.log(3), 2: 2.0 + 0.5 * np.log(2), 3: 6.0 + 0.5 * np.log(2)}
    assert out.score == pytest.approx([expected[t] for t in IDS])


def test_bad_lengths_and_missing_evidence_are_errors() -> None:
    rows = car_rows(FRAMES, IDS, OUT_SCORE)
    with pytest.raises(ValueError, match="one entry per result row"):
        apply_track_evidence(rows, HITS[:-1], DET_SCORE, OfflineEvidenceConfig())
    with pytest.raises(ValueError, match="min_track_hits"):
        OfflineEvidenceConfig(min_track_hits=0)
    cfg = ClassTrackerConfig(offline_evidence=OfflineEvidenceConfig(min_track_hits=2))
    with pytest.raises(ValueError, match="per-row hits"):
        offline_result_rows(SequenceRun(rows, 0.0, 5), cfg)


def test_offline_result_rows_then_applies_the_score_rules() -> None:
    rows = car_rows(FRAMES, IDS, OUT_SCORE)
    run = SequenceRun(rows, 0.0, 5, hits=HITS, detection_score=DET_SCORE)
    plain = ClassTrackerConfig(offline_min_track_score=4.5)
    assert offline_result_rows(run, plain).track_id.tolist() == (
        apply_offline_track_rules(rows, plain).track_id.tolist()
    )
    cfg = ClassTrackerConfig(
        offline_min_track_score=4.5,
        offline_track_mean_score=True,
        offline_evidence=OfflineEvidenceConfig(log_hits_weight=1.0),
    )
    out = offline_result_rows(run, cfg)
    # track scores 4 + ln 3 = 5.10, 2 + ln 2 = 2.69 (dropped), 6 + ln 2 = 6.69; written in 1/64
    assert sorted(set(out.track_id.tolist())) == [1, 3]
    assert set(out.score.tolist()) == {
        np.round((4 + np.log(3)) * 64) / 64,
        np.round((6 + np.log(2)) * 64) / 64,
    }


@pytest.mark.data
def test_real_run_carries_row_evidence(shared_data: Path) -> None:
    cfg, dets, run = real_car_run(shared_data)
    assert run.hits is not None and run.detection_score is not None
    assert run.hits.shape == run.detection_score.shape == (len(run.results),)
    matched = ~np.isnan(run.detection_score)
    assert matched.any() and (~matched).any()  # the shipped car config writes coasting rows
    # the matched detection's box per row (for the box refinement), NaN while coasting
    assert run.detection_box is not None and run.detection_box.shape == (len(run.results), 7)
    np.testing.assert_array_equal(~np.isnan(run.detection_box).any(axis=1), matched)
    # a matched row's score is one of its frame's detection scores
    for f, s in zip(run.results.frame[matched], run.detection_score[matched], strict=True):
        assert np.any(dets.score[dets.frame == f] == s)
    kept = offline_result_rows(run, cfg.classes["car"])
    assert 0 < len(kept) <= len(run.results)
