"""Ray-cast LiDAR and camera: exact ranges on flat ground, boxes hit where they stand,
layouts of the presets, motion distortion, and clear errors for bad sensors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.sim.sensors import LIDAR_PRESETS, CameraModel, LidarModel, LidarPreset, SensorScene
from drivestack.sim.sensors.scene import REFLECTIVITY, Material, SceneObject
from drivestack.structures import Boxes3D, ObjectClass, SensorFrame

MOUNT = SE3.from_xyz_yaw([1.0, 0.0, 1.73], 0.0)


def _wall(x_m: float = 10.5) -> Boxes3D:
    """A 1 m thick, 40 m wide, 6 m tall obstacle whose near face is at x = x_m - 0.5."""
    return Boxes3D.from_array7(
        [[x_m, 0.0, 3.0, 1.0, 40.0, 6.0, 0.0]], "world", label=[ObjectClass.UNKNOWN]
    )


def test_flat_ground_gives_exact_range_per_beam():
    model = LidarModel.from_preset("hdl64", MOUNT, range_noise_std_m=0.0)
    cloud = model.scan(SensorScene(), SE3.identity(), 0)
    elevations = np.sort(np.deg2rad(np.asarray(model.preset.elevations_deg)))
    ring = cloud.attributes["ring"]
    rng_m = np.linalg.norm(cloud.xyz_m.astype(np.float64), axis=1)
    road = REFLECTIVITY[Material.ROAD]
    for r, elev in enumerate(elevations):
        mine = ring == r
        expected = 1.73 / math.sin(-elev) if elev < 0 else math.inf
        # hit at cos(incidence) = sin(-elev): detected while road * cos / range^2 reaches the limit
        detected = elev < 0 and road * math.sin(-elev) / expected**2 >= model.min_signal_per_m2
        if expected <= model.preset.max_range_m and detected:
            assert mine.sum() == model.preset.n_azimuth
            np.testing.assert_allclose(rng_m[mine], expected, rtol=2e-5)
            # intensity: reflectivity * cos(incidence), no fall-off with range
            np.testing.assert_allclose(
                cloud.attributes["intensity"][mine], road * math.sin(-elev), rtol=1e-5
            )
        else:
            assert mine.sum() == 0
    np.testing.assert_allclose(cloud.xyz_m[:, 2], -1.73, atol=2e-5)
    assert cloud.frame == "lidar" and set(cloud.attributes) == {
        "intensity",
        "ring",
        "time_offset_ns",
        "instance",
    }


def test_preset_layouts():
    for name, beams, columns in (("hdl64", 64, 1800), ("vlp32", 32, 1800), ("os128", 128, 1024)):
        model = LidarModel.from_preset(name, MOUNT)
        dirs, ring, times = model.ray_layout()
        assert dirs.shape == (columns, beams, 3) and model.n_beams == beams
        assert sorted(ring.tolist()) == list(range(beams))
        azimuth = np.arctan2(dirs[:, 0, 1].astype(np.float64), dirs[:, 0, 0].astype(np.float64))
        step = np.diff(np.unwrap(azimuth))  # clockwise seen from above: azimuth decreases
        np.testing.assert_allclose(step, -2 * math.pi / columns, rtol=1e-3)  # float32 directions
        # the forward column (azimuth 0) fires at the sweep's timestamp; the sweep spans +-T/2
        assert times[0] == -model.sweep_duration_s / 2 and times[-1] < model.sweep_duration_s / 2
        assert times[columns // 2] == 0.0 and abs(azimuth[columns // 2]) < 1e-6
    assert max(LIDAR_PRESETS["hdl64"].elevations_deg) == pytest.approx(2.0)
    assert min(LIDAR_PRESETS["hdl64"].elevations_deg) == pytest.approx(-24.33)


def _flat_preset() -> LidarPreset:
    return LidarPreset("test", (0.0, -10.0), 360, 100.0)


def test_box_is_hit_where_it_stands():
    scene = SensorScene()
    scene.set_agents(_wall())
    model = LidarModel(_flat_preset(), MOUNT, range_noise_std_m=0.0, sweep_duration_s=0.0)
    cloud = model.scan(scene, SE3.identity(), 0)
    forward = (
        (cloud.attributes["ring"] == 1)
        & (np.abs(cloud.xyz_m[:, 1]) < 1e-3)
        & (cloud.xyz_m[:, 0] > 0)
    )
    assert forward.sum() == 1
    # lidar at x = 1 m in the ego frame, wall face at x = 10 m: 9 m ahead, at the beam height
    np.testing.assert_allclose(cloud.xyz_m[forward][0], [9.0, 0.0, 0.0], atol=1e-4)
    assert cloud.attributes["instance"][forward][0] == 1
    behind = (cloud.attributes["ring"] == 1) & (cloud.xyz_m[:, 0] < 0)
    assert behind.sum() == 0  # nothing behind the sensor at beam height


def test_motion_distortion_moves_late_returns():
    scene = SensorScene(ground=False)
    scene.set_agents(_wall())
    model = LidarModel(_flat_preset(), MOUNT, range_noise_std_m=0.0, sweep_duration_s=0.1)
    cloud = model.scan(scene, SE3.identity(), 0, speed_mps=10.0)
    forward = (np.abs(cloud.xyz_m[:, 1]) < 1e-3) & (cloud.xyz_m[:, 0] > 0)
    # the forward column fires at the sweep's timestamp: the wall 9 m ahead, as the labels
    assert cloud.attributes["time_offset_ns"][forward][0] == 0
    np.testing.assert_allclose(cloud.xyz_m[forward][0, 0], 9.0, atol=1e-4)
    # clockwise: 10 degrees to the left fires 1/36 sweep earlier (2.78 ms), when the ego was
    # 27.8 mm farther back; 10 degrees to the right 1/36 sweep later, 27.8 mm closer
    for side, sign in ((1.0, -1), (-1.0, 1)):
        az = np.arctan2(cloud.xyz_m[:, 1], cloud.xyz_m[:, 0])
        mine = np.abs(az - side * np.deg2rad(10.0)) < 1e-4
        assert cloud.attributes["time_offset_ns"][mine][0] == sign * round(0.1e9 / 36)
        np.testing.assert_allclose(cloud.xyz_m[mine][0, 0], 9.0 - sign * 10.0 * 0.1 / 36, atol=1e-4)


def test_noise_dropout_and_intensity_are_seeded_and_sane():
    scene = SensorScene()
    scene.set_agents(_wall(30.0))
    model = LidarModel.from_preset(
        "vlp32", MOUNT, range_noise_std_m=0.05, dropout_probability=0.2, seed=3
    )
    a = model.scan(scene, SE3.identity(), 100)
    b = model.scan(scene, SE3.identity(), 100)
    np.testing.assert_array_equal(a.xyz_m, b.xyz_m)
    full = LidarModel.from_preset("vlp32", MOUNT, range_noise_std_m=0.05, seed=3).scan(
        scene, SE3.identity(), 100
    )
    assert 0.7 < len(a) / len(full) < 0.9
    intensity = a.attributes["intensity"]
    assert intensity.min() >= 0 and intensity.max() <= 1
    on_wall = a.attributes["instance"] == 1
    # the wall's face looks down -x: cos(incidence) is the ray direction's x (noise moves a
    # return along its ray only)
    ray = a.xyz_m[on_wall].astype(np.float64)
    cos_incidence = ray[:, 0] / np.linalg.norm(ray, axis=1)
    np.testing.assert_allclose(
        intensity[on_wall], REFLECTIVITY[Material.VEHICLE] * cos_incidence, rtol=1e-4
    )


def test_static_map_objects_are_hit():
    pole = SceneObject((8.0, 0.0, 3.0, 0.3, 0.3, 6.0, 0.0), Material.POLE)
    scene = SensorScene([pole])
    scene.set_agents(Boxes3D.empty("world"))
    cloud = LidarModel(
        _flat_preset(), SE3.identity(), range_noise_std_m=0.0, sweep_duration_s=0.0
    ).scan(scene, SE3.from_xyz_yaw([0, 0, 1.0], 0.0), 0)
    forward = (
        (cloud.attributes["ring"] == 1)
        & (np.abs(cloud.xyz_m[:, 1]) < 1e-3)
        & (cloud.xyz_m[:, 0] > 0)
    )
    np.testing.assert_allclose(cloud.xyz_m[forward][0, 0], 7.85, atol=1e-4)
    assert cloud.attributes["instance"][forward][0] == 0


def test_camera_renders_depth_instances_and_a_valid_frame():
    scene = SensorScene()
    scene.set_agents(_wall())
    camera = CameraModel.looking_forward("front", 64, 48, 40.0, (1.5, 0.0, 1.5))
    images = camera.render(scene, SE3.identity(), 7)
    # the centre pixel looks straight ahead from x = 1.5 m to the wall face at x = 10 m
    assert images.depth_m[24, 32] == pytest.approx(8.5, abs=1e-3)
    assert images.instance[24, 32] == 1
    assert images.instance[47, 32] == 0  # bottom row sees the road
    assert images.rgb.pixels.shape == (48, 64, 3) and images.rgb.timestamp_ns == 7
    frame = SensorFrame(
        7,
        lidars={"top": LidarModel.from_preset("vlp32", MOUNT).scan(scene, SE3.identity(), 7)},
        cameras={"front": images.rgb},
    )
    assert frame.lidar().frame == "lidar" and frame.cameras["front"].frame == "camera_front"


def test_bad_sensors_are_rejected():
    with pytest.raises(ValueError, match="unknown LiDAR preset 'hdl65'"):
        LidarModel.from_preset("hdl65", MOUNT)
    with pytest.raises(ValueError, match="no beams"):
        LidarPreset("empty", (), 100, 50.0)
    with pytest.raises(ValueError, match="focal length must be positive"):
        CameraModel.looking_forward("front", 64, 48, 0.0, (1.5, 0.0, 1.5))
    with pytest.raises(ValueError, match="world frame"):
        SensorScene().set_agents(Boxes3D.empty("ego"))


def test_scene_from_road_map_has_curbs_and_poles():
    from drivestack.ingest.maps.synthetic import straight_road

    road_map = straight_road()
    scene = SensorScene.from_road_map(road_map, seed=1)
    materials = {obj.material for obj in scene.static_objects}
    assert {Material.CURB, Material.POLE} <= materials
    scene.set_agents(Boxes3D.empty("world"))
    # a LiDAR in the middle of the road sees the curbs: some returns above the road surface
    centre = np.asarray(road_map.drivable_area.centroid.coords[0])
    cloud = LidarModel.from_preset("vlp32", SE3.identity()).scan(
        scene, SE3.from_xyz_yaw([centre[0], centre[1], 1.8], 0.0), 0
    )
    assert np.any((cloud.xyz_m[:, 2] > -1.79) & (cloud.xyz_m[:, 2] < -1.6))


def test_class_meshes_fill_their_boxes():
    from drivestack.kernels import points_in_boxes
    from drivestack.sim.sensors.meshes import boxes_mesh

    boxes = np.array(
        [
            [5.0, -2.0, 0.8, 4.5, 1.9, 1.6, 0.7],
            [0.0, 3.0, 0.9, 0.7, 0.6, 1.8, -2.0],
            [9.0, 9.0, 1.5, 10.0, 2.5, 3.0, 3.0],
        ]
    )
    vertices, triangles, owner = boxes_mesh(boxes, ["car", "pedestrian", "truck"])
    assert triangles.max() < len(vertices) and len(owner) == len(triangles)
    for k in range(3):
        corners = vertices[np.unique(triangles[owner == k])]
        inside = points_in_boxes(
            corners, boxes[k : k + 1] * np.array([1, 1, 1, 1.0001, 1.0001, 1.0001, 1])
        )
        assert inside.all()  # every vertex of an object's mesh lies in its box
        # and spans the box's full height; vehicles also its full length
        local = corners[:, :2] - boxes[k, :2]
        c, s = np.cos(boxes[k, 6]), np.sin(boxes[k, 6])
        along = local @ np.array([c, s])
        np.testing.assert_allclose(np.ptp(corners[:, 2]), boxes[k, 5], rtol=1e-9)
        if k != 1:  # the pedestrian's silhouette is narrower than its box
            np.testing.assert_allclose(np.ptp(along), boxes[k, 3], rtol=1e-9)


def test_rings_are_numbered_as_each_maker_numbers_them():
    """Velodyne rings count up from the lowest beam; Ouster's rows (its driver and drivestack's
    Ouster ingestion) from the top one. The simulated OS1-128 numbered from the lowest, the
    reverse of a logged Ouster sweep."""
    for name, top_first in (("hdl64", False), ("vlp32", False), ("os128", True)):
        model = LidarModel.from_preset(name, MOUNT)
        dirs, ring, _ = model.ray_layout()
        elevation = np.arcsin(dirs[0, :, 2].astype(np.float64))
        by_ring = elevation[np.argsort(ring)]
        steps = np.diff(by_ring)
        assert np.all(steps < 0) if top_first else np.all(steps > 0), name


def test_a_yawed_mount_stays_synced_on_the_egos_forward() -> None:
    # a sensor mounted facing backwards (yaw pi) fired its own +x, the ego's rear, at the
    # timestamp: the wall ahead was cast half a sweep off, 0.5 m at 10 m/s (0.7 m at 14 m/s)
    from drivestack.sim.perceived import SimLidarParams

    scene = SensorScene(ground=False)
    scene.set_agents(_wall())
    for yaw in (0.0, np.pi, np.pi / 2):
        mount = SE3.from_xyz_yaw([1.0, 0.0, 1.73], yaw)
        model = LidarModel(
            _flat_preset(), mount, range_noise_std_m=0.0, sweep_duration_s=0.1,
            sync_azimuth_rad=-yaw,
        )  # fmt: skip
        cloud = model.scan(scene, SE3.identity(), 0, speed_mps=10.0)
        ego_xyz = mount.apply(cloud.xyz_m.astype(np.float64))
        ahead = (
            (np.abs(ego_xyz[:, 1]) < 1e-3) & (ego_xyz[:, 0] > 0) & (cloud.attributes["ring"] == 1)
        )
        assert ahead.sum() == 1, yaw
        assert cloud.attributes["time_offset_ns"][ahead][0] == 0, yaw
        np.testing.assert_allclose(ego_xyz[ahead][0, 0], 10.0, atol=1e-4)  # the face, as labelled
    params = SimLidarParams(mount_yaw_rad=np.pi)
    assert params.model().sync_azimuth_rad == -np.pi
    assert SimLidarParams().model().sync_azimuth_rad == 0.0
