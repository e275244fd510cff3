"""Pinned rules of building and scoring simulations: the closed-loop AV2 log scenario
(:mod:`drivestack.sim.av2_log`), route extension when a scenario is built
(:mod:`drivestack.sim.build`), the KITTI export of simulated frames
(:mod:`drivestack.sim.export_kitti`) and perception metrics in simulation
(:mod:`drivestack.sim.perception_metrics`). Every expected value is derived by hand from the
rule in the module's docstring, on small hand-built inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.ingest.argoverse2 import Av2Cuboids
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.sim import av2_log
from drivestack.sim.agents import ReplayTrack
from drivestack.sim.build import extend_by_successors
from drivestack.sim.export_kitti import (
    frustum_truncation,
    image_boxes,
    occlusion_levels,
    write_image_sets,
)
from drivestack.sim.perception_metrics import (
    LightStateMetrics,
    PerceptionMetrics,
    greedy_center_matches,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.road_map import Lane, RoadMap
from drivestack.structures.tracks import Tracks

CAR, PED = int(ObjectClass.CAR), int(ObjectClass.PEDESTRIAN)
CYCLIST, MOTORCYCLE = int(ObjectClass.CYCLIST), int(ObjectClass.MOTORCYCLE)


# --- perception_metrics -------------------------------------------------------------------


def _boxes(rows: list[tuple[float, float, int, float]]) -> Boxes3D:
    """Boxes at ``(x, y)`` with ``label`` and ``score`` in the ego frame."""
    arr = np.array([[x, y, 0.8, 4.5, 1.9, 1.6, 0.0] for x, y, _, _ in rows]).reshape(-1, 7)
    return Boxes3D.from_array7(
        arr,
        "ego",
        0,
        label=np.array([lab for _, _, lab, _ in rows], dtype=np.int64),
        score=np.array([s for _, _, _, s in rows], dtype=np.float64),
    )


def _tracks(rows: list[tuple[int, float, float, int]]) -> Tracks:
    """Tracks ``(track_id, x, y, label)``."""
    boxes = _boxes([(x, y, lab, 0.9) for _, x, y, lab in rows])
    return Tracks(np.array([i for i, _, _, _ in rows], dtype=np.int64), boxes)


def test_greedy_match_needs_a_distance_strictly_below_the_threshold() -> None:
    """A prediction exactly ``max_distance_m`` (2.0 m) from the only truth is not matched:
    the rule is "closer than max_distance_m (strictly)"."""
    match = greedy_center_matches(
        np.array([[0.0, 0.0]]), np.array([[2.0, 0.0]]), np.array([0.9]), 2.0
    )
    np.testing.assert_array_equal(match, [-1])


def test_greedy_match_score_ties_go_to_the_later_row_first() -> None:
    """Two predictions of equal score near one truth: nuScenes' order takes the later row
    first, so row 1 (1.0 m away) gets truth 0 and row 0 (0.5 m away, nearer) gets nothing."""
    match = greedy_center_matches(
        np.array([[0.0, 0.0]]), np.array([[0.5, 0.0], [1.0, 0.0]]), np.array([0.5, 0.5]), 2.0
    )
    np.testing.assert_array_equal(match, [-1, 0])


def test_truth_with_exactly_min_points_returns_is_counted() -> None:
    """Ground truth needs *at least* ``min_points`` (1) returns: a car with 1 return counts
    (GT 1) and, undetected, is a miss (recall 0)."""
    m = PerceptionMetrics()
    m.add_frame("t0", _boxes([(10.0, 0.0, CAR, 0.0)]), ("a",), np.array([1]), _boxes([]), None)
    vehicle = m.result()["detection"]["vehicle"]
    assert (vehicle["GT"], vehicle["recall"]) == (1, 0.0)


def test_truth_exactly_at_max_range_is_not_counted() -> None:
    """Truth counts *within* ``max_range_m`` (50 m, strictly): a car at BEV distance
    sqrt(30^2 + 40^2) = 50.0 m is dropped, so no group has ground truth (GT 0)."""
    m = PerceptionMetrics()
    m.add_frame("t0", _boxes([(30.0, 40.0, CAR, 0.0)]), ("a",), np.array([9]), _boxes([]), None)
    assert m.result()["detection"]["all"]["GT"] == 0


def test_motorcycles_are_scored_in_the_cyclist_group() -> None:
    """The ``cyclist`` group holds cyclist and motorcycle: a motorcycle truth with a cyclist
    detection 0.3 m away is one true positive there (TP 1, FP 0, GT 1)."""
    m = PerceptionMetrics()
    truth = _boxes([(10.0, 0.0, MOTORCYCLE, 0.0)])
    dets = _boxes([(10.3, 0.0, CYCLIST, 0.8)])
    m.add_frame("t0", truth, ("m",), np.array([20]), dets, None)
    cyc = m.result()["detection"]["cyclist"]
    assert (cyc["TP"], cyc["FP"], cyc["GT"]) == (1, 0, 1)


def test_a_group_without_ground_truth_has_no_ap_and_stays_out_of_map() -> None:
    """A group with false positives but no truth (a ghost pedestrian) has AP None, and mAP is
    the mean over groups *with* truth only: the car detected 0.1 m off at score 0.9, the only
    box of its group, has precision 1 at every recall, so vehicle AP = mAP = 1.0."""
    m = PerceptionMetrics()
    truth = _boxes([(10.0, 0.0, CAR, 0.0)])
    dets = _boxes([(10.1, 0.0, CAR, 0.9), (5.0, 5.0, PED, 0.9)])
    m.add_frame("t0", truth, ("a",), np.array([30]), dets, None)
    det = m.result()["detection"]
    assert det["pedestrian"]["AP"] is None
    assert det["pedestrian"]["FP"] == 1
    assert abs(det["vehicle"]["AP"] - 1.0) < 1e-9
    assert abs(det["all"]["mAP"] - 1.0) < 1e-9


def test_merge_pools_false_positives() -> None:
    """Merging an accumulator with 1 TP and 2 FP (vehicle) into an empty one keeps TP 1 and
    FP 2 (precision 1 / 3), not the TP count in place of the FP count."""
    other = PerceptionMetrics()
    truth = _boxes([(10.0, 0.0, CAR, 0.0)])
    dets = _boxes([(10.2, 0.0, CAR, 0.9), (30.0, 10.0, CAR, 0.5), (30.0, -10.0, CAR, 0.5)])
    other.add_frame("t0", truth, ("a",), np.array([30]), dets, None)
    merged = PerceptionMetrics()
    merged.merge(other, prefix="run/")
    vehicle = merged.result()["detection"]["vehicle"]
    assert (vehicle["TP"], vehicle["FP"]) == (1, 2)
    assert abs(vehicle["precision"] - 1 / 3) < 1e-12


def test_tracks_beyond_max_range_are_not_false_positives() -> None:
    """Tracks beyond ``max_range_m`` (50 m) are dropped like detections: one car at 10 m
    tracked 0.2 m off plus a track at 60 m gives TP 1, FP 0 (not 1), MOTA 1 - 0 / 1 = 1."""
    m = PerceptionMetrics()
    truth = _boxes([(10.0, 0.0, CAR, 0.0)])
    tracks = _tracks([(1, 10.2, 0.0, CAR), (2, 60.0, 0.0, CAR)])
    m.add_frame("t0", truth, ("a",), np.array([30]), _boxes([]), tracks)
    veh = m.result()["tracking"]["vehicle"]
    assert (veh["TP"], veh["FP"], veh["MOTA"]) == (1, 0, 1.0)


def test_a_group_with_only_false_positive_tracks_is_reported() -> None:
    """A group with no truth but a track (a ghost pedestrian) is still listed in tracking:
    GT 0, FP 1, MOTA None (no truth to divide by)."""
    m = PerceptionMetrics()
    tracks = _tracks([(7, 5.0, 5.0, PED)])
    m.add_frame("t0", _boxes([]), (), np.zeros(0), _boxes([]), tracks)
    ped = m.result()["tracking"]["pedestrian"]
    assert (ped["GT"], ped["FP"], ped["MOTA"]) == (0, 1, None)


def test_hungarian_tracking_match_maximises_matches_within_the_gate() -> None:
    """The Hungarian step is gated: pairs beyond the 2 m gate cost 1e6, so it prefers two
    gated matches (A-Y 1.9 m + B-X 1.9 m) over the smaller raw sum A-X 0.1 m + B-Y 3.0 m
    (only one of which is within the gate). A = (0, 0), B = (2, 0), X = (0.1, 0); Y is at
    1.9 m from A and 3.0 m from B: x = (1.9^2 - 3^2 + 2^2) / 4 = -0.3475,
    y = sqrt(1.9^2 - x^2) = 1.8680. Expected TP 2, FN 0, FP 0, MOTP (1.9 + 1.9) / 2."""
    x_y = -0.3475
    y_y = float(np.sqrt(1.9**2 - x_y**2))
    m = PerceptionMetrics()
    truth = _boxes([(0.0, 0.0, CAR, 0.0), (2.0, 0.0, CAR, 0.0)])
    tracks = _tracks([(1, 0.1, 0.0, CAR), (2, x_y, y_y, CAR)])
    m.add_frame("t0", truth, ("A", "B"), np.array([10, 10]), _boxes([]), tracks)
    veh = m.result()["tracking"]["vehicle"]
    assert (veh["TP"], veh["FN"], veh["FP"]) == (2, 0, 0)
    assert abs(veh["MOTP_m"] - 1.9) < 1e-6


def test_hungarian_tracking_match_needs_a_distance_strictly_below_the_gate() -> None:
    """A track exactly ``match_distance_m`` (2.0 m) from the truth is no match: TP 0, FN 1,
    FP 1, MOTA = 1 - (1 + 1 + 0) / 1 = -1."""
    m = PerceptionMetrics()
    truth = _boxes([(10.0, 0.0, CAR, 0.0)])
    tracks = _tracks([(1, 12.0, 0.0, CAR)])
    m.add_frame("t0", truth, ("a",), np.array([30]), _boxes([]), tracks)
    veh = m.result()["tracking"]["vehicle"]
    assert (veh["TP"], veh["FN"], veh["FP"], veh["MOTA"]) == (0, 1, 1, -1.0)


def test_light_unknown_share_is_the_share_perceived_unknown() -> None:
    """``unknown_share`` is the share of light-ticks *perceived* unknown (a column of the
    true x perceived matrix, not the true-unknown row): red -> unknown twice, red -> red and
    unknown -> green give 2 of 4 perceived unknown = 0.5 (the true-unknown row holds 1 of 4);
    accuracy is the diagonal, red -> red only: 1 / 4."""
    m = LightStateMetrics()
    m.add("red", "unknown")
    m.add("red", "unknown")
    m.add("red", "red")
    m.add("unknown", "green")
    r = m.result()
    assert r["light_ticks"] == 4
    assert r["unknown_share"] == 0.5
    assert r["accuracy"] == 0.25


# --- build: extend_by_successors ----------------------------------------------------------


def _lane(lane_id: str, x0: float, succ: tuple[str, ...], pred: tuple[str, ...]) -> Lane:
    """A 100 m straight lane along +x from ``x0`` (3.5 m wide); ``e`` branches off up +y."""
    if lane_id == "e":
        centre = np.array([[x0, 0.0], [x0, 100.0]])
        side = np.array([1.75, 0.0])
        left, right = centre - side, centre + side
    else:
        centre = np.array([[x0, 0.0], [x0 + 100.0, 0.0]])
        side = np.array([0.0, 1.75])
        left, right = centre + side, centre - side
    return Lane(lane_id, centre, left, right, successors=succ, predecessors=pred)


def _chain() -> RoadMap:
    """a -> b -> (c | e), c -> d -> f; every lane 100 m long; b's first successor is c."""
    return RoadMap(
        (
            _lane("a", 0.0, ("b",), ()),
            _lane("b", 100.0, ("c", "e"), ("a",)),
            _lane("c", 200.0, ("d",), ("b",)),
            _lane("e", 200.0, (), ("b",)),
            _lane("d", 300.0, ("f",), ("c",)),
            _lane("f", 400.0, (), ("d",)),
        )
    )


