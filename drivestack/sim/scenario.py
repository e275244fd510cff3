"""Scenario and suite YAML: schema, strict loading and parameter sweeps.

A scenario file holds one scenario (an OpenSCENARIO ``.xosc`` file is read too:
:mod:`drivestack.sim.openscenario`); its optional ``sweep`` expands it into several
(``cases``: explicit override sets; ``grid``: the Cartesian product of listed values, crossed
with the cases; ``random``: ``count`` seeded uniform draws from ranges for each of those,
checked by :func:`uniform_range_problem`, the rule of ``drivestack fleet --sweep``). Sweep keys
are dotted paths into the scenario (``ego.speed_kph``, ``agents.0.speed_events.0.accel_mps2``);
a case without a ``name`` is named by its values, each key as short as keeps the file's keys
apart (:func:`short_keys`). A suite lists scenario files (relative to the suite).
Files are read with ``yaml.safe_load`` only (via :func:`drivestack.config.strict.load_yaml`,
so a malformed file's error names the file, line and column).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

import numpy as np

from drivestack.config.strict import _text_number_hint, load_yaml
from drivestack.core.errors import ConfigError
from drivestack.core.numbers import is_digits
from drivestack.kernels._common import magnitude_limit
from drivestack.sim.config_loader import from_mapping
from drivestack.structures.traffic_light import (
    SIGNAL_STATES,
    duration_problem,
    offset_problem,
    period_problem,
    switch_time_problem,
)

#: The fastest speed a scenario may give, in m/s (540 km/h): faster than any road vehicle
#: drives, so a larger speed is a typo (``1e6`` km/h) that would otherwise run meaninglessly or
#: overflow the geometry mid-run. :func:`check_scenario` refuses every speed key beyond it: the
#: ego's and agents' ``speed_mps`` / ``speed_kph``, ``desired_speed_mps``,
#: ``speed_events.<j>.target_speed_mps``, the ``pass_criteria`` speeds and the map's
#: ``map.params`` speeds (``speed_limit_mps``, ``default_speed_limit_mps``).
MAX_SPEED_MPS = 150.0

#: The largest lateral shift an agent may make, in m (``lateral_shifts.<j>.offset_m``, either
#: side): a lane change crosses a few lanes of 3-4 m; a larger offset is a typo that would move
#: the agent off any road (and, large enough, overflow the geometry mid-run).
MAX_LATERAL_SHIFT_M = 100.0

#: Most ticks one scenario runs (``duration_s / dt_s``): 10,000 s at the usual 0.1 s step.
#: Beyond it a run would take hours and its history gigabytes (a ``dt_s`` of 1e-9 s over
#: 15 s is 1.5e10 ticks).
MAX_SCENARIO_STEPS = 100_000
#: The largest length, width or height of a configured agent (a road train is about 50 m):
#: a larger one is a typo, and past about 1e101 m box overlaps overflow.
MAX_AGENT_SIZE_M = 100.0


def speed_mps_of(speed_mps: float | None, speed_kph: float | None) -> float:
    """The speed an ego or agent config gives (at most one of the two keys; 0 if neither)."""
    if speed_kph is not None:
        return speed_kph / 3.6
    return speed_mps or 0.0


@dataclass(frozen=True)
class MapConfig:
    # straight | curved | intersection | merge | commonroad | lanelet2 | opendrive | av2
    kind: str
    # a synthetic map's builder arguments; a file map's reader settings (sim.build.FILE_MAP_PARAMS)
    params: dict[str, int | float] = field(default_factory=dict)
    file: str | None = (
        None  # commonroad / lanelet2 / opendrive: absolute, or relative to the shared data folder
    )
    # av2: the Argoverse 2 sensor log folder (annotations, ego poses, map/), as ``file``
    log: str | None = None


@dataclass(frozen=True)
class EgoConfig:
    lane: str | None = None  # start on this lane's centreline ...
    station_m: float = 0.0
    offset_m: float = 0.0
    speed_mps: float | None = None
    speed_kph: float | None = None
    # ... or at the CommonRoad planning problem's initial state / the AV2 log's first pose
    from_file: bool = False

    def speed(self) -> float:
        return speed_mps_of(self.speed_mps, self.speed_kph)


@dataclass(frozen=True)
class RouteConfig:
    lanes: list[str] | None = None  # explicit route; otherwise searched from the ego lane
    goal_lane: str | None = None


@dataclass(frozen=True)
class SpeedEventConfig:
    time_s: float  # the start, or the earliest start with when_ego_within_m
    accel_mps2: float
    target_speed_mps: float
    when_ego_within_m: float | None = None  # start once the ego's centre is this close
    # ... measured along the agent's path (|station - ego's projected station - offset|)
    along_path: bool = False
    along_path_offset_m: float = 0.0


@dataclass(frozen=True)
class LateralShiftConfig:
    time_s: float  # as SpeedEventConfig's
    duration_s: float
    offset_m: float
    when_ego_within_m: float | None = None
    along_path: bool = False
    along_path_offset_m: float = 0.0


@dataclass(frozen=True)
class AgentConfig:
    id: str
    type: str = "car"  # an ObjectClass name
    behavior: str = "idm"  # idm | scripted
    lanes: list[str] | None = None  # path along these lanes' centrelines ...
    path_m: list[tuple[float, float]] | None = None  # ... or an explicit polyline
    station_m: float = 0.0
    offset_m: float = 0.0
    speed_mps: float | None = None
    speed_kph: float | None = None
    desired_speed_mps: float | None = None  # idm only (default: its start speed, >= 1 m/s)
    size_m: tuple[float, float, float] | None = None
    speed_events: list[SpeedEventConfig] = field(default_factory=list)  # scripted only
    lateral_shifts: list[LateralShiftConfig] = field(default_factory=list)

    def speed(self) -> float:
        return speed_mps_of(self.speed_mps, self.speed_kph)


@dataclass(frozen=True)
class LightStopConfig:
    lane: str  # the lane the light stops traffic on ...
    station_m: float  # ... at this station of its centreline (m from the lane's start)


@dataclass(frozen=True)
class SignalSwitchConfig:
    at_s: float  # from this time on (s, >= 0; in time order, of two at one time the later wins)
    state: str | None = None  # ... the light holds this state (SIGNAL_STATES), or
    phase: int | None = None  # ... its cycle starts over with phases[phase] (one of the two)


@dataclass(frozen=True)
class TrafficLightConfig:
    id: str  # a map light's id (its cycle replaced), or a new light's (with stops)
    phases: list[tuple[str, float]]  # [[state, duration_s], ...] repeated (SIGNAL_STATES)
    offset_s: float = 0.0  # when the first phase starts (the cycle runs on before it too)
    stops: list[LightStopConfig] | None = None  # a new light: where it stops traffic
    # the cycle switched during the run (SignalSwitch): a held state or a phase started over
    switches: list[SignalSwitchConfig] = field(default_factory=list)


@dataclass(frozen=True)
class PassCriteria:
    no_collision: bool = True  # no contact at all
    # no at-fault contact (nuPlan's rule; for replayed traffic that cannot react)
    no_at_fault_collision: bool = True
    min_score: float | None = None  # 0-100, the scale of the displayed score
    max_impact_speed_kph: float | None = None
    min_speed_reduction_kph: float | None = None
    min_progress_m: float | None = None
    # the ego's front never passes a stop line while its light shows red (or red-yellow)
    no_red_light_violation: bool = True
    # the ego's front never passes a stop sign's line (kinds stop / all_way_stop) without a
    # full stop within 3 m before it (drivestack.eval.driving.stop_signs)
    no_stop_sign_violation: bool = True
    # the ego's footprint never leaves the drivable area by more than nuPlan's
    # drivable_area_compliance tolerance (0.3 m, drivestack.eval.driving.nuplan)
    stays_on_drivable_area: bool = True


@dataclass(frozen=True)
class ScenarioConfig:
    name: str
    map: MapConfig
    ego: EgoConfig
    duration_s: float
    description: str = ""
    tags: list[str] = field(default_factory=list)
    dt_s: float = 0.1
    route: RouteConfig = field(default_factory=RouteConfig)
    agents: list[AgentConfig] = field(default_factory=list)
    # cycles for map lights (by id) and new lights at lanes and stations (sim.build applies them)
    traffic_lights: list[TrafficLightConfig] = field(default_factory=list)
    agents_from_file: bool = False  # CommonRoad / AV2 log: replay the recorded obstacles
    # ... with the recorded vehicles reactive (drivestack.sim.agents: IDM along their recorded
    # paths); needs agents_from_file. `drivestack sim --agents` sets it for a whole suite
    agents_reactive: bool = False
    # nuPlan progress reference; default: 0.8 x limit x duration (the initial speed instead for a
    # CommonRoad ego; an AV2 log's recorded drive over duration_s), capped by the route length
    expert_progress_m: float | None = None
    pass_criteria: PassCriteria = field(default_factory=PassCriteria)
    sweep: dict[str, Any] | None = None
    source: str = ""  # the file it came from (set by the loader)


@dataclass(frozen=True)
class SuiteEntry:
    file: str
    names: list[str] | None = None  # only these expanded scenarios
    # planner -> why its runs of these scenarios are expected to fail (a strict xfail)
    known_failures: dict[str, str] | None = None


@dataclass(frozen=True)
class SuiteConfig:
    name: str
    scenarios: list[SuiteEntry]
    description: str = ""


#: Keys that give one quantity in two units: a swept value in one replaces the other.
_UNIT_TWINS = {"speed_kph": "speed_mps", "speed_mps": "speed_kph"}


def unit_twin(key: str) -> str | None:
    """The dotted key that gives the same quantity in the other unit (``ego.speed_kph`` ->
    ``ego.speed_mps``), None for a key without one."""
    head, _, last = key.rpartition(".")
    twin = _UNIT_TWINS.get(last)
    return None if twin is None else f"{head}.{twin}" if head else twin


def own_sweep_keys(data: Any) -> set[str]:
    """The dotted keys a scenario file's ``sweep:`` sets (its cases', grid's and random
    ranges'; not ``name``; the format :func:`_expand` reads, taken leniently: a mapping
    of another shape gives no key); empty for anything without such a block."""
    sweep = data.get("sweep") if isinstance(data, dict) else None
    if not isinstance(sweep, dict):
        return set()
    own: set[str] = set()
    for case in sweep.get("cases") or []:
        if isinstance(case, dict):
            own |= {str(k) for k in case if k != "name"}
    grid, rand = sweep.get("grid"), sweep.get("random")
    for keys in (grid, rand.get("ranges") if isinstance(rand, dict) else None):
        if isinstance(keys, dict):
            own |= {str(k) for k in keys}
    return own


def set_dotted(data: dict[str, Any], dotted: str, value: object, path: str) -> None:
    """Set the sweep key ``dotted`` (``ego.speed_kph``, ``agents.0.station_m``) in the raw
    scenario mapping ``data``; ``ConfigError`` naming ``sweep.<key>`` when it does not exist.
    A speed set in one unit clears the other (a scenario written with ``speed_mps`` is swept
    with ``ego.speed_kph``)."""
    parts = dotted.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            # ASCII digits only: int() also reads "1_0", "-1" (the last item) and non-ASCII digits
            idx = int(part) if is_digits(part) else len(node)
            try:
                node[idx]
            except IndexError:
                raise ConfigError(
                    f"sweep key does not exist ({part!r})", path=path, field=f"sweep.{dotted}"
                ) from None
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[part] = value
                if part in _UNIT_TWINS and node.get(_UNIT_TWINS[part]) is not None:
                    node[_UNIT_TWINS[part]] = None
            elif part not in node and is_digits(
                parts[i + 1]
            ):  # indexing into a list that is not there
                raise ConfigError(
                    f"sweep key does not exist ({part!r})", path=path, field=f"sweep.{dotted}"
                )
            else:
                node = node.setdefault(part, {})
        else:
            raise ConfigError(
                f"sweep key does not exist ({part!r})", path=path, field=f"sweep.{dotted}"
            )


def field_keys(cfg: ScenarioConfig) -> list[str]:
    """Every dotted key of ``cfg`` a sweep could set (``ego.speed_kph``, ``agents.0.station_m``):
    leaf fields, mapping entries and list items, in field order (``sweep`` and ``source`` left out).
    """
    keys: list[str] = []
    _collect_keys(
        {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("sweep", "source")},
        "",
        keys,
    )
    return keys


def _collect_keys(node: object, prefix: str, keys: list[str]) -> None:
    """Append the dotted leaf keys under ``node`` (a parsed config value) to ``keys``."""
    if isinstance(node, dict):
        children: list[tuple[object, object]] = list(node.items())
    elif isinstance(node, list | tuple) and any(isinstance(v, dict) for v in node):
        children = list(enumerate(node))
    else:
        keys.append(prefix)
        return
    for key, value in children:
        _collect_keys(value, f"{prefix}.{key}" if prefix else str(key), keys)


#: Where a sweep override came from, by its dotted key (``sweep.cases.2``, ``sweep.grid``,
#: ``sweep.random.ranges``): an error about the key names it there.
Origins = dict[str, str]


#: The most scenarios one file's ``sweep`` may expand into (cases x grid combinations x random
#: draws): loading and checking one takes about a millisecond, so a typo in ``count`` or a
#: long grid is refused before it is expanded (``drivestack fleet`` runs larger sweeps).
MAX_SWEPT_SCENARIOS = 10_000


def _check_sweep_size(n_scenarios: int, path: str, key: str) -> None:
    """``ConfigError`` at ``sweep.<key>`` when the sweep would make more than
    :data:`MAX_SWEPT_SCENARIOS` scenarios."""
    if n_scenarios > MAX_SWEPT_SCENARIOS:
        raise ConfigError(
            f"the sweep would make {n_scenarios:,} scenarios, more than the "
            f"{MAX_SWEPT_SCENARIOS:,} one file may (drivestack fleet runs larger sweeps)",
            path=path,
            field=f"sweep.{key}",
        )


def _key_mapping(value: object) -> bool:
    """Whether ``value`` is a mapping of sweep keys (its keys text, as dotted keys are)."""
    return isinstance(value, dict) and all(isinstance(k, str) for k in value)


def _expand(raw: dict[str, Any], path: str) -> list[tuple[dict[str, Any], Origins]]:
    """The scenario mappings ``raw``'s sweep makes (``raw`` alone without one), each with the
    origins of its overrides."""
    sweep = raw.get("sweep")
    if sweep is None:
        return [(raw, {})]
    if not isinstance(sweep, dict) or set(sweep) - {"grid", "random", "cases"}:
        raise ConfigError(
            "sweep must be a mapping with 'cases', 'grid' and/or 'random'", path=path, field="sweep"
        )
    variants: list[dict[str, object]] = [{}]
    origins: list[Origins] = [{}]
    cases = sweep.get("cases")
    if cases is not None:
        if (
            not isinstance(cases, list)
            or not cases
            or not all(_key_mapping(c) and c for c in cases)
        ):
            raise ConfigError(
                "cases must be a non-empty list of {dotted key: value} mappings",
                path=path,
                field="sweep.cases",
            )
        variants = [dict(c) for c in cases]
        origins = [{str(k): f"sweep.cases.{i}" for k in c} for i, c in enumerate(cases)]
    grid = sweep.get("grid") or {}
    if not _key_mapping(grid) or not all(isinstance(v, list) and v for v in grid.values()):
        raise ConfigError(
            "grid must map dotted keys to non-empty lists", path=path, field="sweep.grid"
        )
    if grid:
        _check_sweep_size(len(variants) * math.prod(len(v) for v in grid.values()), path, "grid")
        keys = list(grid)
        combos = [
            dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(grid[k] for k in keys))
        ]
        variants = [{**base, **combo} for base in variants for combo in combos]
        grid_origins = {str(k): "sweep.grid" for k in keys}
        origins = [{**base, **grid_origins} for base in origins for _ in combos]
    rand = sweep.get("random")
    if rand is not None:
        count, seed, ranges = _random_sweep(rand, path)
        _check_sweep_size(len(variants) * count, path, "random.count")
        rng = np.random.default_rng(seed)
        range_origins = {k: "sweep.random.ranges" for k in ranges}
        origins = [{**base, **range_origins} for base in origins for _ in range(count)]
        drawn = []
        for base in variants:
            draws = [
                {k: uniform_draw(rng, lo, hi) for k, (lo, hi) in ranges.items()}
                for _ in range(count)
            ]
            _check_distinct_draws(draws, path)
            drawn += [{**base, **values} for values in draws]
        variants = drawn
    short = short_keys([k for v in variants for k in v if k != "name"])
    out = []
    named: dict[str, str] = {}  # variant name -> where the first one came from
    for overrides, origin in zip(variants, origins, strict=True):
        data = unaliased({k: v for k, v in raw.items() if k != "sweep"})
        name_field = f"{origin['name']}.name" if "name" in overrides else "sweep"
        label = overrides.pop("name", None)  # a case may name itself
        origin = {k: v for k, v in origin.items() if k in overrides}
        for key, value in overrides.items():
            try:
                set_dotted(data, key, value, path)
            except ConfigError as exc:  # named where the key is written: sweep.cases.0.<key>
                raise ConfigError(exc.reason, path=path, field=f"{origin[key]}.{key}") from None
        # a named case keeps its name; the grid's and draws' values still tell its variants
        # apart (a named case crossed with a grid gave every combination the case's name)
        shown = [
            k
            for k, v in overrides.items()
            if not isinstance(v, list | dict)
            and (label is None or not origin.get(k, "").startswith("sweep.cases"))
        ]
        values_label = ",".join(f"{short[k]}={overrides[k]}" for k in shown)
        if label is None:
            label = values_label
        elif values_label:
            label = f"{label},{values_label}"
        data["name"] = f"{raw.get('name', '?')}[{label}]" if label else raw.get("name")
        if isinstance(data["name"], str) and data["name"] in named:
            raise ConfigError(
                f"two variants are named {data['name']!r} (the first from "
                f"{named[data['name']]}): each needs its own name, as its result folder",
                path=path,
                field=name_field,
            )
        named[str(data["name"])] = name_field
        out.append((data, origin))
    return out


def unaliased(value: Any) -> Any:
    """A copy of a YAML mapping in which no two places share a list or mapping: a YAML
    anchor (``&lead`` / ``<<: *lead``) makes the loader share them, and ``copy.deepcopy``
    keeps that sharing, so a sweep setting ``agents.0.speed_events.0.accel_mps2`` changed
    every agent merged from the same anchor."""
    if isinstance(value, dict):
        return {k: unaliased(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unaliased(v) for v in value]
    return value


def uniform_range_problem(low: float, high: float) -> str | None:
    """Why ``[low, high]`` cannot be the range of a uniform draw, as words that follow
    "range" in an error (None when it can): both bounds finite, ``low <= high`` (equal bounds
    draw that one value) and ``high - low`` finite (numpy's ``uniform`` needs it). The one rule
    of a scenario file's ``sweep.random.ranges`` and ``drivestack fleet --sweep KEY=LO:HI``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return "bounds must be finite numbers, not NaN or infinite"
    if not low <= high:
        return "must have lo <= hi (equal bounds draw that one value)"
    if not math.isfinite(high - low):
        return "is wider than a float holds (hi - lo overflows)"
    return None


def uniform_draw(rng: np.random.Generator, low: float, high: float) -> float:
    """One uniform draw from ``[low, high]`` (:func:`uniform_range_problem` is None for it),
    rounded to 3 decimals and kept within the range (rounding could leave one narrower than
    that): a swept value as a scenario file's ``sweep.random`` and a fleet draw it."""
    # + 0.0: numpy refuses [0.0, -0.0] ("high - low < 0": the sign of -0.0 counts there)
    return min(max(round(float(rng.uniform(low + 0.0, high + 0.0)), 3), low), high)


def _whole_number(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a YAML integer (``True`` / ``False`` are not, nor is ``1.0``)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _bound(value: object) -> float | None:
    """A range bound as a float (an integer too large for one as an infinity); None for a
    value that is not a number (a bool is not one)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond float64: refused as infinite
        return math.inf if value > 0 else -math.inf  # (copysign would convert it again)


def _random_sweep(rand: object, path: str) -> tuple[int, int, dict[str, tuple[float, float]]]:
    """``sweep.random`` read: ``count`` (a whole number >= 1), ``seed`` (a whole number >= 0;
    0 when left out) and ``ranges`` (at least one dotted key -> ``(lo, hi)``, two numbers that
    :func:`uniform_range_problem` accepts); ``ConfigError`` naming the file and
    ``sweep.random.count`` / ``.seed`` / ``.ranges[.<key>]`` otherwise."""
    where = "sweep.random"
    if not isinstance(rand, dict) or set(rand) - {"count", "seed", "ranges"}:
        raise ConfigError(
            "random needs count (int), seed (int) and ranges {key: [lo, hi]}",
            path=path,
            field=where,
        )
    count = rand.get("count")
    if not (_whole_number(count) and count >= 1):
        raise ConfigError(
            f"must be a whole number of draws >= 1, got {count!r}",
            path=path,
            field=f"{where}.count",
        )
    seed = rand.get("seed", 0)
    if not (_whole_number(seed) and seed >= 0):
        raise ConfigError(
            f"must be a whole number >= 0 (the draws' seed), got {seed!r}",
            path=path,
            field=f"{where}.seed",
        )
    ranges = rand.get("ranges")
    if not isinstance(ranges, dict) or not ranges:
        raise ConfigError(
            f"needs at least one {{dotted key: [lo, hi]}} range, got {ranges!r} (draws of "
            "nothing would be copies of the scenario)",
            path=path,
            field=f"{where}.ranges",
        )
    out: dict[str, tuple[float, float]] = {}
    for key, bounds in ranges.items():
        field = f"{where}.ranges.{key}"
        if not isinstance(key, str):
            raise ConfigError("must be a dotted key (text)", path=path, field=field)
        low, high = (
            (_bound(bounds[0]), _bound(bounds[1]))
            if isinstance(bounds, list) and len(bounds) == 2
            else (None, None)
        )
        if low is None or high is None:
            text = (
                next((b for b in bounds if isinstance(b, str)), None)
                if isinstance(bounds, list)
                else None
            )
            raise ConfigError(
                f"range must be [lo, hi], two numbers, got {bounds!r}{_text_number_hint(text)}",
                path=path,
                field=field,
            )
        problem = uniform_range_problem(low, high)
        if problem is not None:
            raise ConfigError(f"range {problem}, got {bounds!r}", path=path, field=field)
        out[key] = (low, high)
    return count, seed, out


def _check_distinct_draws(draws: list[dict[str, float]], path: str) -> None:
    """``ConfigError`` at ``sweep.random.ranges`` when two of one scenario's ``count`` draws
    (``draws``, in order) gave the same values: they would be one scenario twice, under one
    name (equal bounds draw one value; a range narrower than the 3 decimals drawn a few)."""
    first: dict[tuple[float, ...], int] = {}
    for j, values in enumerate(draws):
        k = first.setdefault(tuple(values.values()), j)
        if k != j:
            raise ConfigError(
                f"draws {k} and {j} of the {len(draws)} (count) are the same, {values}: the "
                "scenario would run twice under one name; widen a range or lower count",
                path=path,
                field="sweep.random.ranges",
            )


def short_keys(keys: list[str]) -> dict[str, str]:
    """Each dotted sweep key of ``keys`` -> its name in a swept scenario's name
    (``ccrs[speed_kph=30]``): its last part where no other key of ``keys`` ends with it, else
    the shortest tail that tells it apart and starts at a field, not a list index
    (``ego.speed_kph`` beside ``agents.0.speed_kph``; ``speed_events.1.accel_mps2`` beside
    ``speed_events.0.accel_mps2``), else the whole key."""
    unique = list(dict.fromkeys(keys))

    def clashes(tail: str, key: str) -> bool:
        return any(o != key and (o == tail or o.endswith(f".{tail}")) for o in unique)

    out = {}
    for key in unique:
        parts = key.split(".")
        tails = [
            ".".join(parts[i:]) for i in reversed(range(len(parts))) if not is_digits(parts[i])
        ]
        out[key] = next((t for t in tails if not clashes(t, key)), key)
    return out


#: Where YAML reads an unquoted traffic-light value or lane id as something else than the
#: string meant (``{value}`` in a hint is the value read):
#: the key's pattern, whether the raw value is that mistake, and the hint.
_QUOTE_HINTS: tuple[tuple[re.Pattern[str], Callable[[object], bool], str], ...] = (
    (
        re.compile(r"traffic_lights\.\d+\.(phases\.\d+\.0|switches\.\d+\.state)"),
        lambda value: value is False,
        "quote it: YAML reads off as false",
    ),
    (
        re.compile(r"traffic_lights\.\d+\.id"),
        lambda value: isinstance(value, int | float) and not isinstance(value, bool),
        "quote it: light ids are strings",
    ),
    (  # a Lanelet2 relation or CommonRoad lanelet id written bare: `lane: 45084`
        re.compile(
            r"ego\.lane|route\.(goal_lane|lanes\.\d+)|agents\.\d+\.lanes\.\d+"
            r"|traffic_lights\.\d+\.stops\.\d+\.lane"
        ),
        lambda value: isinstance(value, int | float) and not isinstance(value, bool),
        'quote it, "{value}": lane ids are strings',
    ),
)


def _with_quote_hint(exc: ConfigError, data: Any) -> ConfigError:
    """``exc`` with a hint to quote the value when it is about a traffic light's state that
    YAML read as a bool (unquoted ``off``), or a light's or lane's id read as a number
    (:data:`_QUOTE_HINTS`); ``exc`` otherwise."""
    field = exc.field or ""
    value: Any = data
    for part in field.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and is_digits(part) and int(part) < len(value):
            value = value[int(part)]
        else:
            return exc
    for pattern, mistaken, hint in _QUOTE_HINTS:
        if pattern.fullmatch(field) and mistaken(value):
            hint = hint.format(value=value)
            return ConfigError(f"{exc.reason} ({hint})", path=exc.path, field=exc.field)
    return exc


def _in_sweep(exc: ConfigError, origins: Origins) -> ConfigError:
    """``exc`` about a key a sweep override set (the key itself or a key under it) as an
    error at the override (``sweep.cases.0.ego.speedkph``); ``exc`` itself otherwise."""
    field = exc.field or ""
    keys = [k for k in origins if field == k or field.startswith(f"{k}.")]
    if not keys:
        return exc
    key = max(keys, key=len)
    return ConfigError(exc.reason, path=exc.path, field=f"{origins[key]}.{field}")


def load_scenarios(path: str | Path) -> list[ScenarioConfig]:
    """All scenarios of one file (one, or several with a sweep): a scenario YAML, or an
    OpenSCENARIO ``.xosc`` file (:mod:`drivestack.sim.openscenario`: the subset read).

    Every scenario (each swept variant too) is checked by :func:`check_scenario`: a
    ``ConfigError`` names the file and the dotted key (``sweep.cases.<i>.<key>`` for a swept
    value). Besides finite numbers in range, that bounds what no real scenario reaches: a speed
    (any speed key) above :data:`MAX_SPEED_MPS` = 150 m/s (540 km/h) and a lateral shift beyond
    :data:`MAX_LATERAL_SHIFT_M` = 100 m are refused."""
    p = Path(path)
    if p.suffix.lower() == ".xosc":
        from drivestack.sim.openscenario import read_openscenario
        from drivestack.sim.openscenario._keys import with_element

        raw = read_openscenario(p)
        try:
            return _scenarios_of(raw, str(p))
        except ConfigError as exc:  # a key the reader filled: named by its element
            raise with_element(exc, [a["id"] for a in raw["agents"]]) from None
    else:
        raw = load_yaml(p)  # errors name the file (and line, column)
    if not isinstance(raw, dict):
        raise ConfigError("a scenario file must hold a mapping", path=str(p))
    return _scenarios_of(raw, str(p))  # (the file's own mapping: no copy)


def scenarios_from_mapping(data: object, source: str = "<dict>") -> list[ScenarioConfig]:
    """The scenarios of a scenario mapping built in Python (the keys of a scenario YAML,
    ``sweep`` included: one scenario, or one per swept variant), checked as
    :func:`load_scenarios` checks a file's; ``ConfigError`` names ``source`` and the dotted
    key. ``source`` is also the path relative map and log files are read from (its folder;
    ``"<dict>"``: the working folder). ``data`` itself is left unchanged.

    >>> from drivestack.sim.scenario import scenarios_from_mapping
    >>> [cfg] = scenarios_from_mapping({
    ...     "name": "straight", "map": {"kind": "straight", "params": {"length_m": 300.0}},
    ...     "ego": {"lane": "road_0", "station_m": 10.0, "speed_kph": 50.0},
    ...     "duration_s": 5.0})
    >>> cfg.name, cfg.ego.speed_kph
    ('straight', 50.0)
    """
    if not isinstance(data, dict):
        raise ConfigError(f"a scenario must be a mapping, got {type(data).__name__}", path=source)
    return _scenarios_of(unaliased(data), source)


def _scenarios_of(data: dict[str, Any], source: str) -> list[ScenarioConfig]:
    """:func:`scenarios_from_mapping` of a mapping it may change (a sweep's variants and the
    ``source`` key are written into it)."""
    scenarios = []
    for variant, origins in _expand(data, source):
        variant["source"] = source
        try:
            cfg = from_mapping(ScenarioConfig, variant, source)
            check_scenario(cfg)
        except ConfigError as exc:  # a swept value's error names the sweep key it came from
            raise _in_sweep(_with_quote_hint(exc, variant), origins) from None
        scenarios.append(cfg)
    return scenarios


def check_steps(cfg: ScenarioConfig) -> None:
    """``ConfigError`` when ``cfg``'s run would have no tick (``duration_s`` under half a
    ``dt_s``: it would score and pass without driving), more than
    :data:`MAX_SCENARIO_STEPS` ticks, or a ``dt_s`` below the clock's 1 ns (every tick at
    one timestamp)."""
    where = cfg.source
    if cfg.dt_s < 0.5e-9:
        raise ConfigError(
            f"must be at least 1e-9 s (the clock ticks in whole ns), got {cfg.dt_s}",
            path=where,
            field="dt_s",
        )
    ratio = cfg.duration_s / cfg.dt_s
    if round(ratio) < 1:
        raise ConfigError(
            f"{cfg.duration_s} s is less than one step of dt_s = {cfg.dt_s} s: the run would "
            "have no step",
            path=where,
            field="duration_s",
        )
    if ratio >= MAX_SCENARIO_STEPS + 0.5:
        raise ConfigError(
            f"{cfg.duration_s} s at dt_s = {cfg.dt_s} s is {ratio:.4g} steps, more than the "
            f"{MAX_SCENARIO_STEPS:,} a run may take: give a longer dt_s or a shorter duration",
            path=where,
            field="duration_s",
        )


def check_scenario(cfg: ScenarioConfig) -> None:
    """The checks of ``cfg`` that need no map (``ConfigError`` naming ``cfg.source`` and the
    dotted key). :func:`load_scenarios` runs them on every loaded scenario and
    :func:`~drivestack.sim.build.build_scenario` on every scenario it builds (swept fleet
    variants and configs made in code included), before the checks that need the map.
    Speeds are bounded by :data:`MAX_SPEED_MPS`, lateral shifts by :data:`MAX_LATERAL_SHIFT_M`,
    the run's length by :data:`MAX_SCENARIO_STEPS` (:func:`check_steps`); a key that would be
    ignored is refused: ``route.goal_lane`` beside ``route.lanes``, an agent key its behaviour
    does not use (:data:`_BEHAVIOR_KEYS`)."""
    path = cfg.source
    if not (np.isfinite(cfg.duration_s) and cfg.duration_s > 0):
        raise ConfigError(
            f"must be a finite duration > 0 s, got {cfg.duration_s}", path=path, field="duration_s"
        )
    if not 0 < cfg.dt_s <= 1.0:
        raise ConfigError(f"must be in (0, 1] s, got {cfg.dt_s}", path=path, field="dt_s")
    check_steps(cfg)
    _check_map_source(cfg.map, path)
    if cfg.agents_reactive and not cfg.agents_from_file:
        raise ConfigError(
            "only recorded traffic can be made reactive: give agents_from_file: true too "
            "(idm agents react already)",
            path=path,
            field="agents_reactive",
        )
    if cfg.ego.lane is None and not cfg.ego.from_file:
        raise ConfigError("give ego.lane or ego.from_file", path=path, field="ego.lane")
    _check_one_speed(cfg.ego.speed_mps, cfg.ego.speed_kph, path, "ego")
    _check_not_negative_speed(cfg.ego.speed_mps, cfg.ego.speed_kph, path, "ego")
    if cfg.route.lanes is not None and not cfg.route.lanes:
        raise ConfigError(
            "needs at least one lane (or leave route.lanes out to search the route)",
            path=path,
            field="route.lanes",
        )
    if cfg.route.lanes is not None and cfg.route.goal_lane is not None:
        raise ConfigError(
            f"{cfg.route.goal_lane!r} conflicts with route.lanes: {cfg.route.lanes}; give "
            "either the route's lanes or a goal lane to search a route to, not both",
            path=path,
            field="route.goal_lane",
        )
    for i, agent in enumerate(cfg.agents):
        if agent.behavior not in ("idm", "scripted"):
            raise ConfigError(
                f"must be 'idm' or 'scripted', got {agent.behavior!r}",
                path=path,
                field=f"agents.{i}.behavior",
            )
        _check_behavior_keys(agent, path, f"agents.{i}")
        if (agent.lanes is None) == (agent.path_m is None):
            raise ConfigError(
                "give exactly one of lanes and path_m", path=path, field=f"agents.{i}.lanes"
            )
        if agent.path_m is not None:
            _check_path_station(agent, path, i)
        _check_one_speed(agent.speed_mps, agent.speed_kph, path, f"agents.{i}")
        _check_not_negative_speed(agent.speed_mps, agent.speed_kph, path, f"agents.{i}")
        _check_events(agent, path, f"agents.{i}")
        if not str(path).lower().endswith(".xosc"):  # (OpenSCENARIO's step shape: by design)
            _warn_hard_speed_events(agent, path, f"agents.{i}")
        if agent.size_m is not None and not all(
            np.isfinite(v) and 0 < v <= MAX_AGENT_SIZE_M for v in agent.size_m
        ):
            raise ConfigError(
                f"each of length, width and height must be a size in (0, {MAX_AGENT_SIZE_M:g}] "
                f"m, got {list(agent.size_m)}",
                path=path,
                field=f"agents.{i}.size_m",
            )
    _check_numbers(cfg, path)
    _check_speed_bounds(cfg, path)
    _check_traffic_lights(cfg.traffic_lights, path)
    min_score = cfg.pass_criteria.min_score
    if min_score is not None and not 0.0 <= min_score <= 100.0:
        raise ConfigError(
            f"must be in [0, 100] (the displayed score's scale), got {min_score}",
            path=path,
            field="pass_criteria.min_score",
        )


#: How ``drivestack sim --agents`` runs recorded traffic (``ScenarioConfig.agents_reactive``).
RECORDED_AGENT_MODES = ("reactive", "replay")


def recorded_agents_mode(cfg: ScenarioConfig) -> str | None:
    """How ``cfg``'s recorded traffic runs: ``reactive``, ``replay``, or None without any."""
    if not cfg.agents_from_file:
        return None
    return "reactive" if cfg.agents_reactive else "replay"


