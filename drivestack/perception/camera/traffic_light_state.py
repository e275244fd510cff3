"""Traffic-light state from a camera image, with the map's light positions as the prior.

The design of Autoware's ``traffic_light_map_based_detector`` and colour-based
``traffic_light_classifier``, in pure NumPy:

1. **Prior -> ROI** (:func:`light_roi`): each light the map places is a
   :class:`TrafficLightPrior` (its housing's centre and the direction its lamps face). The
   housing's 8 corners are projected into the image through the calibration and the ego pose;
   their bounding box, widened by a margin for pose and calibration error
   (``roi_margin_ratio`` of the housing's height, at least ``roi_min_margin_px``), is the ROI.
   A housing with a corner behind the camera or outside the image (a lamp cut off by the
   image's edge reads as another state or none), or a projected housing under ``min_housing_px`` pixels tall gives no ROI (the light is ``unknown``). A
   housing over ``max_housing_px`` tall is read from every ``n``-th pixel
   (:meth:`LightRoi.read_stride`: a near light costs no more than a far one).
2. **Lamp colour** (:func:`classify_light`): the ROI's pixels in HSV; a pixel is a lit lamp of
   a colour when its hue is in that colour's range and its saturation and value (brightness)
   are at least ``min_saturation`` and ``min_value``. A colour counts as lit with at least
   ``max(min_lit_px, min_lit_fraction * lamp area)`` such pixels (the lamp's expected area
   from the projected housing). One lit colour gives its state; red and yellow with red's
   pixels above yellow's give ``red_yellow``; any other mix is ambiguous (``unknown``). No lit
   lamp: ``off`` when at least ``min_dark_fraction`` of the projected housing's pixels are
   dark (value under ``max_dark_value``: the housing is seen and nothing is lit), else
   ``unknown`` (hidden, e.g. behind a truck), and ``unknown`` too while the housing's box
   holds as many pixels that glow as a lit lamp needs: bright and saturated of whatever hue,
   or clipped white (value at least ``min_clipped_value``; a lamp not read is no ``off``,
   which means go). With ``lamp_band_ratio`` > 0 a colour's pixels
   count only within that many lamp spacings (as projected) of its own lamp's centre row (red
   top, yellow middle, green bottom) and as far beside the housing: a noisy night sky's stray
   coloured pixels and a neighbour lamp's glare are no lamp, but a lamp's worth of a colour
   outside its place, more than within it, is ambiguous (``unknown``). With ``green_veto_fraction`` > 0 a green read
   is ``unknown`` while red or yellow shows at least that fraction of the pixels a lit lamp
   needs: a wrong green (go at a red) is the dangerous error, a wrong ``unknown`` only stops
   the ego where it could have gone.

   **Under-exposed or dim lamps** (``contrast_ratio`` > 0): with no lamp lit at the absolute
   thresholds (and no glow), the ROI is smoothed (each pixel the mean of its 3 x 3
   neighbourhood in linear radiance, decoded with ``pixel_gamma``: a third of the sensor
   noise) and read again by the same rules (lamp places, veto, confidence), a pixel counting
   as lit when its saturation is at least ``min_saturation``, its value at least
   ``min_contrast_value`` and its linear level at least ``contrast_ratio`` times the
   housing's (the :data:`HOUSING_PERCENTILE` of the housing box's levels): a lit lamp too dark
   for ``min_value`` (a short exposure, a dim lamp) is read by its colour, never as ``off``.
   ``off`` then needs positive evidence that a lit lamp would show: fewer than a lamp's worth
   of pixels of a lamp colour in the housing however dim (saturated, at least
   ``min_contrast_value``), the housing dark (above), and the frame exposed: the 90th
   percentile of the values in the ROI around the housing (sky, pole) at least
   ``min_exposure_value`` (a lit lamp is at least as bright as a daylit surface). A black or
   grossly under-exposed frame is ``unknown`` (stop if comfortable), never ``off`` (go). Not
   told apart: a lamp no brighter and no more coloured than an unlit one.
3. **Confidence**: the lit colour's share of all lit pixels times how much of the lamp's
   expected area it fills (at most 1); under ``min_confidence`` the state is ``unknown``.

4. **Hold** (:class:`HeldLightStates`): a light read with a state other than ``unknown`` keeps
   that state for up to ``hold_s`` while it becomes unreadable (a lamp cut off by the image's
   edge, a truck passing in front of it, a frame too blurred), then is ``unknown``. A fresh
   reading always replaces the held one at once (a light read red is red from that frame
   on), so the hold delays nothing that the camera can see; it only keeps the last reading
   over a gap. The price is that a light that changes while unreadable is reported in its
   old state for up to ``hold_s`` (a held green that turned yellow is reported green up to
   ``hold_s`` late: ``hold_s`` adds to the reaction time, at 50 km/h 2 s is 28 m, so keep it
   below the yellow time; and a yellow's red is then seen no later than ``hold_s`` after it
   came, as a held yellow or red never means go).

5. **Lights not read** (:mod:`~drivestack.perception.camera.traffic_light_inference`): the
   states of the lights the camera gives none (the cross road's, facing away) inferred from
   the ones it reads, switched by ``infer_unseen`` (:class:`InferUnseenConfig`).

All thresholds are in a strict YAML (``configs/perception/traffic_lights.yaml``,
:func:`load_traffic_light_config`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from drivestack import kernels
from drivestack.config import load_yaml_config
from drivestack.config.strict import ConfigValueError, check_config_numbers
from drivestack.core.transforms import SE3
from drivestack.structures._checks import check_number
from drivestack.structures.camera import CameraCalibration, CameraImage

#: The thresholds' file shipped with drivestack (``drivestack sim --lights camera``).
DEFAULT_CONFIG_PATH = (
    Path(__file__).resolve().parents[3] / "configs" / "perception" / "traffic_lights.yaml"
)

#: Housing size (m): depth along the facing direction, width, height; three lamps
#: ``LAMP_SIZE_M`` square on its front face, red top, yellow middle, green bottom, their centres
#: ``LAMP_SPACING_M`` apart (the middle one at the housing's centre).
HOUSING_SIZE_M = (0.3, 0.4, 1.05)
LAMP_SIZE_M = 0.3
LAMP_SPACING_M = 0.35
#: The percentile of the housing box's (smoothed, linear) levels taken as the unlit housing's:
#: lamps cover most of the box's front face, the housing's own dark frame the rest.
HOUSING_PERCENTILE = 10.0
#: Lamp slots top to bottom and the colour each shows.
LAMP_COLOURS = ("red", "yellow", "green")
#: Which lamp slots each state lights (``unknown`` and ``off``: none).
LIT_SLOTS: dict[str, tuple[int, ...]] = {
    "unknown": (),
    "off": (),
    "green": (2,),
    "yellow": (1,),
    "red": (0,),
    "red_yellow": (0, 1),
}


@dataclass(frozen=True)
class TrafficLightPrior:
    """Where the map puts a light's housing: ``centre_m (3,)`` in the world frame and the
    heading ``facing_yaw_rad`` its lamps face (towards the traffic it controls)."""

    light_id: str
    centre_m: tuple[float, float, float]
    facing_yaw_rad: float

    def __post_init__(self) -> None:
        values = tuple(self.centre_m)
        if len(values) != 3:
            raise ValueError(f"TrafficLightPrior {self.light_id!r} centre_m must be (x, y, z)")
        for axis, v in zip("xyz", values, strict=True):
            check_number(f"TrafficLightPrior {self.light_id!r} centre_m {axis}", v)
        check_number(f"TrafficLightPrior {self.light_id!r} facing_yaw_rad", self.facing_yaw_rad)
        object.__setattr__(self, "centre_m", tuple(float(v) for v in values))

    def _axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Unit ``forward (3,)`` (the facing) and ``left (3,)`` of the housing."""
        c, s = np.cos(self.facing_yaw_rad), np.sin(self.facing_yaw_rad)
        return np.array([c, s, 0.0]), np.array([-s, c, 0.0])

    def corners_m(self) -> np.ndarray:
        """``(8, 3)`` world corners of the housing."""
        fwd, left = self._axes()
        d, w, h = HOUSING_SIZE_M
        signs = np.array([[a, b, c] for a in (-1, 1) for b in (-1, 1) for c in (-1, 1)], float)
        up = np.array([0.0, 0.0, 1.0])
        offsets = (
            signs[:, :1] * (d / 2) * fwd
            + signs[:, 1:2] * (w / 2) * left
            + signs[:, 2:] * (h / 2) * up
        )
        return np.asarray(self.centre_m) + offsets

    def lamp_centres_m(self) -> np.ndarray:
        """``(3, 3)`` world centres of the lamps' front faces, red (top) first."""
        fwd, _ = self._axes()
        front = np.asarray(self.centre_m) + fwd * HOUSING_SIZE_M[0] / 2
        dz = np.array([LAMP_SPACING_M, 0.0, -LAMP_SPACING_M])
        return front + dz[:, None] * np.array([0.0, 0.0, 1.0])


