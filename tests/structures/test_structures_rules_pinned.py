"""Rules of the transforms and the core structures pinned with hand-derived values.

Each test pins one documented rule with a small hand-built input; the expected value is worked
out from the rule's definition in the docstring or a comment, not read off the code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.core.transforms import (
    SE2,
    SE3,
    rotation_matrix_to_quaternion,
)
from drivestack.structures.ego_state import EgoState
from drivestack.structures.road_map import (
    Lane,
    LaneChangeRoomError,
    RoadMap,
    first_cusp,
)
from drivestack.structures.trajectory import Trajectory


def _lane(lane_id: str, y: float, half_width: float = 1.75, **kw: object) -> Lane:
    """A straight lane along +x from x = 0 to x = 100, centred on ``y``."""
    return Lane(
        lane_id,
        np.array([[0.0, y], [100.0, y]]),
        np.array([[0.0, y + half_width], [100.0, y + half_width]]),
        np.array([[0.0, y - half_width], [100.0, y - half_width]]),
        **kw,  # type: ignore[arg-type]
    )


# -- transforms ---------------------------------------------------------------------------------


def test_quaternion_of_identity_has_non_negative_w() -> None:
    """``as_quaternion`` returns ``w >= 0``: the identity is (1, 0, 0, 0), never its negative."""
    np.testing.assert_allclose(SE3.identity().as_quaternion(), [1.0, 0.0, 0.0, 0.0], atol=1e-15)


def test_quaternion_of_90_deg_yaw_has_non_negative_w() -> None:
    """A yaw of +90 deg about z is q = (cos 45, 0, 0, sin 45) = (0.7071, 0, 0, 0.7071), with
    w > 0 (its negative is the same rotation, but the documented sign is w >= 0)."""
    q = rotation_matrix_to_quaternion(SE3.from_xyz_yaw([0.0, 0.0, 0.0], math.pi / 2).rotation)
    h = math.sqrt(0.5)
    np.testing.assert_allclose(q, [h, 0.0, 0.0, h], atol=1e-12)


def test_rotation_off_orthonormal_by_more_than_1e_minus_6_is_refused() -> None:
    """SE3 refuses a rotation block with ``R^T R`` off I by more than 1e-6: a diagonal of
    1 + 3e-6 gives a Gram diagonal off by (1 + 3e-6)^2 - 1 ~= 6e-6 > 1e-6."""
    with pytest.raises(ValueError, match="orthonormal"):
        SE3(np.diag([1.0 + 3e-6, 1.0, 1.0]))


def test_rotation_off_orthonormal_within_tolerance_is_accepted() -> None:
    """A diagonal of 1 + 1e-7 is off by (1 + 1e-7)^2 - 1 ~= 2e-7 <= 1e-6: accepted."""
    SE3(np.diag([1.0 + 1e-7, 1.0, 1.0]))


def test_rotation_batch_with_one_reflection_is_refused() -> None:
    """Every rotation of a batch must be proper (det +1): [I, diag(1, 1, -1)] holds a
    reflection (orthonormal, det -1), so the batch is refused."""
    with pytest.raises(ValueError, match="orthonormal"):
        SE3(np.stack([np.eye(3), np.diag([1.0, 1.0, -1.0])]))


def test_from_matrix_last_row_off_by_more_than_1e_minus_6_is_refused() -> None:
    """``SE3.from_matrix`` refuses a last row other than [0, 0, 0, 1] within 1e-6:
    [0, 0, 5e-6, 1] is 5e-6 off."""
    m = np.eye(4)
    m[3, 2] = 5e-6
    with pytest.raises(ValueError, match="last row"):
        SE3.from_matrix(m)


def test_se2_to_se3_keeps_the_given_height() -> None:
    """``SE2.to_se3(z_m)`` puts the translation at height ``z_m``: (1, 2) with z 3 -> (1, 2, 3)."""
    se3 = SE2(np.asarray(0.0), np.array([1.0, 2.0])).to_se3(3.0)
    np.testing.assert_allclose(se3.translation, [1.0, 2.0, 3.0])


def test_se2_allclose_compares_yaw_on_the_circle() -> None:
    """Yaws pi - 1e-12 and -pi + 1e-12 differ by 2e-12 on the circle (2 pi - 2e-12 as plain
    numbers): equal within the default atol 1e-9."""
    a = SE2(np.asarray(math.pi - 1e-12), np.zeros(2))
    b = SE2(np.asarray(-math.pi + 1e-12), np.zeros(2))
    assert a.allclose(b)


# -- trajectory and ego state --------------------------------------------------------------------


def _traj(yaws: list[float]) -> Trajectory:
    n = len(yaws)
    z = np.zeros(n)
    return Trajectory(np.arange(n, dtype=np.int64) * 10, z, z, np.array(yaws), z, z, z)


def test_trajectory_wraps_yaw() -> None:
    """Trajectory yaws are wrapped into [-pi, pi): 3 pi / 2 -> -pi / 2."""
    np.testing.assert_allclose(_traj([1.5 * math.pi]).yaw_rad, [-0.5 * math.pi])


def test_ego_frame_from_ego_is_on_the_ground() -> None:
    """``frame_from_ego`` has z = 0 and the ego's x, y: (3, 4, 0)."""
    ego = EgoState(0, 3.0, 4.0, 0.0)
    np.testing.assert_allclose(ego.frame_from_ego.translation, [3.0, 4.0, 0.0])