def with_recorded_agents(cfg: ScenarioConfig, mode: str) -> ScenarioConfig:
    """``cfg`` with its recorded traffic run as ``mode`` (:data:`RECORDED_AGENT_MODES`);
    ``cfg`` itself when it has none (``ValueError`` for another mode)."""
    if mode not in RECORDED_AGENT_MODES:
        raise ValueError(f"recorded agents run as one of {RECORDED_AGENT_MODES}, got {mode!r}")
    if not cfg.agents_from_file:
        return cfg
    return dataclasses.replace(cfg, agents_reactive=mode == "reactive")


#: The map kinds read from ``map.file`` (``drivestack.sim.build.FILE_MAPS``).
FILE_MAP_KINDS = ("commonroad", "lanelet2", "opendrive")


def _check_map_source(m: MapConfig, path: str) -> None:
    """``ConfigError`` at ``map.log`` / ``map.file`` when an ``av2`` map has no ``log`` or has a
    ``file``, another kind has a ``log`` (only AV2 maps come from a log folder), or a built
    map (``straight``, ...) has a ``file`` (it would be ignored)."""
    if m.kind == "av2":
        if m.log is None:
            raise ConfigError(
                "an av2 map needs map.log (the log folder)", path=path, field="map.log"
            )
        if m.file is not None:
            raise ConfigError(
                "an av2 map is read from map.log (the log folder), not map.file",
                path=path,
                field="map.file",
            )
    elif m.log is not None:
        raise ConfigError(
            f"map.log is for av2 maps only, not {m.kind!r} (a file map takes map.file)",
            path=path,
            field="map.log",
        )
    elif m.file is not None and m.kind not in FILE_MAP_KINDS:  # it would be ignored
        raise ConfigError(
            f"map.file is for file maps ({', '.join(FILE_MAP_KINDS)}), not {m.kind!r}: the "
            f"{m.kind} map is built from map.params (set kind to the file's format to drive "
            "on it)",
            path=path,
            field="map.file",
        )


