from __future__ import annotations

from pathlib import Path

import pytest

from tests.perception.camera.synthetic_kitti import write_synthetic_kitti


@pytest.fixture(scope="module")
def synthetic_kitti(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-frame KITTI-layout dataset (160x96 px) of rendered Car and Pedestrian boxes."""
    return write_synthetic_kitti(tmp_path_factory.mktemp("synthetic_kitti"))
