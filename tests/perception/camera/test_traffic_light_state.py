"""Traffic-light state from a camera image: map-prior ROIs and the HSV lamp classifier, on
hand-built images and projections."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.core.errors import ConfigError
from drivestack.core.transforms import SE3
from drivestack.perception.camera.traffic_light_state import (
    DEFAULT_CONFIG_PATH,
    LightRoi,
    TrafficLightConfig,
    TrafficLightPrior,
    classify_crop,
    classify_light,
    light_roi,
    load_traffic_light_config,
    project_points,
    rgb_to_hsv,
)
from drivestack.structures.camera import CameraCalibration, CameraImage

SKY = (135, 180, 230)
HOUSING = (25, 25, 25)
UNLIT = (40, 40, 40)
LIT = {"red": (255, 35, 25), "yellow": (255, 200, 0), "green": (30, 230, 110)}
CONFIG = load_traffic_light_config(DEFAULT_CONFIG_PATH)


def _calibration(w: int = 200, h: int = 120, f: float = 300.0) -> CameraCalibration:
    k = np.array([[f, 0.0, w / 2], [0.0, f, h / 2], [0.0, 0.0, 1.0]])
    rot = np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    ego_from_camera = SE3(rot.T, np.array([0.0, 0.0, 1.5]))
    return CameraCalibration("t", k, w, h, ego_from_camera.inverse(), "camera_t")


def _light_image(lit: tuple[str, ...], occluded: bool = False) -> tuple[np.ndarray, LightRoi]:
    """A 60 x 40 crop: sky, a housing (rows 10..49, cols 14..25) with three 10 px lamps."""
    img = np.zeros((60, 40, 3), np.uint8)
    img[:] = SKY
    img[10:50, 14:26] = HOUSING
    for slot, colour in enumerate(("red", "yellow", "green")):
        top = 12 + 13 * slot
        img[top : top + 10, 15:25] = LIT[colour] if colour in lit else UNLIT
    if occluded:
        img[5:60, 5:35] = (40, 90, 200)  # a blue car in front
    roi = LightRoi((100, 200, 140, 260), (114.0, 210.0, 126.0, 250.0))
    return img, roi


@pytest.mark.parametrize(
    ("lit", "state"),
    [
        (("red",), "red"),
        (("yellow",), "yellow"),
        (("green",), "green"),
        (("red", "yellow"), "red_yellow"),
        ((), "off"),
    ],
)
def test_each_state_is_read_from_its_lamps(lit, state):
    crop, roi = _light_image(lit)
    reading = classify_crop(crop, roi, CONFIG)
    assert reading.state == state
    if state != "off":
        assert reading.confidence > 0.5
        for colour in lit:
            assert reading.lit_px[colour] == 100


def test_a_light_behind_a_car_is_unknown():
    crop, roi = _light_image(("red",), occluded=True)
    assert classify_crop(crop, roi, CONFIG).state == "unknown"


def test_mixed_colours_are_ambiguous():
    crop, roi = _light_image(("red", "green"))
    assert classify_crop(crop, roi, CONFIG).state == "unknown"
    # yellow above red is no red-yellow head
    crop, roi = _light_image(("red", "yellow"))
    crop = crop[::-1].copy()
    assert classify_crop(crop, roi, CONFIG).state == "unknown"


def test_too_few_lit_pixels_are_not_a_lamp():
    crop, roi = _light_image(())
    crop[20, 20] = LIT["red"]  # one pixel: under min_lit_px and the lamp's area share
    assert classify_crop(crop, roi, CONFIG).state == "off"


def test_classify_light_reads_the_roi_of_a_whole_image():
    crop, roi = _light_image(("green",))
    cal = _calibration(300, 300)
    image = np.zeros((300, 300, 3), np.uint8)
    image[:] = SKY
    image[200:260, 100:140] = crop
    assert classify_light(CameraImage(image, cal, 0), roi, CONFIG).state == "green"


def test_rgb_to_hsv_hand_computed():
    hue, sat, val = rgb_to_hsv(np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]]))
    np.testing.assert_allclose(hue, [0.0, 120.0, 240.0, 60.0])
    np.testing.assert_allclose(sat, 1.0)
    np.testing.assert_allclose(val, 1.0)
    hue, sat, val = rgb_to_hsv(np.array([[51, 51, 51], [0, 0, 0]]))
    np.testing.assert_allclose(hue, 0.0)
    np.testing.assert_allclose(sat, 0.0)
    np.testing.assert_allclose(val, [0.2, 0.0])


EGO = SE3.from_xyz_yaw([0.0, 0.0, 0.0], 0.0)


def test_roi_of_a_light_ahead_holds_its_projected_housing_with_a_margin():
    cal = _calibration()
    prior = TrafficLightPrior("L", (30.0, 0.0, 1.5), np.pi)
    roi = light_roi(prior, cal, EGO, CONFIG)
    assert roi is not None
    # housing 1.05 m tall: 300 * 1.05 / (30 - 0.15) .. / (30 + 0.15) px; centre at the
    # principal point
    assert roi.housing_height_px == pytest.approx(300 * 1.05 / 29.85, rel=1e-6)
    assert (roi.housing_px[1] + roi.housing_px[3]) / 2 == pytest.approx(60.0)
    margin = 0.5 * roi.housing_height_px
    assert roi.roi_px[1] == int(np.floor(roi.housing_px[1] - margin))
    assert roi.roi_px[3] == int(np.ceil(roi.housing_px[3] + margin))


def test_no_roi_behind_the_camera_off_the_image_or_too_small():
    cal = _calibration()
    assert light_roi(TrafficLightPrior("L", (-20.0, 0.0, 5.0), 0.0), cal, EGO, CONFIG) is None
    assert light_roi(TrafficLightPrior("L", (10.0, 40.0, 5.0), np.pi), cal, EGO, CONFIG) is None
    # half in the image: its housing spans v = 60 - 300 * (z - 1.5 +- 0.525) / 9.85 .. px
    assert light_roi(TrafficLightPrior("L", (10.0, 0, 3.5), np.pi), cal, EGO, CONFIG) is None
    assert light_roi(TrafficLightPrior("L", (10.0, 0, 2.5), np.pi), cal, EGO, CONFIG) is not None
    # 300 * 1.05 / d < 8 px from d = 39.4 m on
    assert light_roi(TrafficLightPrior("L", (38.0, 0, 1.5), np.pi), cal, EGO, CONFIG) is not None
    assert light_roi(TrafficLightPrior("L", (41.0, 0, 1.5), np.pi), cal, EGO, CONFIG) is None


@settings(max_examples=40, deadline=None)
@given(
    x=st.floats(5.0, 35.0),
    y=st.floats(-3.0, 3.0),
    z=st.floats(0.5, 3.0),
    yaw=st.floats(-np.pi, np.pi),
    ego_yaw=st.floats(-0.05, 0.05),
)
def test_the_roi_holds_every_lamp_centre_that_projects_into_the_image(x, y, z, yaw, ego_yaw):
    cal = _calibration()
    ego = SE3.from_xyz_yaw([0.0, 0.0, 0.0], ego_yaw)
    prior = TrafficLightPrior("L", (x, y, z), yaw)
    roi = light_roi(prior, cal, ego, CONFIG)
    uv, depth = project_points(prior.lamp_centres_m(), cal, ego)
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < 200) & (uv[:, 1] >= 0) & (uv[:, 1] < 120)
    if roi is None:
        return
    u0, v0, u1, v1 = roi.roi_px
    assert 0 <= u0 < u1 <= 200 and 0 <= v0 < v1 <= 120
    for (u, v), ok in zip(uv, inside & (depth > 0), strict=True):
        if ok:
            assert u0 <= u <= u1 and v0 <= v <= v1


def test_config_errors_name_the_file_and_key(tmp_path):
    path = tmp_path / "lights.yaml"
    path.write_text("min_value: 1.5\n")
    with pytest.raises(ConfigError, match="min_value") as err:
        load_traffic_light_config(path)
    assert "lights.yaml" in str(err.value)
    path.write_text("red_hue: [0, 10]\n")
    with pytest.raises(ConfigError, match="red_hue"):
        load_traffic_light_config(path)
    with pytest.raises(ValueError, match="green_hue_deg"):
        TrafficLightConfig(green_hue_deg=(90.0, 400.0))
