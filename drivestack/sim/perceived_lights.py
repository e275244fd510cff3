"""Closed loop with traffic-light perception: the planner sees the lights a camera shows it.

Each tick, for every light that governs the ego's route (:func:`route_light_ids`: a stop the
route passes, into a way out the light governs, as
:func:`~drivestack.planning.traffic_lights.route_light_stops` places them, following
``LaneStop.next_lanes``: a left arrow does not govern a route straight on) and that the map
places (:func:`~drivestack.sim.sensors.scene.light_priors`) ahead of the
camera (its housing's centre in front of the image plane: a light the ego has passed no
longer governs it) within ``max_range_m`` of it, :class:`CameraLightPerception` projects the light's housing
into the simulated camera (:func:`~drivestack.perception.camera.traffic_light_state.light_roi`),
renders only that ROI (every n-th pixel of it for a near light: its housing at most
``max_housing_px`` tall; with the light's true state on its lamps and the tick's agents, which
may hide it) and classifies its lamps
(:func:`~drivestack.perception.camera.traffic_light_state.classify_crop`). The planner's
:class:`~drivestack.sim.world.Observation` then carries those perceived states, ``unknown``
for every other light (out of range, not placed by the map, off the image, too small,
hidden or ambiguous). A light read in a state keeps it for up to ``hold_s`` (the config's)
while it becomes unreadable
(:class:`~drivestack.perception.camera.traffic_light_state.HeldLightStates`); a light no
longer looked at (passed, or out of range) is forgotten. The world itself (its ``idm`` agents, the recorded history, the
red-light metrics) keeps the true states. After the reads, the lights the camera gives no
state (the cross road's, whose lamps face away) get the states
:class:`~drivestack.perception.camera.traffic_light_inference.LightInference` infers from the
tick's fresh reads (a controller-mate's read, unless the scenario gave that controller's
lights different cycles; red for a light whose movement crosses the way the route's light
releases while it reads green), as the config's ``infer_unseen`` switches, so the planners'
agent forecasts stop a cross car at its red (:mod:`drivestack.planning.light_forecast`). Each
perceived light-tick is scored against the truth, the inferred ones apart
(:class:`~drivestack.sim.perception_metrics.LightStateMetrics`).

Each window rendered is degraded by the camera's ``effects``
(:mod:`~drivestack.sim.sensors.camera_effects`: exposure and night, lens blur and glare,
motion blur along the housing's image motion over the exposure from the ego's speed and yaw
rate, Poisson-Gaussian noise drawn from ``(seed, tick, light id)``; none by default, and
then the pixels are the rendering's, bit for bit) before it is classified; the classifier's
raw reads, before the hold, are scored apart (:attr:`CameraLightPerception.raw_metrics`).

The camera (:func:`default_light_camera`) is a wide, high-resolution one: 8000 x
4320 px at a 1500 px focal length (about 139 x 110 degrees), pitched up
``LIGHT_CAMERA_PITCH_DEG`` (25 degrees: it sees from 30 degrees below the horizon to 80 above),
so a light beside the stop line, its housing 5 m up, stays in view until the ego's front is
at the line; a housing 100 m away (2 degrees up) is about 16 px tall; rendering only the ROIs
keeps it cheap. Unpitched, the light left the top of the image once the front was within
about 0.9 m of the line (a late stop, which the planners make halfway to the line, or a small
overshoot), and a stopped ego would have read its light as unknown until it drove on.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.transforms import SE3
from drivestack.perception.camera.traffic_light_inference import LightInference
from drivestack.perception.camera.traffic_light_state import (
    DEFAULT_CONFIG_PATH,
    HeldLightStates,
    TrafficLightConfig,
    TrafficLightPrior,
    classify_crop,
    light_roi,
    load_traffic_light_config,
    project_points,
)
from drivestack.planning.reference_path import ReferencePath
from drivestack.planning.traffic_lights import RouteLightStop, route_light_stops
from drivestack.sim.perceived import PerceivedWorld
from drivestack.sim.perception_metrics import LightStateMetrics
from drivestack.sim.sensors import CameraModel, SensorScene
from drivestack.sim.sensors.camera_effects import (
    IDEAL,
    PRESETS,
    CameraEffectsConfig,
    apply_camera_effects,
    effects_rng,
    load_camera_effects,
)
from drivestack.sim.world import Observation, World
from drivestack.structures._checks import check_number
from drivestack.structures.road_map import RoadMap

#: Lights farther than this (m) from the camera are not looked at (``unknown``).
DEFAULT_LIGHT_RANGE_M = 100.0
#: How far (degrees) the light camera's optical axis is pitched up from the ego's x axis.
LIGHT_CAMERA_PITCH_DEG = 25.0


def default_light_camera() -> CameraModel:
    """The camera of ``--lights camera``: forward, pitched up ``LIGHT_CAMERA_PITCH_DEG``,
    behind the windscreen 1.8 m ahead of the rear axle and 1.5 m up, 8000 x 4320 px, focal
    length 1500 px (see the module doc)."""
    return CameraModel.looking_forward(
        "traffic_light", 8000, 4320, 1500.0, (1.8, 0.0, 1.5), np.radians(LIGHT_CAMERA_PITCH_DEG)
    )


class CameraLightPerception:
    """Observer: world -> camera ROIs of the route's lights -> their perceived states."""

    def __init__(
        self,
        camera: CameraModel,
        scene: SensorScene,
        config: TrafficLightConfig,
        governing: frozenset[str],
        max_range_m: float = DEFAULT_LIGHT_RANGE_M,
        inference: LightInference | None = None,
        effects: CameraEffectsConfig = IDEAL,
    ) -> None:
        check_number("CameraLightPerception.max_range_m", max_range_m, above=0.0)
        self.camera = camera
        self.scene = scene
        self.config = config
        self.effects = effects
        self.max_range_m = float(max_range_m)
        self.priors = [p for p in scene.light_priors if p.light_id in governing]
        self._centres_m = np.array([p.centre_m for p in self.priors]).reshape(-1, 3)
        self.stage_ms: dict[str, list[float]] = {}
        self.metrics = LightStateMetrics()
        self.raw_metrics = LightStateMetrics()
        self.held = HeldLightStates(config.hold_s)
        self.inference = inference

    def reset(self) -> None:
        self.stage_ms = {}
        self.metrics = LightStateMetrics()
        self.raw_metrics = LightStateMetrics()
        self.held.reset()

    def perceive(self, truth: Observation) -> tuple[tuple[str, str], ...]:
        """``(light_id, perceived state)`` for every light of ``truth.traffic_lights`` (the
        true states, rendered on the lamps), inferred (:attr:`inference`) or ``unknown`` for
        those not looked at; the light-ticks looked at (the route's lights ahead within range)
        and those inferred are scored, apart."""
        ego = truth.ego
        world_from_ego = SE3.from_xyz_yaw([ego.x_m, ego.y_m, 0.0], ego.yaw_rad)
        true_states = dict(truth.traffic_lights)
        perceived = dict.fromkeys(true_states, "unknown")
        reads: dict[str, str] = {}  # this tick's fresh reads (not held)
        agents_set = False
        cal = self.camera.calibration
        cam = cal.camera_from_ego.apply(world_from_ego.inverse().apply(self._centres_m))
        ahead = (cam[:, 2] > 0) & (np.linalg.norm(cam, axis=1) <= self.max_range_m)
        for prior, looked_at in zip(self.priors, ahead, strict=True):
            if not looked_at:  # behind the camera (passed) or out of range
                self.held.forget(prior.light_id)
                continue
            state = "unknown"
            roi = light_roi(prior, cal, world_from_ego, self.config)
            if roi is not None:
                if not agents_set:  # agents may hide a light: only when one is looked at
                    self.scene.set_agents(truth.agents)
                    agents_set = True
                stride = roi.read_stride(self.config)
                window = self.camera.render(
                    self.scene,
                    world_from_ego,
                    truth.timestamp_ns,
                    light_states=true_states,
                    window=roi.roi_px,
                    stride=stride,
                )
                crop = np.asarray(window.rgb.pixels)
                if self.effects.enabled:
                    crop = apply_camera_effects(
                        crop,
                        window.emissive,
                        self.effects,
                        effects_rng(self.effects.seed, truth.timestamp_ns, prior.light_id),
                        stride=stride,
                        motion_px=self._motion_px(prior, truth, world_from_ego),
                    )
                state = classify_crop(crop, roi.subsampled(stride), self.config).state
            reads[prior.light_id] = state
            self.raw_metrics.add(true_states.get(prior.light_id, "unknown"), state)
            state = self.held.update(prior.light_id, state, truth.timestamp_ns)
            perceived[prior.light_id] = state
            self.metrics.add(true_states.get(prior.light_id, "unknown"), state)
        if self.inference is not None:
            for light_id, state in self.inference.infer(reads, perceived).items():
                if light_id in perceived:
                    perceived[light_id] = state
                    self.metrics.add_inferred(true_states[light_id], state)
        return tuple(perceived.items())

    def _motion_px(
        self, prior: TrafficLightPrior, truth: Observation, world_from_ego: SE3
    ) -> tuple[float, float]:
        """Image-plane motion ``(du, dv)`` (px) of ``prior``'s housing centre over the
        effects' exposure ``exposure_s`` ending at this tick, from the ego's speed and yaw
        rate (the light stands still)."""
        dt = self.effects.exposure_s
        ego = truth.ego
        if dt <= 0.0 or (ego.speed_mps == 0.0 and ego.yaw_rate_radps == 0.0):
            return (0.0, 0.0)
        yaw = ego.yaw_rad - ego.yaw_rate_radps * dt
        step = ego.speed_mps * dt
        before = SE3.from_xyz_yaw(
            [ego.x_m - step * np.cos(yaw), ego.y_m - step * np.sin(yaw), 0.0], yaw
        )
        centre = np.asarray([prior.centre_m])
        now_uv, _ = project_points(centre, self.camera.calibration, world_from_ego)
        before_uv, _ = project_points(centre, self.camera.calibration, before)
        du, dv = (now_uv - before_uv)[0]
        return (float(du), float(dv))

    def observe(self, world: World) -> Observation:
        truth = world.observe()
        start = time.perf_counter()
        lights = self.perceive(truth)
        self.stage_ms.setdefault("traffic_lights", []).append(1e3 * (time.perf_counter() - start))
        return dataclasses.replace(truth, traffic_lights=lights)

    def timing_ms(self) -> dict[str, float]:
        """Median milliseconds per tick of the light perception so far."""
        return {stage: float(np.median(values)) for stage, values in self.stage_ms.items()}


