"""Oriented box fitting (L-shape yaw search, far-side completion) and shape classification."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.perception.lidar.box_fit import (
    along_sight,
    complete_end_faces,
    complete_far_side,
    fit_box,
    fit_boxes,
    split_rows,
)
from drivestack.perception.lidar.classify import classify, end_face_mask, size_likelihood
from drivestack.perception.lidar.config import BoxFitConfig, ClassPrior
from drivestack.structures.labels import ObjectClass

from .synthetic import CLASSIFY, box_surface

FIT = BoxFitConfig(
    yaw_step_deg=3.0,
    refine_step_deg=0.5,
    closeness_min_distance_m=0.05,
    voxel_pad_m=0.0,
    car_min_length_m=3.9,
    car_min_width_m=1.6,
    car_end_face_max_m=2.1,
)


def _l_shape(
    rng: np.random.Generator, x: float, y: float, yaw: float, length: float, width: float
) -> np.ndarray:
    """Points on the two faces of a box seen from the origin (an L in BEV), 0.2 to 1.5 m high."""
    box = np.array([x, y, -0.8, length, width, 1.3, yaw])
    pts = box_surface(rng, box, density_per_m2=120.0)
    return pts[pts[:, 2] < box[2] + 0.5 * box[5] - 1e-9]  # side faces only


@pytest.mark.parametrize("yaw_deg", [0.0, 17.0, 30.0, 62.0, -40.0, 88.0])
def test_l_shape_yaw_and_extent(yaw_deg: float) -> None:
    rng = np.random.default_rng(int(yaw_deg) + 100)
    yaw = np.deg2rad(yaw_deg)
    pts = _l_shape(rng, 12.0, 5.0, yaw, 4.4, 1.8)
    box = fit_box(pts, -1.45, FIT)
    err = abs(np.mod(box[6] - yaw + np.pi / 2, np.pi) - np.pi / 2)
    assert np.rad2deg(err) < 1.0
    np.testing.assert_allclose(box[3:5], [4.4, 1.8], atol=0.1)
    np.testing.assert_allclose(box[:2], [12.0, 5.0], atol=0.1)
    # height from the ground (given) to the highest point
    assert box[2] - box[5] / 2 == pytest.approx(-1.45)
    assert box[2] + box[5] / 2 == pytest.approx(pts[:, 2].max())


def test_fit_boxes_batches_like_single_fits() -> None:
    rng = np.random.default_rng(7)
    clouds = [_l_shape(rng, 10.0 + 7 * k, -3.0 * k, 0.3 * k, 4.0, 1.7) for k in range(4)]
    bounds = np.concatenate([[0], np.cumsum([len(c) for c in clouds])])
    batch = fit_boxes(np.concatenate(clouds), bounds, None, FIT)
    single = np.array([fit_box(c, None, FIT) for c in clouds])
    np.testing.assert_allclose(batch, single)
    with pytest.raises(ValueError, match="bounds"):
        fit_boxes(np.concatenate(clouds), bounds[::-1], None, FIT)
    with pytest.raises(ValueError, match=r"\(K, 3\)"):
        fit_box(np.zeros((0, 3)), None, FIT)


def test_complete_far_side_grows_away_from_sensor() -> None:
    # a car flank seen from the left: 2.5 m of side along x at y = 6 m, 0.4 m deep
    seen = np.array([[10.0, 6.0, -1.0, 2.5, 0.4, 1.4, 0.0]])
    out = complete_far_side(seen, np.array([True]), FIT)[0]
    # length: near face (x = 8.75) stays, grows to 3.9 towards +x; width: near face (y = 5.8)
    # stays, grows to 1.6 towards +y
    np.testing.assert_allclose(out, [8.75 + 1.95, 5.8 + 0.8, -1.0, 3.9, 1.6, 1.4, 0.0])
    # a rear face (1.6 m across, seen straight ahead) is turned: the car extends away along x
    rear = np.array([[15.0, 0.0, -1.0, 1.6, 0.3, 1.4, np.pi / 2]])
    out = complete_far_side(rear, np.array([True]), FIT)[0]
    np.testing.assert_allclose(out[:6], [14.85 + 1.95, 0.0, -1.0, 3.9, 1.6, 1.4], atol=1e-9)
    assert abs(np.sin(out[6])) < 1e-9
    # boxes not selected are untouched
    np.testing.assert_array_equal(complete_far_side(seen, np.array([False]), FIT), seen)


def test_along_sight_hand_values() -> None:
    boxes = np.array(
        [
            [20.0, 0.0, -1.0, 2.0, 1.4, 1.4, 0.0],  # length along the sight line
            [20.0, 0.0, -1.0, 2.0, 1.4, 1.4, np.pi / 2],  # across it
            [10.0, 10.0, -1.0, 2.0, 1.4, 1.4, np.deg2rad(80.0)],  # sight at 45 deg: 35 deg off
            [10.0, 10.0, -1.0, 2.0, 1.4, 1.4, np.deg2rad(-40.0)],  # 85 deg off
            [-20.0, 0.0, -1.0, 2.0, 1.4, 1.4, np.deg2rad(-30.0)],  # behind: sight 180 deg, 30 off
        ]
    )
    assert along_sight(boxes).tolist() == [True, False, True, False, True]


def test_end_face_across_sight_keeps_a_flank_along_the_sight() -> None:
    # 20 m ahead: a rear face and a 2 m piece of flank along the line of sight (2.0 x 1.4)
    seen = np.array([[20.0, 0.0, -1.0, 2.0, 1.4, 1.4, 0.0]])
    across = dataclasses.replace(FIT, end_face_across_sight=True)
    # default: a side up to 2.1 m is an end face, turned: the car runs across the sight
    turned = complete_far_side(seen, np.array([True]), FIT)[0]
    assert abs(np.cos(turned[6])) < 1e-9
    # across-sight rule: the near faces (x = 19, y = -0.7) stay, length grows to 3.9 along x
    out = complete_far_side(seen, np.array([True]), across)[0]
    np.testing.assert_allclose(out, [19.0 + 1.95, -0.7 + 0.8, -1.0, 3.9, 1.6, 1.4, 0.0])
    # a rear face across the sight is still turned (as without the rule)
    rear = np.array([[15.0, 0.0, -1.0, 1.6, 0.3, 1.4, np.pi / 2]])
    np.testing.assert_allclose(
        complete_far_side(rear, np.array([True]), across),
        complete_far_side(rear, np.array([True]), FIT),
    )


def test_size_likelihood_hand_values() -> None:
    prior = CLASSIFY.car
    assert size_likelihood(np.array([[3.0, 1.0, 1.5]]), prior)[0] == pytest.approx(
        1.0
    )  # inside [min, mean]
    # 0.5 m too long (1 std) and 0.15 m too tall (1 std): exp(-0.5 * 2)
    assert size_likelihood(np.array([[4.7, 1.7, 1.75]]), prior)[0] == pytest.approx(np.exp(-1.0))


def test_classify_shapes() -> None:
    sizes = np.array(
        [
            [4.1, 1.7, 1.5],  # car
            [0.6, 0.5, 1.7],  # pedestrian
            [1.7, 0.6, 1.7],  # cyclist
            [12.0, 0.4, 2.5],  # wall
            [4.0, 1.7, 1.5],  # car-sized but only 2 points
        ]
    )
    boxes = np.concatenate([np.tile([10.0, 0.0, -1.0], (5, 1)), sizes, np.zeros((5, 1))], axis=1)
    points = np.array([80, 30, 40, 200, 2])
    result = classify(boxes, points, CLASSIFY)
    assert result.label.tolist() == [
        ObjectClass.CAR,
        ObjectClass.PEDESTRIAN,
        ObjectClass.CYCLIST,
        ObjectClass.UNKNOWN,
        ObjectClass.UNKNOWN,
    ]
    assert np.all((result.score > 0) & (result.score < 1))
    # more points, same shape: higher calibrated score
    more = classify(boxes[:1], np.array([400]), CLASSIFY)
    assert more.score[0] > result.score[0]
    assert classify(np.zeros((0, 7)), np.zeros(0), CLASSIFY).label.shape == (0,)
    with pytest.raises(ValueError, match="point counts"):
        classify(boxes, points[:2], CLASSIFY)


def test_optional_large_vehicle_class() -> None:
    import dataclasses

    truck = ClassPrior(
        mean_lwh_m=(8.0, 2.5, 3.2),
        std_lwh_m=(3.0, 0.3, 0.4),
        min_lwh_m=(4.6, 1.8, 1.9),
        min_points=20,
        score_weights=(-1.0, 1.0, 0.5, 0.0, 0.0),
    )
    with_truck = dataclasses.replace(CLASSIFY, truck=truck)
    sizes = np.array(
        [
            [4.1, 1.7, 1.5],  # car
            [5.3, 2.2, 2.1],  # van: too long, wide and tall for the car prior
            [12.0, 2.6, 3.6],  # truck
            [12.0, 0.4, 2.5],  # wall: still nothing
            [6.0, 2.3, 2.6],  # truck-sized but only 10 points
        ]
    )
    boxes = np.concatenate([np.tile([10.0, 0.0, -1.0], (5, 1)), sizes, np.zeros((5, 1))], axis=1)
    points = np.array([80, 80, 300, 200, 10])
    without = classify(boxes, points, CLASSIFY)
    assert without.likelihood.shape == (5, 3)
    assert without.label.tolist() == [ObjectClass.CAR] + [ObjectClass.UNKNOWN] * 4
    result = classify(boxes, points, with_truck)
    assert result.likelihood.shape == (5, 4)
    assert result.label.tolist() == [
        ObjectClass.CAR,
        ObjectClass.TRUCK,
        ObjectClass.TRUCK,
        ObjectClass.UNKNOWN,
        ObjectClass.UNKNOWN,
    ]
    # the van: inside [min, mean] of the truck prior in every dimension
    assert result.likelihood[1, 3] == pytest.approx(1.0)
    # the 12 m truck: 0.1 m too wide (1/3 std) and 0.4 m too tall (1 std), 4 m too long
    expected = np.exp(-0.5 * ((4.0 / 3.0) ** 2 + (0.1 / 0.3) ** 2 + 1.0))
    assert result.likelihood[2, 3] == pytest.approx(expected)
    # the first three columns do not change with the extra class
    np.testing.assert_array_equal(result.likelihood[:, :3], without.likelihood)


def _truck(end_face_max_depth_m: float) -> ClassPrior:
    return ClassPrior(
        mean_lwh_m=(8.0, 2.5, 3.2),
        std_lwh_m=(3.0, 0.3, 0.4),
        min_lwh_m=(4.6, 1.8, 1.9),
        min_points=20,
        score_weights=(-1.0, 1.0, 0.5, 0.0, 0.0),
        end_face_max_depth_m=end_face_max_depth_m,
    )


def test_end_face_reading_of_a_truck_prior() -> None:
    sizes = np.array(
        [
            [2.2, 0.5, 2.7],  # a truck's rear face: 2.2 m across, no visible depth
            [2.2, 1.5, 2.7],  # 1.5 m deep: not one face
            [4.0, 0.5, 2.7],  # a 4 m face is wider than any truck: read as seen
        ]
    )
    off, on = _truck(0.0), _truck(0.8)
    # as seen: 2.4 m short (0.8 std) of the length, 1.3 m short of the width (13/3 std)
    seen = np.exp(-0.5 * ((2.4 / 3.0) ** 2 + (1.3 / 0.3) ** 2))
    assert size_likelihood(sizes[:1], off)[0] == pytest.approx(seen)
    # as an end face: (4.6, 2.2, 2.7) lies inside [min, mean] in every dimension
    assert size_likelihood(sizes[:1], on)[0] == pytest.approx(1.0)
    # the deep box is not a face; the wide face's end-face reading (4.6, 4.0, 2.7) is 1.5 m
    # (5 std) too wide, worse than as seen (0.6 / 3 std short, 1.3 / 0.3 std narrow)
    np.testing.assert_allclose(size_likelihood(sizes[1:], on), size_likelihood(sizes[1:], off))
    assert end_face_mask(sizes, on).tolist() == [True, False, False]
    assert not end_face_mask(sizes, off).any()
    with pytest.raises(ValueError, match="end_face_max_depth_m"):
        _truck(-0.1)


def test_car_choice_weight_gives_a_whole_cyclist_to_the_cyclist() -> None:
    # 1.5 x 0.7 x 1.6 m: inside the car's [min, mean] (likelihood 1) and 0.05 m = 0.25 std
    # wider than the cyclist mean (exp(-0.5 * 0.25^2) = 0.969); a car piece 1.6 x 1.2 x 1.4 m
    # is 2.75 std too wide for a cyclist (0.023)
    sizes = np.array([[1.5, 0.7, 1.6], [1.6, 1.2, 1.4]])
    boxes = np.concatenate([np.tile([12.0, 0.0, -1.0], (2, 1)), sizes, np.zeros((2, 1))], axis=1)
    points = np.array([50, 50])
    plain = classify(boxes, points, CLASSIFY)
    assert plain.label.tolist() == [ObjectClass.CAR, ObjectClass.CAR]
    weighted = dataclasses.replace(
        CLASSIFY, car=dataclasses.replace(CLASSIFY.car, choice_weight=0.6)
    )
    result = classify(boxes, points, weighted)
    assert result.label.tolist() == [ObjectClass.CYCLIST, ObjectClass.CAR]
    # the weight only chooses: likelihoods and the car piece's score are unchanged
    np.testing.assert_allclose(result.likelihood, plain.likelihood)
    assert result.likelihood[0, 2] == pytest.approx(np.exp(-0.5 * 0.25**2))
    assert result.score[1] == pytest.approx(plain.score[1])
    with pytest.raises(ValueError, match="choice_weight"):
        dataclasses.replace(CLASSIFY.car, choice_weight=1.5)


def test_classify_marks_end_faces_with_their_class_minimum() -> None:
    import dataclasses

    sizes = np.array([[2.2, 0.5, 2.7], [4.1, 1.7, 1.5], [12.0, 2.6, 3.6]])
    boxes = np.concatenate([np.tile([40.0, -4.0, 0.0], (3, 1)), sizes, np.zeros((3, 1))], axis=1)
    points = np.array([60, 80, 300])
    without = classify(boxes, points, dataclasses.replace(CLASSIFY, truck=_truck(0.0)))
    assert without.label.tolist() == [ObjectClass.UNKNOWN, ObjectClass.CAR, ObjectClass.TRUCK]
    assert not without.end_face.any()
    result = classify(boxes, points, dataclasses.replace(CLASSIFY, truck=_truck(0.8)))
    assert result.label.tolist() == [ObjectClass.TRUCK, ObjectClass.CAR, ObjectClass.TRUCK]
    assert result.end_face.tolist() == [True, False, False]
    np.testing.assert_allclose(
        result.min_length_width_m, [[4.6, 1.8], CLASSIFY.car.min_lwh_m[:2], [4.6, 1.8]]
    )


def test_complete_end_faces_extends_along_the_line_of_sight() -> None:
    # a rear face 2.2 m across at x = 47.0-47.5 m ahead (length along y), and one behind the
    # sensor (x = -30.5 .. -30.0 m)
    faces = np.array(
        [
            [47.25, -4.2, 1.35, 2.2, 0.5, 2.7, np.pi / 2],
            [-30.25, 1.0, 1.0, 2.2, 0.5, 2.7, -np.pi / 2],
            [20.0, 0.0, 1.0, 2.2, 0.5, 2.7, np.pi / 2],
        ]
    )
    out = complete_end_faces(faces, np.array([True, True, False]), np.array([[4.6, 1.8]] * 3))
    # turned (the face is the width), the near face stays, 4.6 m long away from the sensor
    np.testing.assert_allclose(out[0, :6], [47.0 + 2.3, -4.2, 1.35, 4.6, 2.2, 2.7], atol=1e-9)
    np.testing.assert_allclose(out[1, :6], [-30.0 - 2.3, 1.0, 1.0, 4.6, 2.2, 2.7], atol=1e-9)
    assert abs(np.sin(out[0, 6])) < 1e-9 and abs(np.sin(out[1, 6])) < 1e-9
    np.testing.assert_array_equal(out[2], faces[2])


def test_split_rows_cuts_low_long_clusters_into_car_lengths() -> None:
    # cluster 0: a row of two cars, points every 0.5 m on x = 10.0 .. 19.0 (box 9 m long,
    # 1.5 m tall); cluster 1: a truck as long but 3 m tall; cluster 2: one car
    row = np.stack([np.arange(10.0, 19.01, 0.5), np.zeros(19), np.full(19, -1.0)], axis=1)
    truck = row + np.array([0.0, 10.0, 0.0])
    car = np.array([[5.0, -5.0, -1.0], [9.0, -5.0, -1.0]])
    xyz = np.concatenate([row, truck, car])
    bounds = np.array([0, 19, 38, 40])
    boxes = np.array(
        [
            [14.5, 0.0, -1.0, 9.0, 1.8, 1.5, 0.0],
            [14.5, 10.0, -1.0, 9.0, 2.5, 3.0, 0.0],
            [7.0, -5.0, -1.0, 4.0, 1.8, 1.5, 0.0],
        ]
    )
    off = split_rows(xyz, bounds, boxes, FIT)  # row_split_length_m 0: nothing cut
    np.testing.assert_array_equal(off[1], bounds)
    cfg = dataclasses.replace(FIT, row_split_length_m=4.5)
    grouped, new_bounds, source = split_rows(xyz, bounds, boxes, cfg)
    # 9 m / 4.5 m = 2 pieces, cut at x = 14.5: 10.0 .. 14.0 (9 points), 14.5 .. 19.0 (10)
    assert source.tolist() == [0, 0, 1, 2]
    assert np.diff(new_bounds).tolist() == [9, 10, 19, 2]
    assert grouped[:9, 0].max() == 14.0 and grouped[9:19, 0].min() == 14.5
    np.testing.assert_array_equal(grouped[19:], xyz[19:])
    with pytest.raises(ValueError, match="row_split_length_m"):
        dataclasses.replace(FIT, row_split_length_m=-1.0)