def test_ego_se2_translation_is_x_then_y() -> None:
    """``frame_from_ego_se2`` maps the ego origin to (x, y) = (3, 4)."""
    ego = EgoState(0, 3.0, 4.0, 0.0)
    np.testing.assert_allclose(ego.frame_from_ego_se2.apply([0.0, 0.0]), [3.0, 4.0])


# -- road map --------------------------------------------------------------------------------------


def test_nearest_lane_accepts_heading_within_90_degrees() -> None:
    """A lane heading 0 is matched at a yaw of 80 deg (within 90 deg)."""
    road = RoadMap((_lane("a", 0.0),))
    assert road.nearest_lane([50.0, 0.0], yaw_rad=math.radians(80.0)) == "a"


def test_lanes_at_accepts_heading_within_90_degrees() -> None:
    """``lanes_at`` keeps a lane heading 0 for a yaw of 80 deg (within 90 deg)."""
    road = RoadMap((_lane("a", 0.0),))
    assert road.lanes_at([50.0, 0.0], yaw_rad=math.radians(80.0)) == ["a"]


def test_nearest_lane_prefers_the_lane_covering_the_point() -> None:
    """(50, 3) lies inside wide lane "a" (y in [-5, 5], centreline 3 m away) and outside
    narrow lane "b" (y in [3.5, 4.5], centreline 1 m away): the covering lane comes first."""
    road = RoadMap((_lane("a", 0.0, half_width=5.0), _lane("b", 4.0, half_width=0.5)))
    assert road.nearest_lane([50.0, 3.0]) == "a"


def test_nearest_lane_at_exactly_max_distance_is_found() -> None:
    """A centreline exactly 2 m away is within ``max_distance_m`` 2.0 (``> max`` is refused)."""
    road = RoadMap((_lane("a", 0.0),))
    assert road.nearest_lane([50.0, 2.0], max_distance_m=2.0) == "a"


def test_nearest_lane_measures_to_the_lane_not_its_extension() -> None:
    """The distance is to the closest point of the centreline (station clipped to the lane):
    (130, 0) is 30 m past the end of "a" (x in [0, 100], y = 0) but on its extension, and
    5 m from "b" ((120, 5)-(200, 5)), whose area (y in [3.25, 6.75]) does not cover it: "b"
    is nearer (5 < 30)."""
    b = Lane(
        "b",
        np.array([[120.0, 5.0], [200.0, 5.0]]),
        np.array([[120.0, 6.75], [200.0, 6.75]]),
        np.array([[120.0, 3.25], [200.0, 3.25]]),
    )
    road = RoadMap((_lane("a", 0.0), b))
    assert road.nearest_lane([130.0, 0.0]) == "b"