@dataclass(frozen=True)
class InferUnseenConfig:
    """Which lights not read are inferred from those read
    (:mod:`~drivestack.perception.camera.traffic_light_inference`): ``same_controller``, a
    light takes its controller-mate's read; ``conflicting_green``, a light whose way crosses
    the route's is red while the route's light reads green. A crossing approach's heading is
    ``min_crossing_deg``..``max_crossing_deg`` (0 <= min <= max <= 180) off the route's."""

    same_controller: bool = True
    conflicting_green: bool = True
    min_crossing_deg: float = 45.0
    max_crossing_deg: float = 135.0

    def __post_init__(self) -> None:
        check_config_numbers(self, "min_crossing_deg", at_least=0.0, at_most=180.0)
        check_config_numbers(
            self,
            "max_crossing_deg",
            at_least=self.min_crossing_deg,
            at_most=180.0,
            hint=" (min_crossing_deg .. 180)",
        )


@dataclass(frozen=True)
class TrafficLightConfig:
    """Thresholds of :func:`light_roi` and :func:`classify_light` (see the module doc).

    Hue ranges are ``[lo, hi]`` degrees in [0, 360); a range with ``lo > hi`` wraps through 0
    (red). ``min_saturation``, ``min_value``, ``max_dark_value`` are in [0, 1].
    ``lamp_band_ratio`` (lamp spacings, >= 0, 0: off) keeps a colour's lit pixels to its own lamp's place;
    ``min_clipped_value`` (in [0, 1]) is a clipped lamp core's value;
    ``green_veto_fraction`` (in [0, 1], 0: off) turns a green read with some red or yellow
    beside it into ``unknown`` (step 2 of the module doc).
    ``contrast_ratio`` (0: off, else > 1) reads a lamp too dark for ``min_value`` by its
    level over the housing's, its value at least ``min_contrast_value`` (in [0, 1]); ``off``
    needs the ROI around the housing at least ``min_exposure_value`` bright (90th percentile
    of value, in [0, 1]); ``pixel_gamma`` (> 0) decodes the pixels to linear radiance (step 2
    of the module doc).
    ``infer_unseen``: which lights the camera does not read are inferred from those it reads
    (:class:`InferUnseenConfig`).
    """

    roi_margin_ratio: float = 0.5
    roi_min_margin_px: int = 3
    min_housing_px: float = 8.0
    max_housing_px: float = 48.0
    red_hue_deg: tuple[float, float] = (340.0, 20.0)
    yellow_hue_deg: tuple[float, float] = (35.0, 70.0)
    green_hue_deg: tuple[float, float] = (90.0, 170.0)
    min_saturation: float = 0.55
    min_value: float = 0.6
    min_lit_px: int = 2
    min_lit_fraction: float = 0.2
    max_dark_value: float = 0.25
    min_dark_fraction: float = 0.5
    min_confidence: float = 0.3
    min_clipped_value: float = 1.0
    lamp_band_ratio: float = 0.0
    green_veto_fraction: float = 0.0
    contrast_ratio: float = 0.0
    min_contrast_value: float = 0.1
    min_exposure_value: float = 0.0
    pixel_gamma: float = 2.2
    hold_s: float = 0.0
    infer_unseen: InferUnseenConfig = field(default_factory=InferUnseenConfig)

    def __post_init__(self) -> None:
        check_config_numbers(
            self, "roi_margin_ratio", "min_housing_px", "hold_s", "lamp_band_ratio", at_least=0.0
        )
        check_config_numbers(
            self, "max_housing_px", at_least=self.min_housing_px, hint=" (min_housing_px)"
        )
        check_config_numbers(self, "roi_min_margin_px", "min_lit_px", integer=True, at_least=0)
        for name in ("red_hue_deg", "yellow_hue_deg", "green_hue_deg"):
            value = getattr(self, name)
            if len(value) != 2:
                raise ConfigValueError(f"{name} must be [lo, hi] degrees, got {value}", key=name)
            check_config_numbers(self, name, at_least=0.0, below=360.0)
        for name in (
            "min_saturation",
            "min_value",
            "min_lit_fraction",
            "max_dark_value",
            "min_dark_fraction",
            "min_confidence",
            "green_veto_fraction",
            "min_clipped_value",
            "min_contrast_value",
            "min_exposure_value",
        ):
            check_config_numbers(self, name, at_least=0.0, at_most=1.0)
        check_config_numbers(self, "pixel_gamma", above=0.0)
        if self.contrast_ratio != 0.0:
            check_config_numbers(self, "contrast_ratio", above=1.0, hint=" (or 0: off)")