# the range tests of the number checks (:func:`_check_numbers`, :data:`_EVENT_RULES`)
def _positive(v: float) -> bool:
    return v > 0.0


def _not_negative(v: float) -> bool:
    return v >= 0.0


def _any(v: float) -> bool:
    return True


def _check_numbers(cfg: ScenarioConfig, path: str) -> None:
    """``ConfigError`` at the dotted key of an optional number or offset that is not finite or
    out of its range (a NaN or an infinity passes ``<=`` tests silently and fails mid-run)."""
    checks: list[tuple[str, float | None, Callable[[float], bool], str]] = [
        ("expert_progress_m", cfg.expert_progress_m, _positive, "a finite distance > 0 m"),
        ("ego.station_m", cfg.ego.station_m, _any, "a finite station in m"),
        ("ego.offset_m", cfg.ego.offset_m, _any, "a finite offset in m"),
    ]
    for i, a in enumerate(cfg.agents):
        checks.append((f"agents.{i}.station_m", a.station_m, _any, "a finite station in m"))
        checks.append((f"agents.{i}.offset_m", a.offset_m, _any, "a finite offset in m"))
        checks.append(
            (f"agents.{i}.desired_speed_mps", a.desired_speed_mps, _positive, "a finite speed > 0")
        )
    for key in ("max_impact_speed_kph", "min_speed_reduction_kph", "min_progress_m"):
        value = getattr(cfg.pass_criteria, key)
        checks.append((f"pass_criteria.{key}", value, _not_negative, "a finite number >= 0"))
    for key, value, ok, what in checks:
        if value is not None and not (np.isfinite(value) and ok(value)):
            raise ConfigError(f"must be {what}, got {value}", path=path, field=key)


