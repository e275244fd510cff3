"""SensorScene: static geometry (ground, curbs, buildings, poles) plus agents, for ray casting.

Static geometry goes into one open3d ``RaycastingScene`` built once; the agents of each frame
go into a small second scene rebuilt per frame (open3d scenes cannot remove geometry), and a
ray's hit is the nearer of the two. The ground is the plane z = 0 of the world frame, hit
analytically. Every hit reports a material (for intensity / colour) and an instance id
(0 = background, agents 1..N in the order given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from drivestack.sim.sensors.meshes import boxes_mesh, template_for
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


# diffuse reflectivity per material (intensity ~ reflectivity * cos(incidence))
REFLECTIVITY = {
    Material.NONE: 0.0,
    Material.ROAD: 0.15,
    Material.CURB: 0.3,
    Material.BUILDING: 0.45,
    Material.POLE: 0.6,
    Material.VEHICLE: 0.7,
    Material.PERSON: 0.35,
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
}


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
    agents: Boxes3D | None = field(default=None, init=False)

    def __post_init__(self) -> None:

        static_boxes = np.array([obj.box for obj in self.static_objects], dtype=np.float64).reshape(
            -1, 7
        )
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
        return cls(objects)

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
        scene, self._agent_triangle_object = _scene_of(*boxes_mesh(arr, templates))
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
        """

        n = origins.shape[0]
        rays = np.empty((n, 6), dtype=np.float32)
        rays[:, :3] = origins
        rays[:, 3:] = directions
        return self.cast_rays(rays, max_range_m)

    def cast_rays(self, rays: np.ndarray, max_range_m: float) -> RayHits:
        """Like :meth:`cast` for rays packed as ``(R, 6)`` float32 ``[origin, unit direction]``."""
        import open3d as o3d

        from drivestack.sim.sensors._fused import merge_hits

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
