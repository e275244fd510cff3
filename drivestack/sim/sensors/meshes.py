"""Low-poly meshes of road users, in the box frame scaled to a box's size.

Each mesh is a union of axis-aligned cuboids in unit-box coordinates (x along the length,
y along the width, z up from the box bottom, all in [-0.5, 0.5] x [-0.5, 0.5] x [0, 1]),
so one template fits any (length, width, height) while keeping the class's silhouette:
a car has a body and a narrower, shorter cabin; a truck a cab and a cargo box; a pedestrian
legs, torso and head; a cyclist wheels, frame and rider.
"""

from __future__ import annotations

import numpy as np

from drivestack.structures.labels import ObjectClass

# cuboids as (x0, x1, y0, y1, z0, z1) in unit-box coordinates
_TEMPLATES: dict[str, tuple[tuple[float, float, float, float, float, float], ...]] = {
    "car": (
        (-0.5, 0.5, -0.5, 0.5, 0.12, 0.55),
        (-0.46, 0.22, -0.44, 0.44, 0.55, 1.0),
        (-0.42, 0.42, -0.46, 0.46, 0.0, 0.12),
    ),
    "truck": (
        (0.28, 0.5, -0.5, 0.5, 0.05, 1.0),
        (-0.5, 0.26, -0.5, 0.5, 0.12, 1.0),
        (-0.45, 0.45, -0.45, 0.45, 0.0, 0.12),
    ),
    "pedestrian": (
        (-0.25, 0.25, -0.4, -0.05, 0.0, 0.48),
        (-0.25, 0.25, 0.05, 0.4, 0.0, 0.48),
        (-0.35, 0.35, -0.5, 0.5, 0.48, 0.85),
        (-0.2, 0.2, -0.2, 0.2, 0.86, 1.0),
    ),
    "cyclist": (
        (-0.5, -0.2, -0.08, 0.08, 0.0, 0.38),
        (0.2, 0.5, -0.08, 0.08, 0.0, 0.38),
        (-0.3, 0.3, -0.1, 0.1, 0.3, 0.5),
        (-0.2, 0.1, -0.5, 0.5, 0.5, 0.85),
        (-0.12, 0.08, -0.2, 0.2, 0.86, 1.0),
    ),
    "box": ((-0.5, 0.5, -0.5, 0.5, 0.0, 1.0),),
}

_CLASS_TEMPLATE = {
    ObjectClass.CAR: "car",
    ObjectClass.VAN: "car",
    ObjectClass.TRUCK: "truck",
    ObjectClass.BUS: "truck",
    ObjectClass.TRAILER: "truck",
    ObjectClass.OTHER_VEHICLE: "truck",
    ObjectClass.PEDESTRIAN: "pedestrian",
    ObjectClass.CYCLIST: "cyclist",
    ObjectClass.MOTORCYCLE: "cyclist",
}

# 12 triangles of a unit cuboid, outward-facing (counter-clockwise seen from outside)
_CUBE_FACES = np.array(
    [
        [0, 2, 1],
        [0, 3, 2],
        [4, 5, 6],
        [4, 6, 7],
        [0, 1, 5],
        [0, 5, 4],
        [1, 2, 6],
        [1, 6, 5],
        [2, 3, 7],
        [2, 7, 6],
        [3, 0, 4],
        [3, 4, 7],
    ],
    dtype=np.uint32,
)


def cuboid_mesh(
    x0: float, x1: float, y0: float, y1: float, z0: float, z1: float
) -> tuple[np.ndarray, np.ndarray]:
    """Vertices ``(8, 3)`` and triangles ``(12, 3)`` of an axis-aligned cuboid."""
    v = np.array(
        [
            [x0, y0, z0],
            [x1, y0, z0],
            [x1, y1, z0],
            [x0, y1, z0],
            [x0, y0, z1],
            [x1, y0, z1],
            [x1, y1, z1],
            [x0, y1, z1],
        ]
    )
    return v, _CUBE_FACES.copy()


def template_for(label: int) -> str:
    """Template name for an :class:`ObjectClass` label (plain box for static/unknown things)."""
    return _CLASS_TEMPLATE.get(ObjectClass(int(label)), "box")


def unit_mesh(template: str) -> tuple[np.ndarray, np.ndarray]:
    """The template's unit-box mesh: vertices ``(V, 3)`` float64 and triangles ``(T, 3)`` uint32."""
    try:
        parts = _TEMPLATES[template]
    except KeyError:
        raise ValueError(
            f"unknown mesh template {template!r}; known: {sorted(_TEMPLATES)}"
        ) from None
    vertices, triangles = [], []
    for i, part in enumerate(parts):
        v, t = cuboid_mesh(*part)
        vertices.append(v)
        triangles.append(t + 8 * i)
    return np.concatenate(vertices), np.concatenate(triangles).astype(np.uint32)


def boxes_mesh(
    boxes: np.ndarray, templates: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All boxes' meshes at once: vertices ``(V, 3)``, triangles ``(T, 3)`` uint32 and the
    ``(T,)`` index of the box each triangle belongs to (boxes grouped by template, vectorised)."""
    vertices, triangles, owner = [], [], []
    offset = 0
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 7)
    for template in dict.fromkeys(templates):
        idx = np.flatnonzero(np.asarray(templates) == template)
        v, t = unit_mesh(template)
        b = boxes[idx]
        local = v[None] * b[:, None, 3:6]  # (K, V, 3)
        local[..., 2] -= 0.5 * b[:, None, 5]
        c, s = np.cos(b[:, 6])[:, None], np.sin(b[:, 6])[:, None]
        world = np.stack(
            [
                b[:, None, 0] + c * local[..., 0] - s * local[..., 1],
                b[:, None, 1] + s * local[..., 0] + c * local[..., 1],
                b[:, None, 2] + local[..., 2],
            ],
            axis=-1,
        )
        vertices.append(world.reshape(-1, 3))
        triangles.append(
            (t[None] + (offset + len(v) * np.arange(len(idx)))[:, None, None]).reshape(-1, 3)
        )
        owner.append(np.repeat(idx, len(t)))
        offset += len(v) * len(idx)
    if not vertices:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.uint32), np.zeros(0, dtype=np.int64)
    return (
        np.concatenate(vertices),
        np.concatenate(triangles).astype(np.uint32),
        np.concatenate(owner).astype(np.int64),
    )
