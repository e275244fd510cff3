"""Files that are not UTF-8 text get an error naming the file (or are passed over where the
reader only looks around), never a bare ``UnicodeDecodeError``."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from drivestack.core.errors import DataError
from drivestack.perception.camera.training import _split_ids
from drivestack.replay.stack_fit import _stack_made_for

NOT_UTF8 = b"\xff\xfe{}\n"


def test_an_image_set_list_not_utf8_is_a_data_error_naming_it(tmp_path: Path) -> None:
    """``ImageSets/<split>.txt`` that is not UTF-8: DataError naming the file and the byte."""
    root = tmp_path / "training"
    (tmp_path / "ImageSets").mkdir()
    listing = tmp_path / "ImageSets" / "train.txt"
    listing.write_bytes(b"000000\n\xff01\n")
    with pytest.raises(DataError, match=r"not UTF-8 text \(invalid start byte at byte 7\)") as info:
        _split_ids(root, "train", root / "image_2", root / "label_2")
    assert info.value.path == str(listing)


def test_a_stack_yaml_not_utf8_beside_the_replayed_one_is_passed_over(tmp_path: Path) -> None:
    """Looking for a stack made for a dataset skips a neighbouring YAML that is not UTF-8 (as
    one that is not a stack) and still finds the one that is."""
    (tmp_path / "a_broken.yaml").write_bytes(NOT_UTF8)
    (tmp_path / "b_kitti.yaml").write_text("perception: lidar_kitti.yaml\n")
    (tmp_path / "lidar_kitti.yaml").write_text("datasets: [kitti]\n")
    stack = cast(Any, SimpleNamespace(config={"stack": str(tmp_path / "b_kitti.yaml")}))
    assert _stack_made_for("kitti", stack) == str(tmp_path / "b_kitti.yaml")
    assert _stack_made_for("nuscenes", stack) is None
