"""Rules of traffic lights, point clouds, sensor frames and the structure checks, pinned.

Each test pins one documented rule with a small hand-built input; the expected value is worked
out from the rule's definition in the docstring or a comment, not read off the code.
"""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.structures._checks import frozen_array
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import TIME_OFFSET_NS, PointCloud
from drivestack.structures.sensor_frame import SensorFrame, require_sensor_frame
from drivestack.structures.traffic_light import (
    MAX_SIGNAL_TIME_S,
    STOP_STATES,
    LaneStop,
    SignalCycle,
    SignalPhase,
    period_problem,
)

# -- traffic lights -----------------------------------------------------------------------------


def test_red_yellow_is_a_stop_state() -> None:
    """CommonRoad's ``redYellow`` (before green, in some countries) still forbids crossing:
    :data:`STOP_STATES` is ``{red, red_yellow}``."""
    assert frozenset({"red", "red_yellow"}) == STOP_STATES


def test_signal_time_of_exactly_2_pow_62_ns_is_refused() -> None:
    """Signal times must lie strictly within +-2**62 ns. ``MAX_SIGNAL_TIME_S`` is 2**62 / 1e9 s,
    which times 1e9 is exactly 2**62 ns: on the limit, so refused."""
    cycle = SignalCycle((SignalPhase("green", 1.0),))
    with pytest.raises(ValueError, match="finite number of seconds"):
        cycle.codes_at(MAX_SIGNAL_TIME_S)
    with pytest.raises(ValueError, match="finite number of seconds"):
        cycle.codes_at(-MAX_SIGNAL_TIME_S)


def test_period_of_exactly_2_pow_62_ns_is_refused() -> None:
    """The period must be under 2**62 ns: two phases of 2**61 ns each sum to 2**62 ns exactly
    (each is 2**61 / 1e9 s, which rounds back to 2**61 ns), so the cycle is refused; one of
    them alone (2**61 ns) is fine."""
    half = MAX_SIGNAL_TIME_S / 2
    assert period_problem([half]) is None
    problem = period_problem([half, half])
    assert problem is not None and "period must be under" in problem


def test_lane_stop_at_station_zero_is_allowed() -> None:
    """``station_m`` must be >= 0: a stop line at the very start of the lane (0 m) is valid."""
    assert LaneStop("a", 0.0).station_m == 0.0
    with pytest.raises(ValueError, match=">= 0"):
        LaneStop("a", -0.5)


def test_turn_arrow_governs_a_path_ending_on_the_lane() -> None:
    """``governs(None)`` (a path that ends on the lane: the way on is not known) is True even
    for a turn arrow that governs only some ways out; a way out not named is not governed."""
    arrow = LaneStop("a", 5.0, next_lanes=("left",))
    assert arrow.governs(None) is True
    assert arrow.governs("left") is True
    assert arrow.governs("straight") is False


def test_phase_duration_rounds_to_the_nearest_ns() -> None:
    """Durations are rounded to the *nearest* ns: 4.1 s is 4099999999.9999995 ns in floats,
    nearest 4_100_000_000 ns (truncation would give one ns less), so green ends and red starts
    at exactly 4.1e9 ns."""
    assert SignalPhase("green", 4.1).duration_ns == 4_100_000_000
    cycle = SignalCycle((SignalPhase("green", 4.1), SignalPhase("red", 1.0)))
    assert cycle.state_at_ns(4_099_999_999) == "green"
    assert cycle.state_at_ns(4_100_000_000) == "red"


# -- _checks ------------------------------------------------------------------------------------


class _Holder:
    """A plain object with one field, for :func:`frozen_array`."""

    def __init__(self, value: object) -> None:
        self.value = value


def test_uint64_holding_int64_max_fits_an_int64_field() -> None:
    """A uint64 value is refused for an int64 field only when the cast would wrap, i.e. above
    int64's max 2**63 - 1: 2**63 - 1 itself is kept, 2**63 is refused."""
    top = 2**63 - 1
    arr = frozen_array(
        _Holder(np.array([top], dtype=np.uint64)), "value", (None,), dtype=np.int64, kinds="iu"
    )
    assert arr.dtype == np.int64 and int(arr[0]) == top
    with pytest.raises(ValueError, match="beyond the int64 range"):
        frozen_array(
            _Holder(np.array([2**63], dtype=np.uint64)),
            "value",
            (None,),
            dtype=np.int64,
            kinds="iu",
        )


def _cloud(n: int = 3, **attributes: np.ndarray) -> PointCloud:
    """``n`` points ``(i, 0, 0)`` in frame ``"ego"`` at time 0."""
    xyz = np.zeros((n, 3), dtype=np.float32)
    xyz[:, 0] = np.arange(n)
    return PointCloud(xyz, "ego", 0, attributes)