def load_traffic_light_config(path: str | Path) -> TrafficLightConfig:
    """Strict YAML -> :class:`TrafficLightConfig` (errors name the file and key)."""
    return load_yaml_config(TrafficLightConfig, path)


@dataclass(frozen=True)
class LightRoi:
    """A light's place in an image: ``roi_px (4,)`` int ``[u0, v0, u1, v1)`` (clipped to the
    image, half-open: the pixels to look at) and ``housing_px (4,)`` float ``[u0, v0, u1, v1]``
    (the projected housing's box, unclipped, without margin); ``lamp_v_px (3,)``: the image
    rows of the lamps' centres, red first (``None``: not known)."""

    roi_px: tuple[int, int, int, int]
    housing_px: tuple[float, float, float, float]
    lamp_v_px: tuple[float, float, float] | None = None

    @property
    def housing_height_px(self) -> float:
        return self.housing_px[3] - self.housing_px[1]

    def read_stride(self, config: TrafficLightConfig) -> int:
        """Every how many pixels the ROI is read: 1, or as many as keep the housing at most
        ``config.max_housing_px`` tall (a near light is read at a lower resolution, as a
        classifier with a fixed input size reads it)."""
        return max(1, int(np.ceil(self.housing_height_px / config.max_housing_px)))

    def subsampled(self, stride: int) -> LightRoi:
        """This ROI in the image of every ``stride``-th pixel of ``roi_px`` (that image's
        pixel ``i`` is this image's ``u0 + stride i``): ``roi_px`` the whole of that image,
        the housing and the lamps' rows in its pixels."""
        u0, v0, u1, v1 = self.roi_px
        hu0, hv0, hu1, hv1 = self.housing_px
        lamps = self.lamp_v_px
        return LightRoi(
            (0, 0, len(range(u0, u1, stride)), len(range(v0, v1, stride))),
            ((hu0 - u0) / stride, (hv0 - v0) / stride, (hu1 - u0) / stride, (hv1 - v0) / stride),
            None
            if lamps is None
            else ((lamps[0] - v0) / stride, (lamps[1] - v0) / stride, (lamps[2] - v0) / stride),
        )


