"""A camera that is not ideal: exposure, night, optical and motion blur, sensor noise.

:func:`apply_camera_effects` degrades a rendering of
:meth:`~drivestack.sim.sensors.camera.CameraModel.render` (its ``uint8`` RGB and its
``emissive`` mask, the lit lamps' pixels) in the order light takes:

1. **Radiance** ``L (h, w, 3)``: the rendered values are display-encoded; linear
   ``(v / 255) ** gamma``. Surfaces are lit by the ambient light: ``L *= ambient_scale`` (day
   1, dusk ~0.15, night ~0.02); a lit lamp emits: ``L *= lamp_radiance`` whatever the
   ambient (at night the lamps stay as bright as by day and, once the exposure is raised for
   the dark scene, saturate and bloom).
2. **Optics**: a point spreads by a PSF, ``(1 - glare_fraction) N(blur_sigma_px) +
   glare_fraction N(glare_sigma_px)`` (lens blur and veiling glare, each a normalised
   Gaussian: the image's total radiance is kept); the motion of the image during
   ``exposure_s``, a straight streak of ``motion_px`` (the caller's image-plane motion over the
   exposure, centred on the frame's time), averages the radiance along it.
3. **Sensor** (Poisson-Gaussian): with ``q = electrons_per_unit`` photo-electrons per unit
   radiance over the exposure and ``read_noise_e`` electrons of read noise, the linear
   intensity is ``I = exposure_gain * (Poisson(q L) + N(0, read_noise_e**2)) / q``: mean
   ``exposure_gain * L``, variance ``exposure_gain**2 * (L / q + read_noise_e**2 / q**2)``
   (``electrons_per_unit: 0``: no noise, ``I = exposure_gain * L``); then clipped to [0, 1]
   (full scale: a pixel saturates), each channel alone.
4. **Encoding**: ``round(255 * I ** (1 / gamma))``, ``uint8``.

Lengths are in pixels of the full image: a window rendered at every ``stride``-th pixel gets
``sigma / stride`` and ``motion_px / stride`` (a subsampled pixel is still one sensor pixel:
its noise is not averaged). Draws come from :func:`effects_rng`, one generator per
``(seed, timestamp_ns, key)``: the same seed gives the same pixels, whatever the order the
windows are rendered in. ``enabled: false`` returns the rendering untouched, bit for bit:
the ``ideal`` preset and :data:`IDEAL` (``CameraEffectsConfig()``); a YAML file is enabled
unless it says ``enabled: false`` (a file given is meant to be used). Every parameter has a
documented upper bound (:data:`LIMITS`: blur and glare sigmas at most 50 px, exposure at most
1 s, ...): a value beyond it is a ``ConfigError`` naming the file and key, not a filter that
never ends; the Gaussians' kernels and the motion streak's samples are capped to the window
rendered (a wider one only averages the window, mirrored). Not modelled: lens distortion and vignetting, rolling shutter, Bayer mosaic and
demosaicing, LED flicker (PWM lamps dark in a short exposure), compression.

Config: :class:`CameraEffectsConfig`, a strict YAML (``configs/perception/light_camera_*.yaml``,
:func:`load_camera_effects`; :data:`PRESETS` names them).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivestack.config import load_yaml_config
from drivestack.config.strict import check_config_numbers, from_mapping, load_yaml

_CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "perception"
#: Upper bounds of :class:`CameraEffectsConfig`'s parameters (beyond them a ``ConfigError``):
#: PSF sigmas in full-image px (a 50 px blur already smears a near light's lamps together),
#: the exposure in s, radiance factors, the sensor's electrons per unit radiance (Poisson
#: draws stay far below numpy's limit) and read noise in electrons.
LIMITS: dict[str, float] = {
    "gamma": 10.0,
    "ambient_scale": 1e3,
    "lamp_radiance": 1e3,
    "exposure_gain": 1e6,
    "blur_sigma_px": 50.0,
    "glare_sigma_px": 50.0,
    "exposure_s": 1.0,
    "electrons_per_unit": 1e6,
    "read_noise_e": 1e4,
}
#: Named presets -> their YAML (``ideal``: no effects, today's pixels).
PRESETS: dict[str, Path] = {
    name: _CONFIGS / f"light_camera_{name}.yaml" for name in ("ideal", "day", "dusk", "night")
}


@dataclass(frozen=True)
class CameraEffectsConfig:
    """Parameters of :func:`apply_camera_effects` (see the module doc). Lengths in full-image
    pixels; ``ambient_scale``, ``lamp_radiance``, ``exposure_gain`` are factors on linear
    radiance; ``electrons_per_unit`` 0 switches noise off; each at most its :data:`LIMITS`.
    ``enabled`` defaults to false here (:data:`IDEAL`), to true in a YAML file
    (:func:`load_camera_effects`)."""

    enabled: bool = False
    seed: int = 0
    gamma: float = 2.2
    ambient_scale: float = 1.0
    lamp_radiance: float = 1.0
    exposure_gain: float = 1.0
    blur_sigma_px: float = 0.0
    glare_fraction: float = 0.0
    glare_sigma_px: float = 0.0
    exposure_s: float = 0.0
    electrons_per_unit: float = 0.0
    read_noise_e: float = 0.0

    def __post_init__(self) -> None:
        check_config_numbers(self, "seed", integer=True, at_least=0)
        for name in ("gamma", "ambient_scale", "lamp_radiance", "exposure_gain"):
            check_config_numbers(self, name, above=0.0, at_most=LIMITS[name])
        for name in (
            "blur_sigma_px",
            "glare_sigma_px",
            "exposure_s",
            "electrons_per_unit",
            "read_noise_e",
        ):
            check_config_numbers(self, name, at_least=0.0, at_most=LIMITS[name])
        check_config_numbers(self, "glare_fraction", at_least=0.0, at_most=1.0)


#: No effects (the ideal camera).
IDEAL = CameraEffectsConfig()


def load_camera_effects(path_or_preset: str | Path) -> CameraEffectsConfig:
    """A preset's name (:data:`PRESETS`) or a strict YAML file -> :class:`CameraEffectsConfig`
    (errors name the file and key); a file without ``enabled`` is enabled."""
    path = PRESETS.get(str(path_or_preset), Path(path_or_preset))
    data = load_yaml(path)
    if isinstance(data, dict) and "enabled" not in data:
        data = {**data, "enabled": True}
    if data is None:  # empty: the loader's own error
        return load_yaml_config(CameraEffectsConfig, path)
    return from_mapping(CameraEffectsConfig, data, path=str(path))


def effects_rng(seed: int, timestamp_ns: int, key: str) -> np.random.Generator:
    """The generator of the effects of one rendering: ``seed``'s run, the tick
    ``timestamp_ns``, and ``key`` (e.g. the light's id) apart."""
    words = [int(seed), int(timestamp_ns) & 0xFFFFFFFFFFFFFFFF, zlib.crc32(key.encode())]
    return np.random.default_rng(np.random.SeedSequence(words))


def blur_radiance(
    radiance: np.ndarray,
    config: CameraEffectsConfig,
    stride: int = 1,
    motion_px: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """``radiance (h, w, C)`` float -> the same through the PSF and the motion streak
    ``motion_px (du, dv)`` (full-image px over the exposure), both scaled by ``stride``
    (step 2 of the module doc; the borders reflect, so the sum is kept up to them)."""
    from scipy import ndimage

    out = np.asarray(radiance, dtype=np.float64)
    sigma = config.blur_sigma_px / stride
    glare = config.glare_sigma_px / stride
    if config.glare_fraction > 0.0:  # (a glare of width 0 keeps its share sharp)
        sharp = _gaussian(out, sigma)
        out = (1.0 - config.glare_fraction) * sharp + config.glare_fraction * _gaussian(out, glare)
    else:
        out = _gaussian(out, sigma)
    du, dv = motion_px[0] / stride, motion_px[1] / stride
    length = float(np.hypot(du, dv))
    if length >= 0.5:
        # samples at most 1 px apart along the streak, and no more than the window is wide
        # (a streak longer than the window only averages it)
        n = min(int(np.ceil(length)), 2 * max(out.shape[0], out.shape[1])) + 1
        acc = np.zeros_like(out)
        for f in np.linspace(-0.5, 0.5, n):
            acc += ndimage.shift(out, (f * dv, f * du, 0.0), order=1, mode="reflect")
        out = acc / n
    return out


def _gaussian(image: np.ndarray, sigma_px: float) -> np.ndarray:
    from scipy import ndimage

    if sigma_px <= 0.0:
        return image
    # 4 sigma, but a kernel no wider than the window (mirrored at its borders)
    truncate = min(4.0, max(image.shape[0], image.shape[1]) / sigma_px)
    return ndimage.gaussian_filter(
        image, (sigma_px, sigma_px, 0.0), mode="reflect", truncate=truncate
    )


def sensor_response(
    radiance: np.ndarray, config: CameraEffectsConfig, rng: np.random.Generator
) -> np.ndarray:
    """``radiance (...)`` float >= 0 -> linear intensity ``(...)`` in [0, 1] (step 3 of the
    module doc: gain, Poisson-Gaussian noise, saturation)."""
    q = config.electrons_per_unit
    signal = np.maximum(np.asarray(radiance, dtype=np.float64), 0.0)
    if q > 0.0:
        electrons = rng.poisson(signal * q).astype(np.float64)
        if config.read_noise_e > 0.0:
            electrons += rng.normal(0.0, config.read_noise_e, size=signal.shape)
        signal = electrons / q
    return np.clip(config.exposure_gain * signal, 0.0, 1.0)


def apply_camera_effects(
    rgb: np.ndarray,
    emissive: np.ndarray,
    config: CameraEffectsConfig,
    rng: np.random.Generator,
    *,
    stride: int = 1,
    motion_px: tuple[float, float] = (0.0, 0.0),
) -> np.ndarray:
    """Rendered ``rgb (h, w, 3)`` uint8 and ``emissive (h, w)`` bool (lit lamps) -> the image
    ``(h, w, 3)`` uint8 this camera takes (the module doc's steps); ``rgb`` itself when
    ``config.enabled`` is false. ``ValueError`` for shapes that disagree or a stride < 1."""
    rgb = np.asarray(rgb)
    emissive = np.asarray(emissive, dtype=bool)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be (h, w, 3) uint8, got {rgb.shape} {rgb.dtype}")
    if emissive.shape != rgb.shape[:2]:
        raise ValueError(f"emissive must be {rgb.shape[:2]}, got {emissive.shape}")
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride must be an int >= 1, got {stride!r}")
    if not config.enabled:
        return rgb
    linear = (rgb.astype(np.float64) / 255.0) ** config.gamma
    scale = np.where(emissive, config.lamp_radiance, config.ambient_scale)
    radiance = blur_radiance(linear * scale[:, :, None], config, stride, motion_px)
    intensity = sensor_response(radiance, config, rng)
    return np.round(255.0 * intensity ** (1.0 / config.gamma)).astype(np.uint8)