def test_extend_by_successors_counts_length_past_the_start_station() -> None:
    """Length counts from the start station: from station 50 m on ``a``, a gives 50 m, b 150,
    c 250 and d 350 m; the default ``MIN_ROUTE_M`` (300 m) is reached at d, taking the first
    successor (c, not e) at b: [a, b, c, d]."""
    assert extend_by_successors(_chain(), ["a"], 50.0) == ["a", "b", "c", "d"]


def test_extend_by_successors_stops_once_the_length_is_reached_exactly() -> None:
    """ "until they reach min_length_m": from station 0, a + b are 200 m = min_length_m, so
    nothing more is added: [a, b]."""
    assert extend_by_successors(_chain(), ["a"], 0.0, min_length_m=200.0) == ["a", "b"]


# --- export_kitti -------------------------------------------------------------------------

#: Image 100 x 50 px, focal 100 px, principal point (50, 25).
WIDTH, HEIGHT = 100, 50


def _calib() -> KittiCalib:
    """LiDAR (x ahead, y left, z up) at the camera (x right, y down, z ahead): a LiDAR point
    (x, y, z) projects to u = 50 - 100 y / x, v = 25 - 100 z / x at depth x."""
    p = np.array([[100.0, 0.0, 50.0, 0.0], [0.0, 100.0, 25.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    camera_from_lidar = np.array(
        [[0.0, -1.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
    )
    return KittiCalib({f"P{i}": p for i in range(4)}, np.eye(3), camera_from_lidar)


def test_occlusion_levels_thresholds_are_inclusive() -> None:
    """Level 0 at a visible share >= 0.9, 1 at >= 0.5, 2 below, 3 for NaN (unknown)."""
    levels = occlusion_levels(np.array([0.9, 0.5, 0.49, np.nan, 1.0]))
    np.testing.assert_array_equal(levels, [0, 1, 2, 3, 0])


def test_truncation_of_a_box_across_the_left_image_edge() -> None:
    """A 5 x 5 x 5 grid of cell centres at -0.4, -0.2, 0, 0.2, 0.4 of the box: a box at
    depth 10 m, 1 m wide centred 5.05 m left (y) has grid points at y = 4.65, 4.85, 5.05,
    5.25, 5.45 -> u = 50 - 10 y = 3.5, 1.5, -0.5, -2.5, -4.5: 2 of 5 columns in the image,
    so a truncation of 1 - 2/5 = 0.6 (the box is thin in x and z: all those in view)."""
    boxes = np.array([[10.0, 5.05, 0.0, 0.02, 1.0, 0.02, 0.0]])
    np.testing.assert_allclose(frustum_truncation(boxes, _calib(), WIDTH, HEIGHT), [0.6])


def test_truncation_uses_the_image_width_for_u() -> None:
    """A small box straight ahead at 10 m (u in 49.9 .. 50.1, v about 25) is fully in view:
    truncation 0 (u is bounded by the width, 100 px, not the height, 50 px)."""
    boxes = np.array([[10.0, 0.0, 0.0, 0.02, 0.02, 0.02, 0.0]])
    np.testing.assert_allclose(frustum_truncation(boxes, _calib(), WIDTH, HEIGHT), [0.0])


def test_truncation_counts_points_behind_the_near_plane_as_outside() -> None:
    """Near plane 0.1 m: a box 0.5 m long centred 0.12 m ahead has grid depths 0.12 + 0.5 g
    = -0.08, 0.02, 0.12, 0.22, 0.32; only 3 of 5 are beyond 0.1 m (and, 2 mm thick, in the
    image), so truncation 1 - 3/5 = 0.4."""
    boxes = np.array([[0.12, 0.0, 0.0, 0.5, 0.002, 0.002, 0.0]])
    np.testing.assert_allclose(frustum_truncation(boxes, _calib(), WIDTH, HEIGHT), [0.4])


def test_truncation_of_a_yawed_box_rotates_its_grid_by_the_yaw() -> None:
    """A thin 8 m box at (10, -3) with yaw 45 degrees: its grid points lie along (cos, sin)
    = (0.707, 0.707) at -3.2, -1.6, 0, 1.6, 3.2 m, i.e. (x, y) = (7.74, -5.26), (8.87, -4.13),
    (10, -3), (11.13, -1.87), (12.26, -0.74): u = 50 - 100 y / x = 118, 96.6, 80, 66.8, 56.0;
    the first is right of the image: truncation 1/5 = 0.2 (the mirrored box, along (0.707,
    -0.707), would be all in view)."""
    boxes = np.array([[10.0, -3.0, 0.0, 8.0, 0.002, 0.002, np.pi / 4]])
    np.testing.assert_allclose(frustum_truncation(boxes, _calib(), WIDTH, HEIGHT), [0.2])


def test_image_boxes_are_clipped_to_the_image_width_and_height() -> None:
    """A small box at depth 10 m and 10 m right (y = -10) projects to u = 50 + 100 = 150,
    right of the 100 px image: both x1 and x2 clip to the width, 100 (not 99); v stays
    about 25."""
    boxes = np.array([[10.0, -10.0, 0.0, 0.02, 0.02, 0.02, 0.0]])
    box = image_boxes(boxes, _calib(), WIDTH, HEIGHT)[0]
    assert box[0] == box[2] == 100.0
    assert abs(box[1] - 25.0) < 0.5 and abs(box[3] - 25.0) < 0.5


def test_image_sets_list_every_id_in_train_and_trainval_only(tmp_path: Path) -> None:
    """``train.txt`` and ``trainval.txt`` list ids 000000 .. count - 1; val and test are
    empty."""
    write_image_sets(tmp_path, 2)
    folder = tmp_path / "ImageSets"
    assert (folder / "train.txt").read_text() == "000000\n000001\n"
    assert (folder / "trainval.txt").read_text() == "000000\n000001\n"
    assert (folder / "val.txt").read_text() == ""
    assert (folder / "test.txt").read_text() == ""


# --- av2_log ------------------------------------------------------------------------------


def test_split_at_gaps_splits_only_beyond_max_gap() -> None:
    """MAX_GAP_S = 0.5 s: gaps 0.1, 0.5 (kept: at most 0.5 is bridged) and 0.6 s (split)."""
    parts = av2_log.split_at_gaps(np.array([0.0, 0.1, 0.6, 1.2]))
    assert [p.tolist() for p in parts] == [[0, 1, 2], [3]]


def test_annotated_spans_split_at_a_missed_sweep_and_reach_half_an_interval() -> None:
    """Sweeps at 0, 0.1, 0.2, 0.4 s; a track at sweeps 0, 2, 3 misses sweep 1: parts [0] and
    [1, 2]. Part 0: from max(0, 0 - 0.05) = 0 to 0 + 0.1 / 2 = 0.05. Part 1: from 0.2 - 0.1 / 2
    = 0.15 to 0.4 + 0.2 / 2 = 0.5 (at the last sweep, half the interval before it)."""
    spans = av2_log.annotated_spans(np.array([0, 2, 3]), np.array([0.0, 0.1, 0.2, 0.4]))
    assert [p.tolist() for p, _, _ in spans] == [[0], [1, 2]]
    np.testing.assert_allclose([(s, e) for _, s, e in spans], [(0.0, 0.05), (0.15, 0.5)])


def test_hold_still_sets_both_held_ends_to_speed_zero() -> None:
    """Held still at its first / last pose: rows added at 0 s and 5 s with speed 0 at both
    ends, the annotated speeds 3 and 4 kept between."""
    track = ReplayTrack(
        np.array([1.0, 2.0]),
        np.array([0.0, 3.0]),
        np.zeros(2),
        np.zeros(2),
        np.array([3.0, 4.0]),
    )
    held = av2_log._hold(track, 0.0, 5.0)
    np.testing.assert_allclose(held.time_s, [0.0, 1.0, 2.0, 5.0])
    np.testing.assert_allclose(held.speed_mps, [0.0, 3.0, 4.0, 0.0])
    np.testing.assert_allclose(held.x_m, [0.0, 0.0, 3.0, 3.0])


def test_agent_size_is_the_median_of_its_rows() -> None:
    """Sizes (l, w, h) of three rows: l 4, 4, 10 -> median 4 (the mean would be 6)."""
    boxes = np.array(
        [[0, 0, 0, 4.0, 2.0, 1.5, 0], [0, 0, 0, 4.0, 2.0, 1.5, 0], [0, 0, 0, 10.0, 2.0, 1.5, 0]]
    )
    track = ReplayTrack(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1))
    spec = av2_log._agent("t", CAR, boxes, track)
    assert spec.size_m == (4.0, 2.0, 1.5)


def test_speed_from_motion_uses_first_order_differences_at_the_ends() -> None:
    """x = 0, 1, 4 at t = 0, 1, 2: one-sided differences at the ends (1 - 0) / 1 = 1 and
    (4 - 1) / 1 = 3, central inside (4 - 0) / 2 = 2; one sample: speed 0."""
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [4.0, 0.0]])
    np.testing.assert_allclose(av2_log.speed_from_motion(np.array([0.0, 1.0, 2.0]), xy), [1, 2, 3])
    np.testing.assert_array_equal(av2_log.speed_from_motion(np.zeros(1), xy[:1]), [0.0])


def _cuboids(xs: list[float], sweeps: list[int]) -> Av2Cuboids:
    """One regular vehicle track at ``x`` (ego frame = city frame) at the given sweeps."""
    n = len(xs)
    boxes = np.array([[x, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0] for x in xs])
    return Av2Cuboids(
        timestamp_ns=np.array([s * 100_000_000 for s in sweeps], dtype=np.int64),
        track_uuid=np.array(["t"] * n),
        category=np.array(["REGULAR_VEHICLE"] * n),
        boxes=boxes,
        quaternion_wxyz=np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)),
        num_interior_pts=np.full(n, 10, dtype=np.int64),
        score=np.ones(n),
        log_id=np.array(["log"] * n),
    )


