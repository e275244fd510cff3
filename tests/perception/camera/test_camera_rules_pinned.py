"""Pinned rules of the camera area (traffic-light ROI and lamp classifier, the hold, lights
inferred from others, replayed 2D boxes, KITTI calibration, the predict tool, blank images),
each on small hand-built inputs with hand-derived expected values (mutation review)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.perception.camera.replay import (
    DetectionRows,
    check_boxes_in_image,
    read_2d_detections,
)
from drivestack.perception.camera.traffic_light_inference import route_way_lanes, turn_deg
from drivestack.perception.camera.traffic_light_state import (
    LightRoi,
    TrafficLightConfig,
    TrafficLightPrior,
    classify_crop,
    light_roi,
)
from drivestack.structures.camera import CameraCalibration, CameraImage
from drivestack.structures.detections_2d import Detections2D
from drivestack.structures.road_map import Lane, RoadMap

RED = (255, 0, 0)  # hue 0, saturation 1, value 1
YELLOW = (255, 255, 0)  # hue 60
GREEN = (0, 255, 0)  # hue 120
#: the lamp classifier with every optional rule off (no lamp bands, no green veto, no
#: contrast reading): min_saturation 0.55, min_value 0.6, min_lit_px 2, min_lit_fraction 0.2,
#: max_dark_value 0.25, min_dark_fraction 0.5, min_confidence 0.3, min_clipped_value 1.0
PLAIN = TrafficLightConfig()


def _roi(width: int, height: int, housing_h: float) -> LightRoi:
    """A crop ``width x height`` px that is the whole ROI, the housing ``housing_h`` px tall
    from its top-left corner and as wide as the crop (lamp rows not known)."""
    return LightRoi((0, 0, width, height), (0.0, 0.0, float(width), housing_h))


def _black(width: int, height: int) -> np.ndarray:
    return np.zeros((height, width, 3), np.uint8)


# --- lamp classifier (classify_crop) -------------------------------------------------------


def test_confidence_is_the_lit_share_times_the_lamp_area_filled() -> None:
    """A 21 px housing has lamps 21 * 0.3 / 1.05 = 6 px square: area 36 px, a lit lamp needs
    max(2, 0.2 * 36) = 7.2 px. 18 red px alone: share 1, fill 18 / 36 -> confidence 0.5."""
    crop = _black(8, 21)
    crop[0:3, 0:6] = RED  # 18 px
    reading = classify_crop(crop, _roi(8, 21, 21.0), PLAIN)
    assert reading.state == "red"
    assert reading.confidence == pytest.approx(0.5, rel=1e-9)
    assert reading.lit_px == {"red": 18, "yellow": 0, "green": 0}


def test_a_confidence_equal_to_min_confidence_is_kept() -> None:
    """A 3.5 px housing has a 1 px lamp (area 1, need max(2, 0.2, 1) = 2 px): 3 red and 1
    yellow px read red (yellow under 2 px) with fill min(1, 3 / 1) = 1 and share 3 / 4:
    confidence exactly 0.75, which min_confidence 0.75 keeps (``<`` rejects, not ``<=``)."""
    crop = _black(4, 4)
    crop[0, 0:3] = RED
    crop[1, 0] = YELLOW
    config = dataclasses.replace(PLAIN, min_confidence=0.75)
    reading = classify_crop(crop, _roi(4, 4, 3.5), config)
    assert (reading.state, reading.confidence) == ("red", 0.75)


def test_red_yellow_fills_two_lamps() -> None:
    """A 10.5 px housing has 3 px lamps (area 9, need 2 px). 3 red px above 3 yellow px are
    red_yellow with fill 6 / (2 * 9) = 1/3 (two lamps lit) and share 1: confidence 1/3."""
    crop = _black(4, 11)
    crop[1, 0:3] = RED
    crop[5, 0:3] = YELLOW
    reading = classify_crop(crop, _roi(4, 11, 10.5), PLAIN)
    assert reading.state == "red_yellow"
    assert reading.confidence == pytest.approx(1.0 / 3.0, rel=1e-9)


def test_red_and_yellow_on_the_same_row_are_not_red_yellow() -> None:
    """Red must be the top lamp: red and yellow px with equal mean rows (both on row 5) are
    ambiguous, ``unknown`` (as red_yellow they would have confidence 6 / 18 = 1/3 >= 0.3)."""
    crop = _black(6, 11)
    crop[5, 0:3] = RED
    crop[5, 3:6] = YELLOW
    assert classify_crop(crop, _roi(6, 11, 10.5), PLAIN).state == "unknown"


def test_min_lit_px_is_a_floor_of_the_pixels_a_lamp_needs() -> None:
    """min_lit_px 5 over 0.2 * 9 = 1.8: 4 red px are no lit lamp (they would read red with
    confidence 4 / 9 = 0.44 were 1.8 px enough). The 4 x 11 housing box is then 40 of 44 px
    dark (0.91 >= 0.5): ``off``."""
    crop = _black(4, 11)
    crop[2, 0:4] = RED
    config = dataclasses.replace(PLAIN, min_lit_px=5)
    reading = classify_crop(crop, _roi(4, 11, 10.5), config)
    assert reading.state == "off"
    assert reading.confidence == pytest.approx(40 / 44)


def test_saturation_and_value_thresholds_are_inclusive() -> None:
    """A pure red pixel has saturation and value exactly 1: with both minimums 1.0 it is lit
    (``>=``), so 9 of them read red (fill 9 / 9, confidence 1)."""
    crop = _black(4, 11)
    crop[0:3, 0:3] = RED
    config = dataclasses.replace(PLAIN, min_saturation=1.0, min_value=1.0)
    assert classify_crop(crop, _roi(4, 11, 10.5), config).state == "red"


def test_a_hue_range_includes_its_upper_bound() -> None:
    """Pure green has hue exactly 120 degrees: in a green range [90, 120] (both ends in)."""
    crop = _black(4, 11)
    crop[8:11, 0:3] = GREEN
    config = dataclasses.replace(PLAIN, green_hue_deg=(90.0, 120.0))
    assert classify_crop(crop, _roi(4, 11, 10.5), config).state == "green"


def test_a_lamps_worth_of_clipped_white_is_unknown_not_off() -> None:
    """2 white px (saturation 0, value 1 >= min_clipped_value 1) glow: exactly the 2 px a lit
    lamp needs (``>=``), so the otherwise dark housing is ``unknown``, never ``off``."""
    crop = _black(4, 11)
    crop[1, 1:3] = (255, 255, 255)
    assert classify_crop(crop, _roi(4, 11, 10.5), PLAIN).state == "unknown"


def test_a_housing_exactly_min_dark_fraction_dark_is_off() -> None:
    """Housing box 2 x 11 = 22 px: 11 black, 11 mid grey (value 0.5: neither dark nor
    glowing) -> dark fraction 11 / 22 = 0.5 = min_dark_fraction: ``off``, confidence 0.5."""
    crop = _black(2, 11)
    crop[:, 1] = (128, 128, 128)
    reading = classify_crop(crop, _roi(2, 11, 10.5), PLAIN)
    assert (reading.state, reading.confidence) == ("off", 0.5)


def test_a_pixel_at_max_dark_value_is_not_dark() -> None:
    """Dark means value under max_dark_value (strictly): grey 51 has value 51 / 255 = 0.2,
    so with max_dark_value 0.2 a housing of it is not dark (``unknown``), of grey 50 it is."""
    config = dataclasses.replace(PLAIN, max_dark_value=0.2)
    crop = np.full((11, 4, 3), 51, np.uint8)
    assert classify_crop(crop, _roi(4, 11, 10.5), config).state == "unknown"
    crop = np.full((11, 4, 3), 50, np.uint8)
    assert classify_crop(crop, _roi(4, 11, 10.5), config).state == "off"


def test_the_green_veto_holds_at_exactly_its_fraction() -> None:
    """green_veto_fraction 0.5 of need 2 px = 1 px: 9 green px with 1 red px beside them is
    ``unknown`` (``>=``), not green."""
    crop = _black(4, 11)
    crop[8:11, 0:3] = GREEN
    crop[1, 1] = RED
    config = dataclasses.replace(PLAIN, green_veto_fraction=0.5)
    assert classify_crop(crop, _roi(4, 11, 10.5), config).state == "unknown"


# --- ROI (light_roi, LightRoi) -------------------------------------------------------------

#: camera x right, y down, z forward from ego x forward, y left, z up
_CAM_FROM_EGO = SE3(np.array([[0.0, -1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]]), np.zeros(3))


def _calibration(f: float, c: float, size: int, cv: float | None = None) -> CameraCalibration:
    """A ``size`` px square pinhole camera on the ego (focal length ``f``, principal point
    ``(c, cv)``, ``cv`` defaulting to ``c``) looking along the ego's x."""
    k = np.array([[f, 0.0, c], [0.0, f, c if cv is None else cv], [0.0, 0.0, 1.0]])
    return CameraCalibration("front", k, size, size, _CAM_FROM_EGO, "camera_front")


