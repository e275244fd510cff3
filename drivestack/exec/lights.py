"""Traffic lights in fleets: how a run's planner learns the lights' states, per variant.

``--lights truth`` (the default) gives the planners the lights' true states; ``--lights
camera`` a simulated camera's reads of them (:mod:`drivestack.sim.perceived_lights`), the
images degraded by ``--light-camera``'s effects
(:mod:`drivestack.sim.sensors.camera_effects`). :class:`FleetLights` is what a worker needs
of it: plain, frozen data (the effects config read once, by the driver: a Ray worker on
another machine need not have the YAML file), pickled with each task.

Noise per variant: a fleet's variants must not all draw the same sensor noise (30 seeded
variants at night would be 30 looks at one noise pattern), and a variant must draw the same
noise when it runs again (a resume, a rerun). So each variant's camera gets the seed
:func:`effects_seed` ``(effects.seed, variant.seed)``, a 63-bit SHA-256 of the two, and its
metrics.json records the effects it ran with (``light_camera.seed``). Variants of the same
scenario and index share their seed across planners (``drivestack.exec.sweep.variant_seed``
does not depend on the planner), so pdm and idm see the same pixels: a paired comparison. An
effects config that is not enabled (``ideal``) draws no noise and keeps its seed.

Figures: each run records ``light_perception`` (the held reads the planner gets, and the
inferred lights), ``light_perception_raw`` (the classifier's reads before the hold) and
``light_perception_median_ms`` (:func:`light_record_fields`, shared with ``drivestack
sim``); summaries pool them per planner (:func:`pool_light_results`, the same figures as
:meth:`~drivestack.sim.perception_metrics.LightStateMetrics.merge` then ``result``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (imported when used: the camera's modules are not cheap to import)
    from drivestack.sim.sensors.camera_effects import CameraEffectsConfig

#: The ``--lights`` modes.
LIGHTS_MODES = ("truth", "camera")
#: The run record's key of the held reads (what the planner gets), the classifier's raw reads,
#: and the light perception's median time per tick.
LIGHT_KEYS = ("light_perception", "light_perception_raw")
LIGHT_TIMING_KEY = "light_perception_median_ms"


@dataclass(frozen=True)
class FleetLights:
    """How a fleet's planners see the traffic lights: ``lights`` (``truth`` or ``camera``),
    ``preset`` (``--light-camera`` as given: a preset's name or a YAML path; None without
    one) and ``effects`` (its config; None or
    :data:`~drivestack.sim.sensors.camera_effects.IDEAL` without one: the ideal camera)."""

    lights: str = "truth"
    preset: str | None = None
    effects: CameraEffectsConfig | None = None

    def __post_init__(self) -> None:
        if self.lights not in LIGHTS_MODES:
            raise ValueError(f"FleetLights.lights: {self.lights!r} is not one of {LIGHTS_MODES}")
        camera = self.preset is not None or (self.effects is not None and self.effects.enabled)
        if self.lights != "camera" and camera:
            raise ValueError("FleetLights: a light camera is used only with lights 'camera'")

    @property
    def camera_effects(self) -> CameraEffectsConfig:
        """The camera's effects (:data:`~drivestack.sim.sensors.camera_effects.IDEAL`
        without any)."""
        from drivestack.sim.sensors.camera_effects import IDEAL

        return IDEAL if self.effects is None else self.effects

    def manifest_value(self) -> dict[str, Any] | None:
        """The manifest's ``light_camera`` (fleet.json, as sim.json records it): the preset's
        name (``ideal`` without one) and the effects; None with the true states."""
        if self.lights != "camera":
            return None
        return {"preset": self.preset or "ideal", **vars(self.camera_effects)}

    def variant_effects(self, variant_seed: int) -> CameraEffectsConfig:
        """The effects of the variant seeded ``variant_seed``: this fleet's, with the seed
        :func:`effects_seed` when they are enabled (else as they are: no noise is drawn)."""
        effects = self.camera_effects
        if not effects.enabled:
            return effects
        return dataclasses.replace(effects, seed=effects_seed(effects.seed, variant_seed))


#: The planners see the lights' true states (a fleet's default).
TRUE_LIGHTS = FleetLights()


def effects_seed(seed: int, variant_seed: int) -> int:
    """A 63-bit camera-noise seed from the effects' ``seed`` and a variant's seed (SHA-256 of
    ``"<seed>:<variant_seed>"``, as :func:`drivestack.exec.sweep.variant_seed` makes seeds).

    >>> effects_seed(0, 1) == effects_seed(0, 1) != effects_seed(0, 2)
    True
    """
    digest = hashlib.sha256(f"{int(seed)}:{int(variant_seed)}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def light_camera_identity(value: object) -> object:
    """A manifest's ``light_camera`` as a resume compares it: by its effects, not its preset's
    name (a YAML copy of ``night`` is ``night``), and None when it has none (missing, or
    ``enabled`` false: the ideal camera, as every run had before ``--light-camera``)."""
    if not isinstance(value, dict) or not value.get("enabled"):
        return None
    return tuple(sorted((k, repr(v)) for k, v in value.items() if k != "preset"))


#: The manifest keys (sim.json, fleet.json) that say how the planners saw the lights: a resume
#: with other values is refused (compared by :func:`lights_identity`).
LIGHT_IDENTITY_KEYS = ("lights", "light_camera")


def lights_identity(key: str, value: object) -> object:
    """A manifest's ``lights`` or ``light_camera`` (:data:`LIGHT_IDENTITY_KEYS`) as a resume
    compares it, ``drivestack sim``'s and a fleet's alike: no ``lights`` (a manifest from
    before ``--lights``) as ``truth``; a ``light_camera`` by :func:`light_camera_identity`."""
    if key == "light_camera":
        return light_camera_identity(value)
    return "truth" if value is None else value


def light_camera_shown(value: object) -> str:
    """A manifest's ``light_camera`` in a refusal: its preset's name, ``none`` without one."""
    if isinstance(value, dict) and "preset" in value:
        return str(value["preset"])
    return "none" if value is None else str(value)


def light_record_fields(observer: Any, preset: str | None) -> dict[str, Any]:
    """A run's light-perception fields from its
    :class:`~drivestack.sim.perceived_lights.CameraLightPerception` ``observer`` (after the
    run): ``light_perception`` (held reads and inferences,
    :meth:`~drivestack.sim.perception_metrics.LightStateMetrics.result`),
    ``light_perception_raw`` (the classifier's reads before the hold, the same figures),
    ``light_perception_median_ms`` and ``light_camera`` (``preset``, the ``--light-camera``
    given, None without one, and the effects the run's camera had, seed included)."""
    return {
        LIGHT_TIMING_KEY: observer.timing_ms().get("traffic_lights"),
        "light_perception": observer.metrics.result(),
        "light_perception_raw": observer.raw_metrics.result(),
        "light_camera": {"preset": preset, **vars(observer.effects)},
    }


def _add_nested(total: dict[str, dict[str, int]], counts: dict[str, Any]) -> None:
    for truth, row in counts.items():
        mine = total.setdefault(truth, {})
        for seen, n in row.items():
            mine[seen] = mine.get(seen, 0) + int(n)


def pool_light_results(results: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several runs' :meth:`~drivestack.sim.perception_metrics.LightStateMetrics.result`
    figures pooled over their light-ticks: the ``result`` of the runs' metrics merged (counts
    summed, accuracies and the unknown share over the pooled counts; ``confusion`` and
    ``inferred.wrong`` rows and columns ordered by state name)."""
    confusion: dict[str, dict[str, int]] = {}
    wrong: dict[str, dict[str, int]] = {}
    n_inferred = truth_unknown = correct = 0
    for result in results:
        _add_nested(confusion, result.get("confusion") or {})
        inferred = result.get("inferred") or {}  # older records: no inferences
        n_inferred += int(inferred.get("light_ticks") or 0)
        truth_unknown += int(inferred.get("truth_unknown") or 0)
        correct += int(inferred.get("correct") or 0)
        _add_nested(wrong, inferred.get("wrong") or {})
    n = sum(sum(row.values()) for row in confusion.values())
    hits = sum(row.get(truth, 0) for truth, row in confusion.items())
    unknown = sum(row.get("unknown", 0) for row in confusion.values())
    n_scored = n_inferred - truth_unknown
    return {
        "light_ticks": n,
        "accuracy": hits / n if n else None,
        "unknown_share": unknown / n if n else None,
        "confusion": _sorted_nested(confusion),
        "inferred": {
            "light_ticks": n_inferred,
            "truth_unknown": truth_unknown,
            "correct": correct,
            "accuracy": correct / n_scored if n_scored else None,
            "wrong": _sorted_nested(wrong),
        },
    }


def _sorted_nested(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    from drivestack.structures.traffic_light import SIGNAL_STATES

    def order(state: str) -> tuple[int, str]:
        return (SIGNAL_STATES.index(state) if state in SIGNAL_STATES else len(SIGNAL_STATES), state)

    return {
        t: {s: counts[t][s] for s in sorted(counts[t], key=order) if counts[t][s]}
        for t in sorted(counts, key=order)
        if any(counts[t].values())
    }


def pooled_light_perception(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """``{"light_perception": pooled, "light_perception_raw": pooled}`` over the ``records``
    (runs' metrics.json or fleet index records) that carry them (:func:`pool_light_results`);
    a key none of them has is left out (``{}`` for runs with the true states)."""
    records = list(records)
    out = {}
    for key in LIGHT_KEYS:
        mine = [r[key] for r in records if isinstance(r.get(key), dict)]
        if mine:
            out[key] = pool_light_results(mine)
    return out
