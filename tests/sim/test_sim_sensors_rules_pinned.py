"""Rules of the simulated sensors pinned by hand-derived values (a mutation review of
drivestack.sim.sensors.lidar, .camera and .scene found them unguarded): ring numbering of
an unordered beam layout, the default sweep and minimum range, noise seeded per sweep, the
agents' time slabs, the detection limit reached at the true range, inclusive range bounds,
refused settings, the materials of cyclists and traffic-light parts, the camera's shading
of ground and sky, instance ids behind a light, the share of an agent out of view and
unlit lamps of a light not given.

Most LiDAR checks use one beam pointing straight down (elevation -90 deg) over the ground
plane z = 0: every column then hits the ground face-on (cos(incidence) = 1) at exactly the
mount height, so ranges, signals and bounds are exact in float32.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.perception.camera.traffic_light_state import TrafficLightPrior
from drivestack.sim.sensors import CameraModel, LidarModel, LidarPreset, SensorScene
from drivestack.sim.sensors.scene import (
    ALBEDO,
    LAMP_RGB,
    REFLECTIVITY,
    Material,
    SceneObject,
)
from drivestack.structures import Boxes3D, ObjectClass

ROAD = REFLECTIVITY[Material.ROAD]  # 0.9


def _down_model(
    height_m: float = 1.0,
    *,
    n_azimuth: int = 4,
    max_range_m: float = 10.0,
    min_range_m: float | None = None,
    **kwargs: float,
) -> LidarModel:
    """A LiDAR of one beam straight down, ``height_m`` above the ground, no range noise unless
    given; ``min_range_m`` None: the preset's default."""
    preset = (
        LidarPreset("down", (-90.0,), n_azimuth, max_range_m)
        if min_range_m is None
        else LidarPreset("down", (-90.0,), n_azimuth, max_range_m, min_range_m=min_range_m)
    )
    settings: dict[str, float] = {"range_noise_std_m": 0.0} | kwargs
    mount = SE3.from_xyz_yaw([0.0, 0.0, height_m], 0.0)
    return LidarModel(preset, mount, **settings)  # type: ignore[arg-type]


def _ranges(model: LidarModel, timestamp_ns: int = 0) -> np.ndarray:
    cloud = model.scan(SensorScene(), SE3.identity(), timestamp_ns)
    return np.linalg.norm(cloud.xyz_m.astype(np.float64), axis=1)


# --- lidar.py: layout, defaults, seeding, time slabs, settings -----------------------------


def test_rings_rank_an_unordered_layout_from_the_lowest_beam() -> None:
    """Elevations may come in any order: beam b's ring is its rank from the lowest beam.
    (5, -10, 0) deg: -10 is the lowest (ring 0), 0 the next (1), 5 the top (2), so the beams
    in the preset's order carry rings (2, 0, 1). (The argsort (1, 2, 0) is a different
    permutation: a 3-cycle is not its own inverse.) Ouster numbering from the top: 5 -> 0,
    0 -> 1, -10 -> 2, i.e. (0, 2, 1)."""
    velodyne = LidarModel(LidarPreset("v", (5.0, -10.0, 0.0), 8, 50.0), SE3.identity())
    assert velodyne.ray_layout()[1].tolist() == [2, 0, 1]
    ouster = LidarModel(
        LidarPreset("o", (5.0, -10.0, 0.0), 8, 50.0, ring_zero_top=True), SE3.identity()
    )
    assert ouster.ray_layout()[1].tolist() == [0, 2, 1]


def test_a_default_sweep_takes_a_tenth_of_a_second() -> None:
    """10 Hz by default: 4 columns at relative azimuths pi, pi/2, 0, -pi/2 fire at
    -T * relative / (2 pi) = -T/2, -T/4, 0, T/4 = -50, -25, 0, 25 ms with T = 0.1 s."""
    model = _down_model()
    assert model.sweep_duration_s == 0.1
    cloud = model.scan(SensorScene(), SE3.identity(), 0)
    assert cloud.attributes["time_offset_ns"].tolist() == [-50_000_000, -25_000_000, 0, 25_000_000]


