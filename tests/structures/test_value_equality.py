"""Structures holding arrays compare by value and hash alike when equal.

``boxes_a == boxes_b`` raised ``ValueError: truth value ... ambiguous`` (two or more boxes) and
``hash(boxes)`` raised ``TypeError: unhashable type``; they are values now.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivestack.core.transforms import SE2, SE3
from drivestack.core.value_equality import value_hash_key, values_equal
from drivestack.ingest.maps.synthetic import straight_road
from drivestack.structures import Boxes3D, PointCloud, SensorFrame, Tracks, Trajectory


def _boxes(x0: float = 1.0, frame: str = "ego") -> Boxes3D:
    return Boxes3D(
        center_m=[[x0, 2.0, 0.5], [4.0, -1.0, 0.7]],
        size_m=[[4.2, 1.8, 1.5], [0.8, 0.6, 1.7]],
        yaw_rad=[0.1, -2.0],
        frame=frame,
        timestamp_ns=5,
        score=[0.9, 0.4],
        label=[1, 2],
    )


def test_equal_boxes_are_equal_and_hash_alike() -> None:
    a, b = _boxes(), _boxes()
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    assert {a: "first"}[b] == "first"


@pytest.mark.parametrize(
    "other",
    [
        _boxes(x0=1.0 + 1e-12),
        _boxes(frame="world"),
        _boxes().select(np.array([0])),
        Boxes3D.empty("ego"),
    ],
    ids=["one_coordinate", "frame", "fewer_boxes", "empty"],
)
def test_any_difference_makes_boxes_unequal(other: Boxes3D) -> None:
    assert _boxes() != other
    assert (_boxes() == other) is False


def test_empty_boxes_equal_each_other() -> None:
    assert Boxes3D.empty("ego") == Boxes3D.empty("ego")
    assert Boxes3D.empty("ego") != Boxes3D.empty("world")


def test_different_structures_are_never_equal() -> None:
    boxes = _boxes()
    tracks = Tracks(track_id=[3, 4], boxes=boxes, age=[1, 1], hits=[1, 1], time_since_update=[0, 0])
    assert boxes != tracks
    assert tracks == Tracks(
        track_id=[3, 4], boxes=_boxes(), age=[1, 1], hits=[1, 1], time_since_update=[0, 0]
    )
    assert tracks != Tracks(
        track_id=[3, 5], boxes=_boxes(), age=[1, 1], hits=[1, 1], time_since_update=[0, 0]
    )


def test_transforms_compare_by_value() -> None:
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    a = SE3(rot, np.array([1.0, 2.0, 3.0]))
    assert a == SE3(rot.copy(), np.array([1.0, 2.0, 3.0]))
    assert a != SE3(rot, np.array([1.0, 2.0, 3.5]))
    assert len({SE3(np.eye(3)), SE3(np.eye(3))}) == 1
    assert SE2(0.5, [1.0, 2.0]) == SE2(0.5, [1.0, 2.0])


def test_clouds_compare_attributes_and_frames_of_a_sensor_frame() -> None:
    xyz = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    cloud = PointCloud(
        xyz, frame="lidar", timestamp_ns=0, attributes={"intensity": np.array([0.1, 0.2])}
    )
    same = PointCloud(
        xyz.copy(), frame="lidar", timestamp_ns=0, attributes={"intensity": np.array([0.1, 0.2])}
    )
    other = PointCloud(
        xyz, frame="lidar", timestamp_ns=0, attributes={"intensity": np.array([0.1, 0.3])}
    )
    assert cloud == same and hash(cloud) == hash(same)
    assert cloud != other
    frame = SensorFrame(timestamp_ns=0, lidars={"top": cloud})
    assert frame == SensorFrame(timestamp_ns=0, lidars={"top": same})
    assert frame != SensorFrame(timestamp_ns=0, lidars={"top": other})


def test_road_maps_built_alike_are_equal() -> None:
    assert straight_road() == straight_road()
    assert hash(straight_road()) == hash(straight_road())


def test_trajectories_compare_exactly() -> None:
    t = _trajectory(1.0)
    assert t == _trajectory(1.0)
    assert hash(t) == hash(_trajectory(1.0))
    assert t != _trajectory(1.5)


def _trajectory(x1_m: float) -> Trajectory:
    zeros = [0.0, 0.0]
    return Trajectory([0, 100], [0.0, x1_m], zeros, zeros, zeros, zeros, zeros)


def test_values_equal_rules() -> None:
    assert values_equal(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    assert values_equal(np.array([0.0]), np.array([-0.0]))
    assert not values_equal(np.array([1], np.int32), np.array([1], np.int64))
    assert not values_equal(np.zeros((2, 1)), np.zeros((1, 2)))
    assert not values_equal(np.zeros(2), [0.0, 0.0])
    assert not values_equal((1, 2), [1, 2])
    assert not values_equal({"a": 1}, {"b": 1})


finite_or_nan = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64), st.just(float("nan"))
)


@given(st.lists(finite_or_nan, min_size=0, max_size=6), st.integers(0, 2**32 - 1))
def test_equal_arrays_hash_alike_whatever_their_nan_payload_or_zero_sign(
    values: list[float], seed: int
) -> None:
    a = np.array(values, dtype=np.float64)
    b = a.copy()
    rng = np.random.default_rng(seed)
    # same values written differently: -0.0 for 0.0, a NaN with another payload
    b[b == 0.0] *= -1.0
    nan_bits = np.array([0x7FF8_0000_0000_0001], dtype=np.uint64).view(np.float64)[0]
    b[np.isnan(b) & (rng.random(b.shape) < 0.5)] = nan_bits
    assert values_equal(a, b)
    assert hash(value_hash_key(a)) == hash(value_hash_key(b))


def test_shapely_geometry_hashes_alike_when_equal() -> None:
    # shapely's == takes -0.0 for 0.0, its own hash (of the WKB bytes) does not
    from shapely.geometry import LineString

    a, b = LineString([(0.0, 0.0), (1.0, 1.0)]), LineString([(-0.0, 0.0), (1.0, 1.0)])
    assert a == b
    assert hash(value_hash_key(a)) == hash(value_hash_key(b))
    assert value_hash_key((a,)) == value_hash_key((b,))


def test_plain_dataclasses_inside_a_frame_compare_by_value() -> None:
    # a SensorFrame holding a ground raster (a plain frozen dataclass of arrays): == raised
    # "truth value ... ambiguous" and hash "unhashable type"
    from drivestack.ingest.maps.av2_ground import GroundHeightRaster

    def raster(z: float) -> GroundHeightRaster:
        return GroundHeightRaster(np.full((2, 2), z, np.float32), np.eye(2), np.zeros(2), 1.0)

    def frame(z: float) -> SensorFrame:
        return SensorFrame(timestamp_ns=0, ground_surface=raster(z))

    assert frame(1.0) == frame(1.0) and hash(frame(1.0)) == hash(frame(1.0))
    assert frame(1.0) != frame(2.0)


def test_pickled_and_copied_structures_stay_read_only_values() -> None:
    # PointCloud and SensorFrame could not be pickled or deep-copied (their read-only
    # mappings), and every unpickled structure came back with writeable arrays
    import copy
    import pickle

    cloud = PointCloud(
        np.ones((3, 3)), frame="lidar", timestamp_ns=7, attributes={"intensity": np.ones(3)}
    )
    frame = SensorFrame(timestamp_ns=7, lidars={"top": cloud})
    for made in (pickle.loads(pickle.dumps(frame)), copy.deepcopy(frame)):
        assert made == frame
        again = made.lidars["top"]
        assert not again.xyz_m.flags.writeable
        assert not again.attributes["intensity"].flags.writeable
        with pytest.raises(TypeError):
            again.attributes["x"] = np.ones(3)  # type: ignore[index]
    boxes = pickle.loads(pickle.dumps(_boxes()))
    assert boxes == _boxes() and not boxes.center_m.flags.writeable


def test_a_pickled_road_map_leaves_its_cached_geometry_behind() -> None:
    # cached properties (the drivable-area union, the lane index) went into every pickle and
    # to every worker process
    import pickle

    road = straight_road()
    fresh = len(pickle.dumps(road))
    road.drivable_area  # noqa: B018 (builds and caches the union)
    assert len(pickle.dumps(road)) == fresh
    assert pickle.loads(pickle.dumps(road)) == road