def test_the_roi_is_the_housing_box_widened_by_half_its_height() -> None:
    """A light 10 m ahead facing the ego: its near face at 9.85 m, 0.4 x 1.05 m. With
    f = 197 px (197 / 9.85 = 20 px/m) and principal point (50.25, 50.25) the housing spans
    u 50.25 -+ 4, v 50.25 -+ 10.5: (46.25, 39.75) .. (54.25, 60.75), 21 px tall; margin
    max(0.5 * 21, 3) = 10.5 -> u0 floor(35.75) = 35, v0 floor(29.25) = 29, u1 ceil(64.75)
    = 65, v1 ceil(71.25) = 72."""
    prior = TrafficLightPrior("L", (10.0, 0.0, 0.0), math.pi)
    roi = light_roi(prior, _calibration(197.0, 50.25, 100), SE3.identity(), PLAIN)
    assert roi is not None
    assert roi.roi_px == (35, 29, 65, 72)
    assert roi.housing_px == pytest.approx((46.25, 39.75, 54.25, 60.75))


def test_lamp_centres_are_on_the_front_face_red_on_top() -> None:
    """Facing +x from (0, 0, 5): the front face is 0.15 m (half the 0.3 m depth) ahead, lamps
    0.35 m apart: red (0.15, 0, 5.35), yellow (0.15, 0, 5), green (0.15, 0, 4.65)."""
    prior = TrafficLightPrior("L", (0.0, 0.0, 5.0), 0.0)
    expected = [[0.15, 0.0, 5.35], [0.15, 0.0, 5.0], [0.15, 0.0, 4.65]]
    np.testing.assert_allclose(prior.lamp_centres_m(), expected, atol=1e-12)