def test_the_default_minimum_range_is_half_a_metre() -> None:
    """A preset's default ``min_range_m`` is 0.5 m: the ground 0.45 m below a downward beam is
    too near (no return in any column), 0.55 m below it is kept in all 4 columns."""
    assert LidarPreset("x", (0.0,), 4, 10.0).min_range_m == 0.5
    assert len(_ranges(_down_model(0.45))) == 0
    np.testing.assert_allclose(_ranges(_down_model(0.55)), 0.55, rtol=1e-6)


def test_range_noise_is_seeded_by_the_sweeps_timestamp() -> None:
    """Each sweep's noise is drawn from (seed, timestamp): the same timestamp repeats its
    ranges exactly, another timestamp draws other noise (64 Gaussian draws of 2 cm: the
    chance that all 64 coincide is nil)."""
    model = _down_model(n_azimuth=64, range_noise_std_m=0.02)
    first, again, later = _ranges(model, 0), _ranges(model, 0), _ranges(model, 100_000_000)
    assert len(first) == len(later) == 64
    np.testing.assert_array_equal(first, again)
    assert np.std(first) > 0.005  # noise is applied (around 0.02 m)
    assert np.count_nonzero(first != later) > 60


def test_agents_move_in_slabs_of_twice_the_tolerance() -> None:
    """The agents are cast at K = ceil(speed * T / (2 tol)) slab times, each the mean time of
    its run of columns. A wall (near face x = 9.5 m) moving at 20 m/s, T = 0.1 s, tol =
    0.125 m: K = ceil(2 / 0.25) = 8 slabs of 360 / 8 = 45 columns. Column k fires at
    -0.05 + k / 3600 s; the forward column (k = 180, time 0) lies in slab 4 (k = 180..224,
    mean k 202), cast at -0.05 + 202 / 3600 = 6.1111 ms, so it sees the face at
    9.5 + 20 * 0.0061111 = 9.6222 m (0.122 m off its true place, within the tolerance).
    Slabs of one tolerance (16 slabs) would put it at 9.5611 m."""
    scene = SensorScene(ground=False)
    scene.set_agents(
        Boxes3D.from_array7(
            [[10.0, 0.0, 0.0, 1.0, 40.0, 6.0, 0.0]],
            "world",
            label=[ObjectClass.UNKNOWN],
            velocity_mps=[[20.0, 0.0]],
        )
    )
    model = LidarModel(
        LidarPreset("flat", (0.0,), 360, 100.0),
        SE3.identity(),
        range_noise_std_m=0.0,
        sweep_duration_s=0.1,
        agent_motion_tolerance_m=0.125,
    )
    cloud = model.scan(scene, SE3.identity(), 0)
    forward = cloud.attributes["time_offset_ns"] == 0
    assert forward.sum() == 1 and cloud.attributes["instance"][forward][0] == 1
    assert float(cloud.xyz_m[forward][0, 0]) == pytest.approx(
        9.5 + 20.0 * (202 / 3600 - 0.05), abs=1e-3
    )


def test_a_certain_dropout_is_refused() -> None:
    """``dropout_probability`` lies in [0, 1): 1 would lose every return."""
    with pytest.raises(ValueError, match="dropout_probability"):
        _down_model(dropout_probability=1.0)


def test_a_preset_with_no_range_window_is_refused() -> None:
    """``0 <= min_range_m < max_range_m``: equal bounds leave no range to return."""
    with pytest.raises(ValueError, match="min_range_m < max_range_m"):
        LidarPreset("x", (0.0,), 4, 5.0, min_range_m=5.0)


def test_the_vlp32_sees_a_building_150_m_away() -> None:
    """The VLP-32C ranges to 200 m (its manual): a face-on building 150 m ahead (signal
    0.45 / 150**2 = 2.0e-5 per m^2, above the default limit 3.04e-6) returns at 150 m. (The
    ground that far is far below the limit: 0.9 * 1.73 / 150**3 = 4.6e-7.)"""
    scene = SensorScene(
        [SceneObject((150.5, 0.0, 10.0, 1.0, 40.0, 20.0, 0.0), Material.BUILDING)], ground=False
    )
    model = LidarModel.from_preset("vlp32", SE3.identity(), range_noise_std_m=0.0)
    assert model.preset.max_range_m == 200.0
    cloud = model.scan(scene, SE3.identity(), 0)
    forward = cloud.xyz_m[(cloud.attributes["time_offset_ns"] == 0)]
    # the forward column's horizontal beam (elevation 0) meets the face at x = 150 m
    assert np.any(np.abs(forward[:, 0] - 150.0) < 1e-3)


