"""Structure checks from the library walkthrough (items 1, 4, 9 and 10): no silent casts,
no silent mixing of times or attributes, counters and labels in range, slices select."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import TIME_OFFSET_NS, PointCloud
from drivestack.structures.tracks import Tracks

ROWS = np.array([[0, 0, 0, 4, 2, 1.5, 0.0], [5, 0, 0, 4, 2, 1.5, 0.1], [9, 1, 0, 1, 1, 1, 0.2]])


def _boxes(ts: int = 10, label=(1, 2, 3)) -> Boxes3D:
    return Boxes3D.from_array7(ROWS, "ego", ts, label=list(label))


# -- PointCloud dtypes (item 1) --------------------------------------------------------------
def test_point_cloud_refuses_float16_and_integer_xyz():
    with pytest.raises(
        ValueError, match=r"PointCloud.xyz_m must be float32 or float64, got float16"
    ):
        PointCloud(np.ones((4, 3), np.float16), "lidar", 0)
    with pytest.raises(ValueError, match=r"PointCloud.xyz_m must be float32 or float64, got int64"):
        PointCloud(np.ones((4, 3), np.int64), "lidar", 0)
    with pytest.raises(ValueError, match="got int64"):
        PointCloud([[1, 2, 3]], "lidar", 0)
    with pytest.raises(ValueError, match="got float16"):
        PointCloud(np.zeros((0, 3), np.float16), "lidar", 0)


def test_point_cloud_keeps_float32_and_float64():
    for dtype in (np.float32, np.float64):
        assert PointCloud(np.ones((2, 3), dtype), "lidar", 0).xyz_m.dtype == dtype
    assert PointCloud([[1.0, 2.0, 3.0]], "lidar", 0).xyz_m.dtype == np.float64
    # an empty input has no values to cast: it becomes float32 whatever its dtype
    assert PointCloud([], "lidar", 0).xyz_m.shape == (0, 3)
    assert PointCloud(np.zeros((0, 3), np.int64), "lidar", 0).xyz_m.dtype == np.float32


def test_point_cloud_concatenate_names_differing_attributes():
    a = PointCloud(np.zeros((2, 3)), "lidar", 0, {"intensity": np.zeros(2), "ring": np.zeros(2)})
    b = PointCloud(np.ones((1, 3)), "lidar", 0, {"intensity": np.ones(1), "t": np.ones(1)})
    with pytest.raises(ValueError, match=r"cloud 1 lacks \['ring'\] and has \['t'\] too"):
        PointCloud.concatenate([a, b])
    kept = PointCloud.concatenate([a, b], common_attributes=True)
    assert sorted(kept.attributes) == ["intensity"] and len(kept) == 3
    same = PointCloud.concatenate([a, a])
    assert sorted(same.attributes) == ["intensity", "ring"] and len(same) == 4


# -- Boxes3D (items 4, 9, 10) ------------------------------------------------------------------
def test_boxes_concatenate_refuses_mixed_timestamps():
    with pytest.raises(ValueError, match=r"different timestamps_ns \[10, 99\]"):
        Boxes3D.concatenate([_boxes(10), _boxes(99)])
    joined = Boxes3D.concatenate([_boxes(10), _boxes(10)])
    assert len(joined) == 6 and joined.timestamp_ns == 10


@pytest.mark.parametrize("bad", [99, -1, max(ObjectClass) + 1])
def test_boxes_refuse_labels_outside_object_class(bad):
    with pytest.raises(
        ValueError, match=rf"Boxes3D.label must hold ObjectClass values 0..12.*got {bad} at row 1"
    ):
        _boxes(label=(1, bad, 3))


def test_boxes_accept_every_object_class():
    labels = [int(c) for c in ObjectClass]
    b = Boxes3D.from_array7(np.tile(ROWS[:1], (len(labels), 1)), "ego", 0, label=labels)
    assert b.label.tolist() == labels


def test_to_array7_refuses_non_float_dtypes():
    b = _boxes()
    for dtype in (np.int32, np.int64, np.float16, bool):
        with pytest.raises(
            ValueError, match=r"Boxes3D\.to_array7 dtype must be float32 or float64"
        ):
            b.to_array7(dtype)
    assert b.to_array7(np.float32).dtype == np.float32
    np.testing.assert_allclose(b.to_array7(), ROWS, atol=1e-12)


def test_select_takes_slices():
    b = _boxes()
    assert b.select(slice(0, 1)).center_m.tolist() == [[0.0, 0.0, 0.0]]
    assert b.select(slice(None, None, -1)).label.tolist() == [3, 2, 1]
    assert len(b.select(slice(5, 9))) == 0
    tracks = Tracks(np.array([4, 5, 6]), b, age=[3, 2, 1], hits=[2, 2, 1])
    sub = tracks.select(slice(1, None))
    assert sub.track_id.tolist() == [5, 6] and sub.age.tolist() == [2, 1]
    cloud = PointCloud(np.arange(12.0).reshape(4, 3), "lidar", 0, {"i": np.arange(4)})
    part = cloud.select(slice(1, 3))
    assert part.xyz_m[:, 0].tolist() == [3.0, 6.0] and part.attributes["i"].tolist() == [1, 2]


# -- Tracks counters (item 9) ------------------------------------------------------------------
def test_tracks_refuse_negative_counters():
    b = _boxes()
    with pytest.raises(ValueError, match=r"Tracks.age must be >= 0 .*got -1 at row 2"):
        Tracks(np.array([1, 2, 3]), b, age=[1, 1, -1])
    with pytest.raises(ValueError, match=r"Tracks.time_since_update must be >= 0"):
        Tracks(np.array([1, 2, 3]), b, age=[1, 1, 1], time_since_update=[0, -2, 0])
    with pytest.raises(ValueError, match=r"Tracks.hits must be >= 0 .*got -1 at row 0"):
        Tracks(np.array([1, 2, 3]), b, age=[1, 2, 3], hits=[-1, 0, 0])
    # hits may exceed age: FusedTracker credits a camera-confirmed newborn with min_hits
    assert Tracks(np.array([1, 2, 3]), b, age=[1, 1, 1], hits=[3, 1, 1]).hits[0] == 3
    ok = Tracks(np.array([1, 2, 3]), b, age=[1, 2, 3], hits=[1, 2, 1], time_since_update=[0, 0, 2])
    assert ok.hits.tolist() == [1, 2, 1]
    # counters not given default to zeros (unknown)
    assert Tracks(np.array([1, 2, 3]), b).age.tolist() == [0, 0, 0]


def _cloud(t_ns: int, n: int = 2, **attributes: np.ndarray) -> PointCloud:
    return PointCloud(np.zeros((n, 3), np.float32), "lidar", t_ns, attributes)


def test_point_cloud_concatenate_refuses_an_attribute_of_two_dtypes():
    # uint8 intensity 0..255 beside float32 reflectance 0..1 came back one float32 column
    raw = _cloud(0, intensity=np.array([200, 10], np.uint8))
    unit = _cloud(0, intensity=np.array([0.5, 0.1], np.float32))
    with pytest.raises(ValueError, match=r"attribute 'intensity' has different dtypes"):
        PointCloud.concatenate([raw, unit])
    assert PointCloud.concatenate([raw, raw]).attributes["intensity"].dtype == np.uint8


def test_point_cloud_concatenate_keeps_each_point_s_time():
    # clouds 1 s apart without per-point offsets came back stamped with the first's time and
    # no offsets: a second of motion lost
    joined = PointCloud.concatenate([_cloud(0), _cloud(1_000_000_000)])
    assert joined.timestamp_ns == 0
    assert joined.attributes[TIME_OFFSET_NS].tolist() == [0, 0, 1_000_000_000, 1_000_000_000]
    # clouds of one time and no offsets: no column is made up
    assert TIME_OFFSET_NS not in PointCloud.concatenate([_cloud(5), _cloud(5)]).attributes
    # own offsets are kept and shifted to the first cloud's time
    a = _cloud(100, time_offset_ns=np.array([0, 10], np.int64))
    b = _cloud(300, time_offset_ns=np.array([-5, 5], np.int64))
    assert PointCloud.concatenate([a, b]).attributes[TIME_OFFSET_NS].tolist() == [0, 10, 195, 205]


def test_point_cloud_time_offsets_must_be_whole_nanoseconds():
    # float offsets [0.4, 0.9] were accepted, then truncated to [0, 0] when clouds were joined
    with pytest.raises(ValueError, match=r"must hold whole nanoseconds"):
        _cloud(0, time_offset_ns=np.array([0.4, 0.9]))


def test_point_cloud_concatenate_keeps_offsets_of_one_time_and_refuses_overflow():
    # clouds of one time where only one has offsets: common_attributes kept none of them
    a = _cloud(7, time_offset_ns=np.array([5, 7], np.int64))
    joined = PointCloud.concatenate([a, _cloud(7)], common_attributes=True)
    assert joined.attributes[TIME_OFFSET_NS].tolist() == [5, 7, 0, 0]
    # a point's time past int64 ns from the first cloud's: refused, not wrapped
    late = _cloud(2**62, time_offset_ns=np.array([2**62, 0], np.int64))
    with pytest.raises(OverflowError, match="past int64 nanoseconds"):
        PointCloud.concatenate([_cloud(-(2**62), time_offset_ns=np.zeros(2, np.int64)), late])
    with pytest.raises(ValueError, match="past int64 nanoseconds"):
        _cloud(0, time_offset_ns=np.array([2**63, 0], np.uint64))
    # point_times=False makes up no column for clouds without offsets
    assert (
        TIME_OFFSET_NS
        not in PointCloud.concatenate([_cloud(0), _cloud(9)], point_times=False).attributes
    )