def test_the_read_stride_keeps_the_housing_at_most_max_housing_px() -> None:
    """Default max_housing_px 48: a 60 px housing is read every ceil(60 / 48) = 2nd pixel,
    a 48 px one every pixel, a 97 px one every ceil(97 / 48) = 3rd."""
    assert LightRoi((0, 0, 10, 100), (0.0, 0.0, 10.0, 60.0)).read_stride(PLAIN) == 2
    assert LightRoi((0, 0, 10, 100), (0.0, 0.0, 10.0, 48.0)).read_stride(PLAIN) == 1
    assert LightRoi((0, 0, 10, 100), (0.0, 0.0, 10.0, 97.0)).read_stride(PLAIN) == 3


def test_a_subsampled_roi_is_in_the_subsampled_images_pixels() -> None:
    """ROI [10, 30) x [20, 41) every 2nd px: 10 x 11 px; the housing (12, 24, 28, 40) moves
    by (-10, -20) and halves: (1, 2, 9, 10); lamp rows 26, 32, 38 -> 3, 6, 9."""
    roi = LightRoi((10, 20, 30, 41), (12.0, 24.0, 28.0, 40.0), (26.0, 32.0, 38.0))
    sub = roi.subsampled(2)
    assert sub.roi_px == (0, 0, 10, 11)
    assert sub.housing_px == (1.0, 2.0, 9.0, 10.0)
    assert sub.lamp_v_px == (3.0, 6.0, 9.0)


