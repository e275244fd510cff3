"""Traffic lights in the sensor scene: lamps lit by the state at render time, window renders
equal to the full image's pixels, and the LiDAR's sweeps do not see the lights."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.camera.traffic_light_state import TrafficLightPrior, project_points
from drivestack.sim.sensors import CameraModel, SensorScene
from drivestack.sim.sensors.scene import LAMP_RGB, LIGHT_HOUSING_CENTRE_Z_M, Material

EGO = SE3.from_xyz_yaw([0.0, 0.0, 0.0], 0.0)
# a light 20 m ahead, 1 m left, facing back at the camera
PRIOR = TrafficLightPrior("L", (20.0, 1.0, LIGHT_HOUSING_CENTRE_Z_M), np.pi)


@pytest.fixture(scope="module")
def scene() -> SensorScene:
    return SensorScene(light_priors=[PRIOR])


@pytest.fixture(scope="module")
def camera() -> CameraModel:
    return CameraModel.looking_forward("t", 160, 160, 300.0, (0.0, 0.0, 1.5))


def _lamp_pixels(camera: CameraModel) -> list[tuple[int, int]]:
    """(row, col) of the three lamp centres (red, yellow, green) in the image."""
    uv, z = project_points(PRIOR.lamp_centres_m(), camera.calibration, EGO)
    assert np.all(z > 0)
    return [(int(v), int(u)) for u, v in uv]


def test_a_red_light_lights_its_top_lamp_red_and_leaves_the_others_dark(scene, camera):
    rgb = np.asarray(camera.render(scene, EGO, 0, light_states={"L": "red"}).rgb.pixels)
    red, yellow, green = (rgb[p].astype(int) for p in _lamp_pixels(camera))
    assert tuple(red) == LAMP_RGB[0]
    assert yellow.max() < 60 and green.max() < 60


def test_each_state_lights_its_lamps(scene, camera):
    lit = {"green": (2,), "yellow": (1,), "red_yellow": (0, 1), "off": (), "unknown": ()}
    pixels = _lamp_pixels(camera)
    for state, slots in lit.items():
        rgb = np.asarray(camera.render(scene, EGO, 0, light_states={"L": state}).rgb.pixels)
        for slot, p in enumerate(pixels):
            if slot in slots:
                assert tuple(rgb[p]) == LAMP_RGB[slot], state
            else:
                assert rgb[p].max() < 60, (state, slot)


def test_a_state_switch_changes_only_lamp_pixels(scene, camera):
    red = camera.render(scene, EGO, 0, light_states={"L": "red"})
    green = camera.render(scene, EGO, 0, light_states={"L": "green"})
    changed = np.any(np.asarray(red.rgb.pixels) != np.asarray(green.rgb.pixels), axis=2)
    origins, dirs, _ = camera.pixel_rays(EGO)
    hits = scene.cast_lights(origins, dirs, camera.max_depth_m)
    lamp = (hits.slot >= 0).reshape(changed.shape)
    assert changed.sum() > 4
    assert not np.any(changed & ~lamp)
    np.testing.assert_array_equal(red.depth_m, green.depth_m)


def test_a_window_render_equals_the_same_pixels_of_the_full_render(scene, camera):
    full = camera.render(scene, EGO, 7, light_states={"L": "yellow"})
    window = (60, 10, 110, 95)
    part = camera.render(scene, EGO, 7, light_states={"L": "yellow"}, window=window)
    u0, v0, u1, v1 = window
    np.testing.assert_array_equal(part.rgb.pixels, np.asarray(full.rgb.pixels)[v0:v1, u0:u1])
    np.testing.assert_array_equal(part.depth_m, full.depth_m[v0:v1, u0:u1])
    np.testing.assert_array_equal(part.instance, full.instance[v0:v1, u0:u1])
    # the window's calibration: the principal point moved by the window's corner
    k = part.rgb.calibration.intrinsics
    assert (part.rgb.calibration.width_px, part.rgb.calibration.height_px) == (50, 85)
    assert k[0, 2] == pytest.approx(80.0 - u0) and k[1, 2] == pytest.approx(80.0 - v0)


def test_a_bad_window_or_state_is_refused(scene, camera):
    with pytest.raises(ValueError, match="window"):
        camera.render(scene, EGO, 0, window=(10, 10, 10, 20))
    with pytest.raises(ValueError, match="window"):
        camera.render(scene, EGO, 0, window=(0, 0, 161, 20))
    with pytest.raises(ValueError, match="light_states\\['L'\\]"):
        camera.render(scene, EGO, 0, light_states={"L": "blue"})


def test_the_lidar_scene_cast_does_not_see_the_lights(scene):
    # a ray from the camera's place straight at the housing's centre
    origin = np.array([[0.0, 0.0, 1.5]])
    target = np.array(PRIOR.centre_m)
    direction = (target - origin) / np.linalg.norm(target - origin)
    assert np.isinf(scene.cast(origin, direction, 200.0).range_m[0])  # no ground that way
    lights = scene.cast_lights(origin, direction, 200.0)
    assert lights.material[0] in (int(Material.LAMP), int(Material.LIGHT_HOUSING))
    assert lights.range_m[0] == pytest.approx(np.linalg.norm(target - origin) - 0.17, abs=0.02)


def test_a_strided_window_is_every_nth_pixel_and_its_calibration_projects_there(scene, camera):
    full = camera.render(scene, EGO, 0, light_states={"L": "green"})
    window, stride = (61, 9, 110, 96), 3
    part = camera.render(scene, EGO, 0, light_states={"L": "green"}, window=window, stride=stride)
    u0, v0, u1, v1 = window
    expected = np.asarray(full.rgb.pixels)[v0:v1:stride, u0:u1:stride]
    np.testing.assert_array_equal(part.rgb.pixels, expected)
    # a lamp centre projects through the window's calibration to (full - corner - 0.5) / 3 + 0.5
    full_uv, _ = project_points(PRIOR.lamp_centres_m(), camera.calibration, EGO)
    part_uv, _ = project_points(PRIOR.lamp_centres_m(), part.rgb.calibration, EGO)
    np.testing.assert_allclose(part_uv, (full_uv - [u0, v0] - 0.5) / stride + 0.5, atol=1e-9)
    with pytest.raises(ValueError, match="stride"):
        camera.render(scene, EGO, 0, stride=0)
