"""KITTI text readers take numbers as C's strtod / strtol (and the devkits) spell them:
Python-only spellings such as ``1_0`` (float("1_0") == 10.0) or full-width digits are refused
naming the file, the line and the field, through the one token rule of ``_points``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from drivestack.core.errors import DataError
from drivestack.core.numbers import parse_float, parse_int
from drivestack.ingest.kitti_calib import read_kitti_calib
from drivestack.ingest.kitti_object import read_kitti_label
from drivestack.ingest.kitti_odometry import read_camera_poses, read_times_ns
from drivestack.ingest.kitti_tracking import (
    read_ab3dmot_detections,
    read_ego_poses,
    read_seqmap,
    read_tracking_labels,
)
from tests.ingest.test_kitti_tracking import CALIB_OBJECT_STYLE

CAR = "Car 0.10 1 0.50 500 150 600 250 2.0 1.8 4.0 1.0 2.0 10.0 0.0"
POSE = "1 0 0 0 0 1 0 0 0 0 1 10.0"
DET = "0,2,500,150,600,250,0.9,2.0,1.8,4.0,1.0,2.0,10.0,0.0,0.5"

#: reader, file text with the token ``{t}`` in one number, (record, field) of the error.
CASES: dict[str, tuple[Callable[[Path], Any], str, tuple[str, str]]] = {
    "label_2": (read_kitti_label, CAR + "\n" + CAR.replace("10.0", "{t}"), ("line 2", "z")),
    "label_02": (read_tracking_labels, "0 1 " + CAR.replace("10.0", "{t}"), ("line 1", "z")),
    "ab3dmot": (read_ab3dmot_detections, DET.replace("10.0", "{t}"), ("line 1", "z")),
    "calib": (
        read_kitti_calib,
        CALIB_OBJECT_STYLE.replace("P2: 7.215377e+02 0 ", "P2: 7.215377e+02 {t} "),
        ("line 3", "P2"),
    ),
    "poses": (read_camera_poses, POSE + "\n" + POSE.replace("10.0", "{t}"), ("line 2", "pose")),
    "times": (read_times_ns, "0.0\n{t}\n", ("line 2", "time_s")),
    "ego_poses": (read_ego_poses, POSE.replace("10.0", "{t}"), ("line 1", "pose[2,3]")),
    "seqmap": (read_seqmap, "0000 empty 0000 000154\n0001 empty 0 {t}\n", ("line 2", "end_frame")),
}


@pytest.mark.parametrize("token", ["1_0", "\uff11\uff10", "\u0661\u0660"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_python_only_number_spellings_are_refused(name: str, token: str, tmp_path: Path) -> None:
    reader, text, (record, field) = CASES[name]
    path = tmp_path / "file.txt"
    path.write_text(text.format(t=token), encoding="utf-8")
    with pytest.raises(DataError) as err:
        reader(path)
    assert (err.value.path, err.value.record, err.value.field) == (str(path), record, field)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_files_with_c_spelled_numbers_read(name: str, tmp_path: Path) -> None:
    reader, text, _ = CASES[name]
    path = tmp_path / "file.txt"
    path.write_text(text.format(t="10"), encoding="utf-8")
    reader(path)


@pytest.mark.parametrize(
    ("token", "value"),
    [("10", 10.0), ("-.5", -0.5), ("5.", 5.0), ("+1e-3", 1e-3), ("2.5E+2", 250.0), ("-0", 0.0)],
)
def test_parse_float_takes_c_spellings(token: str, value: float) -> None:
    assert parse_float(token) == value


def test_parse_float_takes_nan_and_infinities_in_any_case() -> None:
    assert parse_float("-INF") == float("-inf") and parse_float("Infinity") == float("inf")
    assert parse_float("nan") != parse_float("NaN")  # both NaN


@pytest.mark.parametrize(
    "token", ["1_0", "1_000.5", " 1", "1 ", "\uff11", "\u0663", "0x10", "", "1e", "e5", "in", "."]
)
def test_parse_float_refuses_what_strtod_would_not_take_whole(token: str) -> None:
    with pytest.raises(ValueError, match="could not convert"):
        parse_float(token)


def test_parse_int_takes_ascii_digits_only() -> None:
    assert [parse_int(t) for t in ("7", "-3", "+12", "0154")] == [7, -3, 12, 154]
    for token in ("1_0", " 1", "\u0663", "1.0", "", "+"):
        with pytest.raises(ValueError, match="invalid literal"):
            parse_int(token)