# --- lights not read (traffic_light_inference) ---------------------------------------------


def _lane(lane_id: str, xy: list[tuple[float, float]], **kw: object) -> Lane:
    """A lane along ``xy`` with boundaries 1 m either side in y (only its links matter)."""
    centre = np.asarray(xy, float)
    side = np.array([0.0, 1.0])
    return Lane(lane_id, centre, centre + side, centre - side, **kw)  # type: ignore[arg-type]


def test_a_u_turn_is_plus_180_degrees() -> None:
    """Turn angles are in (-180, 180]: a lane heading west (pi) whose successor ends heading
    east (0) turns remainder(0 - pi, 2 pi) = -pi, reported as +180."""
    road_map = RoadMap(
        (
            _lane("in", [(10.0, 0.0), (0.0, 0.0)], successors=("back",)),
            _lane("back", [(0.0, 5.0), (10.0, 5.0)]),
        )
    )
    assert turn_deg(road_map, road_map.lane("in"), 5.0, "back") == 180.0


def test_the_route_way_holds_at_most_max_way_lanes() -> None:
    """A stop lane then 10 lanes of one junction: the way is its first 8 (MAX_WAY_LANES)."""
    ids = [f"j{i}" for i in range(10)]
    lanes = [_lane("stop", [(-10.0, 0.0), (0.0, 0.0)], successors=("j0",))]
    for i, lane_id in enumerate(ids):
        nxt = (ids[i + 1],) if i + 1 < len(ids) else ()
        xy = [(float(i), 0.0), (float(i) + 1.0, 0.0)]
        lanes.append(_lane(lane_id, xy, successors=nxt, junction_id="J"))
    road_map = RoadMap(tuple(lanes))
    assert route_way_lanes(road_map, ["stop", *ids], "stop") == tuple(ids[:8])


# --- replayed 2D boxes (replay) ------------------------------------------------------------


def _rows(tmp_path: Path, text: str) -> DetectionRows:
    path = tmp_path / "0000.txt"
    path.write_text(text)
    return read_2d_detections(path, 1)


def test_a_box_overhanging_by_exactly_max_outside_px_is_clipped(tmp_path: Path) -> None:
    """max_outside_px is how far a box may overhang and still be clipped (``>`` is refused):
    x1 = -5 with max 5 -> clipped to 0 on a 100 x 50 image."""
    rows = _rows(tmp_path, "0,-5,10,20,40,0.9\n")
    np.testing.assert_array_equal(check_boxes_in_image(rows, 100, 50, 5.0), [[0, 10, 20, 40]])


def test_the_largest_frame_number_is_accepted(tmp_path: Path) -> None:
    """Frames up to 2**53 (every integer exact in float64) are read, 2**53 itself included."""
    rows = _rows(tmp_path, f"{2**53},1,2,3,4,0.5\n")
    assert rows.frame.tolist() == [2**53]


# --- KITTI calibration (calibration) -------------------------------------------------------