def _check_traffic_lights(lights: list[TrafficLightConfig], path: str) -> None:
    """``ConfigError`` at ``traffic_lights.<i>.<key>`` for a light given twice, a cycle without
    phases, a state not in :data:`~drivestack.structures.traffic_light.SIGNAL_STATES`, a
    duration, period or offset :class:`~drivestack.structures.traffic_light.SignalCycle` would
    refuse (``duration_problem``, ``period_problem``, ``offset_problem``: not finite, a
    duration under 1 ns, a period or offset of 2**62 ns or more), an empty
    ``stops`` list or a stop station that is not a finite number >= 0 m, a lane twice, or a
    switch (``switches.<j>``) that does not give exactly one of ``state`` (a known state) and
    ``phase`` (an index into ``phases``), or whose ``at_s`` is not finite, negative, 2**62 ns
    or more, or before the switch before it (``switch_time_problem``)."""
    seen: set[str] = set()
    for i, light in enumerate(lights):
        key = f"traffic_lights.{i}"
        if not light.id:
            raise ConfigError("must be a non-empty light id", path=path, field=f"{key}.id")
        if light.id in seen:
            raise ConfigError(
                f"traffic light {light.id!r} is given twice", path=path, field=f"{key}.id"
            )
        seen.add(light.id)
        if not light.phases:
            raise ConfigError(
                "needs at least one [state, duration_s] phase", path=path, field=f"{key}.phases"
            )
        for j, (state, duration_s) in enumerate(light.phases):
            if state not in SIGNAL_STATES:
                raise ConfigError(
                    f"unknown signal state {state!r}; known: {list(SIGNAL_STATES)}",
                    path=path,
                    field=f"{key}.phases.{j}.0",
                )
            problem = duration_problem(duration_s)
            if problem is not None:
                raise ConfigError(problem, path=path, field=f"{key}.phases.{j}.1")
        problem = period_problem([duration_s for _, duration_s in light.phases])
        if problem is not None:
            raise ConfigError(problem, path=path, field=f"{key}.phases")
        problem = offset_problem(light.offset_s)
        if problem is not None:
            raise ConfigError(problem, path=path, field=f"{key}.offset_s")
        _check_switches(light, path, key)
        if light.stops is None:
            continue
        if not light.stops:
            raise ConfigError(
                "a new light needs at least one stop (leave stops out to give a map light a cycle)",
                path=path,
                field=f"{key}.stops",
            )
        lanes: set[str] = set()
        for j, stop in enumerate(light.stops):
            if not (math.isfinite(stop.station_m) and stop.station_m >= 0.0):
                raise ConfigError(
                    f"must be a finite station >= 0 m, got {stop.station_m}",
                    path=path,
                    field=f"{key}.stops.{j}.station_m",
                )
            if stop.lane in lanes:
                raise ConfigError(
                    f"lane {stop.lane!r} has a stop of this light already (one per lane)",
                    path=path,
                    field=f"{key}.stops.{j}.lane",
                )
            lanes.add(stop.lane)


