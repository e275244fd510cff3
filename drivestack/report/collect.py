"""Read a run folder into report rows: simulation runs, fleets, tracking, detection,
motion-forecast (prediction) and open-loop planning results.

A simulation run (``drivestack sim`` or ``drivestack fleet``) holds
``<planner>/<folder>/metrics.json`` (+ ``history.npz``), the folder being the scenario name made
folder-safe; a fleet also ``fleet.json`` and ``fleet.jsonl``. Tracking (``drivestack eval tracking``,
with or without ``--fusion camera``: :func:`~drivestack.report.tracking.tracking_blocks`) and
detection (``drivestack eval detection``), prediction (``drivestack eval prediction``:
:mod:`~drivestack.report.prediction`) and open-loop planning (``drivestack eval planning``:
:mod:`~drivestack.report.planning`) results are a ``metrics.json`` in the run folder itself or
in one of its direct subfolders, told apart by their fields (:func:`classify`). A prediction or
planning metrics.json with a malformed field is a problem naming the file and field (and
counted corrupt), as is one of no known kind: a folder holding nothing else is refused
(:func:`require_results`, naming the file). A log replay (``drivestack replay``) is the
``RUN.summary.json`` beside its ``RUN.mcap`` in the run folder or a direct subfolder
(:mod:`~drivestack.report.replay`): its figures are checked like the others, and its KITTI
tracking and detection scores, when it replayed a KITTI log, are read as tracking and
detection results (``RUN.summary.json (kitti.tracking)``). A corrupt or missing ``metrics.json`` becomes a row whose ``status`` says so; a
run that raised (the fleet's index record with status ``crashed``, or ``failed`` in older
indexes, or the ``error.json`` a plain sim run leaves in its folder) is ``crashed`` with its
error. A ``history.npz`` that is not a readable archive makes
its run ``corrupt`` too (its metrics are kept). Nothing stops the report.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivestack.commands.sim import MANIFEST_NAME as SIM_MANIFEST_NAME
from drivestack.core.errors import DataError
from drivestack.exec.fleet import (
    INDEX_NAME,
    MANIFEST_NAME,
    SUMMARY_NAME,
    latest_records,
    read_index,
)
from drivestack.exec.task import ERROR_NAME, is_crashed
from drivestack.report.detection2d import is_detection2d, read_detection2d
from drivestack.report.fields import array, count, obj
from drivestack.report.fields import number as _number
from drivestack.report.planning import is_planning, read_planning
from drivestack.report.prediction import is_prediction, read_prediction
from drivestack.report.replay import SUMMARY_SUFFIX, is_replay, kitti_results, read_replay
from drivestack.report.score_terms import MULTIPLIERS, WEIGHTED
from drivestack.report.tracking import check_tracking, tracking_blocks

#: Row status, worst first: the order failures are listed in.
STATUS_ORDER = ("crashed", "corrupt", "missing", "fail", "pass")


def ending_of(status: str, known_failure: str | None, not_evaluated: Sequence[str]) -> str:
    """A run's ``status``, with a run its suite lists as a known failure (``known_failure``,
    the reason) told apart: ``known_failure`` when it failed, ``unexpected_pass`` when it
    passed with every criterion judged, ``known_failure_not_evaluated`` when it passed but
    ``not_evaluated`` names criteria a run cut short did not judge (the report's counts, as
    ``drivestack sim`` counts them, and its table's cells; a report.json row alike).

    >>> ending_of("fail", "why", ()), ending_of("pass", "why", ("x",)), ending_of("pass", None, ())
    ('known_failure', 'known_failure_not_evaluated', 'pass')
    """
    if not known_failure or status not in ("pass", "fail"):
        return status
    if status == "fail":
        return "known_failure"
    return "known_failure_not_evaluated" if not_evaluated else "unexpected_pass"


@dataclass(frozen=True)
class ScenarioRow:
    """One (planner, scenario) run of a simulation or fleet folder.

    ``key`` is the result folder relative to the run (``pdm/ccrs_10kph``); ``status`` one of
    :data:`STATUS_ORDER`; metrics are ``None`` when the run has none (crashed, corrupt, missing).
    """

    key: str
    scenario: str
    planner: str
    status: str
    score: float | None = None
    collision: bool | None = None
    # the contact in words, "yes (active_lateral, not at fault)" (metrics.json
    # collision_summary); None for older records
    collision_summary: str | None = None
    min_ttc_s: float | None = None
    impact_speed_kph: float | None = None
    failures: tuple[str, ...] = ()
    error: str = ""
    base_scenario: str = ""
    seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    git_commit: str | None = None  # the drivestack commit the run was made with, when recorded
    # how its recorded traffic ran ("replay" / "reactive", drivestack sim --agents; read from
    # the embedded config in older records); None without recorded traffic; "unknown"
    # (AGENTS_UNKNOWN) when the record says neither
    recorded_agents: str | None = None
    # red lights run (metrics.json red_light_violations); None when the run's map has no
    # traffic light or the record predates them
    red_light_violations: int | None = None
    # stop signs run (metrics.json stop_sign_violations); None when the run's map has no stop
    # sign that stops traffic or the record predates them
    stop_sign_violations: int | None = None
    # why its suite lists it as a known failure (metrics.json known_failure), None when not
    # listed: a "fail" row then is a known failure, a "pass" row passed unexpectedly
    known_failure: str | None = None
    # the pass criteria a run cut short could not judge (metrics.json not_evaluated; older
    # records: none)
    not_evaluated: tuple[str, ...] = ()
    # the planner's stop reason when the run ended at rest braking for it (metrics.json
    # ended_stopped_reason); None when it did not, or for older records
    ended_stopped_reason: str | None = None
    # nuPlan's sub-scores and their inputs (metrics.json nuplan: NUPLAN_FIELDS, with the
    # top-level expert_progress_m): what the report says a run lost points for
    # (drivestack.report.score_terms); empty for a run without metrics
    nuplan: dict[str, float] = field(default_factory=dict)
    # who the ego hit at fault ("lead (stopped_track)": metrics.json nuplan.collisions)
    at_fault_with: tuple[str, ...] = ()
    # the scenario config its metrics.json embeds, flattened to dotted keys (name, source,
    # description, tags and sweep left out): what a baseline comparison checks the two runs
    # ran alike (drivestack.report.compare); empty when not recorded. Not in as_dict.
    config_flat: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def ending(self) -> str:
        """Its status, with a listed known failure told apart (as ``drivestack sim`` counts
        them): ``known_failure`` for a listed ``fail``, ``unexpected_pass`` for a listed
        ``pass`` whose criteria were all judged, ``known_failure_not_evaluated`` for a listed
        ``pass`` cut short before some were (:attr:`not_evaluated`), else :attr:`status`
        (:func:`ending_of`)."""
        return ending_of(self.status, self.known_failure, self.not_evaluated)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "scenario": self.scenario,
            "planner": self.planner,
            "status": self.status,
            "score": self.score,
            "collision": self.collision,
            "collision_summary": self.collision_summary,
            "min_ttc_s": self.min_ttc_s,
            "impact_speed_kph": self.impact_speed_kph,
            "failures": list(self.failures),
            "error": self.error,
            "base_scenario": self.base_scenario,
            "seed": self.seed,
            "params": self.params,
            "git_commit": self.git_commit,
            "recorded_agents": self.recorded_agents,
            "red_light_violations": self.red_light_violations,
            "stop_sign_violations": self.stop_sign_violations,
            "known_failure": self.known_failure,
            "not_evaluated": list(self.not_evaluated),
            "ended_stopped_reason": self.ended_stopped_reason,
            "nuplan": self.nuplan,
            "at_fault_with": list(self.at_fault_with),
        }


@dataclass(frozen=True)
class RunData:
    """Everything a report shows of one run folder."""

    root: Path
    kind: str  # "fleet" | "sim" | "eval" | "replay" | "empty"
    manifest: dict[str, Any]
    rows: tuple[ScenarioRow, ...]
    tracking: dict[str, dict[str, Any]]  # relative path of metrics.json -> its content
    detection: dict[str, dict[str, Any]]
    problems: tuple[str, ...]
    corrupt_results: tuple[str, ...] = ()  # eval metrics.json that do not parse or check
    # relative path of metrics.json -> read_prediction's / read_planning's result
    prediction: dict[str, dict[str, Any]] = field(default_factory=dict)
    planning: dict[str, dict[str, Any]] = field(default_factory=dict)
    unplaced: tuple[str, ...] = ()  # metrics.json of no kind the report knows
    # relative path of RUN.summary.json -> read_replay's result (drivestack replay)
    replay: dict[str, dict[str, Any]] = field(default_factory=dict)
    # relative path of metrics.json -> read_detection2d's result (drivestack eval detection2d)
    detection2d: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def has_results(self) -> bool:
        """Whether there is anything to report: runs, eval results or problems reading them
        (other than metrics.json files of no known kind)."""
        other_problems = len(self.problems) > len(self.unplaced)
        return (
            bool(
                self.rows
                or self.tracking
                or self.detection
                or self.prediction
                or self.planning
                or self.replay
                or self.detection2d
            )
            or other_problems
        )


def _sort_key(row: ScenarioRow) -> tuple[int, float, str]:
    score = row.score if row.score is not None else -1.0
    return (STATUS_ORDER.index(row.status), score, row.key)


def sort_rows(rows: list[ScenarioRow]) -> list[ScenarioRow]:
    """Failures first (crashed, corrupt, missing, fail), then by ascending score."""
    return sorted(rows, key=_sort_key)


def row_from_metrics(
    path: Path, key: str, fleet_rec: dict[str, Any] | None
) -> tuple[ScenarioRow, dict[str, Any] | None]:
    """The row of one result folder and the scenario config its metrics.json embeds."""
    planner, _, folder = key.partition("/")
    rec = fleet_rec or {}
    common: dict[str, Any] = {
        "base_scenario": rec.get("base_scenario", ""),
        "seed": rec.get("seed"),
        "params": rec.get("params") or {},
    }
    try:
        text = path.read_bytes()  # decoded by json.loads: bad UTF-8 is a corrupt file
    except FileNotFoundError:
        if is_crashed(rec):  # "crashed", or "failed" in older indexes and error.json files
            status, error = "crashed", str(rec.get("error", ""))
        else:
            status, error = "missing", f"{path}: metrics.json is missing"
        name = rec.get("scenario", folder)
        return ScenarioRow(key, name, planner, status, error=error, **common), None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        ncap = obj(data.get("ncap"), "ncap")
        if "score" not in data or "passed" not in data:
            raise ValueError("field score/passed: missing")
        score = _number(data["score"], "score")
        if not isinstance(data["passed"], bool):
            raise ValueError(f"field passed: expected true/false, got {data['passed']!r}")
        avoided = ncap.get("avoided")
        if avoided is not None and not isinstance(avoided, bool):  # null: run cut short
            raise ValueError("field ncap.avoided: expected true/false/null")
        fleet = obj(data["fleet"], "fleet") if data.get("fleet") is not None else {}
        failures = array(data.get("failures", []), "failures")
        unjudged = array(data.get("not_evaluated", []), "not_evaluated")
        config = data.get("config") if isinstance(data.get("config"), dict) else None
        nuplan, at_fault_with = _nuplan(data)
        return (
            ScenarioRow(
                key,
                str(data.get("scenario", folder)),
                str(data.get("planner", planner)),
                "pass" if data["passed"] else "fail",
                score=score,
                collision=avoided is False,
                collision_summary=_text(data.get("collision_summary")),
                min_ttc_s=_number(ncap.get("min_ttc_s"), "ncap.min_ttc_s"),
                impact_speed_kph=_number(ncap.get("impact_speed_kph"), "ncap.impact_speed_kph"),
                failures=tuple(str(f) for f in failures),
                base_scenario=str(fleet.get("base_scenario", common["base_scenario"])),
                seed=fleet.get("seed", common["seed"]),
                params=fleet.get("params", common["params"]) or {},
                git_commit=_text(data.get("git_commit")),
                recorded_agents=_recorded_agents(data, config),
                red_light_violations=_red_lights(data),
                stop_sign_violations=_stop_signs(data),
                known_failure=_text(data.get("known_failure")),
                not_evaluated=tuple(str(c) for c in unjudged),
                ended_stopped_reason=_text(data.get("ended_stopped_reason")),
                nuplan=nuplan,
                at_fault_with=at_fault_with,
            ),
            config,
        )
    except (json.JSONDecodeError, ValueError) as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return (
            ScenarioRow(
                key,
                rec.get("scenario", folder),
                planner,
                "corrupt",
                error=f"{path}: corrupt metrics.json: {msg}",
                **common,
            ),
            None,
        )


#: The fields of a metrics.json's ``nuplan`` block a report reads: the multipliers, the
#: weighted sub-scores and the figures they were judged on.
NUPLAN_FIELDS = (
    *MULTIPLIERS,
    *WEIGHTED,
    "progress_m",
    "min_ttc_s",
    "max_outside_drivable_m",
)


def _nuplan(data: dict[str, Any]) -> tuple[dict[str, float], tuple[str, ...]]:
    """A metrics.json's nuPlan sub-scores (:data:`NUPLAN_FIELDS` present, not null, with the
    top-level ``expert_progress_m``) and who the ego hit at fault (``agent_id (kind)`` of
    ``nuplan.collisions``); empty for a record without a ``nuplan`` block. ``ValueError``
    naming a malformed field (``nuplan.comfort``)."""
    block = data.get("nuplan")
    if block is None:
        return {}, ()
    block = obj(block, "nuplan")
    out: dict[str, float] = {}
    for name in NUPLAN_FIELDS:
        value = _number(block.get(name), f"nuplan.{name}")
        if value is not None:
            out[name] = value
    expert = _number(data.get("expert_progress_m"), "expert_progress_m")
    if expert is not None:
        out["expert_progress_m"] = expert
    hits = []
    for i, event in enumerate(array(block.get("collisions", []), "nuplan.collisions")):
        event = obj(event, f"nuplan.collisions.{i}")
        if event.get("at_fault") is True:
            kind = _text(event.get("kind"))
            hits.append(f"{event.get('agent_id')}" + (f" ({kind})" if kind else ""))
    return out, tuple(dict.fromkeys(hits))


def _red_lights(data: dict[str, Any]) -> int | None:
    """The red lights a run ran (``red_light_violations``), None when its map has no traffic
    light (``red_light.lights`` 0) or the record predates them; ``ValueError`` naming a
    malformed field."""
    return _violations(data, "red_light", "lights", "red_light_violations")


def _stop_signs(data: dict[str, Any]) -> int | None:
    """The stop signs a run ran (``stop_sign_violations``), None when its map has no stop
    sign that stops traffic (``stop_sign.signs`` 0) or the record predates them;
    ``ValueError`` naming a malformed field."""
    return _violations(data, "stop_sign", "signs", "stop_sign_violations")


def _violations(data: dict[str, Any], block: str, things: str, total: str) -> int | None:
    """A metrics.json's count ``total`` of the ego's violations of the map's ``things`` (how
    many, in its ``block``), None when there is no ``block`` or it counts none of them."""
    found = data.get(block)
    if found is None:
        return None
    if count(obj(found, block).get(things), f"{block}.{things}") == 0:
        return None
    return count(data.get(total), total)


#: A run's ``recorded_agents`` when its metrics.json neither records it nor embeds the
#: scenario config it ran: the report cannot tell how its recorded traffic ran.
AGENTS_UNKNOWN = "unknown"


def _recorded_agents(data: dict[str, Any], config: dict[str, Any] | None) -> str | None:
    """How a run's recorded traffic ran (``reactive``, ``replay``; None without recorded
    traffic): its ``recorded_agents``, or, in a record made before fleets wrote that key
    (or before it existed), what its embedded scenario ``config`` says (``agents_from_file``,
    ``agents_reactive``: no such key, no such feature then); :data:`AGENTS_UNKNOWN` when it
    has neither."""
    if "recorded_agents" in data:
        return _text(data["recorded_agents"])
    if config is None:
        return AGENTS_UNKNOWN
    if not config.get("agents_from_file"):
        return None
    return "reactive" if config.get("agents_reactive") else "replay"


def _text(value: object) -> str | None:
    """``value`` when it is a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def history_problem(path: Path) -> str | None:
    """Why ``history.npz`` cannot be read (None when it reads or is absent): a cheap check of
    its archive directory, which a truncated or overwritten file fails."""
    if not path.exists():
        return None
    try:
        with zipfile.ZipFile(path):
            return None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        return f"{path}: corrupt history.npz: {exc}"