def _kitti_calib(fx: float, *, k10: float = 0.0) -> KittiCalib:
    """A calibration with identical P0..P3 = [K | 0] (K: fx = fy, K[1, 0] = ``k10``) and
    identity LiDAR -> camera transforms."""
    proj = np.array([[fx, 0.0, 600.0, 0.0], [k10, fx, 180.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    return KittiCalib(
        P={f"P{i}": proj.copy() for i in range(4)},
        R0_rect=np.eye(3),
        Tr_velo_to_cam=np.hstack([np.eye(3), np.zeros((3, 1))]),
    )


def test_a_camera_is_named_after_its_projection_matrix() -> None:
    """P3 is the camera of image_03 (image_0N is PN), not image_02."""
    from drivestack.perception.camera.calibration import kitti_camera_calibration

    assert kitti_camera_calibration(_kitti_calib(721.5377), 1242, 375, "P3").name == "image_03"


def test_a_skewed_row_of_k_is_a_data_error() -> None:
    """K[1, 0] != 0 is no intrinsic matrix: a DataError naming the key (the plain ValueError
    of CameraCalibration would not name the file and key)."""
    from drivestack.core.errors import DataError
    from drivestack.perception.camera.calibration import kitti_camera_calibration

    with pytest.raises(DataError, match="intrinsic"):
        kitti_camera_calibration(_kitti_calib(721.5377, k10=1.0), 1242, 375)


def test_a_focal_length_within_1e_3_px_names_its_recording_day() -> None:
    """721.538 is 3e-4 px from 2011_09_26's 721.5377: 1242 x 375 px images."""
    from drivestack.perception.camera.calibration import kitti_image_size_wh

    assert kitti_image_size_wh(_kitti_calib(721.538)) == (1242, 375)


def test_images_give_the_size_when_the_focal_length_is_of_no_known_day(tmp_path: Path) -> None:
    """fx 500 px is of no recording day: the PNG in the folder says the size (20 x 10)."""
    from PIL import Image

    from drivestack.perception.camera.calibration import kitti_sequence_image_size_wh

    Image.new("RGB", (20, 10)).save(tmp_path / "000000.png")
    assert kitti_sequence_image_size_wh(_kitti_calib(500.0), tmp_path) == (20, 10)


def test_a_float_image_is_refused_not_saturated(tmp_path: Path) -> None:
    """A mode-F (32-bit float) image is no 8-bit colour image: DataError naming the mode."""
    from PIL import Image

    from drivestack.core.errors import DataError
    from drivestack.perception.camera.calibration import read_image_rgb

    path = tmp_path / "depth.tiff"
    Image.fromarray(np.full((4, 6), 1000.0, np.float32), mode="F").save(path)
    with pytest.raises(DataError, match="F image"):
        read_image_rgb(path)


# --- the predict tool (predict) and blank images (stage) -----------------------------------


def test_the_nominal_calibration_has_focal_length_width_and_a_centred_principal_point() -> None:
    """200 x 100 px: fx = fy = 200, principal point (100, 50)."""
    from drivestack.perception.camera.predict import nominal_calibration

    k = nominal_calibration(200, 100).intrinsics
    np.testing.assert_array_equal(k, [[200, 0, 100], [0, 200, 50], [0, 0, 1]])


def test_a_class_kitti_has_no_name_for_is_misc() -> None:
    """BUS is not in CLASS_TO_KITTI: its rows are typed Misc; CAR is Car."""
    from drivestack.perception.camera.predict import detections_to_objects
    from drivestack.structures.detections_2d import Detections2D
    from drivestack.structures.labels import ObjectClass

    dets = Detections2D(
        np.array([[0.0, 0.0, 5.0, 5.0], [1.0, 1.0, 4.0, 4.0]]),
        "camera_image_02",
        score=np.array([0.9, 0.8]),
        label=np.array([int(ObjectClass.BUS), int(ObjectClass.CAR)]),
    )
    assert detections_to_objects(dets).type_name.tolist() == ["Misc", "Car"]


class _TwoBoxes:
    """A detector stage that records its resets and image times and finds 2 cars."""

    def __init__(self) -> None:
        self.resets = 0
        self.times: list[int] = []

    def reset(self) -> None:
        self.resets += 1

    def step(self, image: CameraImage) -> Detections2D:
        self.times.append(image.timestamp_ns)
        box = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0]])
        return Detections2D(box, image.frame, image.timestamp_ns, np.ones(2), np.ones(2, int))


def test_predict_prefers_image_2_resets_once_and_counts_rows(tmp_path: Path) -> None:
    """root holds a PNG and root/image_2 two: image_2 is read (it comes before root); the
    detector is reset once, image i gets timestamp i ns (0, 1) and 2 images x 2 boxes = 4
    rows are written."""
    from PIL import Image

    from drivestack.perception.camera.predict import predict_kitti_folder

    (tmp_path / "image_2").mkdir()
    for path in (tmp_path / "stray.png", tmp_path / "image_2/a.png", tmp_path / "image_2/b.png"):
        Image.new("RGB", (8, 6)).save(path)
    detector = _TwoBoxes()
    detector.resets = -5  # any resets before the run do not count
    summary = predict_kitti_folder(detector, tmp_path, tmp_path / "out", progress=False)
    assert summary.image_dir == tmp_path / "image_2"
    assert (summary.n_images, summary.n_detections) == (2, 4)
    assert detector.resets == -4 and detector.times == [0, 1]


