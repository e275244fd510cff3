"""Fleet sweeps: expand scenarios into seeded variants (grid values x seeded random draws).

A sweep parameter is given as ``KEY=LO:HI`` (a uniform draw in ``[LO, HI]`` per variant) or
``KEY=V1,V2,...`` (grid values); ``KEY`` is a dotted path into the scenario, as in a scenario
file's own ``sweep`` (``ego.speed_kph``, ``agents.0.station_m``). Every variant of one scenario
is one of ``count`` random draws for one grid combination (draw-major: variant ``k`` is
combination ``k % n_combinations``); ``count`` applies only when a range is swept: grid values
alone give one variant per combination. Its seed is a hash of the base seed, the scenario name
and ``k``, and its random values are drawn from that seed alone, so a variant's parameters do
not depend on which other variants run or in what order, and more draws only append variants.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from drivestack.config import from_mapping
from drivestack.core.errors import ConfigError
from drivestack.core.numbers import is_digits, parse_float, parse_int
from drivestack.sim.scenario import (
    ScenarioConfig,
    check_scenario,
    set_dotted,
    uniform_draw,
    uniform_range_problem,
)

ParamValue = float | int | str | bool


@dataclass(frozen=True)
class SweepParam:
    """One swept key: ``values`` (grid) or ``low``/``high`` (uniform draw)."""

    key: str
    values: tuple[ParamValue, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def is_random(self) -> bool:
        return self.low is not None


@dataclass(frozen=True)
class SweepSpec:
    """Swept parameters, random draws per grid combination and the base seed."""

    params: tuple[SweepParam, ...] = ()
    count: int = 1
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Variant:
    """One run of a fleet: a scenario (with its overrides applied) and a planner.

    ``variant_id`` is unique in a fleet and names the result folder ``<planner>/<name>``.
    """

    variant_id: str
    planner: str
    scenario: ScenarioConfig
    base_scenario: str
    index: int
    seed: int
    params: dict[str, ParamValue]


def _parse_value(text: str) -> ParamValue:
    """A grid value: an int or float as C spells it (not ``1_0`` or non-ASCII digits, which
    stay text for the scenario check to refuse), ``true`` / ``false``, else the text; a value
    in matching single or double quotes is the text inside them (``'45084'``: a lane id)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    for cast in (parse_int, parse_float):
        try:
            return cast(text)
        except ValueError:
            continue
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


#: Scenario keys that identify or describe a scenario rather than set up its run (a swept
#: value would have no effect): refused as ``--sweep`` keys.
NOT_SWEPT = ("name", "description", "tags", "sweep", "source")


def parse_sweep_param(text: str) -> SweepParam:
    """``KEY=LO:HI`` or ``KEY=V1,V2,...`` -> :class:`SweepParam` (``ConfigError`` if malformed,
    or for a key of :data:`NOT_SWEPT`)."""
    key, sep, spec = text.partition("=")
    key = key.strip()
    if not sep or not key or not spec.strip():
        raise ConfigError(f"expected KEY=LO:HI or KEY=V1,V2,..., got {text!r}", field="--sweep")
    if key.split(".", 1)[0] in NOT_SWEPT:
        raise ConfigError(
            f"{key!r} is not a parameter a run uses (the scenario's {', '.join(NOT_SWEPT)} "
            "cannot be swept: a variant's name is its scenario's with its index); sweep a "
            "field of the scenario instead",
            field="--sweep",
        )
    if ":" in spec:
        lo, _, hi = spec.partition(":")
        try:
            low, high = parse_float(lo.strip()), parse_float(hi.strip())
        except ValueError:
            raise ConfigError(f"range bounds must be numbers: {spec!r}", field=key) from None
        problem = uniform_range_problem(low, high)  # a scenario file's sweep.random rule
        if problem is not None:
            raise ConfigError(f"range {problem}: {spec!r}", field=key)
        return SweepParam(key, low=low, high=high)
    return SweepParam(key, values=tuple(_parse_value(v.strip()) for v in spec.split(",")))


def variant_seed(base_seed: int, scenario: str, index: int) -> int:
    """A 63-bit seed from ``(base_seed, scenario name, variant index)`` (SHA-256)."""
    digest = hashlib.sha256(f"{base_seed}:{scenario}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _applicable(raw: dict[str, Any], key: str) -> bool:
    """Whether ``key`` names an existing field of this scenario (list indices in range)."""
    node: Any = raw
    for part in key.split("."):
        if isinstance(node, list) and is_digits(part) and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return False
    return True


def _raw(cfg: ScenarioConfig) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(cfg)))  # tuples -> lists, as YAML gives