def _check_switches(light: TrafficLightConfig, path: str, key: str) -> None:
    """``ConfigError`` at ``<key>.switches.<j>.<field>`` for a switch
    :class:`~drivestack.structures.traffic_light.SignalCycle` would refuse
    (:func:`_check_traffic_lights`)."""
    for j, switch in enumerate(light.switches):
        where = f"{key}.switches.{j}"
        after_s = light.switches[j - 1].at_s if j else None
        problem = switch_time_problem(switch.at_s, after_s)
        if problem is not None:
            raise ConfigError(problem, path=path, field=f"{where}.at_s")
        if (switch.state is None) == (switch.phase is None):
            raise ConfigError(
                "give exactly one of state (the state held from at_s on) and phase (the index "
                "of the phase the cycle starts over with at at_s)",
                path=path,
                field=f"{where}.phase" if switch.state is not None else where,
            )
        if switch.state is not None and switch.state not in SIGNAL_STATES:
            raise ConfigError(
                f"unknown signal state {switch.state!r}; known: {list(SIGNAL_STATES)}",
                path=path,
                field=f"{where}.state",
            )
        if switch.phase is not None and not 0 <= switch.phase < len(light.phases):
            raise ConfigError(
                f"must index the light's {len(light.phases)} phase(s) "
                f"(0..{len(light.phases) - 1}), got {switch.phase}",
                path=path,
                field=f"{where}.phase",
            )