def test_a_track_within_the_stationary_radius_of_its_first_position_is_held() -> None:
    """Sweeps 0, 0.1, 0.2, 0.3 s; a track at x = 10, 10.5, 9.6 over the first three: it never
    leaves 0.5 m (inclusive) of its *first* position (10.5 - 10 = 0.5, 10 - 9.6 = 0.4), so it
    is stationary and held over the whole log: its replay ends at 0.3 s (a moving track
    would end at 0.2 s)."""
    sweeps_ns = np.arange(4, dtype=np.int64) * 100_000_000
    poses = SE3.from_xyz_yaw(np.zeros((4, 3)), np.zeros(4))
    agents = av2_log.track_agents(_cuboids([10.0, 10.5, 9.6], [0, 1, 2]), poses, sweeps_ns)
    assert len(agents) == 1
    replay = agents[0].replay
    assert replay is not None
    np.testing.assert_allclose(replay.time_s[[0, -1]], [0.0, 0.3])


def test_a_track_leaving_the_stationary_radius_moves_and_ends_when_annotated() -> None:
    """x = 10 then 10.6: 0.6 m > 0.5 m from its first position: a moving track, present
    only over its annotated 0 .. 0.1 s."""
    sweeps_ns = np.arange(4, dtype=np.int64) * 100_000_000
    poses = SE3.from_xyz_yaw(np.zeros((4, 3)), np.zeros(4))
    agents = av2_log.track_agents(_cuboids([10.0, 10.6], [0, 1]), poses, sweeps_ns)
    replay = agents[0].replay
    assert replay is not None
    np.testing.assert_allclose(replay.time_s, [0.0, 0.1])
