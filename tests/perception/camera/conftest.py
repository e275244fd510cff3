from __future__ import annotations

from pathlib import Path

import pytest

from tests.perception.camera.synthetic_kitti import write_synthetic_kitti


@pytest.fixture(scope="module")
def synthetic_kitti(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-frame KITTI-layout dataset (160x96 px) of rendered Car and Pedestrian boxes."""
    return write_synthetic_kitti(tmp_path_factory.mktemp("synthetic_kitti"))


@pytest.fixture(scope="module")
def weights(synthetic_kitti: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of :data:`SMALL` after 2 iterations (only its format matters here)."""
    from drivestack.perception.camera.training import TrainSettings, train_detector
    from tests.perception.camera.test_detector import SMALL

    out = tmp_path_factory.mktemp("weights")
    settings = TrainSettings(iterations=2, batch_size=2, checkpoint_every=0)
    train_detector(SMALL, synthetic_kitti, out, settings, fixed_batch=True, progress=False)
    return out / "model.pt"