def _check_history(root: Path, row: ScenarioRow) -> ScenarioRow:
    """``row`` marked ``corrupt`` when its ``history.npz`` does not read (metrics kept)."""
    if row.status not in ("pass", "fail"):
        return row
    problem = history_problem(root / row.key / "history.npz")
    return row if problem is None else dataclasses.replace(row, status="corrupt", error=problem)


_NOT_PARAMS = ("name", "source", "description", "tags", "sweep")


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else str(k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _flatten(v, f"{prefix}.{i}", out)
    else:
        out[prefix] = value


def base_name(scenario: str) -> str:
    """``ccrs[10kph]`` / ``ccrs[10kph]#0003`` -> ``ccrs``: the scenario file's name."""
    return scenario.split("[", 1)[0].split("#", 1)[0]


def flat_config(config: dict[str, Any]) -> dict[str, Any]:
    """A scenario config (a metrics.json's embedded ``config``) as dotted keys, without the
    fields that name or describe it rather than set what ran (:data:`_NOT_PARAMS`)."""
    flat: dict[str, Any] = {}
    _flatten({k: v for k, v in config.items() if k not in _NOT_PARAMS}, "", flat)
    return flat


def infer_sweep_params(
    rows: list[ScenarioRow], configs: list[dict[str, Any] | None]
) -> list[ScenarioRow]:
    """Rows without fleet parameters get, as ``params``, the config fields (dotted keys) that
    differ between the runs of their scenario file (the file's own ``sweep``), and that file's
    name as ``base_scenario``; rows of fleets keep theirs."""
    groups: dict[tuple[str, str], list[int]] = {}
    flats: dict[int, dict[str, Any]] = {}
    for i, (row, config) in enumerate(zip(rows, configs, strict=True)):
        if row.params or config is None:
            continue
        flats[i] = row.config_flat or flat_config(config)  # (load_run has flattened it)
        groups.setdefault((row.planner, base_name(row.scenario)), []).append(i)
    out = list(rows)
    for (_, base), members in groups.items():
        if len(members) < 2:
            continue
        keys = sorted(set().union(*(flats[i] for i in members)))
        varying = [k for k in keys if len({repr(flats[i].get(k)) for i in members}) > 1]
        for i in members:
            params = {k: flats[i].get(k) for k in varying}
            out[i] = dataclasses.replace(out[i], params=params, base_scenario=base)
    return out


#: The eval kinds :func:`classify` tells apart, as the report names them.
EVAL_KINDS = ("tracking", "detection", "detection2d", "prediction", "planning")
#: The eval kinds read and checked on loading (the others are kept as they are).
_READERS = {
    "prediction": read_prediction,
    "planning": read_planning,
    "detection2d": read_detection2d,
}


def classify(data: object) -> str | None:
    """The kind of a top-level metrics.json (one of :data:`EVAL_KINDS`), None when it is none
    of them: ``prediction`` (``settings`` with ``history_s`` and ``horizon_s``), ``planning``
    (``settings`` with ``horizons_s``), ``detection2d`` (``interpolation``, ``filter`` and
    ``classes``), ``detection`` (``dataset`` and ``metrics.protocol``), ``tracking`` (per-class
    blocks in ``metrics``)."""
    if is_prediction(data):
        return "prediction"
    if is_planning(data):
        return "planning"
    if is_detection2d(data):
        return "detection2d"
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        return None
    metrics = data["metrics"]
    if "dataset" in data and "protocol" in metrics:
        return "detection"
    if tracking_blocks(data):  # either layout: plain or --fusion camera
        return "tracking"
    return None


def _error_record(folder: Path) -> dict[str, Any] | None:
    """The failed-run record ``drivestack sim`` wrote to ``folder/error.json`` (None when there
    is none or it does not parse: the row then says metrics.json is missing)."""
    try:
        record = json.loads((folder / ERROR_NAME).read_text())
    except (FileNotFoundError, ValueError):  # JSON or UTF-8 that does not decode
        return None
    return record if isinstance(record, dict) else None


#: What :func:`_read_json` returns for a file that does not parse.
_CORRUPT = object()


def _read_json(path: Path, problems: list[str], what: str) -> Any:
    """``path``'s JSON, or :data:`_CORRUPT` with ``"<path>: <what>: <reason>"`` added to
    ``problems`` when it does not parse (a report lists a bad file, it does not fail on it)."""
    try:
        return json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        problems.append(f"{path}: {what}: {exc.msg}")
        return _CORRUPT
    except UnicodeDecodeError as exc:  # json.loads of bytes: not UTF-8 text
        problems.append(f"{path}: {what}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return _CORRUPT


def _listed_sim_runs(manifest: dict[str, Any], field: str = "runs") -> list[str]:
    """The result folders (``planner/folder``) a sim run's ``sim.json`` (read as ``manifest``
    by :func:`_sim_manifest`, which reports a file that does not parse) lists in ``runs``,
    or a fleet's ``fleet.json`` in ``variant_ids`` (``field``), written before the first
    run: the runs it meant to make. Entries that are not such a key (another shape, ``..``,
    absolute) are left out."""
    runs = manifest.get(field)
    if not isinstance(runs, list):
        return []
    return [
        key
        for key in runs
        if isinstance(key, str)
        and key.count("/") == 1
        and all(part not in ("", ".", "..") for part in key.split("/"))
    ]


def _sim_manifest(
    root: Path, problems: list[str], names: tuple[str, str] = (SIM_MANIFEST_NAME, "summary.json")
) -> dict[str, Any]:
    """A run's manifest: a sim run's ``sim.json`` (when written) and ``summary.json`` (as
    ``summary``), or a fleet's ``names``: ``fleet.json`` and ``fleet_summary.json``; what
    does not parse is a problem, not an error."""
    manifest: dict[str, Any] = {}
    for name in names:
        path = root / name
        if not path.exists():
            continue
        data = _read_json(path, problems, "corrupt")
        if data is _CORRUPT:
            continue
        if not isinstance(data, dict):
            problems.append(
                f"{path}: corrupt: expected a JSON object, got a JSON "
                f"{type(data).__name__}: not read"
            )
        elif name == names[0]:
            manifest.update(data)
        else:
            manifest["summary"] = data
    return manifest


def load_run(root: Path) -> RunData:
    """Scan ``root`` (see the module docstring); problems are collected, not raised."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: run folder not found")
    problems: list[str] = []
    manifest: dict[str, Any] = {}
    fleet_records: dict[str, dict[str, Any]] = {}
    kind = "empty"
    if (root / MANIFEST_NAME).exists():
        kind = "fleet"
        manifest = _sim_manifest(root, problems, (MANIFEST_NAME, SUMMARY_NAME))
    elif (root / INDEX_NAME).exists():  # a fleet's folder that lost its fleet.json: its
        # index still says which runs crashed (else they vanish from a "sim" report)
        problems.append(
            f"{root / MANIFEST_NAME}: missing beside {INDEX_NAME} (a fleet's folder): runs "
            f"taken from {INDEX_NAME}; the fleet's settings are unknown"
        )
    if (root / INDEX_NAME).exists():
        records, index_problems = read_index(root / INDEX_NAME)
        problems.extend(index_problems)
        fleet_records = latest_records(records)
    keys = {
        str(p.parent.relative_to(root))
        for pattern in ("*/*/metrics.json", "*/*/history.npz", f"*/*/{ERROR_NAME}")
        for p in root.glob(pattern)
    }
    keys |= set(fleet_records)
    never_run: set[str] = set()
    listing, who = SIM_MANIFEST_NAME, "sim"
    sim_manifest_read = kind == "empty" and (root / SIM_MANIFEST_NAME).exists()
    if sim_manifest_read:  # read once: the runs it lists, and the manifest below
        manifest = _sim_manifest(root, problems)
    if sim_manifest_read or kind == "fleet":
        # the runs its manifest listed before the first one ran (a fleet's since it records
        # them): those without any result never ran
        listed_field, listing, summary_name, who = (
            ("runs", SIM_MANIFEST_NAME, "summary.json", "sim")
            if sim_manifest_read
            else ("variant_ids", MANIFEST_NAME, SUMMARY_NAME, "fleet")
        )
        never_run = set(_listed_sim_runs(manifest, listed_field)) - keys
        keys |= never_run
        if never_run and not (root / summary_name).exists():
            resume = "; rerun the same fleet command to resume" if who == "fleet" else ""
            problems.append(
                f"{root / summary_name}: missing beside {listing}: the {who} did not finish "
                f"(stopped or killed); {len(never_run)} of its listed runs never ran{resume}"
            )
    loaded = [
        row_from_metrics(
            root / key / "metrics.json", key, fleet_records.get(key) or _error_record(root / key)
        )
        for key in sorted(keys)
    ]
    rows = infer_sweep_params(
        [dataclasses.replace(row, config_flat=flat_config(config)) if config else row
         for row, config in loaded],
        [config for _, config in loaded],
    )  # fmt: skip
    rows = [_check_history(root, row) for row in rows]
    rows = [
        dataclasses.replace(
            row,
            error=f"{root / row.key}: listed in {listing} but never run (the {who} was "
            "stopped before it)",
        )
        if row.key in never_run and row.status == "missing"
        else row
        for row in rows
    ]
    if rows and kind == "empty":
        kind = "sim"
        if not sim_manifest_read:
            manifest = _sim_manifest(root, problems)
    problems.extend(r.error for r in rows if r.status in ("corrupt", "missing"))
    tracking: dict[str, dict[str, Any]] = {}
    detection: dict[str, dict[str, Any]] = {}
    read: dict[str, dict[str, dict[str, Any]]] = {which: {} for which in _READERS}
    corrupt: list[str] = []
    unplaced: list[str] = []
    for path in [root / "metrics.json", *sorted(root.glob("*/metrics.json"))]:
        if not path.exists():
            continue
        data = _read_json(path, problems, "corrupt metrics.json")
        if data is _CORRUPT:
            corrupt.append(str(path))
            continue
        try:
            which = classify(data)
            notes = check_tracking(data) if which == "tracking" else []
        except ValueError as exc:
            problems.append(f"{path}: tracking metrics.json: {exc}")
            corrupt.append(str(path))
            continue
        rel = str(path.relative_to(root))
        problems.extend(f"{path}: tracking metrics.json: {note}" for note in notes)
        if which == "tracking":
            tracking[rel] = data
        elif which == "detection":
            detection[rel] = data
        elif which in _READERS:
            try:
                read[which][rel] = _READERS[which](data)
            except ValueError as exc:
                problems.append(f"{path}: {which} metrics.json: {exc}")
                corrupt.append(str(path))
        else:
            problems.append(f"{path}: {UNPLACED} (its fields: {_fields(data)}): not shown")
            unplaced.append(str(path))
    n_corrupt = len(corrupt)
    replays = _load_replays(root, problems, corrupt, tracking, detection)
    if kind == "empty" and (replays or len(corrupt) > n_corrupt):  # corrupt ones: still replays
        kind = "replay"
    if kind == "empty" and (tracking or detection or any(read.values()) or corrupt):
        kind = "eval"
    return RunData(
        root,
        kind,
        manifest,
        tuple(sort_rows(rows)),
        tracking,
        detection,
        tuple(problems),
        tuple(corrupt),
        read["prediction"],
        read["planning"],
        tuple(unplaced),
        replays,
        read["detection2d"],
    )


def _replay_problem(path: Path, why: str) -> str:
    """A problem of a replay summary; the tracking check's ``field metrics.<...>`` named as
    the summary's field, ``kitti.tracking.<...>``."""
    return f"{path}: replay summary: {why.replace('field metrics.', 'field kitti.tracking.', 1)}"


def _load_replays(
    root: Path,
    problems: list[str],
    corrupt: list[str],
    tracking: dict[str, dict[str, Any]],
    detection: dict[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """The replay summaries (``*.summary.json`` of ``drivestack replay``) in ``root`` and its
    direct subfolders, checked (:func:`~drivestack.report.replay.read_replay`); their KITTI
    scores added to ``tracking`` / ``detection`` as ``<file> (kitti.tracking)`` /
    ``<file> (kitti.detection)``. A summary that does not parse or check is a problem naming
    the file and field (and counted corrupt); a ``*.summary.json`` of another kind is left
    alone."""
    out: dict[str, dict[str, Any]] = {}
    pattern = f"*{SUMMARY_SUFFIX}"
    for path in sorted([*root.glob(pattern), *root.glob(f"*/{pattern}")]):
        data = _read_json(path, problems, "corrupt replay summary")
        if data is _CORRUPT:
            corrupt.append(str(path))
            continue
        if not is_replay(data):
            continue
        rel = str(path.relative_to(root))
        try:
            checked = read_replay(data)
            kitti = kitti_results(data, checked)
            notes = check_tracking(kitti["tracking"]) if "tracking" in kitti else []
        except ValueError as exc:  # the tracking check names metrics.<...>: the summary's field
            problems.append(_replay_problem(path, str(exc)))
            corrupt.append(str(path))
            continue
        problems.extend(_replay_problem(path, n) for n in notes)
        out[rel] = checked
        for which, into in (("tracking", tracking), ("detection", detection)):
            if which in kitti:
                into[f"{rel} (kitti.{which})"] = kitti[which]
    return out


#: What a metrics.json that :func:`classify` cannot place is called.
UNPLACED = (
    "metrics.json of no kind the report knows (not a tracking, detection, 2D detection, "
    "prediction or open-loop planning result of drivestack eval)"
)


def _fields(data: object) -> str:
    """A metrics.json's first top-level fields, to tell which command wrote it."""
    if isinstance(data, dict):
        return ", ".join(list(map(str, data))[:8]) or "none"
    return f"a JSON {type(data).__name__}, not an object"


#: What :func:`load_run` reads, for the message of a folder that holds none of it.
LOOKED_FOR = (
    "<planner>/<scenario>/metrics.json or history.npz (drivestack sim / fleet runs), "
    "fleet.json + fleet.jsonl (drivestack fleet), and a tracking, detection, 2D detection, "
    "prediction or open-loop planning metrics.json (drivestack eval) or a RUN.summary.json "
    "(drivestack replay) in the folder or one of its direct subfolders"
)


def require_results(run: RunData, what: str = "run folder") -> None:
    """Raise :class:`~drivestack.core.errors.DataError` naming the folder and what was looked
    for when ``run`` holds nothing to report (``what``: "run folder" or "baseline"); when it
    holds only metrics.json files of no known kind, naming the first."""
    if not run.has_results and run.unplaced:
        raise DataError(
            f"{what} holds no results to report: {UNPLACED}; looked for {LOOKED_FOR}",
            path=run.unplaced[0],
        )
    if not run.has_results:
        raise DataError(
            f"{what} holds no results to report; looked for {LOOKED_FOR}", path=str(run.root)
        )
