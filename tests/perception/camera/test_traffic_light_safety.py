"""The lamp classifier's safety rules, on hand-built crops: a colour counts only at its own
lamp's place, a green beside red or yellow is unknown, and a housing with a lamp's worth of
bright pixels it cannot name is unknown, never "off" (go)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.config.strict import ConfigValueError
from drivestack.perception.camera.traffic_light_state import LightRoi, classify_crop
from tests.perception.camera.test_traffic_light_state import CONFIG, LIT, _light_image

# lamps 10 px, centres at rows 16.5, 29.5, 42.5 of a 60 x 40 crop (housing rows 10..49)
LAMP_ROWS = (17.0, 30.0, 43.0)
ROI = LightRoi((0, 0, 40, 60), (14.0, 10.0, 26.0, 50.0), LAMP_ROWS)


def _crop(lit: tuple[str, ...]) -> np.ndarray:
    return _light_image(lit)[0]


def test_the_shipped_config_turns_the_safety_rules_on():
    assert CONFIG.lamp_band_ratio > 0 and CONFIG.green_veto_fraction > 0
    assert CONFIG.contrast_ratio > 1 and CONFIG.min_exposure_value > 0


def test_each_state_reads_with_the_lamp_places_known():
    for lit, state in [(("red",), "red"), (("green",), "green"), ((), "off")]:
        assert classify_crop(_crop(lit), ROI, CONFIG).state == state
    assert classify_crop(_crop(("red", "yellow")), ROI, CONFIG).state == "red_yellow"


def test_a_green_with_some_red_beside_it_is_unknown_not_green():
    crop = _crop(("green",))
    # need = 0.2 x lamp area (11.4 px)^2 = 26 px; 16 red px at the red lamp: over half of it
    crop[14:18, 17:21] = LIT["red"]
    assert classify_crop(crop, ROI, CONFIG).state == "unknown"
    no_veto = dataclasses.replace(CONFIG, green_veto_fraction=0.0)
    assert classify_crop(crop, ROI, no_veto).state == "green"
    # a few stray red pixels (under the veto) leave the green
    crop = _crop(("green",))
    crop[14:16, 17:19] = LIT["red"]
    assert classify_crop(crop, ROI, CONFIG).state == "green"


def test_stray_colour_pixels_away_from_their_lamp_do_not_count():
    crop = _crop(("red",))
    for v, u in [(3, 3), (55, 38), (45, 1)]:  # sky noise, green-hued
        crop[v, u] = LIT["green"]
    crop[40:43, 16:19] = LIT["red"]  # 9 red px at the green lamp: glare, under a lamp's worth
    reading = classify_crop(crop, ROI, CONFIG)
    assert reading.state == "red" and reading.lit_px["green"] == 0


def test_a_lamp_of_a_colour_out_of_its_place_is_ambiguous():
    crop = _crop(())
    crop[38:48, 15:25] = LIT["red"]  # red at the green lamp's place
    assert classify_crop(crop, ROI, CONFIG).state == "unknown"
    no_bands = dataclasses.replace(CONFIG, lamp_band_ratio=0.0)
    assert classify_crop(crop, ROI, no_bands).state == "red"


def test_a_lit_lamp_of_no_lamp_colour_is_unknown_not_off():
    crop = _crop(())
    crop[38:48, 15:25] = (200, 40, 255)  # bright, saturated, violet: no lamp colour
    assert classify_crop(crop, ROI, CONFIG).state == "unknown"
    crop = _crop(())
    crop[40, 20] = (200, 40, 255)  # one such pixel: the housing is still dark and off
    assert classify_crop(crop, ROI, CONFIG).state == "off"


def test_a_clipped_white_lamp_core_is_unknown_not_off():
    crop = _crop(())
    crop[12:22, 15:25] = (255, 255, 252)  # a lamp saturated white, no colour left
    assert classify_crop(crop, ROI, CONFIG).state == "unknown"


def test_a_saturated_cyan_green_core_reads_green():
    crop = _crop(())
    crop[38:48, 15:25] = (60, 255, 255)  # a green lamp clipped in G and B (night): hue 180
    assert classify_crop(crop, ROI, CONFIG).state == "green"


def test_subsampling_moves_the_lamp_rows():
    roi = LightRoi((10, 20, 50, 80), (24.0, 30.0, 36.0, 70.0), (37.0, 50.0, 63.0))
    assert roi.subsampled(2).lamp_v_px == (8.5, 15.0, 21.5)
    assert LightRoi((0, 0, 4, 4), (0.0, 0.0, 4.0, 4.0)).subsampled(2).lamp_v_px is None


def _exposed(img: np.ndarray, gain: float) -> np.ndarray:
    """``img`` taken with ``gain`` x the exposure (linear radiance, gamma 2.2, no noise)."""
    linear = (img.astype(np.float64) / 255.0) ** 2.2 * gain
    return np.round(255.0 * np.clip(linear, 0.0, 1.0) ** (1 / 2.2)).astype(np.uint8)


def test_an_under_exposed_lit_lamp_reads_its_colour_not_off():
    # gain 0.2: the red lamp's value (255 -> 255 x 0.2^(1/2.2) = 122, 0.48) is under min_value
    # 0.6; the housing (25 -> 12) is dark: the absolute rule alone would read "off" (go)
    for lit, state in [(("red",), "red"), (("yellow",), "yellow"), (("green",), "green")]:
        crop = _exposed(_crop(lit), 0.2)
        assert classify_crop(crop, ROI, dataclasses.replace(CONFIG, contrast_ratio=0.0)).state == (
            "off"
        )
        assert classify_crop(crop, ROI, CONFIG).state == state
    assert classify_crop(_exposed(_crop(("red", "yellow")), 0.2), ROI, CONFIG).state == "red_yellow"


def test_a_black_or_grossly_under_exposed_frame_is_unknown_never_off():
    assert classify_crop(np.zeros((60, 40, 3), np.uint8), ROI, CONFIG).state == "unknown"
    for lit in [(), ("red",), ("yellow",)]:
        # gain 0.002: the sky's value 0.06 < min_exposure_value 0.3, the lamp's 0.06 < 0.1
        assert classify_crop(_exposed(_crop(lit), 0.002), ROI, CONFIG).state == "unknown"
    # the sky well exposed (gain 0.2: value 0.43 >= 0.3) and the housing dark: off
    assert classify_crop(_exposed(_crop(()), 0.2), ROI, CONFIG).state == "off"


def test_a_dim_lamp_colour_no_brighter_than_the_unlit_lamps_is_unknown_not_off():
    crop = _crop(())
    crop[12:22, 15:25] = (45, 8, 6)  # a faint red glow at the red lamp, as dark as unlit grey
    assert classify_crop(crop, ROI, CONFIG).state == "unknown"


def test_a_dim_green_beside_a_dim_red_is_unknown():
    crop = _crop(("green",))
    crop[14:18, 17:21] = LIT["red"]
    assert classify_crop(_exposed(crop, 0.2), ROI, CONFIG).state == "unknown"


def test_the_contrast_ratio_is_off_or_over_one():
    for bad in (0.5, 1.0, -1.0):
        with pytest.raises(ConfigValueError, match="contrast_ratio"):
            dataclasses.replace(CONFIG, contrast_ratio=bad)