# --- the returns (assembled by _fused.assemble_returns / merge_hits) ------------------------


def test_a_return_at_exactly_the_detection_limit_is_kept() -> None:
    """Detected when ``reflectivity * cos / range**2`` *reaches* the limit: the road (0.9)
    face-on at 1 m gives exactly 0.9 per m^2, kept with a limit of 0.9 in every column, lost
    with the next float above it."""
    assert len(_ranges(_down_model(min_signal_per_m2=ROAD))) == 4
    assert len(_ranges(_down_model(min_signal_per_m2=float(np.nextafter(ROAD, 1.0))))) == 0


def test_the_detection_limit_is_judged_at_the_true_range() -> None:
    """Range noise does not decide detection: the road 1 m below at exactly the limit (0.9
    per m^2 at the true 1 m) is kept in all 64 columns, although about half of the noisy
    ranges lie beyond 1 m (where the signal would fall below the limit)."""
    model = _down_model(n_azimuth=64, range_noise_std_m=0.05, min_signal_per_m2=ROAD)
    ranges = _ranges(model)
    assert len(ranges) == 64
    assert np.count_nonzero(ranges > 1.0) > 10  # noisy ranges beyond the true one were kept


def test_a_return_at_exactly_the_maximum_range_is_kept() -> None:
    """No return lies *beyond* ``max_range_m``: the ground exactly 1 m below with a 1 m
    maximum range returns in all 4 columns, at 1 m."""
    ranges = _ranges(_down_model(1.0, max_range_m=1.0, min_range_m=0.5))
    assert len(ranges) == 4
    np.testing.assert_array_equal(ranges, 1.0)


def test_a_return_at_exactly_the_minimum_range_is_kept() -> None:
    """No return lies *nearer* than ``min_range_m``: the ground exactly 1 m below with a 1 m
    minimum range returns in all 4 columns."""
    ranges = _ranges(_down_model(1.0, max_range_m=2.0, min_range_m=1.0))
    assert len(ranges) == 4
    np.testing.assert_array_equal(ranges, 1.0)


# --- scene.py: materials, lights, static boxes ---------------------------------------------

# a light 10 m ahead on the x axis facing back at the origin: housing (0.3 deep, 0.4 wide,
# 1.05 tall) centred 5 m up, so its front face is x = 9.85 and it spans z 4.475..5.525; its
# pole 0.15 m square from the ground to 4.475 m (front face x = 9.925); the red lamp's
# front face 2 cm before the housing (x = 9.83), 0.3 m square, centred z = 5.35
LIGHT = TrafficLightPrior("L", (10.0, 0.0, 5.0), math.pi)
X = np.array([[1.0, 0.0, 0.0]])


def test_agents_are_persons_or_vehicles_by_their_mesh() -> None:
    """Cyclists (their rider) and pedestrians are PERSON, cars VEHICLE. Three boxes 10 m
    ahead on separate y, each ray at 70 % of the box's height (the rider's torso, the
    pedestrian's torso, the car's cabin)."""
    scene = SensorScene(ground=False)
    scene.set_agents(
        Boxes3D.from_array7(
            [
                [10.0, 0.0, 0.9, 1.8, 0.7, 1.8, 0.0],
                [10.0, 5.0, 0.9, 0.6, 0.6, 1.8, 0.0],
                [10.0, -5.0, 0.75, 4.0, 1.8, 1.5, 0.0],
            ],
            "world",
            label=[ObjectClass.CYCLIST, ObjectClass.PEDESTRIAN, ObjectClass.CAR],
        )
    )
    origins = np.array([[0.0, 0.0, 1.26], [0.0, 5.0, 1.26], [0.0, -5.0, 1.05]])
    hits = scene.cast(origins, np.repeat(X, 3, axis=0), 100.0)
    assert hits.instance.tolist() == [1, 2, 3]
    assert hits.material.tolist() == [Material.PERSON, Material.PERSON, Material.VEHICLE]