def project_points(
    points_m: np.ndarray, calibration: CameraCalibration, world_from_ego: SE3
) -> tuple[np.ndarray, np.ndarray]:
    """World ``points_m (N, 3)`` -> pixel ``uv (N, 2)`` and camera depth ``z_m (N,)`` (a pinhole
    through the intrinsics, :func:`drivestack.kernels.project_points` without distortion;
    ``uv`` is meaningless where ``z_m <= 0``)."""
    ego_from_world = world_from_ego.inverse()
    cam = calibration.camera_from_ego.apply(ego_from_world.apply(np.asarray(points_m, float)))
    uv, _ = kernels.project_points(cam, np.asarray(calibration.intrinsics, float))
    return uv, cam[:, 2]


def light_roi(
    prior: TrafficLightPrior,
    calibration: CameraCalibration,
    world_from_ego: SE3,
    config: TrafficLightConfig,
) -> LightRoi | None:
    """The ROI of ``prior``'s housing in an image of ``calibration`` taken at ``world_from_ego``,
    or ``None`` when the light cannot be seen there (a corner behind the camera or outside
    the image, or under ``config.min_housing_px`` tall). The margin is clipped to the image."""
    uv, z = project_points(prior.corners_m(), calibration, world_from_ego)
    if np.any(z <= 1e-6):
        return None
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    height = float(hi[1] - lo[1])
    w, h = calibration.width_px, calibration.height_px
    if height < config.min_housing_px or np.any(lo < 0) or hi[0] > w or hi[1] > h:
        return None
    margin = max(config.roi_margin_ratio * height, float(config.roi_min_margin_px))
    u0 = int(np.clip(np.floor(lo[0] - margin), 0, w))
    v0 = int(np.clip(np.floor(lo[1] - margin), 0, h))
    u1 = int(np.clip(np.ceil(hi[0] + margin), 0, w))
    v1 = int(np.clip(np.ceil(hi[1] + margin), 0, h))
    if u1 <= u0 or v1 <= v0:
        return None
    lamp_uv, _ = project_points(prior.lamp_centres_m(), calibration, world_from_ego)
    lamp_v = (float(lamp_uv[0, 1]), float(lamp_uv[1, 1]), float(lamp_uv[2, 1]))
    return LightRoi(
        (u0, v0, u1, v1), (float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])), lamp_v
    )