def route_light_ids(
    road_map: RoadMap, route_lanes: list[str] | tuple[str, ...], reference: ReferencePath
) -> frozenset[str]:
    """The ids of the lights that govern the route ``route_lanes`` (its reference path
    ``reference``): those with a stop the planners place on it
    (:func:`~drivestack.planning.traffic_lights.route_light_stops`: on the route's lanes,
    into a way out the light governs)."""
    return light_ids_of(route_light_stops(road_map, route_lanes, reference))


def light_ids_of(stops: tuple[RouteLightStop, ...]) -> frozenset[str]:
    """The ids of the lights of route stops ``stops``."""
    return frozenset(stop.light_id for stop in stops)


def light_camera_effects(preset: str | None, lights: str) -> CameraEffectsConfig:
    """``drivestack sim --light-camera PRESET`` with ``--lights lights``: the preset's (a name
    of :data:`~drivestack.sim.sensors.camera_effects.PRESETS` or a YAML file) effects, none
    without one; ``DataError`` naming the option for a preset without ``--lights camera``
    (it would be ignored), ``ConfigError`` naming the file and key for a bad one."""
    if preset is None:
        return IDEAL
    if lights != "camera":
        raise DataError(
            f"--light-camera {preset} is used only with --lights camera (got --lights {lights})",
            field="--light-camera",
        )
    if preset not in PRESETS and not Path(preset).is_file():
        raise DataError(
            f"neither a preset ({', '.join(PRESETS)}) nor a YAML file",
            path=preset,
            field="--light-camera",
        )
    return load_camera_effects(preset)


