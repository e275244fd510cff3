"""Rules of the simulated sensors' building blocks pinned by hand-derived values (a mutation
review of drivestack.sim.sensors.meshes, .roadside, .camera_effects and ._fused found them
unguarded): the class -> mesh mapping, outward-facing triangles, the meshes placed box by box,
the roadside objects' sizes, offsets and drop rules, the camera's config bounds, stride
scaling of the motion streak and the streak's sampling, and the LiDAR kernels' draw order.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from drivestack.config.strict import ConfigValueError
from drivestack.sim.sensors.camera_effects import (
    LIMITS,
    CameraEffectsConfig,
    apply_camera_effects,
    blur_radiance,
    effects_rng,
    sensor_response,
)
from drivestack.sim.sensors.meshes import boxes_mesh, template_for, unit_mesh
from drivestack.sim.sensors.roadside import outward_normals, points_at, roadside_objects
from drivestack.structures.labels import ObjectClass
from tests.sim.sensors.test_roadside import _footprint

# --- meshes.py ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "template"),
    [
        (ObjectClass.CAR, "car"),
        (ObjectClass.VAN, "car"),
        (ObjectClass.TRUCK, "truck"),
        (ObjectClass.BUS, "truck"),
        (ObjectClass.TRAILER, "truck"),
        (ObjectClass.OTHER_VEHICLE, "truck"),
        (ObjectClass.PEDESTRIAN, "pedestrian"),
        (ObjectClass.CYCLIST, "cyclist"),
        (ObjectClass.MOTORCYCLE, "cyclist"),
        (ObjectClass.UNKNOWN, "box"),
        (ObjectClass.BARRIER, "box"),
        (ObjectClass.TRAFFIC_CONE, "box"),
        (ObjectClass.ANIMAL, "box"),
    ],
)
def test_each_class_gets_the_mesh_of_its_silhouette(label: ObjectClass, template: str) -> None:
    """Cars and vans are car-shaped, the large vehicles truck-shaped, motorcycles ride like
    cyclists; static or unknown things (barrier, cone, animal, unknown) are a plain box."""
    assert template_for(int(label)) == template


@pytest.mark.parametrize("template", ["car", "truck", "pedestrian", "cyclist", "box"])
def test_unit_meshes_lie_in_the_unit_box_over_its_full_height(template: str) -> None:
    """Every template lies in [-0.5, 0.5]^2 x [0, 1] and spans the box's full height (bottom
    0 to top 1), so a scaled mesh is as tall as its box; its triangles face outward: each
    triangle's (counter-clockwise) normal points away from the centre of its cuboid."""
    v, t = unit_mesh(template)
    assert v.dtype == np.float64 and t.dtype == np.uint32
    assert np.all(v[:, :2] >= -0.5) and np.all(v[:, :2] <= 0.5)
    assert v[:, 2].min() == 0.0 and v[:, 2].max() == 1.0
    assert len(v) % 8 == 0 and len(t) == 12 * (len(v) // 8)
    for k, tri in enumerate(t):
        part = v[8 * (k // 12) : 8 * (k // 12) + 8]
        a, b, c = v[tri]
        assert set(tri.tolist()) <= set(range(8 * (k // 12), 8 * (k // 12) + 8))
        normal = np.cross(b - a, c - a)
        assert np.dot(normal, (a + b + c) / 3 - part.mean(axis=0)) > 0, (template, k)


def test_a_cars_cabin_is_narrower_and_shorter_than_its_body() -> None:
    """The car template: a body (part 0) and a narrower, shorter cabin (part 1) on it."""
    v, _ = unit_mesh("car")
    body, cabin = v[:8], v[8:16]
    assert np.ptp(cabin[:, 1]) < np.ptp(body[:, 1])  # narrower
    assert np.ptp(cabin[:, 0]) < np.ptp(body[:, 0])  # shorter
    assert cabin[:, 2].min() == body[:, 2].max()  # sits on the body


def test_a_box_mesh_is_placed_by_its_centre_size_and_yaw() -> None:
    """A "box" (2 long, 4 wide, 6 tall) centred at (1, 2, 3), yaw 90 deg: its length runs
    along world y, its width along world x, from z 0 to 6. Vertex 1, the unit corner
    (0.5, -0.5, 0), is local (1, -2, -3): world (1 + 0 * 1 - 1 * -2, 2 + 1 * 1 + 0 * -2,
    3 - 3) = (3, 3, 0)."""
    box = np.array([[1.0, 2.0, 3.0, 2.0, 4.0, 6.0, np.pi / 2]])
    v, t, owner = boxes_mesh(box, ["box"])
    np.testing.assert_allclose(v[1], [3.0, 3.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(v.min(axis=0), [-1.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(v.max(axis=0), [3.0, 3.0, 6.0], atol=1e-12)
    assert t.dtype == np.uint32 and owner.dtype == np.int64 and owner.tolist() == [0] * 12


def test_boxes_of_one_template_each_own_their_triangles() -> None:
    """Two cars and a box, far apart: each object owns 12 triangles per cuboid (36 for a
    car, 12 for the box), and its triangles use only vertices inside its own box, however
    the boxes are grouped by template."""
    boxes = np.array(
        [
            [0.0, 0.0, 1.0, 4.0, 2.0, 2.0, 0.0],
            [50.0, 0.0, 1.0, 4.0, 2.0, 2.0, 0.0],
            [-50.0, 10.0, 1.0, 2.0, 2.0, 2.0, 0.0],
            [0.0, 80.0, 1.0, 4.0, 2.0, 2.0, 0.0],
        ]
    )
    templates = ["car", "car", "box", "car"]
    v, t, owner = boxes_mesh(boxes, templates)
    assert np.bincount(owner).tolist() == [36, 36, 12, 36]
    assert len(v) == 3 * 24 + 8 and t.max() < len(v)
    for k in range(4):
        corners = v[np.unique(t[owner == k])]
        np.testing.assert_allclose(corners[:, :2].mean(axis=0), boxes[k, :2], atol=3.0)
        assert np.all(np.abs(corners[:, :2] - boxes[k, :2]) <= boxes[k, 3:5] / 2 + 1e-9)


def test_no_boxes_give_an_empty_mesh() -> None:
    """No boxes: empty vertices ``(0, 3)``, triangles ``(0, 3)`` uint32, owners ``(0,)``."""
    v, t, owner = boxes_mesh(np.zeros((0, 7)), [])
    assert v.shape == (0, 3) and t.shape == (0, 3) and owner.shape == (0,)
    assert t.dtype == np.uint32 and owner.dtype == np.int64


# --- roadside.py ----------------------------------------------------------------------------

STRIP = shapely.box(0.0, 0.0, 200.0, 10.0)  # a straight road 200 m long, 10 m wide


def test_points_are_clamped_at_both_ends_and_skip_repeated_vertices() -> None:
    """Arc lengths before 0 clamp to the start, past the end to the end; a repeated vertex
    (a zero-length segment) is skipped: the polyline (0,0) (0,0) (10,0) (10,0) (10,5) is
    15 m long, at 12 m it is at (10, 2) heading +y. A polyline of one repeated point gives
    that point and the tangent (1, 0)."""
    line = np.array([[0.0, 0.0], [0.0, 0.0], [10.0, 0.0], [10.0, 0.0], [10.0, 5.0]])
    points, tangents = points_at(line, np.array([-5.0, 0.0, 4.0, 12.0, 20.0]))
    np.testing.assert_allclose(points, [[0, 0], [0, 0], [4, 0], [10, 2], [10, 5]])
    np.testing.assert_allclose(tangents, [[1, 0], [1, 0], [1, 0], [0, 1], [0, 1]])
    assert np.all(np.isfinite(points)) and np.all(np.isfinite(tangents))
    dot = np.array([[3.0, 4.0], [3.0, 4.0]])
    points, tangents = points_at(dot, np.array([0.0, 1.0]))
    np.testing.assert_allclose(points, [[3, 4], [3, 4]])
    np.testing.assert_allclose(tangents, [[1, 0], [1, 0]])


def test_the_normal_at_a_corner_points_out() -> None:
    """A clockwise walk round the square [0, 10]^2 starts at the corner (0, 0) up the edge
    x = 0 (tangent (0, 1)): that edge's outward normal is (-1, 0), as 1 m further on. (It was
    (1, 0): the probe (0.25, 0) lies on the edge y = 0, not inside, so the normal pointing
    along that edge was kept; a clockwise road lost the pole at such a corner.)"""
    square = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    line = np.asarray(square.exterior.coords)[::-1]  # clockwise from (0, 0)
    points, tangents = points_at(line, np.array([0.0, 1.0]))
    np.testing.assert_allclose(tangents, [[0, 1], [0, 1]])
    np.testing.assert_allclose(outward_normals(square, points, tangents), [[-1, 0], [-1, 0]])


def test_the_normal_at_a_concave_corner_points_out() -> None:
    """An L-shaped area ([0, 10] x [0, 4] with [0, 4] x [4, 10] on top), at its reflex corner
    (4, 4) on the edge y = 4 (outside is up): the outward normal is (0, 1) whichever way the
    edge is walked. Walking towards -x the first guess is (0, 1), whose probe (4, 4.25) lies
    on the edge x = 4 (boundary, not inside) while the probe (4, 3.75) the other way is
    inside: kept. Walking towards +x the guess (0, -1) probes inside: flipped."""
    area = shapely.Polygon([(0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10)])
    for tangent in ([-1.0, 0.0], [1.0, 0.0]):
        normals = outward_normals(area, np.array([[4.0, 4.0]]), np.array([tangent]))
        np.testing.assert_allclose(normals, [[0, 1]])


def test_an_empty_area_has_no_roadside() -> None:
    """A map without drivable lanes (an empty polygon or collection): no curbs, poles or
    buildings, and no error."""
    for empty in (shapely.Polygon(), shapely.GeometryCollection()):
        assert roadside_objects(empty, np.random.default_rng(0)) == ([], [], [])


def test_curbs_and_poles_of_a_straight_road_have_their_sizes() -> None:
    """Curbs: 4 m chords of the boundary (the 420 m ring gives 105), 0.3 m wide, 0.15 m
    tall, standing on the ground (centre z 0.075). Poles: every 25 m (17 stations on 420
    m), 1.5 m outside the boundary, 0.25 m square and 6 m tall, centre z 3."""
    curbs, poles, _ = roadside_objects(STRIP, np.random.default_rng(0), building_probability=0.0)
    assert len(curbs) == 105 and len(poles) == 17
    along = [c for c in curbs if c[6] in (0.0, np.pi)]
    assert along and all(c[3] == pytest.approx(4.0) for c in along)
    assert {c[2] for c in curbs} == {0.075} and {c[4:6] for c in curbs} == {(0.3, 0.15)}
    assert {p[2:] for p in poles} == {(3.0, 0.25, 0.25, 6.0, 0.0)}
    for p in poles:
        assert shapely.distance(STRIP, shapely.Point(p[:2])) == pytest.approx(1.5)


def test_buildings_face_the_road_at_their_setback() -> None:
    """Every station builds with probability 1: on the long sides each building's yaw runs
    along the road, its road-facing wall exactly ``building_setback_m`` (6 m) off the edge
    (centre 6 + width / 2 away), its size 8..20 m each way, its height 6..15 m and its
    centre at half its height."""
    _, _, buildings = roadside_objects(STRIP, np.random.default_rng(3), building_probability=1.0)
    sides = [b for b in buildings if 0.0 < b[0] < 200.0]
    assert len(sides) >= 12
    for x, y, z, length, width, height, yaw in sides:
        gap = (y - 10.0 if y > 10.0 else -y) - width / 2
        assert gap == pytest.approx(6.0)
        assert abs(np.sin(yaw)) < 1e-9
        assert 8.0 <= length <= 20.0 and 8.0 <= width <= 20.0
        assert 6.0 <= height <= 15.0 and z == pytest.approx(height / 2)
        assert shapely.distance(STRIP, _footprint((x, y, z, length, width, height, yaw))) == (
            pytest.approx(6.0)
        )


@pytest.mark.parametrize(("gap_m", "kept"), [(2.5, True), (2.0, False)])
def test_a_pole_is_dropped_within_half_its_offset_of_another_road(gap_m: float, kept: bool) -> None:
    """Two parallel roads ``gap_m`` apart: a pole 1.5 m above the lower road (or below the
    upper one) stands ``gap_m - 1.5`` from the other road; kept at 1.0 m (>= 1.5 / 2),
    dropped at 0.5 m."""
    upper = shapely.box(0.0, 10.0 + gap_m, 200.0, 20.0 + gap_m)
    area = shapely.MultiPolygon([STRIP, upper])
    _, poles, _ = roadside_objects(area, np.random.default_rng(0), building_probability=0.0)
    between = [p for p in poles if 10.0 < p[1] < 10.0 + gap_m and 0.0 < p[0] < 200.0]
    assert bool(between) is kept
    for p in between:
        assert min(abs(p[1] - 11.5), abs(p[1] - (8.5 + gap_m))) < 1e-9


def test_a_building_is_kept_beyond_half_its_setback_from_another_road() -> None:
    """A 1 m x 0.5 m drivable patch (y 11.5..12) in front of the building at station x = 110
    (wall at y = 16, at least 8 m long about x = 110): 4 m from the building (>= 6 / 2), so
    the building stays; the pole at (110, 11.5) touches the patch and is dropped."""
    patch = shapely.box(109.5, 11.5, 110.5, 12.0)
    area = shapely.MultiPolygon([STRIP, patch])
    _, poles, buildings = roadside_objects(area, np.random.default_rng(3), building_probability=1.0)
    at_110 = [b for b in buildings if b[0] == pytest.approx(110.0) and b[1] > 10.0]
    assert len(at_110) == 1
    assert shapely.distance(area, _footprint(at_110[0])) == pytest.approx(4.0)
    assert not [p for p in poles if p[:2] == pytest.approx((110.0, 11.5))]


def test_a_building_overlapping_an_earlier_one_is_dropped() -> None:
    """Stations every 5 m with a building at each (at least 8 m long): neighbours would
    overlap, so only some of the 84 stations keep theirs and no two kept buildings overlap."""
    _, _, buildings = roadside_objects(
        STRIP, np.random.default_rng(0), pole_spacing_m=5.0, building_probability=1.0
    )
    assert 0 < len(buildings) < 84
    footprints = [_footprint(b) for b in buildings]
    for a in range(len(footprints)):
        for b in range(a):
            assert not footprints[a].intersects(footprints[b])


def test_dropped_objects_do_not_change_the_draws_of_the_others() -> None:
    """The random draws are made for every station: a second road 2 m above the first drops
    every pole and building between them, and the first road's buildings below it are the
    same as without the second road (same seed, the first road's ring drawn first)."""
    upper = shapely.box(0.0, 12.0, 200.0, 22.0)

    def below(area: shapely.Geometry) -> list[tuple[float, ...]]:
        _, _, buildings = roadside_objects(area, np.random.default_rng(5), building_probability=0.5)
        return [b for b in buildings if b[1] < 0.0]

    alone, beside = below(STRIP), below(shapely.MultiPolygon([STRIP, upper]))
    assert len(alone) >= 3
    assert beside == alone


# --- camera_effects.py ----------------------------------------------------------------------


def test_the_documented_upper_bounds() -> None:
    """The module doc: blur and glare sigmas at most 50 px, the exposure at most 1 s."""
    assert LIMITS["blur_sigma_px"] == 50.0 and LIMITS["glare_sigma_px"] == 50.0
    assert LIMITS["exposure_s"] == 1.0


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("gamma", 0.0),
        ("ambient_scale", 0.0),
        ("lamp_radiance", 0.0),
        ("exposure_gain", 0.0),
        ("glare_fraction", 1.01),
        ("glare_fraction", -0.01),
        ("seed", -1),
        ("seed", 1.5),
        ("read_noise_e", -1.0),
    ],
)
def test_out_of_range_settings_are_config_errors_naming_the_key(key: str, value: float) -> None:
    """A ``ConfigValueError`` at the key (the loader adds the file): gamma and the radiance factors must be > 0 (0 would black out or divide by zero), the
    glare fraction lies in [0, 1], the seed is an integer >= 0, the noise >= 0."""
    with pytest.raises(ConfigValueError, match=key):
        CameraEffectsConfig(enabled=True, **{key: value})
    CameraEffectsConfig(enabled=True, glare_fraction=1.0)  # the bound itself is allowed


def test_a_bool_stride_is_refused() -> None:
    """``stride`` must be an int >= 1: ``True`` (an int subclass) is refused too."""
    with pytest.raises(ValueError, match="stride"):
        apply_camera_effects(
            np.zeros((4, 4, 3), np.uint8),
            np.zeros((4, 4), bool),
            CameraEffectsConfig(),
            effects_rng(0, 0, ""),
            stride=True,
        )


def test_a_negative_timestamp_seeds_as_its_64_bit_pattern() -> None:
    """Timestamps are taken modulo 2**64: -1 ns seeds the same generator as 2**64 - 1 (and
    does not raise)."""
    a = effects_rng(3, -1, "L").random(4)
    np.testing.assert_array_equal(a, effects_rng(3, 2**64 - 1, "L").random(4))


def test_negative_radiance_counts_as_dark() -> None:
    """``sensor_response`` floors radiance at 0 before the Poisson draw: a slightly negative
    value (a filter's round-off) reads 0, it does not make numpy refuse a negative rate."""
    cfg = CameraEffectsConfig(enabled=True, electrons_per_unit=100.0)
    out = sensor_response(np.array([-1e-12, -0.5, 0.0]), cfg, np.random.default_rng(0))
    np.testing.assert_array_equal(out, 0.0)


def test_an_integer_streak_samples_every_pixel_once() -> None:
    """Samples at most 1 px apart along the streak: an 8 px streak of a point is
    ``ceil(8) + 1 = 9`` samples at the offsets -4..4, so the point spreads into 9 pixels of
    exactly 1 / 9 each (8 samples would fall between pixels)."""
    img = np.zeros((41, 41, 3))
    img[20, 20] = 1.0
    out = blur_radiance(img, CameraEffectsConfig(enabled=True), 1, motion_px=(8.0, 0.0))
    np.testing.assert_allclose(out[20, 16:25, 0], 1.0 / 9.0, atol=1e-12)
    assert out[20, :16, 0].max() == 0.0 and out[20, 25:, 0].max() == 0.0


def test_the_motion_streak_shrinks_with_the_stride() -> None:
    """``motion_px`` is in full-image pixels: a window at every 2nd pixel streaks 8 px of
    motion over 4 of its pixels, the same as a full window streaking 4 px."""
    img = np.zeros((41, 41, 3))
    img[20, 20] = 1.0
    cfg = CameraEffectsConfig(enabled=True)
    np.testing.assert_allclose(
        blur_radiance(img, cfg, 2, motion_px=(8.0, 0.0)),
        blur_radiance(img, cfg, 1, motion_px=(4.0, 0.0)),
    )


def test_glare_of_zero_width_keeps_its_share_of_the_point_sharp() -> None:
    """The PSF is ``(1 - f) N(blur_sigma_px) + f N(glare_sigma_px)``; with ``glare_sigma_px``
    0 the glare Gaussian is the point itself, so half (f = 0.5) of the point stays sharp:
    ``0.5 * blurred + 0.5 * image``."""
    img = np.zeros((41, 41, 3))
    img[20, 20] = 1.0
    blur = CameraEffectsConfig(enabled=True, blur_sigma_px=2.0)
    half = CameraEffectsConfig(enabled=True, blur_sigma_px=2.0, glare_fraction=0.5)
    np.testing.assert_allclose(
        blur_radiance(img, half), 0.5 * blur_radiance(img, blur) + 0.5 * img, atol=1e-12
    )


def test_read_noise_below_zero_clips_to_black() -> None:
    """Intensity is clipped to [0, 1]: a dark pixel whose read noise (20 e- over 100 e- per
    unit) draws negative electrons reads 0, never a negative value (NaN once encoded);
    about half of 10 000 dark pixels read exactly 0."""
    cfg = CameraEffectsConfig(enabled=True, electrons_per_unit=100.0, read_noise_e=20.0)
    out = sensor_response(np.zeros(10_000), cfg, np.random.default_rng(0))
    assert out.min() == 0.0 and out.max() <= 1.0
    assert 4000 < np.count_nonzero(out == 0.0) < 6000


def test_an_emissive_mask_of_another_width_is_refused() -> None:
    """``emissive`` must have the image's (h, w): one of the right height but another width
    is a ``ValueError`` naming ``emissive``, not a broadcasting error inside numpy."""
    with pytest.raises(ValueError, match="emissive"):
        apply_camera_effects(
            np.zeros((40, 30, 3), np.uint8),
            np.zeros((40, 29), bool),
            CameraEffectsConfig(enabled=True),
            effects_rng(0, 0, ""),
        )


# --- _fused.py: the numba kernels, called directly -------------------------------------------


def _rot_z(deg: float) -> np.ndarray:
    c, s = np.cos(np.radians(deg)), np.sin(np.radians(deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_merge_hits_keeps_the_nearest_and_forgets_hits_beyond_the_range() -> None:
    """Rays from 2 m up (z 10 / 20 for the last two): 0 down, the ground at 2 m (road, normal
    +z) beats a static hit at 5 m; 1 level (never the ground), a static hit (object 0, material
    3) at 3 m beats an agent at 4 m; 2 down, an agent (triangle 1 -> object 1, material 5,
    instance 2) at 1.5 m beats the ground; 3 down from 10 m: the ground at exactly the 10 m
    range is kept; 4 down from 20 m: the ground at 20 m is beyond it, a miss (inf, no normal,
    material or instance)."""
    from drivestack.sim.sensors._fused import merge_hits

    down, level = (0.0, 0.0, -1.0), (1.0, 0.0, 0.0)
    rays = np.array(
        [
            (0.0, 0.0, 2.0, *down),
            (0.0, 0.0, 2.0, *level),
            (0.0, 0.0, 2.0, *down),
            (0.0, 0.0, 10.0, *down),
            (0.0, 0.0, 20.0, *down),
        ],
        np.float32,
    )
    inf = np.inf
    t_static = np.array([5.0, 3.0, inf, inf, inf], np.float32)
    t_dyn = np.array([inf, 4.0, 1.5, inf, inf], np.float32)
    prim = np.array([0, 0, 1, 0, 0], np.uint32)
    nrm_static = np.tile(np.array([-1.0, 0.0, 0.0], np.float32), (5, 1))
    nrm_dyn = np.tile(np.array([0.0, 1.0, 0.0], np.float32), (5, 1))
    objects = np.array([0, 1], np.int64)
    best, normal, material, instance = merge_hits(
        rays, True, t_static, prim, nrm_static, objects, np.array([3, 4], np.int64),
        t_dyn, prim, nrm_dyn, objects, np.array([6, 5], np.int64), np.float32(10.0), 1,
    )  # fmt: skip
    np.testing.assert_array_equal(best, [2.0, 3.0, 1.5, 10.0, inf])
    np.testing.assert_array_equal(normal, [[0, 0, 1], [-1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert material.tolist() == [1, 3, 5, 1, 0]
    assert instance.tolist() == [0, 0, 2, 0, 0]


def test_assemble_returns_uses_one_draw_per_finite_hit_in_ray_order() -> None:
    """2 columns of 2 beams; ray 1 misses. The 3 finite hits take draws 0, 1, 2 in ray order:
    ray 0 (road 0.9, face-on at 1 m, noise +0.1, keep draw exactly the dropout 0.1: kept, it
    is not below it) returns at 1.1 m; ray 2 (draw 0.05 < 0.1) is dropped; ray 3 (pole 0.6,
    face-on at 3 m: 0.6 / 9 >= 0.01, noise +0.3) returns at 3.3 m in ring 7 (beam 1), at its
    column's time 200 ns, as instance 4; intensity 0.9 and 0.6."""
    from drivestack.sim.sensors._fused import assemble_returns

    dirs = np.array([[1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, -1]], np.float32)
    world_dirs = dirs.copy()
    best = np.array([1.0, np.inf, 2.0, 3.0], np.float32)
    normal = -dirs  # face-on, against the ray
    reflectivity = np.array([0.0, 0.9, 0.45, 0.45, 0.6])
    xyz, intensity, ring, time_ns, inst = assemble_returns(
        dirs, world_dirs, best, normal, np.array([1, 0, 3, 4], np.int64),
        np.array([0, 0, 0, 4], np.int64), np.array([0.1, 0.2, 0.3], np.float32),
        np.array([0.1, 0.05, 0.9]), 0.1, 0.01, 0.5, 100.0, reflectivity, 2,
        np.array([5, 7], np.uint16), np.array([100, 200], np.int64),
    )  # fmt: skip
    np.testing.assert_allclose(xyz, [[1.1, 0, 0], [0, 0, -3.3]], rtol=1e-6)
    np.testing.assert_allclose(intensity, [0.9, 0.6], rtol=1e-6)
    assert ring.tolist() == [5, 7] and time_ns.tolist() == [100, 200]
    assert inst.tolist() == [0, 4]


def test_lidar_rays_turn_each_column_by_mount_turn_and_pose() -> None:
    """Beams (1, 0, 0) and (0, 0, 1) through a mount turned 90 deg (x -> y), then column 0
    not turned, column 1 turned 90 deg more, then a world yaw of 30 deg: column 0's first
    ray points along world (-sin 30, cos 30, 0), column 1's along (-cos 30, -sin 30, 0); the
    up beam stays up; each column starts at its own origin."""
    from drivestack.sim.sensors._fused import lidar_rays

    dirs = np.array([[[1, 0, 0], [0, 0, 1]], [[1, 0, 0], [0, 0, 1]]], np.float64)
    origins = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    rays = lidar_rays(
        dirs, _rot_z(90.0), _rot_z(30.0), np.array([1.0, 0.0]), np.array([0.0, 1.0]), origins
    )
    s30, c30 = 0.5, np.sqrt(3.0) / 2
    expected = [
        [1, 2, 3, -s30, c30, 0],
        [1, 2, 3, 0, 0, 1],
        [4, 5, 6, -c30, -s30, 0],
        [4, 5, 6, 0, 0, 1],
    ]
    np.testing.assert_allclose(rays, expected, atol=1e-6)
    assert rays.dtype == np.float32