def test_select_accepts_index_minus_n() -> None:
    """Integer indices may be ``-n <= i < n``: of 3 points, index -3 is the first (x = 0)."""
    picked = _cloud(3).select([-3])
    np.testing.assert_array_equal(picked.xyz_m, [[0.0, 0.0, 0.0]])


def test_select_index_n_is_refused_naming_the_row_count() -> None:
    """Index 3 of 3 points is out of range: ``IndexError`` naming the caller and the 3 rows."""
    with pytest.raises(IndexError, match=r"PointCloud.select: index 3 is out of range for 3 rows"):
        _cloud(3).select([3])
    with pytest.raises(IndexError, match=r"index -4 is out of range for 3 rows"):
        _cloud(3).select([-4])


def test_select_boolean_mask_must_have_one_entry_per_point() -> None:
    """A boolean mask must have shape ``(n,)``: a 2-entry mask for 3 points is refused (not
    read as "the first two points")."""
    with pytest.raises(ValueError, match=r"boolean mask must have shape \(3,\), got \(2,\)"):
        _cloud(3).select([True, False])


def test_move_into_own_frame_tolerates_only_1e_minus_5() -> None:
    """A transform into the frame the boxes are already in must be the identity within
    ``SAME_FRAME_ATOL`` = 1e-5: a 1e-6 m shift passes (float32 round trip), a 1e-4 m shift is a
    real move, refused as a transform applied twice."""
    boxes = Boxes3D(
        center_m=np.zeros((1, 3)),
        size_m=np.array([[4.0, 2.0, 1.5]]),
        yaw_rad=np.zeros(1),
        frame="ego",
    )
    boxes.transformed(SE3.from_xyz_yaw([1e-6, 0.0, 0.0], 0.0), "ego")
    with pytest.raises(ValueError, match="already in frame 'ego'"):
        boxes.transformed(SE3.from_xyz_yaw([1e-4, 0.0, 0.0], 0.0), "ego")


# -- point clouds -------------------------------------------------------------------------------

INT64_MAX = 2**63 - 1


def test_uint64_time_offset_up_to_int64_max_is_kept() -> None:
    """A uint64 ``time_offset_ns`` is refused only past int64 ns (2**63 - 1): an offset of
    exactly 2**63 - 1 ns is kept, 2**63 ns is refused."""
    ok = _cloud(1, **{TIME_OFFSET_NS: np.array([INT64_MAX], dtype=np.uint64)})
    assert int(ok.attribute(TIME_OFFSET_NS)[0]) == INT64_MAX
    with pytest.raises(ValueError, match="past int64 nanoseconds"):
        _cloud(1, **{TIME_OFFSET_NS: np.array([2**63], dtype=np.uint64)})


def test_concatenate_point_time_reaching_int64_max_is_kept() -> None:
    """A point's time from the first cloud's must fit int64: a second cloud 10 ns later whose
    point has its own offset 2**63 - 11 ns lies 10 + 2**63 - 11 = 2**63 - 1 ns from the first
    cloud's time, the largest int64, so it is kept; one ns more overflows."""
    first = _cloud(1, **{TIME_OFFSET_NS: np.array([0], dtype=np.int64)})

    def later(offset: int) -> PointCloud:
        return PointCloud(
            np.zeros((1, 3), np.float32), "ego", 10, {TIME_OFFSET_NS: np.array([offset])}
        )

    joined = PointCloud.concatenate([first, later(INT64_MAX - 10)])
    assert joined.attribute(TIME_OFFSET_NS).tolist() == [0, INT64_MAX]
    with pytest.raises(OverflowError, match="past int64 nanoseconds"):
        PointCloud.concatenate([first, later(INT64_MAX - 9)])


# -- sensor frames ------------------------------------------------------------------------------


def test_lidar_without_name_needs_exactly_one_lidar() -> None:
    """``SensorFrame.lidar()`` takes the only LiDAR; with none it is a ``KeyError`` saying the
    frame has 0 LiDARs (not a bare ``StopIteration``)."""
    with pytest.raises(KeyError, match="has 0 LiDARs"):
        SensorFrame(0).lidar()
    cloud = _cloud(2)
    assert SensorFrame(0, lidars={"top": cloud}).lidar() is cloud


def test_bare_cloud_error_wraps_it_under_the_configured_lidar_name() -> None:
    """A bare ``PointCloud`` where a ``SensorFrame`` is expected gets the line that wraps it,
    under the caller's ``lidar_name`` ('front' here), or under 'lidar' when any name will do."""
    with pytest.raises(TypeError, match=r"lidars=\{'front': cloud\}"):
        require_sensor_frame(_cloud(1), "Stage.step", lidar_name="front")
    with pytest.raises(TypeError, match=r"lidars=\{'lidar': cloud\}"):
        require_sensor_frame(_cloud(1), "Stage.step")
