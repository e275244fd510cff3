"""ReferencePath queries refuse what they cannot answer (review finding: ``pose_at`` and
``speed_limit_at`` returned NaN for a NaN station, ``window`` took reversed or NaN bounds),
and keep what their docstrings promise: stations past either end extrapolate (``pose_at``)
or hold the end's limit (``speed_limit_at``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.planning.reference_path import ReferencePath

# an L: 10 m east, then 10 m north; limits 10 m/s on the first leg's points, 20 on the rest
PATH = ReferencePath.from_polyline(
    np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]), np.r_[np.full(11, 10.0), np.full(10, 20.0)]
)


def test_poses_inside_and_past_the_ends() -> None:
    xy, yaw = PATH.pose_at(np.array([-5.0, 4.0, 15.0, 25.0]), np.array([1.0, 1.0, 0.0, -2.0]))
    # before the start: along the first segment (east), offset 1 m to the left (north)
    np.testing.assert_allclose(xy, [[-5.0, 1.0], [4.0, 1.0], [10.0, 5.0], [12.0, 15.0]], atol=1e-12)
    np.testing.assert_allclose(yaw, [0.0, 0.0, np.pi / 2, np.pi / 2], atol=1e-12)


def test_speed_limits_hold_the_ends_outside_the_path() -> None:
    limits = PATH.speed_limit_at(np.array([[-3.0, 5.0], [10.5, 99.0]]))
    np.testing.assert_allclose(limits, [[10.0, 10.0], [15.0, 20.0]])  # 10.5 m: half way


@pytest.mark.parametrize(
    ("stations", "shown"),
    [
        (np.array([1.0, 2.0, np.nan, np.inf]), "got nan at index 2"),
        (np.array([[1.0, 2.0], [-np.inf, 3.0]]), r"got -inf at index \(1, 0\)"),
        (np.float64(np.nan), "got nan$"),
        ([3.0, np.inf], "got inf at index 1"),
    ],
)
def test_non_finite_stations_are_refused(stations: object, shown: str) -> None:
    with pytest.raises(ValueError, match=rf"^station_m must be finite \(metres\), {shown}"):
        PATH.pose_at(stations)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=rf"^station_m must be finite \(metres\), {shown}"):
        PATH.speed_limit_at(stations)  # type: ignore[arg-type]


def test_a_non_finite_offset_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"^offset_m must be finite \(metres\), got nan at index 1"
    ):
        PATH.pose_at(np.array([1.0, 2.0]), np.array([0.0, np.nan]))


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    data=st.data(),
    bad=st.sampled_from([np.nan, np.inf, -np.inf]),
)
def test_the_first_bad_station_is_named(shape: list[int], data: st.DataObject, bad: float) -> None:
    stations = np.linspace(-2.0, 25.0, int(np.prod(shape))).reshape(shape)
    n_bad = data.draw(st.integers(1, stations.size))
    flat = data.draw(st.lists(st.integers(0, stations.size - 1), min_size=n_bad, max_size=n_bad))
    stations.reshape(-1)[flat] = bad
    first = np.unravel_index(min(flat), stations.shape)
    index = str(int(first[0])) if len(shape) == 1 else str(tuple(int(i) for i in first))
    with pytest.raises(ValueError) as info:
        PATH.pose_at(stations)
    assert str(info.value) == f"station_m must be finite (metres), got {bad} at index {index}"
    finite = np.where(np.isfinite(stations), stations, 0.0)  # the same array, cleaned, passes
    assert PATH.pose_at(finite)[0].shape == (*shape, 2)


def test_window_bounds() -> None:
    part = PATH.window(3.0, 12.0)
    assert part.length_m == pytest.approx(9.0)
    np.testing.assert_allclose(part.xy_m[[0, -1]], [[3.0, 0.0], [10.0, 2.0]])
    assert len(PATH.window(4.5, 4.5).xy_m) == 2  # no point between: the two around
    assert len(PATH.window(-50.0, 50.0).xy_m) == len(PATH.xy_m)
    with pytest.raises(
        ValueError, match=r"start_m must be <= end_m, got start_m 15.0 and end_m 5.0"
    ):
        PATH.window(15.0, 5.0)
    for start, end, name in ((np.nan, 5.0, "start_m"), (0.0, np.inf, "end_m")):
        with pytest.raises(ValueError, match=rf"ReferencePath window {name} must be a finite"):
            PATH.window(start, end)
