"""The small-input NumPy path of boxes_overlap_bev gives the generic path's answer, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.kernels import boxes_overlap_bev, overlap


def _generic(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return overlap._overlap(np, a[:, None, :], b[None, :, :])


def _boxes(rng: np.random.Generator, n: int, dtype: type) -> np.ndarray:
    return np.column_stack(
        [
            rng.uniform(-6, 6, (n, 2)),
            rng.uniform(-1, 1, n),
            rng.uniform(0, 6, (n, 3)),
            rng.uniform(-7, 7, n),
        ]
    ).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_small_path_matches_generic(dtype: type) -> None:
    rng = np.random.default_rng(7)
    hits = 0
    for k in range(1500):
        a = _boxes(rng, int(rng.integers(1, 4)), dtype)
        b = _boxes(rng, int(rng.integers(1, 9)), dtype)
        if k % 3 == 0:  # axis-aligned 2 m squares on a 0.5 m grid: many exactly touching pairs
            a[:, 3:5], a[:, 6] = 2.0, 0.0
            b[:, :2] = a[0, :2] + rng.integers(-8, 9, (len(b), 2)) * 0.5
            b[:, 3:5] = 2.0
            b[:, 6] = rng.choice([0.0, np.pi / 2, np.pi], len(b))
        assert a.shape[0] * b.shape[0] <= overlap.SMALL_PAIRS
        got = boxes_overlap_bev(a, b)
        want = _generic(a, b)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        hits += int(got.sum())
    assert 0 < hits < 1500 * 3 * 8  # both answers occur


def test_small_path_hand_cases() -> None:
    ego = np.array([[0.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]])
    others = np.array(
        [
            [4.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0],  # rear bumper touches the ego's front: overlap
            [4.01, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0],  # 1 cm gap
            [0.0, 2.5, 0.0, 4.0, 2.0, 1.5, np.pi / 2],  # crossing, 1 m lateral overlap
        ]
    )
    np.testing.assert_array_equal(boxes_overlap_bev(ego, others), [[True, False, True]])


def test_small_path_bad_input_errors() -> None:
    ego = np.zeros((1, 7))
    bad = np.zeros((2, 7))
    bad[1, 4] = -1.0
    with pytest.raises(ValueError, match="b has negative sizes"):
        boxes_overlap_bev(ego, bad)
    bad[1, 4] = np.nan
    with pytest.raises(ValueError, match="b contains NaN"):
        boxes_overlap_bev(ego, bad)
    with pytest.raises(ValueError, match="share one dtype"):
        boxes_overlap_bev(ego, np.zeros((2, 7), dtype=np.float32))
