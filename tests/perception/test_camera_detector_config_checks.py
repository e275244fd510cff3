"""Camera detector config: post-processing values in range, classes unique, errors at the key
(the loader names the file and the key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.config.strict import ConfigValueError
from drivestack.core.errors import ConfigError
from drivestack.perception.camera.detector import CameraDetectorConfig, load_detector_config


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("nms_iou", 1.7),
        ("nms_iou", -1.0),
        ("nms_iou", 0.0),
        ("nms_iou", float("nan")),
        ("max_detections", -5),
        ("max_detections", 0),
        ("score_threshold", 1.5),
        ("score_threshold", float("nan")),
        ("head_convs", -1),
        ("fpn_channels", 48),
        ("min_size_px", 0),
        ("max_size_px", 100),
    ],
)
def test_out_of_range_values_at_the_key(key: str, value: float) -> None:
    with pytest.raises(ConfigValueError) as info:
        CameraDetectorConfig(**{key: value})
    assert info.value.key == key


def test_classes_unique_and_known() -> None:
    with pytest.raises(ConfigValueError, match=r"classes\[1\]: class 'Car' given twice"):
        CameraDetectorConfig(classes=("Car", "Car"))
    with pytest.raises(ConfigValueError, match=r"classes\[1\]: class 'car' given twice"):
        CameraDetectorConfig(classes=("Car", "car"))
    with pytest.raises(ConfigValueError, match=r"classes\[0\]: unknown object class"):
        CameraDetectorConfig(classes=("Spaceship",))
    with pytest.raises(ConfigValueError, match=r"^classes: classes must not be empty"):
        CameraDetectorConfig(classes=())


def test_loader_names_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "det.yaml"
    for text, key in [
        ("score_threshold: 1.5\n", "score_threshold"),
        ("nms_iou: 1.7\n", "nms_iou"),
        ("max_detections: -5\n", "max_detections"),
        ("classes: [Car, Car]\n", r"classes\[1\]"),
    ]:
        bad.write_text(text)
        with pytest.raises(ConfigError, match=rf"det\.yaml: field {key}:"):
            load_detector_config(bad)