@pytest.mark.parametrize(
    ("origin", "material", "slot", "range_m"),
    [
        ((0.0, 0.0, 5.35), Material.LAMP, 0, 9.83),  # the red lamp
        ((0.0, 0.18, 5.0), Material.LIGHT_HOUSING, -1, 9.85),  # beside the lamps
        ((0.0, 0.0, 2.0), Material.POLE, -2, 9.925),  # below the housing
    ],
)
def test_a_lights_parts_carry_their_materials(
    origin: tuple[float, float, float], material: Material, slot: int, range_m: float
) -> None:
    """Lamps (slots 0..2; red is 0) are LAMP, the housing LIGHT_HOUSING, the pole POLE, each
    hit where the geometry above puts its front face."""
    scene = SensorScene(light_priors=[LIGHT])
    hits = scene.cast_lights(np.array([origin]), X, 100.0)
    assert hits.material.tolist() == [material]
    assert hits.slot.tolist() == [slot] and hits.light.tolist() == [0]
    assert float(hits.range_m[0]) == pytest.approx(range_m, abs=1e-4)


def test_a_light_hit_at_exactly_the_maximum_range_is_kept() -> None:
    """``cast_lights`` keeps hits *within* ``max_range_m``: the pole's face, cast again with
    its own distance as the limit, is still hit."""
    scene = SensorScene(light_priors=[LIGHT])
    origin = np.array([[0.0, 0.0, 2.0]])
    first = scene.cast_lights(origin, X, 100.0)
    at_limit = scene.cast_lights(origin, X, float(first.range_m[0]))
    assert at_limit.range_m[0] == first.range_m[0] and at_limit.material[0] == Material.POLE


def test_a_flat_static_box_is_accepted() -> None:
    """Static boxes need sizes >= 0: a wall of zero thickness is a valid scene object."""
    scene = SensorScene([SceneObject((5.0, 0.0, 1.0, 0.0, 2.0, 2.0, 0.0), Material.BUILDING)])
    assert scene.has_static


# --- camera.py: shading, instance ids, visible share, lamps --------------------------------


def _pixel_camera(z_m: float, y_m: float = 0.0) -> CameraModel:
    """A 1 x 1 camera (focal 1 px): its one ray goes along ego +x from (0, y_m, z_m)."""
    return CameraModel.looking_forward("p", 1, 1, 1.0, (0.0, y_m, z_m))


def test_ground_and_sky_pixels_have_the_hand_computed_colours() -> None:
    """4 x 4 camera, focal 2 px, principal point (2, 2), 1 m above the ground. Pixel (u, v)
    = (1, 3), centre (1.5, 3.5): camera ray (-0.25, 0.75, 1), length sqrt(1.625) =
    1.274755; it meets the ground at cos(incidence) = 0.75 / 1.274755 = 0.588348, so shade
    0.35 + 0.65 * 0.588348 = 0.732426 of the road's albedo (90, 90, 95): (65.92, 65.92,
    69.58), stored as (65, 65, 69); its depth is the camera z 1 / 0.75 = 1.3333 m. The top
    row looks up and misses everything: the sky's colour (135, 180, 230) unshaded, depth 0."""
    camera = CameraModel.looking_forward("c", 4, 4, 2.0, (0.0, 0.0, 1.0))
    images = camera.render(SensorScene(), SE3.identity(), 0)
    rgb = np.asarray(images.rgb.pixels)
    assert tuple(rgb[3, 1]) == (65, 65, 69)
    assert float(images.depth_m[3, 1]) == pytest.approx(4.0 / 3.0, rel=1e-5)
    assert ALBEDO[Material.NONE] == (135, 180, 230)
    assert all(tuple(rgb[0, u]) == (135, 180, 230) for u in range(4))
    assert np.all(images.depth_m[0] == 0.0)