def test_crosswalk_lane_is_not_drivable() -> None:
    """A crosswalk is a NON_DRIVABLE_TYPES lane: kept out of the drivable area, so its
    centre (50, 10) is 10 - 1.75 = 8.25 m from the road lane's area (y <= 1.75)."""
    road = RoadMap((_lane("a", 0.0), _lane("x", 10.0, lane_type="crosswalk")))
    assert not road.lane("x").drivable
    np.testing.assert_allclose(road.distance_outside_drivable_m([50.0, 10.0]), [8.25])


def test_first_cusp_skips_a_half_millimetre_segment() -> None:
    """Only segments longer than 1e-3 m count. On (0, 0)-(10, 0)-(10, 5e-4)-(0, 5e-4) the
    0.5 mm step up is skipped, so the turn is measured from +x straight to -x: 180 deg, a cusp
    at vertex 2 (where the next kept segment starts). Counting the step would split the fold
    into two 90 deg turns and find no cusp."""
    cusp = first_cusp(np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 5e-4], [0.0, 5e-4]]))
    assert cusp is not None
    assert cusp[0] == 2


def test_default_speed_limit() -> None:
    """A lane's default speed limit is 13.89 m/s (50 km/h)."""
    assert _lane("a", 0.0).speed_limit_mps == 13.89


def test_lane_change_blend_length_at_speed() -> None:
    """Lane change from "a" (limit 5.5 m/s) to its left neighbour "b" 3.5 m up: the blend is
    max(4 s * 5.5 m/s, 20 m) = 22 m, leaving "a" at the middle of its 100 m (x = 50): the
    route leaves a's centreline (y = 0) at x = 50 and reaches b's (y = 3.5) at x = 72, not
    before (the blend's inner points are off both lines)."""
    a = _lane("a", 0.0, speed_limit_mps=5.5, left_neighbor="b")
    b = _lane("b", 3.5, speed_limit_mps=5.5, right_neighbor="a")
    line = RoadMap((a, b)).route_centerline(["a", "b"])
    on_a = line[np.abs(line[:, 1]) < 1e-9]
    assert on_a[:, 0].max() == pytest.approx(50.0)
    on_b = line[np.abs(line[:, 1] - 3.5) < 1e-9]
    assert on_b[:, 0].min() == pytest.approx(72.0)


def test_lane_change_steeper_than_30_degrees_is_refused() -> None:
    """Lanes 10 m long, 3 m apart, a 5 m blend: leaving "a" at its middle (5 m), the blend
    ends at min(5 + 5, 10 - 1e-3) = 9.999 m, so it has 4.999 m to move 3 m sideways:
    atan(3 / 4.999) = 30.96 deg > MAX_LANE_CHANGE_ANGLE_RAD (30 deg): refused."""

    def lane(lane_id: str, y: float, **kw: object) -> Lane:
        return Lane(
            lane_id,
            np.array([[0.0, y], [10.0, y]]),
            np.array([[0.0, y + 1.75], [10.0, y + 1.75]]),
            np.array([[0.0, y - 1.75], [10.0, y - 1.75]]),
            **kw,  # type: ignore[arg-type]
        )

    road = RoadMap((lane("a", 0.0, left_neighbor="b"), lane("b", 3.0, right_neighbor="a")))
    with pytest.raises(LaneChangeRoomError):
        road.route_centerline(["a", "b"], lane_change_length_m=5.0)


def test_lanes_at_finds_a_wide_lane_far_from_its_centreline() -> None:
    """A lane 30 m wide (bounds at y = +-15) along y = 0 covers (50, 12), 12 m from its
    centreline: lanes_at finds it (candidates came from centrelines within 10 m, so a point
    its area covers was missed); (50, 16) is outside it."""
    centre = np.array([[0.0, 0.0], [100.0, 0.0]])
    up = np.array([0.0, 15.0])
    wide = Lane("wide", centre, centre + up, centre - up)
    road = RoadMap((wide,))
    assert road.lanes_at([50.0, 12.0]) == ["wide"]
    assert road.lanes_at([50.0, 16.0]) == []
