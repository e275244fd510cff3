"""Per-scenario pictures: the recorded history (``history.npz``) and the map from its config."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
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
    increase (:func:`_check_arrays`).
    """
    try:
        with np.load(path) as npz:
            arrays = history_arrays_of({k: npz[k] for k in npz.files})
    except KeyError as exc:
        raise DataError(f"missing array {exc.args[0]!r}", path=str(path)) from exc
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # damaged archive
        raise DataError(f"cannot read: {exc}", path=str(path)) from exc
    _check_arrays(arrays, path)
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


#: The shape of each array of ``history.npz`` (T ticks, A agents, L traffic lights), as
#: :class:`~drivestack.sim.runner.SimHistory` documents it.
_SHAPES: dict[str, tuple[str, ...]] = {
    "timestamp_ns": ("T",),
    **{
        name: ("T",)
        for name in (
            "ego_x_m",
            "ego_y_m",
            "ego_yaw_rad",
            "ego_speed_mps",
            "ego_accel_mps2",
            "ego_steering_rad",
        )
    },
    "ego_boxes": ("T", "7"),
    "agent_labels": ("A",),
    "agent_boxes": ("T", "A", "7"),
    "agent_velocity_mps": ("T", "A", "2"),
    "agent_valid": ("T", "A"),
    "collisions": ("T", "A"),
    "planner_step_s": ("T-1",),
    "sim_step_s": ("T-1",),
}
#: Arrays of flags (any numeric or bool dtype); the others are real numbers.
_FLAGS = ("agent_valid", "collisions")
#: Arrays whose values count only where the agent is valid (``agent_valid``).
_PER_VALID_AGENT = ("agent_boxes", "agent_velocity_mps")


def _check_arrays(arrays: dict[str, Any], path: Path) -> None:
    """``DataError`` naming ``path`` and the array (and its first bad tick) when the arrays of
    a history do not fit :data:`_SHAPES`, are not numbers, hold NaN or infinity, or the
    timestamps do not strictly increase: what the plots and the TTC would otherwise crash on
    or draw silently wrong."""
    t_ns = np.asarray(arrays["timestamp_ns"])
    n_agents = np.asarray(arrays["agent_labels"]).shape[:1] or (0,)
    sizes = {"T": t_ns.shape[0] if t_ns.ndim else 0, "A": n_agents[0], "7": 7, "2": 2}
    sizes["T-1"] = max(sizes["T"] - 1, 0)
    for name, dims in _SHAPES.items():
        arr = np.asarray(arrays[name])
        expected = tuple(sizes[d] for d in dims)
        if arr.shape != expected:
            want = ", ".join(f"{d}={sizes[d]}" if d[0] in "TA" else d for d in dims)
            raise DataError(
                f"shape {arr.shape}, expected ({want}; T: the ticks of timestamp_ns, A: the "
                "agents of agent_labels)",
                path=str(path),
                field=name,
            )
        if name == "agent_labels":
            continue
        kinds = "biuf" if name in _FLAGS else "iuf"
        if arr.dtype.kind not in kinds:
            raise DataError(f"dtype {arr.dtype}, expected numbers", path=str(path), field=name)
        if name in _FLAGS:
            continue
        bad = ~np.isfinite(arr.astype(np.float64))
        if name in _PER_VALID_AGENT:
            valid = np.asarray(arrays["agent_valid"]).astype(bool)
            bad &= valid.reshape(valid.shape + (1,) * (arr.ndim - valid.ndim))
        if bad.any():
            tick = int(np.argwhere(bad)[0][0])
            raise DataError(
                "NaN or infinite value", path=str(path), record=f"tick {tick}", field=name
            )
    steps = np.diff(t_ns.astype(np.float64))
    if steps.size and not (steps > 0).all():
        tick = int(np.flatnonzero(steps <= 0)[0]) + 1
        raise DataError(
            "timestamps do not increase",
            path=str(path),
            record=f"tick {tick}",
            field="timestamp_ns",
        )


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
