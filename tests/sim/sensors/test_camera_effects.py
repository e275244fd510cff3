"""The light camera's degradation model: noise statistics as designed, blur keeps the total
radiance, seeded draws, the default config leaves the pixels alone, night keeps lamps bright,
and the presets load strictly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.sensors.camera_effects import (
    IDEAL,
    LIMITS,
    PRESETS,
    CameraEffectsConfig,
    apply_camera_effects,
    blur_radiance,
    effects_rng,
    load_camera_effects,
    sensor_response,
)


def _flat(value: int, shape: tuple[int, int] = (40, 30)) -> np.ndarray:
    return np.full((*shape, 3), value, np.uint8)


def test_poisson_gaussian_noise_has_the_designed_mean_and_variance():
    # I = g (Poisson(q L) + N(0, r^2)) / q: mean g L, variance g^2 (L / q + r^2 / q^2)
    cfg = CameraEffectsConfig(
        enabled=True, exposure_gain=2.0, electrons_per_unit=1000.0, read_noise_e=3.0
    )
    radiance = np.full(200_000, 0.2)
    out = sensor_response(radiance, cfg, np.random.default_rng(1))
    mean, var = 2.0 * 0.2, 4.0 * (0.2 / 1000.0 + 9.0 / 1e6)
    assert out.mean() == pytest.approx(mean, rel=2e-3)
    assert out.var() == pytest.approx(var, rel=3e-2)
    # shot noise grows with the signal: four times the radiance, about four times the variance
    bright = sensor_response(np.full(200_000, 0.1), cfg, np.random.default_rng(2))
    dark = sensor_response(np.full(200_000, 0.025), cfg, np.random.default_rng(3))
    ratio = (bright.var() - 4 * 9e-6) / (dark.var() - 4 * 9e-6)
    assert ratio == pytest.approx(4.0, rel=0.1)


def test_without_noise_the_sensor_is_gain_and_saturation():
    cfg = CameraEffectsConfig(enabled=True, exposure_gain=4.0)
    out = sensor_response(np.array([0.0, 0.1, 0.25, 0.3, 7.0]), cfg, np.random.default_rng(0))
    np.testing.assert_allclose(out, [0.0, 0.4, 1.0, 1.0, 1.0])


def test_a_flat_image_through_gain_and_ambient_hand_computed():
    # 128 -> linear (128/255)^2.2; x ambient 0.5 x gain 2 = the same linear; encoded back: 128
    cfg = CameraEffectsConfig(enabled=True, ambient_scale=0.5, exposure_gain=2.0)
    out = apply_camera_effects(_flat(128), np.zeros((40, 30), bool), cfg, effects_rng(0, 0, "L"))
    assert np.all(out == 128)
    cfg = CameraEffectsConfig(enabled=True, ambient_scale=0.25)
    out = apply_camera_effects(_flat(200), np.zeros((40, 30), bool), cfg, effects_rng(0, 0, "L"))
    expected = round(255 * (0.25 * (200 / 255) ** 2.2) ** (1 / 2.2))
    assert np.all(out == expected)


@pytest.mark.parametrize("stride", [1, 3])
def test_blur_and_motion_keep_the_total_radiance(stride):
    img = np.zeros((81, 91, 3))
    img[40, 45] = (5.0, 2.0, 1.0)
    img[30:33, 50:52, 1] = 0.7
    cfg = CameraEffectsConfig(
        enabled=True, blur_sigma_px=3.0, glare_fraction=0.1, glare_sigma_px=9.0
    )
    out = blur_radiance(img, cfg, stride, motion_px=(12.0, -6.0))
    np.testing.assert_allclose(out.sum(axis=(0, 1)), img.sum(axis=(0, 1)), rtol=1e-9)
    assert out[40, 45, 0] < 0.5 * img[40, 45, 0]  # spread out
    # spread by sigma / stride: the same blur as sigma 3 / stride at stride 1
    plain = CameraEffectsConfig(enabled=True, blur_sigma_px=3.0)
    scaled = CameraEffectsConfig(enabled=True, blur_sigma_px=3.0 / stride)
    np.testing.assert_allclose(blur_radiance(img, plain, stride), blur_radiance(img, scaled))


def test_motion_blur_streaks_along_the_motion():
    img = np.zeros((41, 41, 3))
    img[20, 20] = 1.0
    out = blur_radiance(img, CameraEffectsConfig(enabled=True), 1, motion_px=(8.0, 0.0))
    rows, cols = np.nonzero(out[:, :, 0] > 1e-9)
    assert set(rows) == {20}  # along u only
    assert cols.min() == 16 and cols.max() == 24  # +-4 px about the frame's time


def test_the_same_seed_gives_the_same_pixels_and_another_does_not():
    night = load_camera_effects("night")
    rgb, lamp = _flat(90), np.zeros((40, 30), bool)
    lamp[10:14, 10:14] = True
    a = apply_camera_effects(rgb, lamp, night, effects_rng(7, 123, "L1"), stride=2)
    b = apply_camera_effects(rgb, lamp, night, effects_rng(7, 123, "L1"), stride=2)
    np.testing.assert_array_equal(a, b)
    for other in (effects_rng(8, 123, "L1"), effects_rng(7, 124, "L1"), effects_rng(7, 123, "L2")):
        assert np.any(apply_camera_effects(rgb, lamp, night, other, stride=2) != a)


def test_the_default_config_leaves_the_rendering_bit_identical():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (33, 17, 3), dtype=np.uint8)
    lamp = rng.random((33, 17)) < 0.1
    assert load_camera_effects("ideal") == IDEAL == CameraEffectsConfig()
    out = apply_camera_effects(rgb, lamp, IDEAL, effects_rng(0, 0, "L"))
    assert out is rgb


def test_night_keeps_the_lamps_bright_and_the_scene_dark():
    night = load_camera_effects("night")
    rgb = _flat(150, (60, 60))
    rgb[25:35, 25:35] = (255, 35, 25)  # a red lamp
    lamp = np.zeros((60, 60), bool)
    lamp[25:35, 25:35] = True
    out = apply_camera_effects(rgb, lamp, night, effects_rng(0, 0, "L")).astype(int)
    assert out[30, 30, 0] == 255  # saturated
    assert out[:10, :10].mean() < 0.6 * 150  # the surroundings dark
    # bloom: the red spreads beyond the lamp's edge
    assert out[30, 37, 0] > out[:10, :10, 0].mean() + 40


def test_every_preset_loads_and_bad_values_name_the_key(tmp_path):
    for name in PRESETS:
        assert isinstance(load_camera_effects(name), CameraEffectsConfig)
    bad = tmp_path / "bad.yaml"
    bad.write_text("enabled: true\nblur_sigma_px: -1.0\n")
    with pytest.raises(ConfigError, match="blur_sigma_px") as err:
        load_camera_effects(bad)
    assert "bad.yaml" in str(err.value)
    bad.write_text("enabled: true\nblur_px: 1.0\n")
    with pytest.raises(ConfigError, match="blur_px"):
        load_camera_effects(bad)


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        apply_camera_effects(
            np.zeros((4, 4, 3)), np.zeros((4, 4), bool), IDEAL, effects_rng(0, 0, "")
        )
    with pytest.raises(ValueError, match="emissive"):
        apply_camera_effects(_flat(1), np.zeros((4, 4), bool), IDEAL, effects_rng(0, 0, ""))
    with pytest.raises(ValueError, match="stride"):
        apply_camera_effects(
            _flat(1), np.zeros((40, 30), bool), IDEAL, effects_rng(0, 0, ""), stride=0
        )


def test_a_file_is_enabled_unless_it_says_not(tmp_path):
    own = tmp_path / "own.yaml"
    own.write_text("exposure_gain: 0.5\n")
    assert load_camera_effects(own) == CameraEffectsConfig(enabled=True, exposure_gain=0.5)
    own.write_text("enabled: false\nexposure_gain: 0.5\n")
    assert not load_camera_effects(own).enabled
    own.write_text("{}\n")
    assert load_camera_effects(own) == dataclasses.replace(IDEAL, enabled=True)
    assert not load_camera_effects("ideal").enabled
    own.write_text("# nothing\n")
    with pytest.raises(ConfigError, match="empty config"):
        load_camera_effects(own)


@pytest.mark.parametrize("key", sorted(LIMITS))
def test_every_parameter_has_an_upper_bound_naming_file_and_key(tmp_path, key):
    bad = tmp_path / "big.yaml"
    bad.write_text(f"{key}: {LIMITS[key] * 1.01}\n")
    with pytest.raises(ConfigError, match=key) as err:
        load_camera_effects(bad)
    assert "big.yaml" in str(err.value)
    bad.write_text(f"{key}: {LIMITS[key]}\n")  # the bound itself is allowed
    assert getattr(load_camera_effects(bad), key) == LIMITS[key]


def test_the_widest_blur_and_a_long_streak_stay_within_the_window():
    # the largest sigma and glare on a 21 x 17 window, a streak 100x the window: the kernels
    # and the streak's samples are capped to the window, the total radiance kept
    img = np.zeros((21, 17, 3))
    img[10, 8] = (3.0, 1.0, 0.5)
    cfg = CameraEffectsConfig(
        enabled=True,
        blur_sigma_px=LIMITS["blur_sigma_px"],
        glare_fraction=0.5,
        glare_sigma_px=LIMITS["glare_sigma_px"],
    )
    out = blur_radiance(img, cfg, 1, motion_px=(2000.0, 1500.0))
    np.testing.assert_allclose(out.sum(axis=(0, 1)), img.sum(axis=(0, 1)), rtol=1e-9)
    # spread nearly evenly over the window (a mirrored window under a kernel wider than it)
    assert out[:, :, 0].max() < 3.0 * out[:, :, 0].mean()
