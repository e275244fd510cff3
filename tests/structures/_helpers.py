"""Hand-built lanes shared by the road-map tests."""

from __future__ import annotations

from drivestack.structures.road_map import Lane


def straight_lane(lane_id: str, x0: float, x1: float, y: float, **links: object) -> Lane:
    """A lane along +x from ``x0`` to ``x1`` centred on ``y``, 3.5 m wide."""
    return Lane(
        lane_id,
        [[x0, y], [x1, y]],
        [[x0, y + 1.75], [x1, y + 1.75]],
        [[x0, y - 1.75], [x1, y - 1.75]],
        **links,  # type: ignore[arg-type]
    )