def unswept_keys(scenarios: list[ScenarioConfig], spec: SweepSpec) -> dict[str, list[str]]:
    """Swept key -> the scenarios that lack it (so it is not swept for them)."""
    out: dict[str, list[str]] = {}
    raws = [(cfg.name, _raw(cfg)) for cfg in scenarios]
    for p in spec.params:
        missing = [name for name, raw in raws if not _applicable(raw, p.key)]
        if missing:
            out[p.key] = missing
    return out


def keys_the_scenario_files_sweep(
    scenarios: list[ScenarioConfig], spec: SweepSpec
) -> dict[str, list[str]]:
    """Swept key -> the scenario files whose own ``sweep:`` (cases, grid or random ranges)
    sets it or its unit twin (``speed_kph`` / ``speed_mps``). Their variants keep the names
    their own sweep gave them (``ccrs[10kph]``) but run at the values ``--sweep`` draws, and
    the values the file set beside it (a case's speed limit, its target's station) no longer
    match them."""
    from drivestack.config.strict import load_yaml
    from drivestack.sim.scenario import own_sweep_keys, unit_twin

    swept = {p.key for p in spec.params}
    out: dict[str, list[str]] = {}
    for source in dict.fromkeys(cfg.source for cfg in scenarios if cfg.source):
        if not source.endswith((".yaml", ".yml")):
            continue  # OpenSCENARIO, CommonRoad, AV2 logs: no sweep of their own
        try:
            own = own_sweep_keys(load_yaml(source))
        except (ConfigError, OSError, AttributeError, TypeError):
            continue  # loaded once already: a file that changed since is not this note's job
        for key in sorted(swept):
            if key in own or unit_twin(key) in own:
                out.setdefault(key, []).append(source)
    return out


def scenario_variants(
    cfg: ScenarioConfig, spec: SweepSpec
) -> list[tuple[ScenarioConfig, int, dict[str, ParamValue]]]:
    """``[(scenario, seed, params)]`` for one scenario: ``spec.count`` draws x grid combinations.

    Keys that are not fields of this scenario (``agents.0.*`` of a scenario without agents)
    are left out for it. Without parameters the scenario itself is returned once. Every
    variant's config is checked as the runner checks it before building its map
    (:func:`~drivestack.sim.scenario.check_scenario`), and so is each grid combination with
    every range at its low and at its high end: a value the scenario refuses is a
    ``ConfigError`` naming ``--sweep KEY=VALUE`` before anything runs. (Checks against the
    map, such as a lane id that is not in it, stay failed runs: building every variant's map
    up front would cost 10-400 ms a variant.)
    """
    raw = _raw(cfg)
    params = [_as_field_type(p, raw) for p in spec.params if _applicable(raw, p.key)]
    if not params:
        return [(cfg, variant_seed(spec.seed, cfg.name, 0), {})]
    grid = [p for p in params if not p.is_random]
    rand = [p for p in params if p.is_random]
    combos = [
        dict(zip((p.key for p in grid), combo, strict=True))
        for combo in itertools.product(*(p.values for p in grid))
    ]
    for combo in combos if rand else ():  # both ends of every range, with every grid combo
        for end in ("low", "high"):
            values: dict[str, ParamValue] = {**combo}
            values.update({p.key: float(getattr(p, end)) for p in rand})
            _swept_config(_with_values(raw, values, cfg), cfg, values, params)
    count = spec.count if rand else 1
    out = []
    # draw-major order: variant k is grid combination k % len(combos), draw k // len(combos),
    # so more draws append variants and every existing index keeps its values and seed
    for index, (_, combo) in enumerate(itertools.product(range(count), combos)):
        seed = variant_seed(spec.seed, cfg.name, index)
        rng = np.random.default_rng(seed)
        values = {**combo}
        for p in rand:
            assert p.low is not None and p.high is not None
            values[p.key] = uniform_draw(rng, p.low, p.high)
        data = _with_values(raw, values, cfg)
        data["name"] = f"{cfg.name}#{index:04d}"
        out.append((_swept_config(data, cfg, values, params), seed, values))
    return out


def _as_field_type(param: SweepParam, raw: dict[str, Any]) -> SweepParam:
    """``param`` with its grid numbers as text where the scenario's field is text (a lane id
    such as Lanelet2's ``45084`` reads as a number on the command line)."""
    node: Any = raw
    for part in param.key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    if param.is_random or not isinstance(node, str):
        return param
    texts = tuple(
        str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for v in param.values
    )
    return dataclasses.replace(param, values=texts)


def _with_values(
    raw: dict[str, Any], values: dict[str, ParamValue], cfg: ScenarioConfig
) -> dict[str, Any]:
    """A copy of the scenario's raw mapping with the swept ``values`` set."""
    data = copy.deepcopy(raw)
    for key, value in values.items():
        set_dotted(data, key, value, cfg.source)
    return data


