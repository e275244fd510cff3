"""Which OpenSCENARIO element a scenario key came from: the ``.xosc`` reader fills a scenario
mapping (the keys of a scenario YAML), and the checks after it name those keys; for an ``.xosc``
author the element is named first (``Init/Lead/TeleportAction (read as agents.0.station_m)``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from drivestack.core.errors import ConfigError

#: scenario key of an entity -> the element of the Init that sets it
_INIT_ELEMENTS = {
    "lane": "TeleportAction",
    "station_m": "TeleportAction",
    "offset_m": "TeleportAction",
    "speed_mps": "SpeedAction",
    "speed_kph": "SpeedAction",
    "route": "RoutingAction",
}


def ego_entity_name(path: str | Path) -> str:
    """The name of the ``.xosc`` file's ego entity (the first ``ScenarioObject`` named one of
    the reader's ego names, any case), for a message; ``<the ego entity>`` when the file does
    not say (it was read already, so this only names it)."""
    from drivestack.sim.openscenario import EGO_NAMES

    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return "<the ego entity>"
    names = [obj.get("name", "") for obj in root.iterfind("Entities/ScenarioObject")]
    return next((n for n in names if n.lower() in EGO_NAMES), "<the ego entity>")


def element_of_key(
    dotted: str, agent_ids: Sequence[str], ego_name: str = "<the ego entity>"
) -> str | None:
    """The ``.xosc`` element behind scenario key ``dotted`` (``agents.<i>.<key>``: the entity
    ``agent_ids[i]``; ``ego.<key>``: ``ego_name``), or None when the key is not one the
    reader fills from one element."""
    parts = dotted.split(".")
    if parts[0] == "duration_s":
        return "Storyboard/StopTrigger"
    if parts[0] == "ego" and len(parts) > 1:
        entity, key, rest = ego_name, parts[1], parts[2:]
    elif parts[0] == "agents" and len(parts) > 2 and parts[1].isdigit():
        i = int(parts[1])
        if i >= len(agent_ids):
            return None
        entity, key, rest = agent_ids[i], parts[2], parts[3:]
    else:
        return None
    if key == "station_m" and parts[0] == "agents":  # (the reader adds the box centre)
        return f"Init/{entity}/TeleportAction, its s plus its BoundingBox Center x"
    if key in _INIT_ELEMENTS:
        return f"Init/{entity}/{_INIT_ELEMENTS[key]}"
    if key in ("type", "size_m"):
        return f"Entities/{entity}"
    nth = f" #{int(rest[0]) + 1} by start time" if rest and rest[0].isdigit() else ""
    if key == "speed_events":
        return f"the SpeedAction events of {entity}{nth} (an Init SpeedAction with dynamics is #1)"
    if key == "lateral_shifts":
        return f"the LaneChangeAction / LaneOffsetAction events of {entity}{nth}"
    return None


def with_element(exc: ConfigError, agent_ids: Sequence[str]) -> ConfigError:
    """``exc`` (raised on a scenario read from the ``.xosc`` file ``exc.path``) with its field
    naming the element first; ``exc`` itself when its field is not a scenario key from one
    element."""
    field = exc.field or ""
    ego = ego_entity_name(exc.path) if field.startswith("ego.") and exc.path else ""
    element = element_of_key(field, agent_ids, ego or "<the ego entity>")
    if element is None:
        return exc
    return ConfigError(exc.reason, path=exc.path, field=f"{element} (read as {exc.field})")