def with_light_perception(
    built: Any,
    config: TrafficLightConfig | None = None,
    camera: CameraModel | None = None,
    max_range_m: float = DEFAULT_LIGHT_RANGE_M,
    effects: CameraEffectsConfig = IDEAL,
) -> Any:
    """A copy of a built scenario whose planner sees the lights of its route through the
    camera and those it infers from them (see the module doc); ``config`` defaults to
    :data:`DEFAULT_CONFIG_PATH`; ``effects``: the camera's degradation
    (:mod:`~drivestack.sim.sensors.camera_effects`, default none). The route's stops and the
    lights that conflict with them are found here, once per scenario, on ``built.road_map``:
    the map with the scenario's cycles, which say which controllers can be trusted."""
    config = config or load_traffic_light_config(DEFAULT_CONFIG_PATH)
    stops = route_light_stops(built.road_map, built.route_lanes, built.reference)
    infer = config.infer_unseen
    inference = (
        LightInference(built.road_map, built.route_lanes, stops, infer)
        if infer.same_controller or infer.conflicting_green
        else None
    )
    perception = CameraLightPerception(
        camera or default_light_camera(),
        SensorScene.from_road_map(built.road_map),
        config,
        light_ids_of(stops),
        max_range_m,
        inference,
        effects,
    )
    return dataclasses.replace(built, world=PerceivedWorld(built.world, perception))