def rgb_to_hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(..., 3)`` uint8 RGB -> hue ``(...)`` degrees in [0, 360), saturation and value
    ``(...)`` in [0, 1] (hue 0 for greys)."""
    x = np.asarray(rgb, dtype=np.float64) / 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = x.max(axis=-1)
    chroma = v - x.min(axis=-1)
    s = np.where(v > 0, chroma / np.where(v > 0, v, 1.0), 0.0)
    c = np.where(chroma > 0, chroma, 1.0)
    hue = np.where(
        v == r, ((g - b) / c) % 6.0, np.where(v == g, (b - r) / c + 2.0, (r - g) / c + 4.0)
    )
    hue = np.where(chroma > 0, 60.0 * hue, 0.0) % 360.0
    return hue, s, v


def _in_hue(hue: np.ndarray, rng: tuple[float, float]) -> np.ndarray:
    lo, hi = rng
    return (hue >= lo) & (hue <= hi) if lo <= hi else (hue >= lo) | (hue <= hi)


@dataclass(frozen=True)
class LightReading:
    """What :func:`classify_light` read: ``state`` (one of the signal states), ``confidence``
    in [0, 1] (0 for ``unknown``), and the lit pixels per lamp colour."""

    state: str
    confidence: float
    lit_px: dict[str, int]


UNKNOWN = LightReading("unknown", 0.0, {})


def classify_light(image: CameraImage, roi: LightRoi, config: TrafficLightConfig) -> LightReading:
    """The state ``image`` shows in ``roi`` (see the module doc for the rule)."""
    u0, v0, u1, v1 = roi.roi_px
    crop = np.asarray(image.pixels)[v0:v1, u0:u1, :3]
    return classify_crop(crop, roi, config)


def classify_crop(crop: np.ndarray, roi: LightRoi, config: TrafficLightConfig) -> LightReading:
    """:func:`classify_light` on ``crop (h, w, 3)`` uint8, the image's pixels in
    ``roi.roi_px`` (e.g. a window rendered alone)."""
    u0, v0, _, _ = roi.roi_px
    hue, sat, val = rgb_to_hsv(crop)
    bright = (sat >= config.min_saturation) & (val >= config.min_value)
    # the lamp's expected area from the projected housing's height (lamp / housing height)
    lamp_px = (roi.housing_height_px * LAMP_SIZE_M / HOUSING_SIZE_M[2]) ** 2
    need = max(float(config.min_lit_px), config.min_lit_fraction * lamp_px, 1.0)
    masks = _colour_masks(hue, bright, config)
    reading = _read_lamps(masks, roi, config, lamp_px, need)
    if reading is not None:
        return reading
    hu0, hv0, hu1, hv1 = roi.housing_px
    in_box = (
        slice(max(int(np.floor(hv0)) - v0, 0), max(int(np.ceil(hv1)) - v0, 0)),
        slice(max(int(np.floor(hu0)) - u0, 0), max(int(np.ceil(hu1)) - u0, 0)),
    )
    no_lamp = LightReading("unknown", 0.0, _counts(masks))
    if val[in_box].size == 0:
        return no_lamp
    glowing = bright[in_box] | (val[in_box] >= config.min_clipped_value)
    if np.sum(glowing) >= need:  # a lamp's worth lit, of no lamp colour: not "off" (go)
        return no_lamp
    if config.contrast_ratio > 0.0:
        # a lamp too dark for min_value: coloured, and contrast_ratio x the housing's level
        smooth = _smoothed(crop, config.pixel_gamma)
        d_hue, d_sat, d_val = rgb_to_hsv(smooth)
        linear = (smooth.max(axis=-1) / 255.0) ** config.pixel_gamma
        housing_level = float(np.percentile(linear[in_box], HOUSING_PERCENTILE))
        tinted = _colour_masks(
            d_hue, (d_sat >= config.min_saturation) & (d_val >= config.min_contrast_value), config
        )
        contrast = linear >= config.contrast_ratio * housing_level
        dim = {name: m & contrast for name, m in tinted.items()}
        reading = _read_lamps(dim, roi, config, lamp_px, need)
        if reading is not None:
            return reading
        if any(np.sum(m[in_box]) >= need for m in tinted.values()):
            return no_lamp  # a lamp's worth of a lamp colour, however dim: not "off"
        around = np.ones(val.shape, bool)
        around[in_box] = False
        if not np.any(around) or (
            float(np.percentile(val[around], 90)) < config.min_exposure_value
        ):  # too dark a frame to tell an unlit lamp from a lit one
            return no_lamp
    dark = float(np.mean(val[in_box] < config.max_dark_value))
    if dark >= config.min_dark_fraction:
        return LightReading("off", dark, no_lamp.lit_px)
    return no_lamp


def _smoothed(crop: np.ndarray, gamma: float) -> np.ndarray:
    """``crop (h, w, 3)`` uint8 -> ``(h, w, 3)`` float in [0, 255]: each pixel the mean of its
    3 x 3 neighbourhood in linear radiance (decoded with ``gamma``), encoded again (a third of
    the sensor noise; a lamp of 3 px or more keeps its colour)."""
    from scipy import ndimage

    linear = (np.asarray(crop, np.float64) / 255.0) ** gamma
    mean = ndimage.uniform_filter(linear, size=(3, 3, 1), mode="nearest")
    return 255.0 * np.clip(mean, 0.0, 1.0) ** (1.0 / gamma)


def _colour_masks(
    hue: np.ndarray, lit: np.ndarray, config: TrafficLightConfig
) -> dict[str, np.ndarray]:
    """Lamp colour -> ``(h, w)`` bool: the ``lit`` pixels of its hue range."""
    ranges = {
        "red": config.red_hue_deg,
        "yellow": config.yellow_hue_deg,
        "green": config.green_hue_deg,
    }
    return {name: lit & _in_hue(hue, rng) for name, rng in ranges.items()}


def _counts(masks: dict[str, np.ndarray]) -> dict[str, int]:
    """Lamp colour -> how many pixels its mask holds."""
    return {n: int(m.sum()) for n, m in masks.items()}


def _read_lamps(
    masks: dict[str, np.ndarray],
    roi: LightRoi,
    config: TrafficLightConfig,
    lamp_px: float,
    need: float,
) -> LightReading | None:
    """The state the lit pixels of each lamp colour, ``masks`` (:func:`_colour_masks` of the
    crop of ``roi.roi_px``), show (step 2 of the module doc), or ``None`` when no lamp colour
    is lit (``lamp_px``: a lamp's projected area, ``need``: the pixels a lit lamp needs)."""
    if config.lamp_band_ratio > 0.0:
        bands = {name: _lamp_band(m.shape, roi, name, config) for name, m in masks.items()}
        for name, m in masks.items():
            out, inside = int(np.sum(m & ~bands[name])), int(np.sum(m & bands[name]))
            if out >= need and out > inside:  # a lamp of this colour out of its place
                return LightReading("unknown", 0.0, _counts(masks))
        masks = {name: m & bands[name] for name, m in masks.items()}
    lit_px = _counts(masks)
    lit = [name for name in LAMP_COLOURS if lit_px[name] >= need]
    total = sum(lit_px.values())
    if not lit:
        return None
    if (
        lit == ["green"]
        and config.green_veto_fraction > 0.0
        and max(lit_px["red"], lit_px["yellow"]) >= config.green_veto_fraction * need
    ):  # a green beside a stop colour's light: rather unknown than a wrong go
        return LightReading("unknown", 0.0, lit_px)
    if lit == ["red", "yellow"]:
        rows = np.arange(masks["red"].shape[0])[:, None]
        red_v = float(np.mean(np.broadcast_to(rows, masks["red"].shape)[masks["red"]]))
        yellow_v = float(np.mean(np.broadcast_to(rows, masks["yellow"].shape)[masks["yellow"]]))
        if red_v >= yellow_v:  # red is the top lamp
            return LightReading("unknown", 0.0, lit_px)
        state, shown = "red_yellow", lit_px["red"] + lit_px["yellow"]
        fill = min(1.0, shown / (2 * lamp_px))
    elif len(lit) == 1:
        state, shown = lit[0], lit_px[lit[0]]
        fill = min(1.0, shown / lamp_px)
    else:
        return LightReading("unknown", 0.0, lit_px)
    confidence = shown / total * fill
    if confidence < config.min_confidence:
        return LightReading("unknown", 0.0, lit_px)
    return LightReading(state, float(confidence), lit_px)


def _lamp_rows(roi: LightRoi) -> tuple[tuple[float, float, float], float]:
    """The image rows of ``roi``'s lamp centres (red first) and the lamp spacing in rows,
    as projected, else from the housing's box (a vertical head, red on top)."""
    if roi.lamp_v_px is not None:  # projected: a head seen from below is foreshortened
        return roi.lamp_v_px, abs(roi.lamp_v_px[2] - roi.lamp_v_px[0]) / 2
    _, hv0, _, hv1 = roi.housing_px
    spacing = LAMP_SPACING_M / HOUSING_SIZE_M[2] * (hv1 - hv0)
    centre = (hv0 + hv1) / 2  # image v grows down: red is one spacing up
    return (centre - spacing, centre, centre + spacing), spacing


def _lamp_band(
    shape: tuple[int, ...], roi: LightRoi, colour: str, config: TrafficLightConfig
) -> np.ndarray:
    """``shape (h, w)`` bool: the crop's pixels (of ``roi.roi_px``) within
    ``config.lamp_band_ratio`` lamp spacings (as projected) of ``colour``'s lamp centre row,
    and as far beside the projected housing's columns (a vertical head, red on top)."""
    u0, v0, _, _ = roi.roi_px
    hu0, _, hu1, _ = roi.housing_px
    centres, spacing = _lamp_rows(roi)
    centre_v = centres[LAMP_COLOURS.index(colour)]
    band = config.lamp_band_ratio * spacing
    rows = np.arange(shape[0]) + v0 + 0.5
    cols = np.arange(shape[1]) + u0 + 0.5
    in_rows = np.abs(rows - centre_v) <= band
    in_cols = (cols >= hu0 - band) & (cols <= hu1 + band)
    return in_rows[:, None] & in_cols[None, :]


class HeldLightStates:
    """Stage: ``update(light_id, state, timestamp_ns) -> state`` (step 4 of the module doc):
    a reading other than ``unknown`` is passed on and remembered; ``unknown`` is replaced by
    the light's last reading while that is at most ``hold_s`` old, else passed on.
    ``forget(light_id)`` drops a light's reading (it is no longer looked at, e.g. passed);
    ``reset()`` drops them all. ``ValueError`` for a negative ``hold_s``, or a timestamp
    before the light's last reading."""

    def __init__(self, hold_s: float) -> None:
        check_number("HeldLightStates.hold_s", hold_s, at_least=0.0)
        self.hold_ns = round(float(hold_s) * 1e9)
        self._last: dict[str, tuple[str, int]] = {}

    def reset(self) -> None:
        self._last.clear()

    def forget(self, light_id: str) -> None:
        self._last.pop(light_id, None)

    def update(self, light_id: str, state: str, timestamp_ns: int) -> str:
        last = self._last.get(light_id)
        if last is not None and timestamp_ns < last[1]:
            raise ValueError(
                f"HeldLightStates: light {light_id!r} read at {timestamp_ns} ns, before its "
                f"last reading at {last[1]} ns"
            )
        if state != "unknown":
            self._last[light_id] = (state, int(timestamp_ns))
            return state
        if last is not None and timestamp_ns - last[1] <= self.hold_ns:
            return last[0]
        return state