#: What each field of an agent's events must be, besides finite: a test and its words.
_EVENT_RULES: dict[str, tuple[tuple[str, Callable[[float], bool], str], ...]] = {
    "speed_events": (
        ("time_s", _not_negative, "a finite time >= 0 s"),
        (
            "accel_mps2",
            lambda v: v != 0.0,
            "finite and non-zero (its magnitude is the rate towards target_speed_mps; 0 never "
            "gets there)",
        ),
        (
            "target_speed_mps",
            _not_negative,
            "a finite speed >= 0 m/s (driving forwards; reversing is not simulated)",
        ),
    ),
    "lateral_shifts": (
        ("time_s", _not_negative, "a finite time >= 0 s"),
        ("duration_s", _positive, "a finite duration > 0 s (the time the shift takes)"),
        (
            "offset_m",
            lambda v: abs(v) <= MAX_LATERAL_SHIFT_M,
            f"a finite offset in m, at most {MAX_LATERAL_SHIFT_M:g} m either side (a lane change)",
        ),
    ),
}


_WITHIN_RULE: tuple[str, Callable[[float], bool], str] = (
    "when_ego_within_m",
    _positive,
    "a finite distance > 0 m (or leave it out: the event starts at time_s)",
)


#: Agent keys that only one behaviour uses (``drivestack.sim.agents``: an ``idm`` agent's
#: speed comes from IDM towards ``desired_speed_mps``, a ``scripted`` one's from its
#: ``speed_events``), each with that behaviour and what the other does instead.
_BEHAVIOR_KEYS: dict[str, tuple[str, str]] = {
    "speed_events": (
        "scripted",
        "an idm agent's speed comes from IDM, following what is ahead of it",
    ),
    "desired_speed_mps": (
        "idm",
        "a scripted agent keeps its start speed until its speed_events change it",
    ),
}