def test_an_agent_behind_a_lights_pole_is_not_its_pixel() -> None:
    """A car box 18 m ahead behind the light's pole (face 9.925 m ahead): the pixel shows the
    pole, face-on (shade 1: the pole's albedo (120, 120, 120)), at depth 9.925 m, with
    instance 0 (background), not the car's 1."""
    scene = SensorScene(light_priors=[LIGHT])
    scene.set_agents(
        Boxes3D.from_array7(
            [[20.0, 0.0, 1.5, 4.0, 2.0, 3.0, 0.0]], "world", label=[ObjectClass.UNKNOWN]
        )
    )
    images = _pixel_camera(2.0).render(scene, SE3.identity(), 0)
    assert int(images.instance[0, 0]) == 0
    assert float(images.depth_m[0, 0]) == pytest.approx(9.925, abs=1e-4)
    np.testing.assert_allclose(np.asarray(images.rgb.pixels)[0, 0], (120, 120, 120), atol=1)
    without_light = SensorScene()
    without_light.set_agents(scene.agents)  # type: ignore[arg-type]
    assert int(_pixel_camera(2.0).render(without_light, SE3.identity(), 0).instance[0, 0]) == 1


def test_an_agent_out_of_the_image_has_no_visible_share() -> None:
    """A wall filling the whole 4 x 4 image 9 m ahead is seen in all 16 of its 16 silhouette
    pixels (share 1); a box behind the camera has no pixel: NaN, not 0."""
    scene = SensorScene(ground=False)
    scene.set_agents(
        Boxes3D.from_array7(
            [[10.0, 0.0, 1.0, 2.0, 30.0, 30.0, 0.0], [-10.0, 0.0, 1.0, 2.0, 2.0, 2.0, 0.0]],
            "world",
            label=[ObjectClass.UNKNOWN, ObjectClass.UNKNOWN],
        )
    )
    camera = CameraModel.looking_forward("c", 4, 4, 2.0, (0.0, 0.0, 1.0))
    share = camera.visible_fraction(scene, SE3.identity(), camera.render(scene, SE3.identity(), 0))
    assert share[0] == 1.0 and math.isnan(share[1])


def test_a_light_not_given_shows_its_lamps_unlit() -> None:
    """The red lamp seen face-on (shade 1): with no state for the light it is an unlit lamp,
    albedo (40, 40, 40), not emissive; with ``red`` it shows LAMP_RGB[0] and is emissive;
    the housing beside it is (25, 25, 25) either way."""
    scene = SensorScene(light_priors=[LIGHT])
    lamp = _pixel_camera(5.35)
    unlit = lamp.render(scene, SE3.identity(), 0)
    np.testing.assert_allclose(np.asarray(unlit.rgb.pixels)[0, 0], (40, 40, 40), atol=1)
    assert not unlit.emissive[0, 0]
    red = lamp.render(scene, SE3.identity(), 0, light_states={"L": "red"})
    assert tuple(np.asarray(red.rgb.pixels)[0, 0]) == LAMP_RGB[0] and red.emissive[0, 0]
    housing = _pixel_camera(5.0, 0.18).render(scene, SE3.identity(), 0, light_states={"L": "red"})
    np.testing.assert_allclose(np.asarray(housing.rgb.pixels)[0, 0], (25, 25, 25), atol=1)


def test_an_agent_entered_at_exactly_the_maximum_range_counts_in_its_silhouette() -> None:
    """``agent_ray_counts`` counts rays passing through an agent *within* ``max_range_m``: a
    ray entering a box exactly at the limit (its first hit's distance, about 9 m) passes
    through it, once."""
    scene = SensorScene(ground=False)
    scene.set_agents(
        Boxes3D.from_array7(
            [[10.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]], "world", label=[ObjectClass.UNKNOWN]
        )
    )
    origin = np.zeros((1, 3))
    entry = float(scene.cast(origin, X, 100.0).range_m[0])
    assert entry == pytest.approx(9.0, abs=1e-5)
    assert scene.agent_ray_counts(origin, X, entry).tolist() == [1]
