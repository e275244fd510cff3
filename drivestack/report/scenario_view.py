"""Per-scenario pictures: the recorded history (``history.npz``) and the map from its config."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.sim.history_arrays import HistoryArrayError, check_history_arrays
from drivestack.sim.runner import SimHistory, history_arrays_of
from drivestack.sim.vehicle import VehicleParams
from drivestack.structures.road_map import RoadMap


def load_history(path: Path) -> SimHistory:
    """A :class:`SimHistory` from ``history.npz`` (as ``drivestack sim`` writes it).

    Vehicle parameters are not saved; the defaults stand in (the footprints are saved). A file
    written before the traffic lights were recorded reads as a run without lights.
    Raises ``DataError`` naming the file when it is missing an array or does not read, and
    naming the array (and tick) when one has the wrong shape or type, a NaN or infinite value
    (agent boxes and velocities: at a tick the agent is valid) or its timestamps do not
    increase (:func:`~drivestack.sim.history_arrays.check_history_arrays`): what the plots
    and the TTC would otherwise crash on or draw silently wrong.
    """
    try:
        with np.load(path) as npz:
            arrays = history_arrays_of({k: npz[k] for k in npz.files})
    except KeyError as exc:
        raise DataError(f"missing array {exc.args[0]!r}", path=str(path)) from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # damaged archive
        raise DataError(f"cannot read: {exc}", path=str(path)) from exc
    try:
        check_history_arrays(arrays)
    except HistoryArrayError as exc:
        tick = None if exc.tick is None else f"tick {exc.tick}"
        raise DataError(exc.reason, path=str(path), record=tick, field=exc.field) from None
    t = arrays["timestamp_ns"]
    dt_s = float(np.median(np.diff(t))) * 1e-9 if len(t) > 1 else 0.1
    try:
        return SimHistory(
            dt_s=dt_s,
            agent_ids=tuple(str(i) for i in range(arrays["agent_boxes"].shape[1])),
            vehicle=VehicleParams(),
            **arrays,
        )
    except ValueError as exc:  # arrays that do not fit together (traffic light shapes)
        raise DataError(str(exc), path=str(path)) from exc


class MapCache:
    """Road maps rebuilt from scenario configs, one build per distinct map config."""

    def __init__(self, data_root: Path | None) -> None:
        self.data_root = data_root
        self._maps: dict[str, RoadMap | None] = {}
        self.errors: dict[str, str] = {}

    def road_map(self, config: dict[str, Any] | None) -> RoadMap | None:
        """The map of a scenario config (``metrics.json``'s ``config``); None if it cannot build."""
        if not isinstance(config, dict) or "map" not in config:
            return None
        key = json.dumps(config["map"], sort_keys=True)
        if config.get("traffic_lights"):  # the scenario's lights change the map's
            key = json.dumps([config["map"], config["traffic_lights"]], sort_keys=True)
        if key not in self._maps:
            from drivestack.config import from_mapping
            from drivestack.sim.build import build_scenario
            from drivestack.sim.scenario import ScenarioConfig

            try:
                cfg = from_mapping(ScenarioConfig, config, path=str(config.get("source", "")))
                self._maps[key] = build_scenario(cfg, self.data_root).road_map
            except (DataError, ValueError, OSError, LookupError) as exc:
                self._maps[key] = None
                self.errors[key] = f"{type(exc).__name__}: {exc}"
        return self._maps[key]