def _check_behavior_keys(agent: AgentConfig, path: str, prefix: str) -> None:
    """``ConfigError`` at ``<prefix>.speed_events`` / ``<prefix>.desired_speed_mps`` when the
    agent gives a key its ``behavior`` does not use (:data:`_BEHAVIOR_KEYS`): it would be
    ignored, and the agent drive otherwise than written."""
    for key, (behavior, instead) in _BEHAVIOR_KEYS.items():
        if getattr(agent, key) in (None, []) or agent.behavior == behavior:
            continue
        raise ConfigError(
            f"only {behavior} agents use {key} ({instead}): this {agent.behavior} agent would "
            f"ignore it; give behavior: {behavior}, or leave {key} out",
            path=path,
            field=f"{prefix}.{key}",
        )


#: The hardest braking or acceleration a scripted speed event is taken without a warning
#: (m/s^2): about what a car's tyres give on dry asphalt (10-12 m/s^2 braking).
PLAUSIBLE_ACCEL_MPS2 = 12.0


def _warn_hard_speed_events(agent: AgentConfig, path: str, prefix: str) -> None:
    """One warning per speed event past :data:`PLAUSIBLE_ACCEL_MPS2` (a typo, -50 for -5,
    turns a braking lead into a wall; a scripted agent does what it is told, so it runs)."""
    for j, event in enumerate(agent.speed_events):
        if abs(event.accel_mps2) > PLAUSIBLE_ACCEL_MPS2:
            warnings.warn(
                f"{path}: {prefix}.speed_events.{j}.accel_mps2: {event.accel_mps2:g} m/s^2 is "
                f"past what a road vehicle can do (about {PLAUSIBLE_ACCEL_MPS2:g} m/s^2); the "
                "scripted agent follows it as written",
                UserWarning,
                stacklevel=2,
            )


def _check_events(agent: AgentConfig, path: str, prefix: str) -> None:
    """``ConfigError`` at ``<prefix>.speed_events.<j>.<key>`` / ``lateral_shifts.<j>.<key>``
    for an event that cannot happen as written (:data:`_EVENT_RULES`): a start time before 0,
    a speed event that never ends (``accel_mps2: 0``) or aims at a negative speed, a lateral
    shift of no positive duration (the agent would jump sideways); every number finite."""
    for events, rules in _EVENT_RULES.items():
        for j, event in enumerate(getattr(agent, events)):
            within = event.when_ego_within_m
            checks = (*rules, _WITHIN_RULE) if within is not None else rules
            for key, ok, what in checks:
                value = getattr(event, key)
                if not (np.isfinite(value) and ok(value)):
                    raise ConfigError(
                        f"must be {what}, got {value}",
                        path=path,
                        field=f"{prefix}.{events}.{j}.{key}",
                    )
            if event.along_path and within is None:
                raise ConfigError(
                    "along_path measures when_ego_within_m along the path: give it too",
                    path=path,
                    field=f"{prefix}.{events}.{j}.along_path",
                )
            if not np.isfinite(event.along_path_offset_m):
                raise ConfigError(
                    f"must be a finite offset in m, got {event.along_path_offset_m}",
                    path=path,
                    field=f"{prefix}.{events}.{j}.along_path_offset_m",
                )


def _check_speed_bounds(cfg: ScenarioConfig, path: str) -> None:
    """``ConfigError`` at the dotted key of a speed above :data:`MAX_SPEED_MPS` (a ``_kph`` key
    above the same speed in km/h): the ego's and agents' start speeds, an idm agent's
    ``desired_speed_mps``, a speed event's ``target_speed_mps``, the ``pass_criteria`` speeds
    and a ``map.params`` speed (a key ending in ``_mps``). Runs after the checks that refuse a
    speed that is not finite or is negative."""
    speeds: list[tuple[str, object]] = [
        ("ego.speed_mps", cfg.ego.speed_mps),
        ("ego.speed_kph", cfg.ego.speed_kph),
    ]
    speeds += [(f"map.params.{k}", v) for k, v in cfg.map.params.items() if k.endswith("_mps")]
    for i, a in enumerate(cfg.agents):
        speeds += [
            (f"agents.{i}.speed_mps", a.speed_mps),
            (f"agents.{i}.speed_kph", a.speed_kph),
            (f"agents.{i}.desired_speed_mps", a.desired_speed_mps),
        ]
        speeds += [
            (f"agents.{i}.speed_events.{j}.target_speed_mps", e.target_speed_mps)
            for j, e in enumerate(a.speed_events)
        ]
    for key in ("max_impact_speed_kph", "min_speed_reduction_kph"):
        speeds.append((f"pass_criteria.{key}", getattr(cfg.pass_criteria, key)))
    for key, value in speeds:
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue  # unset, or a map parameter of another type (the map build refuses it)
        kph = key.endswith("_kph")
        if (value / 3.6 if kph else value) > MAX_SPEED_MPS:
            unit = "km/h" if kph else "m/s"
            raise ConfigError(
                f"{value} {unit} is faster than any vehicle drives: at most {MAX_SPEED_MPS:g} m/s "
                f"({MAX_SPEED_MPS * 3.6:g} km/h)",
                path=path,
                field=key,
            )


def _check_one_speed(
    speed_mps: float | None, speed_kph: float | None, path: str, prefix: str
) -> None:
    """``ConfigError`` naming both keys when ``prefix`` sets ``speed_mps`` and ``speed_kph``."""
    if speed_mps is not None and speed_kph is not None:
        raise ConfigError(
            f"{speed_kph} conflicts with {prefix}.speed_mps: {speed_mps}; give only one of them",
            path=path,
            field=f"{prefix}.speed_kph",
        )


def _check_not_negative_speed(
    speed_mps: float | None, speed_kph: float | None, path: str, prefix: str
) -> None:
    """``ConfigError`` naming ``<prefix>.speed_kph`` / ``speed_mps`` when the start speed is
    negative or not finite (vehicles start driving forwards; reversing is not simulated)."""
    for key, value in (("speed_mps", speed_mps), ("speed_kph", speed_kph)):
        if value is not None and not (value >= 0.0 and np.isfinite(value)):
            raise ConfigError(
                f"must be a finite speed >= 0 (driving forwards; reversing is not simulated), "
                f"got {value}",
                path=path,
                field=f"{prefix}.{key}",
            )