def _swept_config(
    data: dict[str, Any],
    cfg: ScenarioConfig,
    values: dict[str, ParamValue],
    params: list[SweepParam],
) -> ScenarioConfig:
    """The variant's config from its raw mapping, checked as the runner checks it; a value
    the scenario refuses is the ``--sweep`` option's error, naming the option as given
    (``--sweep agents.0.speed_mps=-5``, a range as ``KEY=LO:HI``), not the scenario file's."""
    try:
        swept = from_mapping(ScenarioConfig, data, path=cfg.source)
        check_scenario(swept)
        return swept
    except ConfigError as exc:
        by_key = {p.key: p for p in params}
        # the swept key the error is about (a speed in one unit clears its twin: match both)
        culprits = [k for k in values if exc.field is not None and _same_field(k, exc.field)]
        shown = culprits or list(values)
        given = " ".join(f"--sweep {_option_text(k, values[k], by_key.get(k))}" for k in shown)
        hint = " (a range is KEY=LO:HI)" if any(_looks_like_range(values[k]) for k in shown) else ""
        where = f"field {exc.field}: " if exc.field is not None and not culprits else ""
        raise ConfigError(
            f"{given}: scenario {cfg.name} refuses it: {where}{exc.reason}{hint}; nothing run"
        ) from None


def _same_field(key: str, field: str) -> bool:
    """Whether the error's ``field`` is the swept ``key`` (or its unit twin)."""
    head, _, leaf = key.rpartition(".")
    twin = {"speed_kph": "speed_mps", "speed_mps": "speed_kph"}.get(leaf)
    return field == key or (twin is not None and field == f"{head}.{twin}".lstrip("."))


def _option_text(key: str, value: ParamValue, param: SweepParam | None) -> str:
    """``KEY=VALUE`` as the option gave it: a range as ``KEY=LO:HI``."""
    if param is not None and param.is_random:
        return f"{key}={param.low:g}:{param.high:g} (at {float(value):g})"
    return f"{key}={value}"


def _looks_like_range(value: ParamValue) -> bool:
    """Whether a grid value reads like a range typed with ``-`` (``20-60``)."""
    head, sep, tail = str(value).lstrip("-").partition("-")
    return bool(sep) and is_digits(head.replace(".", "", 1)) and is_digits(tail.replace(".", "", 1))


#: The most variants one fleet may have (scenario variants x planners): expanding one takes
#: about 0.5 ms, so a larger sweep (a typo in ``--variants``, a long grid) is refused before
#: anything is expanded or run.
MAX_VARIANTS = 100_000


def count_variants(scenarios: list[ScenarioConfig], planners: list[str], spec: SweepSpec) -> int:
    """How many variants :func:`expand_variants` gives, counted without expanding them."""
    total = 0
    for cfg in scenarios:
        raw = _raw(cfg)
        params = [p for p in spec.params if _applicable(raw, p.key)]
        n = spec.count if any(p.is_random for p in params) else 1
        for p in params:
            if not p.is_random:
                n *= len(p.values)
        total += n * len(planners)
    return total


def expand_variants(
    scenarios: list[ScenarioConfig], planners: list[str], spec: SweepSpec
) -> list[Variant]:
    """Every (scenario variant, planner) pair, in a stable order; ids are unique. More than
    :data:`MAX_VARIANTS` is a ``ConfigError`` naming ``--variants`` and the count, before
    any variant is expanded."""
    from drivestack.sim.scenario import safe_name

    total = count_variants(scenarios, planners, spec)
    if total > MAX_VARIANTS:
        # draws multiply only a sweep with a range in it (count_variants); a grid-only sweep
        # is too large by its grid, whatever --variants says
        drawn = spec.count > 1 and any(p.is_random for p in spec.params)
        factors = [f"{len(scenarios)} scenarios", f"{len(planners)} planners"]
        factors += [f"{spec.count} draws"] if drawn else []
        factors += [f"{len(p.values)} values of {p.key}" for p in spec.params if p.values]
        raise ConfigError(
            f"{total:,} variants ({' x '.join(factors)}, for the keys each scenario has): "
            f"more than {MAX_VARIANTS:,} in one fleet; nothing run",
            field="--variants" if drawn else "--sweep",
        )
    variants: list[Variant] = []
    seen: dict[str, str] = {}  # variant id -> the scenario name that took it
    for cfg in scenarios:
        for index, (scenario, seed, params) in enumerate(scenario_variants(cfg, spec)):
            for planner in planners:
                variant_id = f"{planner}/{safe_name(scenario.name)}"
                if variant_id in seen:
                    raise ConfigError(
                        f"scenarios {seen[variant_id]!r} and {scenario.name!r} would share the "
                        f"result folder {variant_id!r}: rename one",
                        path=cfg.source,
                        field="name",
                    )
                seen[variant_id] = scenario.name
                variants.append(
                    Variant(variant_id, planner, scenario, cfg.name, index, seed, params)
                )
    return variants
