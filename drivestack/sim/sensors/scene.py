"""SensorScene: static geometry (ground, curbs, buildings, poles) plus agents, for ray casting.

Static geometry goes into one open3d ``RaycastingScene`` built once; the agents of each frame
go into a small second scene rebuilt per frame (open3d scenes cannot remove geometry), and a
ray's hit is the nearer of the two. Rays may carry a time offset from the agents' time
(``agent_dt_s`` of :meth:`SensorScene.cast_rays`): the agents are then moved by their velocity
times that offset (a LiDAR sweep sees a moving car where it is when each column fires).
The ground is the plane z = 0 of the world frame, hit analytically. Every hit reports a
material (for intensity / colour) and an instance id (0 = background, agents 1..N in the
order given).

Traffic lights (``light_priors``, :func:`light_priors` places the map's) are a third scene
that only :meth:`SensorScene.cast_lights` casts (the camera's renderings; the LiDAR's sweeps
do not see them): per light a pole from the ground to the housing, the housing
(:data:`~drivestack.perception.camera.traffic_light_state.HOUSING_SIZE_M`, its centre
:data:`LIGHT_HOUSING_CENTRE_Z_M` above the ground) and three lamps on its front face, red on
top. Each triangle knows its light and lamp slot, so what the lamps show is a colour looked
up per rendering (the scene is built once, whatever the lights show).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from drivestack.kernels._common import magnitude_limit
from drivestack.perception.camera.traffic_light_state import (
    HOUSING_SIZE_M,
    LAMP_SIZE_M,
    TrafficLightPrior,
)
from drivestack.sim.sensors.meshes import boxes_mesh, template_for
from drivestack.structures._checks import check_number
from drivestack.structures.boxes import Boxes3D

if TYPE_CHECKING:
    from drivestack.structures.road_map import RoadMap


class Material(IntEnum):
    NONE = 0
    ROAD = 1
    CURB = 2
    BUILDING = 3
    POLE = 4
    VEHICLE = 5
    PERSON = 6
    LIGHT_HOUSING = 7
    LAMP = 8


#: Farthest an agent's vertex is moved for a ray's time (m): float32's box limit (~4.4e11 m,
#: :func:`~drivestack.kernels._common.magnitude_limit`), far beyond any sensor's range.
_MOVE_REACH_M = float(magnitude_limit(np.float32))

#: Reflectivity per material in the units of KITTI's HDL-64E intensity (0..1): a return's
#: intensity is ``reflectivity * cos(incidence)`` (Velodyne intensity is range-compensated: no
#: fall-off with range), and a return is detected only when ``reflectivity * cos(incidence) /
#: range**2`` reaches the LiDAR's ``min_signal_per_m2`` (``drivestack.sim.sensors.lidar``).
#: Fitted on labelled KITTI scans (kitti_object training 000000-000005 and kitti_tracking
#: sequence 0000 frames 80-144, every 8th, 2026-12-01) as the median of intensity / cos(incidence):
#: ROAD 0.9 (ground-plane points 3-20 m away: 0.93; 3-10 m: 0.88; the road's median intensity
#: is 0.26-0.28 there, at cos(incidence) ~0.29 within 10 m), VEHICLE 0.27 (points in Car / Van
#: boxes, incidence from the nearest box face, cos > 0.3; KITTI car points' median intensity
#: is 0.16, 0.25 where cos > 0.8), PERSON 0.42 (Pedestrian boxes, 549 points). Asphalt reads
#: brighter than car paint in KITTI's intensity; note the road is not Lambertian at grazing
#: incidence there (its intensity stays ~0.25 out to 20 m while cos(incidence) halves), so
#: this model's road intensity falls faster with range than KITTI's beyond ~10 m (the
#: closed loop's HDL-64E 1.9 m up in the cut_in scene: road median 0.26 at 5-10 m, KITTI
#: 0.27; 0.13 at 10-20 m, KITTI 0.25). CURB, BUILDING, POLE, LIGHT_HOUSING and LAMP are not
#: fitted (no labelled points): earlier guesses, kept. Checked against KITTI by
#: tests/sim/sensors/test_lidar_reflectivity_kitti.py.
REFLECTIVITY = {
    Material.NONE: 0.0,
    Material.ROAD: 0.9,
    Material.CURB: 0.3,
    Material.BUILDING: 0.45,
    Material.POLE: 0.6,
    Material.VEHICLE: 0.27,
    Material.PERSON: 0.42,
    Material.LIGHT_HOUSING: 0.1,
    Material.LAMP: 0.5,
}
# RGB albedo per material for the camera
ALBEDO = {
    Material.NONE: (135, 180, 230),
    Material.ROAD: (90, 90, 95),
    Material.CURB: (170, 170, 165),
    Material.BUILDING: (180, 140, 110),
    Material.POLE: (120, 120, 120),
    Material.VEHICLE: (40, 90, 200),
    Material.PERSON: (220, 120, 60),
    Material.LIGHT_HOUSING: (25, 25, 25),
    Material.LAMP: (40, 40, 40),  # an unlit lamp (a lit one: :data:`LAMP_RGB`)
}

#: Height (m) of a traffic light's housing centre above the ground (a typical mast-mounted
#: head: the housing's bottom about 4.5 m up, above trucks); its pole is
#: :data:`LIGHT_POLE_WIDTH_M` square.
LIGHT_HOUSING_CENTRE_Z_M = 5.0
LIGHT_POLE_WIDTH_M = 0.15
#: Lamp glass protrusion (m) from the housing's front face.
_LAMP_DEPTH_M = 0.02
#: RGB of a lit lamp per slot (red, yellow, green), emitted (not shaded).
LAMP_RGB = ((255, 35, 25), (255, 200, 0), (30, 230, 110))


@dataclass(frozen=True)
class SceneObject:
    """A static cuboid (building, pole, curb segment) ``[x, y, z, l, w, h, yaw]`` and its material."""

    box: tuple[float, float, float, float, float, float, float]
    material: Material


@dataclass
class RayHits:
    """First hits of ``R`` rays: distance along the (unit) direction, surface normal, material,
    instance id (0 = background), all shaped like the ray batch."""

    range_m: np.ndarray
    normal: np.ndarray
    material: np.ndarray
    instance: np.ndarray


def _scene_of(
    vertices: np.ndarray, triangles: np.ndarray, owner: np.ndarray
) -> tuple[Any, np.ndarray]:
    """An open3d scene of one mesh, and the triangle -> object map passed through."""
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    if len(triangles):
        scene.add_triangles(
            o3d.core.Tensor.from_numpy(np.ascontiguousarray(vertices, dtype=np.float32)),
            o3d.core.Tensor.from_numpy(np.ascontiguousarray(triangles, dtype=np.uint32)),
        )
    return scene, owner


@dataclass
class SensorScene:
    """World-frame scene: ground plane z = 0, static objects, and the current agents."""

    static_objects: Sequence[SceneObject] = ()
    ground: bool = True
    _static: object = field(default=None, init=False, repr=False)
    _static_materials: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64), init=False, repr=False
    )
    _dynamic: object = field(default=None, init=False, repr=False)
    _static_triangle_object: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64), init=False, repr=False
    )
    _agent_triangle_object: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64), init=False, repr=False
    )
    _agent_materials: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64), init=False, repr=False
    )
    # the agents' mesh and each vertex's planar velocity (to move the agents in time)
    _agent_mesh: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False
    )
    agents: Boxes3D | None = field(default=None, init=False)
    light_priors: Sequence[TrafficLightPrior] = ()
    _lights: object = field(default=None, init=False, repr=False)
    # per triangle of the lights' scene: its light's index and its lamp slot (-1: not a lamp)
    _light_triangle_light: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64), init=False, repr=False
    )
    _light_triangle_slot: np.ndarray = field(
        default_factory=lambda: np.zeros(0, dtype=np.int64), init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.light_priors = tuple(self.light_priors)
        if self.light_priors:
            boxes, light, slot = _light_boxes(self.light_priors)
            vertices, triangles, owner = boxes_mesh(boxes, ["box"] * len(boxes))
            self._lights, _ = _scene_of(vertices, triangles, owner)
            self._light_triangle_light = light[owner]
            self._light_triangle_slot = slot[owner]
        static_boxes = _static_boxes(self.static_objects)
        self._static, self._static_triangle_object = _scene_of(
            *boxes_mesh(static_boxes, ["box"] * len(static_boxes))
        )
        materials = [int(obj.material) for obj in self.static_objects]
        self._static_materials = np.asarray(materials, dtype=np.int64)

    @classmethod
    def from_road_map(
        cls, road_map: RoadMap, *, seed: int = 0, curb_height_m: float = 0.15
    ) -> SensorScene:
        """Scene of a map: curbs along the drivable area's boundary, poles every ~25 m beside
        the road, and a few buildings set back from it, all off the road (seeded, so runs
        repeat; see :func:`~drivestack.sim.sensors.roadside.roadside_objects`)."""
        from drivestack.sim.sensors.roadside import roadside_objects

        curbs, poles, buildings = roadside_objects(
            road_map.drivable_area, np.random.default_rng(seed), curb_height_m=curb_height_m
        )
        objects = [SceneObject(box, Material.CURB) for box in curbs]
        objects += [SceneObject(box, Material.POLE) for box in poles]
        objects += [SceneObject(box, Material.BUILDING) for box in buildings]
        return cls(objects, light_priors=light_priors(road_map))

    def cast_lights(
        self, origins: np.ndarray, directions: np.ndarray, max_range_m: float
    ) -> LightHits:
        """First hits of rays ``origins (R, 3)``, unit ``directions (R, 3)`` on the traffic
        lights alone (poles, housings, lamps) within ``max_range_m`` (float32, as :meth:`cast`)."""
        import open3d as o3d

        n = len(origins)
        hits = LightHits(
            np.full(n, np.inf, np.float32),
            np.zeros((n, 3), np.float32),
            np.full(n, -1, np.int64),
            np.full(n, -1, np.int64),
            np.zeros(n, np.int64),
        )
        if self._lights is None or n == 0:
            return hits
        out = self._lights.cast_rays(  # type: ignore[attr-defined]
            o3d.core.Tensor.from_numpy(_packed_rays(origins, directions))
        )
        t = out["t_hit"].numpy()
        hit = np.isfinite(t) & (t <= max_range_m)
        prim = out["primitive_ids"].numpy()[hit].astype(np.int64)
        hits.range_m[hit] = t[hit]
        hits.normal[hit] = out["primitive_normals"].numpy()[hit]
        hits.light[hit] = self._light_triangle_light[prim]
        slot = self._light_triangle_slot[prim]
        hits.slot[hit] = slot
        part = np.where(slot >= 0, int(Material.LAMP), int(Material.LIGHT_HOUSING))
        # the pole is the light's first box (its slot is -2)
        hits.material[hit] = np.where(slot == -2, int(Material.POLE), part)
        return hits

    @property
    def has_static(self) -> bool:
        return len(self.static_objects) > 0

    def set_agents(self, agents: Boxes3D) -> None:
        """Replace the agents (world frame boxes; ``label`` picks each one's mesh)."""

        if agents.frame not in ("world", "map"):
            raise ValueError(
                f"SensorScene agents must be in the world frame, got frame {agents.frame!r}"
            )
        arr = agents.to_array7()
        templates = [template_for(int(label)) for label in agents.label]
        vertices, triangles, owner = boxes_mesh(arr, templates)
        scene, self._agent_triangle_object = _scene_of(vertices, triangles, owner)
        vertex_velocity = np.zeros((len(vertices), 3))
        if len(triangles):
            vertex_owner = np.zeros(len(vertices), dtype=np.int64)
            vertex_owner[triangles.reshape(-1)] = np.repeat(owner, 3)
            vertex_velocity[:, :2] = np.asarray(agents.velocity_mps, np.float64)[vertex_owner]
        self._agent_mesh = (vertices, triangles, vertex_velocity)
        materials = [
            int(Material.PERSON if t in ("pedestrian", "cyclist") else Material.VEHICLE)
            for t in templates
        ]
        self._dynamic = scene if len(arr) else None
        self._agent_materials = np.asarray(materials, dtype=np.int64)
        self.agents = agents

    def cast(self, origins: np.ndarray, directions: np.ndarray, max_range_m: float) -> RayHits:
        """First hits of rays ``origins (R, 3)``, unit ``directions (R, 3)`` within ``max_range_m``.

        Computed in float32 (open3d's precision); ``range_m`` is ``inf`` for misses.
        ``ValueError`` naming the argument for another shape, a NaN or infinite entry (such a
        ray would silently miss) or a ``max_range_m`` that is not a finite number > 0.
        """
        for name, arr in (("origins", origins), ("directions", directions)):
            arr = np.asarray(arr)
            if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] != np.shape(origins)[0]:
                raise ValueError(
                    f"SensorScene.cast {name} must have shape (R, 3) (R = len(origins)), got "
                    f"{arr.shape}"
                )
            if arr.size and not np.isfinite(arr).all():
                row = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
                raise ValueError(
                    f"SensorScene.cast {name} has a NaN or infinite value at row {row}"
                )
        return self.cast_rays(_packed_rays(origins, directions), max_range_m)

    def cast_rays(
        self, rays: np.ndarray, max_range_m: float, *, agent_dt_s: np.ndarray | None = None
    ) -> RayHits:
        """Like :meth:`cast` for rays packed as ``(R, 6)`` float32 ``[origin, unit direction]``.

        ``agent_dt_s`` ``(R,)``: each ray's time (s) after the agents' time; the agents are
        moved by ``velocity_mps * dt`` for it (translation only: constant velocity, heading
        kept). The agents' scene is built once per distinct value and cast once per run of
        rays sharing a value, so give few, in runs (a LiDAR rounds its column times to a few
        time slabs). None: the agents as set.
        """
        import open3d as o3d

        from drivestack.sim.sensors._fused import merge_hits

        check_number("SensorScene.cast_rays max_range_m", max_range_m, above=0.0)

        tensor = o3d.core.Tensor.from_numpy(np.ascontiguousarray(rays, dtype=np.float32))
        empty_f = np.zeros(0, dtype=np.float32)
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for scene, triangle_object, mats, wanted in (
            (self._static, self._static_triangle_object, self._static_materials, self.has_static),
            (
                self._dynamic,
                self._agent_triangle_object,
                self._agent_materials,
                self._dynamic is not None,
            ),
        ):
            if not wanted:
                found.append(
                    (
                        empty_f,
                        np.zeros(0, np.uint32),
                        np.zeros((0, 3), np.float32),
                        triangle_object,
                        mats,
                    )
                )
                continue
            if scene is self._dynamic and agent_dt_s is not None:
                found.append((*self._cast_moving_agents(rays, agent_dt_s), triangle_object, mats))
                continue
            out = scene.cast_rays(tensor)  # type: ignore[attr-defined]
            found.append(
                (
                    out["t_hit"].numpy(),
                    out["primitive_ids"].numpy(),
                    out["primitive_normals"].numpy(),
                    triangle_object,
                    mats,
                )
            )
        best, normal, material, instance = merge_hits(
            rays, self.ground, *found[0], *found[1], np.float32(max_range_m), int(Material.ROAD)
        )
        return RayHits(best, normal, material, instance)

    def _cast_moving_agents(
        self, rays: np.ndarray, agent_dt_s: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The agents' scene cast with each ray's agents moved to its time: ``t_hit (R,)``,
        ``primitive_ids (R,)`` and ``primitive_normals (R, 3)``, as open3d returns them."""
        import open3d as o3d

        assert self._agent_mesh is not None
        vertices, triangles, vertex_velocity = self._agent_mesh
        n = rays.shape[0]
        dt = np.asarray(agent_dt_s, dtype=np.float64).reshape(-1)
        if dt.shape != (n,):
            raise ValueError(f"agent_dt_s must have one time per ray ({n}), got shape {dt.shape}")
        t_hit = np.full(n, np.inf, dtype=np.float32)
        prim = np.zeros(n, dtype=np.uint32)
        normals = np.zeros((n, 3), dtype=np.float32)
        if n == 0:
            return t_hit, prim, normals
        if not np.any(vertex_velocity):  # nothing moves: one cast of the agents as set
            dt = np.zeros(n)
        # runs of rays sharing a time (a LiDAR's slabs are runs of columns): one cast each
        starts = np.concatenate([[0], np.flatnonzero(np.diff(dt)) + 1, [n]])
        scenes: dict[float, tuple[Any, np.ndarray | None]] = {0.0: (self._dynamic, None)}
        for lo, hi in itertools.pairwise(starts):
            at = float(dt[lo])
            if at not in scenes:
                moved, kept = _moved_mesh(vertices, triangles, vertex_velocity, at)
                shown = triangles if kept is None else triangles[kept]
                scenes[at] = (_scene_of(moved, shown, np.zeros(0))[0], kept)
            scene, kept = scenes[at]
            tensor = o3d.core.Tensor.from_numpy(np.ascontiguousarray(rays[lo:hi], np.float32))
            out = scene.cast_rays(tensor)
            t_hit[lo:hi] = out["t_hit"].numpy()
            ids = out["primitive_ids"].numpy()
            if kept is not None:  # back to the ids of the whole mesh (a miss keeps its id)
                hit = np.isfinite(t_hit[lo:hi])
                ids = ids.copy()
                ids[hit] = kept[ids[hit]]
            prim[lo:hi] = ids
            normals[lo:hi] = out["primitive_normals"].numpy()
        return t_hit, prim, normals

    def agent_ray_counts(
        self, origins: np.ndarray, directions: np.ndarray, max_range_m: float
    ) -> np.ndarray:
        """``(N,)`` int64: how many of the rays ``origins (R, 3)``, unit ``directions (R, 3)``
        pass through each agent within ``max_range_m``, whatever lies in front of it (an
        agent's unoccluded silhouette in ray counts; compare with the first hits of
        :meth:`cast` for the share of it that is seen)."""
        import open3d as o3d

        n_agents = 0 if self.agents is None else len(self.agents)
        if self._dynamic is None or n_agents == 0:
            return np.zeros(n_agents, dtype=np.int64)
        out = self._dynamic.list_intersections(  # type: ignore[attr-defined]
            o3d.core.Tensor.from_numpy(_packed_rays(origins, directions))
        )
        near = out["t_hit"].numpy() <= max_range_m
        ray = out["ray_ids"].numpy()[near].astype(np.int64)
        agent = self._agent_triangle_object[out["primitive_ids"].numpy()[near].astype(np.int64)]
        pairs = np.unique(ray * n_agents + agent)  # a ray through an agent counts once
        return np.bincount(pairs % n_agents, minlength=n_agents).astype(np.int64)


@dataclass
class LightHits:
    """First hits of ``R`` rays on the traffic lights: ``range_m (R,)`` (inf: none),
    ``normal (R, 3)``, ``light (R,)`` the light's index in ``light_priors`` (-1: none),
    ``slot (R,)`` the lamp slot hit (0 red, 1 yellow, 2 green; -1 housing, -2 pole, also -1
    for a miss) and ``material (R,)`` (:class:`Material`; NONE for a miss)."""

    range_m: np.ndarray
    normal: np.ndarray
    light: np.ndarray
    slot: np.ndarray
    material: np.ndarray


def _light_boxes(priors: Sequence[TrafficLightPrior]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes ``(5 L, 7)`` of the lights ``priors`` (per light: pole, housing, 3 lamps), each
    box's light index ``(5 L,)`` and slot ``(5 L,)`` (-2 pole, -1 housing, 0..2 lamps)."""
    boxes, light, slot = [], [], []
    depth, width, height = HOUSING_SIZE_M
    for i, prior in enumerate(priors):
        x, y, z = prior.centre_m
        yaw = prior.facing_yaw_rad
        c, s = np.cos(yaw), np.sin(yaw)
        pole_h = max(z - height / 2, 0.0)
        boxes.append([x, y, pole_h / 2, LIGHT_POLE_WIDTH_M, LIGHT_POLE_WIDTH_M, pole_h, yaw])
        boxes.append([x, y, z, depth, width, height, yaw])
        light += [i, i]
        slot += [-2, -1]
        lamp_x = depth / 2 + _LAMP_DEPTH_M / 2
        for k, lamp in enumerate(prior.lamp_centres_m()):
            boxes.append(
                [
                    x + c * lamp_x,
                    y + s * lamp_x,
                    lamp[2],
                    _LAMP_DEPTH_M,
                    LAMP_SIZE_M,
                    LAMP_SIZE_M,
                    yaw,
                ]
            )
            light.append(i)
            slot.append(k)
    return np.asarray(boxes, float).reshape(-1, 7), np.asarray(light), np.asarray(slot)


def light_priors(
    road_map: RoadMap, centre_z_m: float = LIGHT_HOUSING_CENTRE_Z_M
) -> list[TrafficLightPrior]:
    """Where ``road_map``'s lights are rendered: one housing per light that has a
    ``position_m`` (OpenDRIVE signals, CommonRoad ``<position>``s and Lanelet2 light line
    strings give one; a scenario's ``traffic_lights:`` entry on a map without one stands 1 m
    beyond the far-right kerb at its first stop line: ``kerb_light_position``) and a stop,
    centred above the position at ``centre_z_m``, facing against the lane at its first stop
    (towards the traffic it stops)."""
    from drivestack.structures.road_map import interpolate_polyline

    priors = []
    for light in road_map.traffic_lights:
        if light.position_m is None or not light.stops:
            continue
        stop = light.stops[0]
        _, yaw = interpolate_polyline(road_map.lane(stop.lane_id).centerline_m, [stop.station_m])
        priors.append(
            TrafficLightPrior(
                light.light_id, (*light.position_m, centre_z_m), float(yaw[0]) + np.pi
            )
        )
    return priors


def _moved_mesh(
    vertices: np.ndarray, triangles: np.ndarray, vertex_velocity: np.ndarray, dt_s: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """The agents' ``vertices`` moved by ``vertex_velocity * dt_s``, and the indices of the
    triangles kept (None: all): a triangle with a vertex moved farther than
    :data:`_MOVE_REACH_M` is left out (float32, open3d's coordinates, could not hold it; no
    ray reaches it), the move's size checked before it is computed."""
    if dt_s == 0.0:
        return vertices, None
    far = np.max(np.abs(vertex_velocity), axis=1) > _MOVE_REACH_M / abs(dt_s)  # Python floats
    if not np.any(far):
        return vertices + vertex_velocity * dt_s, None
    kept = np.flatnonzero(~np.any(far[triangles], axis=1))
    moved = vertices.copy()
    moved[~far] += vertex_velocity[~far] * dt_s
    moved[far] = 0.0  # used by no kept triangle
    return moved, kept


def _static_boxes(objects: Sequence[SceneObject]) -> np.ndarray:
    """``(N, 7)`` float64 boxes of ``objects``; ``ValueError`` naming ``static_objects[i]``
    for a box that is not 7 finite numbers with sizes >= 0 (a NaN box silently vanished from
    every sweep)."""
    boxes = np.zeros((len(objects), 7))
    for i, obj in enumerate(objects):
        where = f"SensorScene.static_objects[{i}].box"
        try:
            box = np.asarray(obj.box, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"{where} must be 7 numbers [x, y, z, l, w, h, yaw], got {obj.box!r}"
            ) from None
        if box.shape != (7,):
            raise ValueError(
                f"{where} must be 7 numbers [x, y, z, l, w, h, yaw], got shape {box.shape}"
            )
        if not np.isfinite(box).all() or np.any(box[3:6] < 0):
            raise ValueError(f"{where} must be finite with sizes >= 0, got {box.tolist()}")
        boxes[i] = box
    return boxes


def _packed_rays(origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Rays ``origins (R, 3)``, ``directions (R, 3)`` packed as open3d takes them: ``(R, 6)``
    float32 ``[origin, direction]``."""
    rays = np.empty((origins.shape[0], 6), dtype=np.float32)
    rays[:, :3] = origins
    rays[:, 3:] = directions
    return rays