def test_a_blank_image_is_height_by_width() -> None:
    """A 6 x 4 px calibration's blank image is 4 rows of 6 black RGB pixels."""
    from drivestack.perception.camera.stage import blank_image

    k = np.array([[5.0, 0.0, 3.0], [0.0, 5.0, 2.0], [0.0, 0.0, 1.0]])
    cal = CameraCalibration("front", k, 6, 4, SE3.identity(), "camera_front")
    pixels = blank_image(cal, 7).pixels
    assert pixels.shape == (4, 6, 3) and not pixels.any()


# --- lamp places (lamp_band_ratio) and config checks ---------------------------------------

#: a 10 x 30 px crop, the housing columns 2..8 and rows 0..30; lamps read from any 2 px
#: (min_lit_fraction 0) at any confidence, within half a lamp spacing of their centre rows
BANDS = dataclasses.replace(PLAIN, min_lit_fraction=0.0, min_confidence=0.0, lamp_band_ratio=0.5)
#: lamp centre rows 5, 15, 25: spacing (25 - 5) / 2 = 10 rows, band 0.5 * 10 = 5 rows
BAND_ROI = LightRoi((0, 0, 10, 30), (2.0, 0.0, 8.0, 30.0), (5.0, 15.0, 25.0))


def test_a_lamp_band_is_half_a_spacing_of_rows_around_the_lamp_centre() -> None:
    """Red px on rows 11 and 12 (centres 11.5, 12.5) are 6.5+ rows from the red lamp's 5:
    outside its 5-row band, a lamp's worth (4 >= 2) out of place -> ``unknown``."""
    crop = _black(10, 30)
    crop[11:13, 4:6] = RED
    assert classify_crop(crop, BAND_ROI, BANDS).state == "unknown"


def test_a_lamp_band_measures_rows_at_their_centres() -> None:
    """Row 10 spans 10..11, centre 10.5: 5.5 rows from the red lamp's 5, outside the 5-row
    band; 2 red px there are a lamp out of place -> ``unknown``."""
    crop = _black(10, 30)
    crop[10, 4:6] = RED
    assert classify_crop(crop, BAND_ROI, BANDS).state == "unknown"


def test_a_lamp_band_reaches_as_far_beside_the_housing() -> None:
    """Column 0 (centre 0.5) is 1.5 px left of the housing's column 2: within the 5 px the
    band reaches beside it, so 3 red px there at the red lamp's rows read red."""
    crop = _black(10, 30)
    crop[3:6, 0] = RED
    assert classify_crop(crop, BAND_ROI, BANDS).state == "red"


def test_as_many_pixels_out_of_place_as_in_it_are_no_ambiguity() -> None:
    """2 red px in the red band (row 5) and 2 on row 20 (out of it): out of place only when
    more are out than in, so the 2 inside read red."""
    crop = _black(10, 30)
    crop[5, 4:6] = RED
    crop[20, 4:6] = RED
    reading = classify_crop(crop, BAND_ROI, BANDS)
    assert reading.state == "red" and reading.lit_px["red"] == 2


def test_lamp_rows_from_the_housing_put_red_on_top() -> None:
    """Lamp rows not projected: a 30 px housing has spacing 0.35 / 1.05 * 30 = 10 rows around
    its centre 15, red at 15 - 10 = 5 (image rows grow down). 3 red px on rows 3..5 read red."""
    crop = _black(10, 30)
    crop[3:6, 4] = RED
    roi = LightRoi((0, 0, 10, 30), (2.0, 0.0, 8.0, 30.0))
    assert classify_crop(crop, roi, BANDS).state == "red"


