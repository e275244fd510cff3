"""aiMotive reader on the real night-highway sequence: counts, boxes on points, bad input."""

from __future__ import annotations

import json
import struct
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.aimotive import (
    list_aimotive_frames,
    read_aimotive_boxes,
    read_aimotive_calibration,
    read_aimotive_frame,
    read_aimotive_laz,
)
from drivestack.kernels import points_in_boxes
from drivestack.structures.labels import ObjectClass

SEQ = "aimotive/train/nighttime/20210901-194123-00.37.12-00.37.27@Yoda"


@pytest.mark.data
def test_real_box_counts(shared_data: Path) -> None:
    seq = shared_data / SEQ
    names = list_aimotive_frames(seq)
    assert len(names) == 50
    classes: Counter[int] = Counter()
    tracks: set[int] = set()
    stamps = []
    for name in names:
        boxes, ids = read_aimotive_boxes(seq / "dynamic/box/3d_body" / f"{name}.json")
        classes.update(boxes.label.tolist())
        tracks.update(ids.tolist())
        stamps.append(boxes.timestamp_ns)
        assert 7 <= len(boxes) <= 8
    assert classes == Counter({ObjectClass.CAR: 250, ObjectClass.VAN: 100, ObjectClass.TRUCK: 41})
    assert len(tracks) == 8
    assert 3.2e9 < stamps[-1] - stamps[0] < 3.3e9  # 3.27 s of keyframes
    calib = read_aimotive_calibration(seq / "sensor/calibration/calibration.json")
    assert float(calib["M_LIDAR_M"].translation[2]) == pytest.approx(1.6823, abs=1e-4)


@pytest.mark.data
@pytest.mark.slow
def test_real_boxes_sit_on_points(shared_data: Path) -> None:
    seq = shared_data / SEQ
    counts = []
    for name in list_aimotive_frames(seq):
        frame = read_aimotive_frame(seq, name)
        cloud = frame.lidar()
        assert 129_606 <= len(cloud) <= 134_942 and cloud.frame == "ego"
        offsets = cloud.attributes["time_offset_ns"]
        assert 0.09e9 < offsets.max() - offsets.min() < 0.11e9  # one revolution, ~100 ms
        assert frame.labels is not None
        counts.append(points_in_boxes(cloud.xyz_m, frame.labels.to_array7()).sum(axis=0))
    inside = np.concatenate(counts)
    assert len(inside) == 391
    assert int((inside >= 5).sum()) == 375 and int((inside == 0).sum()) == 11
    assert np.median(inside) == pytest.approx(48, abs=2)


def test_missing_box_field_and_truncated_laz(shared_data: Path, tmp_path: Path) -> None:
    seq = shared_data / SEQ
    name = list_aimotive_frames(seq)[0]
    doc = json.loads((seq / "dynamic/box/3d_body" / f"{name}.json").read_text())
    del doc["CapturedObjects"][2]["BoundingBox3D Extent Y"]
    (tmp_path / "box.json").write_text(json.dumps(doc))
    with pytest.raises(DataError) as err:
        read_aimotive_boxes(tmp_path / "box.json")
    assert err.value.record == "CapturedObjects[2]" and err.value.field == "BoundingBox3D Extent Y"
    raw = (seq / "dynamic/raw-revolutions" / f"{name}.laz").read_bytes()
    (tmp_path / "cut.laz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"LAZ|truncated"):
        read_aimotive_laz(tmp_path / "cut.laz")
    (tmp_path / "junk.laz").write_bytes(b"not a las file at all")
    with pytest.raises(DataError, match="LAZ"):
        read_aimotive_laz(tmp_path / "junk.laz")


def _edited_laz(shared_data: Path, tmp_path: Path, edits: dict[int, bytes]) -> Path:
    """The first real revolution with header bytes replaced (LAS 1.2 offsets)."""
    seq = shared_data / SEQ
    name = list_aimotive_frames(seq)[0]
    raw = bytearray((seq / "dynamic/raw-revolutions" / f"{name}.laz").read_bytes())
    for at, value in edits.items():
        raw[at : at + len(value)] = value
    path = tmp_path / "edited.laz"
    path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize(
    ("edits", "field", "words"),
    [
        # the legacy point count alone set to 10: 10 of 129,715 points came back, no word
        ({107: struct.pack("<I", 10)}, "header point count", "points-by-return counts total"),
        # count and the first return's count both 10: the bounds show the rest is missing
        (
            {107: struct.pack("<I", 10), 111: struct.pack("<I", 10)},
            "header point count",
            "short of the header's bounds",
        ),
        # both claiming 10**8 points (2.8 GB allocated before the decoder failed)
        (
            {107: struct.pack("<I", 10**8), 111: struct.pack("<I", 10**8)},
            "header point count",
            "cannot come from a file of",
        ),
        ({131: struct.pack("<d", 0.0)}, "header x scale", "must be finite and > 0"),  # x all 0
        ({163: struct.pack("<d", float("nan"))}, "header y offset", "must be finite"),
    ],
)
def test_a_header_that_cannot_describe_its_points_is_refused(
    shared_data: Path, tmp_path: Path, edits: dict[int, bytes], field: str, words: str
) -> None:
    path = _edited_laz(shared_data, tmp_path, edits)
    with pytest.raises(DataError) as err:
        read_aimotive_laz(path)
    assert err.value.path == str(path) and err.value.field == field
    assert words in str(err.value)


def test_a_laspy_written_file_with_return_number_0_points_reads(tmp_path: Path) -> None:
    # points of return number 0 fall in no by-return bin: the total is below the count
    import laspy

    header = laspy.LasHeader(version="1.2", point_format=1)
    header.scales = np.array([0.001, 0.001, 0.001])
    las = laspy.LasData(header)
    xyz = np.random.default_rng(0).uniform(-50, 50, (1000, 3))
    las.x, las.y, las.z = xyz.T
    las.gps_time = np.arange(1000) * 1000.0
    returns = np.ones(1000, np.uint8)
    returns[:10] = 0
    las.return_number = returns
    las.write(tmp_path / "m.laz")
    cloud = read_aimotive_laz(tmp_path / "m.laz")
    assert len(cloud) == 1000
