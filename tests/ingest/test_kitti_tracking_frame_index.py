"""KITTI tracking frame indices must be integers (review finding 5): before,
``read_kitti_tracking_frame(root, "0000", 74.9)`` read frame 74, ``True`` frame 1, and ``"74"``
was accepted. The check is the odometry and PandaSet readers' (``check_number``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.ingest.kitti_tracking import KittiTrackingSequence, read_kitti_tracking_frame
from tests.ingest.test_kitti_tracking_frame import _root


@pytest.mark.parametrize(
    ("bad", "shown"),
    [(1.9, "float 1.9"), (2.0, "float 2.0"), (True, "bool True"), ("1", "str '1'")],
)
def test_a_non_integer_frame_index_is_refused(tmp_path: Path, bad: object, shown: str) -> None:
    root = _root(tmp_path)
    message = rf"^frame_index must be an integer, got {shown}$"
    with pytest.raises(TypeError, match=message):
        read_kitti_tracking_frame(root, "0003", bad)  # type: ignore[arg-type]
    seq = KittiTrackingSequence(root, "0003")
    for read in (seq.frame, seq.frame_rows, seq.frame_labels, seq.world_from_lidar):
        with pytest.raises(TypeError, match=message):
            read(bad)  # type: ignore[operator]


def test_integer_indices_read_the_frame(tmp_path: Path) -> None:
    root = _root(tmp_path)
    plain = read_kitti_tracking_frame(root, "0003", 2, load_images=False)
    index = np.int64(2)  # (a NumPy integer is a frame index too)
    numpy = read_kitti_tracking_frame(root, "0003", index, load_images=False)  # type: ignore[arg-type]
    assert plain.timestamp_ns == numpy.timestamp_ns == 200_000_000
    assert plain.labels is not None and numpy.labels is not None and len(plain.labels) == 1
    np.testing.assert_array_equal(plain.labels.center_m, numpy.labels.center_m)
    assert type(numpy.timestamp_ns) is int and numpy.source == plain.source