def test_contrast_ratio_must_be_above_1_or_0() -> None:
    """A lamp read at half the housing's level is no contrast: contrast_ratio 0.5 is refused."""
    from drivestack.config.strict import ConfigValueError

    with pytest.raises(ConfigValueError, match="contrast_ratio"):
        TrafficLightConfig(contrast_ratio=0.5)


def test_a_housing_exactly_min_housing_px_tall_has_an_roi() -> None:
    """The housing of the ROI test above is 1.05 m * 20 px/m = 21 px tall: min_housing_px 21
    keeps it (under the minimum means strictly under)."""
    prior = TrafficLightPrior("L", (10.0, 0.0, 0.0), math.pi)
    config = dataclasses.replace(PLAIN, min_housing_px=21.0)
    assert light_roi(prior, _calibration(197.0, 50.25, 100), SE3.identity(), config) is not None


def test_a_housing_reaching_past_the_right_edge_has_no_roi() -> None:
    """Principal point (96.5, 50.25): the housing spans u 92.5 .. 100.5, half a pixel past the
    100 px wide image's edge (v 39.75 .. 60.75 is inside): a lamp cut off, no ROI; at u
    91.5 .. 99.5 it has one."""
    prior = TrafficLightPrior("L", (10.0, 0.0, 0.0), math.pi)
    cut = _calibration(197.0, 96.5, 100, cv=50.25)
    assert light_roi(prior, cut, SE3.identity(), PLAIN) is None
    inside = _calibration(197.0, 95.5, 100, cv=50.25)
    assert light_roi(prior, inside, SE3.identity(), PLAIN) is not None


# --- dim lamps (contrast_ratio) --------------------------------------------------------------

#: dim lamps read at twice the housing's level; ``off`` needs the ROI around the housing at
#: least 0.5 bright (90th percentile of value)
DIM = dataclasses.replace(PLAIN, contrast_ratio=2.0, min_exposure_value=0.5)
DIM_RED = (102, 0, 0)  # hue 0, saturation 1, value 0.4: under min_value 0.6, over 0.1


def _dim_scene() -> tuple[np.ndarray, LightRoi]:
    """An 8 x 14 px ROI: a black 4 x 11 px housing box at its top left (housing 10.5 px tall,
    lamp area 9, need 2 px), black beside it (columns 4, 5) and grey 200 (value 0.78, no
    colour, not clipped) in columns 6, 7: 28 of the 68 px around the housing."""
    crop = _black(8, 14)
    crop[:, 6:8] = (200, 200, 200)
    return crop, _roi(8, 14, 10.5)


def test_a_dim_lit_lamp_reads_by_its_colour_not_off() -> None:
    """A 3 x 3 px lamp of value 0.4 (under min_value) on a black housing: smoothed, it and its
    rim stay pure red of value >= 0.1 (min_contrast_value) and above twice the housing's
    level (its 10th percentile, black: 0), so it reads red; a lit lamp is never ``off``."""
    crop, roi = _dim_scene()
    crop[1:4, 0:3] = DIM_RED
    assert classify_crop(crop, roi, DIM).state == "red"


def test_the_housing_level_is_a_low_percentile_of_the_housing_box() -> None:
    """A dim lamp covering 8 of the box's 11 rows: the housing's level is the box's 10th
    percentile (its black bottom rows, 0), not its median (the lamp's own level, which the
    lamp cannot be twice of): the lamp reads red."""
    crop, roi = _dim_scene()
    crop[0:8, 0:4] = DIM_RED
    assert classify_crop(crop, roi, DIM).state == "red"


def test_the_exposure_is_the_90th_percentile_around_the_housing() -> None:
    """No lamp, a black housing: 28 of the 68 px around it (41 %, over a tenth) are grey of
    value 0.78, so their 90th percentile 0.78 >= 0.5 says the frame is exposed: ``off``
    (the median around, black, would call it too dark to tell)."""
    crop, roi = _dim_scene()
    reading = classify_crop(crop, roi, DIM)
    assert reading.state == "off"