def _check_path_station(agent: AgentConfig, path: str, i: int) -> None:
    """``ConfigError`` at ``agents.<i>.path_m`` for a bad polyline, at ``agents.<i>.station_m``
    for a start station off it (needs no map, so checked on loading, not when built)."""
    points = distinct_path_m(agent.path_m or [], path, f"agents.{i}.path_m")
    if math.isfinite(agent.station_m):  # else refused as not finite, by its own check
        # polyline_stations' sum (the build's length, bit for bit), without the road map import
        length_m = float(np.cumsum(np.linalg.norm(np.diff(points, axis=0), axis=1))[-1])
        check_station(agent.station_m, length_m, "its path_m", path, f"agents.{i}")


def check_station(station_m: float, length_m: float, along: str, where: str, key: str) -> None:
    """``ConfigError`` at ``<key>.station_m`` unless the start station lies on the path
    ``along`` (its name in the message) of ``length_m``."""
    if not 0.0 <= station_m <= length_m:
        raise ConfigError(
            f"{station_m} m is outside {along} (length {length_m:.1f} m)",
            path=where,
            field=f"{key}.station_m",
        )


def distinct_path_m(points: list[tuple[float, float]], path: str, key: str) -> np.ndarray:
    """An agent's ``path_m`` as an ``(N, 2)`` array without repeated consecutive points
    (zero-length segments have no heading); ``ConfigError`` at ``key`` when a coordinate is
    not finite, lies beyond the kernels' float64
    :func:`~drivestack.kernels._common.magnitude_limit` (about 3.5e101 m: the box checks
    would refuse an agent there, and segment lengths of coordinates past about 1e154 m
    overflow ``np.linalg.norm``), or fewer than 2 distinct points are left."""
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not np.all(np.isfinite(arr)):
        raise ConfigError("coordinates must be finite numbers", path=path, field=key)
    limit = magnitude_limit(np.float64)
    far = np.abs(arr) > limit
    if np.any(far):
        x, y = arr[np.flatnonzero(np.any(far, axis=1))[0]]
        raise ConfigError(
            f"point ({x:.3g}, {y:.3g}) m is beyond +-{limit:.3g} m: too far to compute with",
            path=path,
            field=key,
        )
    keep = np.ones(len(arr), dtype=bool)
    keep[1:] = np.any(np.diff(arr, axis=0) != 0.0, axis=1)
    arr = arr[keep]
    if len(arr) < 2:
        raise ConfigError(f"needs at least 2 distinct points, got {len(arr)}", path=path, field=key)
    return arr


#: Scenario name -> planner -> why that planner is expected to fail it (a suite's
#: ``known_failures``).
KnownFailures = dict[str, dict[str, str]]


@dataclass(frozen=True)
class Suite:
    """A loaded suite: its config, its (expanded) scenarios in order, and the runs it lists as
    known failures (:data:`KnownFailures`, by the expanded scenarios' names)."""

    config: SuiteConfig
    scenarios: list[ScenarioConfig]
    known_failures: KnownFailures


def load_suite(path: str | Path) -> tuple[SuiteConfig, list[ScenarioConfig]]:
    """A suite and all of its (expanded) scenarios, in order (:func:`read_suite`)."""
    suite = read_suite(path)
    return suite.config, suite.scenarios


def _check_known_failures(entry: SuiteEntry, path: str, field: str) -> dict[str, str]:
    """An entry's ``known_failures`` (planner -> reason); ``ConfigError`` naming the suite
    file and ``scenarios.<i>.known_failures[.<planner>]`` for a planner that is not one of
    ``drivestack sim``'s or a reason that is empty."""
    listed = entry.known_failures or {}
    if listed:  # (the planners and what they import, only for a suite that lists some)
        from drivestack.sim.evaluate import PLANNERS
    for planner, reason in listed.items():
        if planner not in PLANNERS:
            raise ConfigError(
                f"unknown planner {planner!r}; expected one of {sorted(PLANNERS)}",
                path=path,
                field=f"{field}.{planner}",
            )
        if not reason.strip():
            raise ConfigError(
                "a known failure needs its reason (why the planner fails this scenario)",
                path=path,
                field=f"{field}.{planner}",
            )
    return dict(listed)


def read_suite(path: str | Path) -> Suite:
    """A suite file read whole: its entries' scenario files loaded (kept by ``names``) and
    their ``known_failures`` checked (``ConfigError`` naming the suite file and field)."""
    p = Path(path)
    raw = load_yaml(p)  # errors name the file (and line, column)
    suite = from_mapping(SuiteConfig, raw, str(p))
    scenarios: list[ScenarioConfig] = []
    known_failures: KnownFailures = {}
    if not suite.scenarios:  # (a run of nothing would read as a filter that matched none)
        raise ConfigError(
            "a suite lists at least one scenario file", path=str(p), field="scenarios"
        )
    first_entry: dict[str, int] = {}  # scenario name -> the entry that loaded it
    for i, entry in enumerate(suite.scenarios):
        file = (p.parent / entry.file).resolve()
        if not file.is_file():
            raise ConfigError(
                f"scenario file not found: {file}", path=str(p), field=f"scenarios.{i}.file"
            )
        if entry.names is not None and not entry.names:
            raise ConfigError(
                "names lists at least one scenario (leave it out for all of the file's)",
                path=str(p),
                field=f"scenarios.{i}.names",
            )
        loaded = load_scenarios(file)
        if entry.names is not None:
            known = {s.name for s in loaded}
            missing = [n for n in entry.names if n not in known]
            if missing:
                raise ConfigError(
                    f"no scenario named {missing[0]!r} in {file.name} (have {sorted(known)})",
                    path=str(p),
                    field=f"scenarios.{i}.names",
                )
            loaded = [s for s in loaded if s.name in entry.names]
        for scenario in loaded:  # a file listed twice (or two files' same names)
            if scenario.name in first_entry:
                raise ConfigError(
                    f"scenario {scenario.name!r} is also loaded by scenarios."
                    f"{first_entry[scenario.name]}: each scenario once (its result folder)",
                    path=str(p),
                    field=f"scenarios.{i}",
                )
            first_entry[scenario.name] = i
        listed = _check_known_failures(entry, str(p), f"scenarios.{i}.known_failures")
        if listed:
            known_failures.update({s.name: listed for s in loaded})
        scenarios.extend(loaded)
    return Suite(suite, scenarios, known_failures)


_UNSAFE_RUN = r"[^A-Za-z0-9_.=,-]+"
_EDGE_SEPARATORS = "_.,=-"
_MAX_FOLDER_CHARS = 120


def safe_name(name: str) -> str:
    """A scenario name as a result-folder name: ``ccrs[10kph]`` -> ``ccrs_10kph``,
    ``ccrs[10kph]#0003`` -> ``ccrs_10kph_0003``.

    Runs of characters other than letters, digits and ``_.=,-`` become one ``_``, repeated
    ``_`` are merged, separators are trimmed from both ends (so never ``.`` or ``..``);
    ``scenario`` if nothing is left. A name longer than 120 characters is cut to them with
    ``_`` and 8 hex digits of its SHA-1 before a fleet variant's ``_NNNN`` suffix, which is
    kept: two long names that differ only past the cut keep their own folders.
    """
    folded = re.sub(_UNSAFE_RUN, "_", name)
    folded = re.sub(r"_{2,}", "_", folded).strip(_EDGE_SEPARATORS)
    if len(folded) > _MAX_FOLDER_CHARS:
        variant = re.search(r"_\d{4}$", folded)
        suffix = variant.group(0) if variant else ""
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        keep = _MAX_FOLDER_CHARS - len(suffix) - len(digest) - 1
        folded = f"{folded[:keep].rstrip(_EDGE_SEPARATORS)}_{digest}{suffix}"
    return folded or "scenario"
