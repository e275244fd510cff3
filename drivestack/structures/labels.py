"""Object classes shared by perception, tracking, prediction and planning.

Labels are stored as small integers (``Boxes3D.label``); :class:`ObjectClass` names them.
Dataset-specific class names are mapped to these in ``ingest/``.
"""

from __future__ import annotations

from enum import IntEnum


class ObjectClass(IntEnum):
    UNKNOWN = 0
    CAR = 1
    PEDESTRIAN = 2
    CYCLIST = 3
    TRUCK = 4
    BUS = 5
    MOTORCYCLE = 6
    VAN = 7
    TRAILER = 8
    BARRIER = 9
    TRAFFIC_CONE = 10
    ANIMAL = 11
    OTHER_VEHICLE = 12

    @classmethod
    def from_name(cls, name: str) -> ObjectClass:
        """Case-insensitive lookup: ``ObjectClass.from_name("car") is ObjectClass.CAR``."""
        key = name.strip().upper().replace(" ", "_").replace("-", "_")
        try:
            return cls[key]
        except KeyError:
            raise ValueError(
                f"unknown object class {name!r}; known: {', '.join(c.name for c in cls)}"
            ) from None

    @property
    def display_name(self) -> str:
        return self.name.replace("_", " ").title()
