"""Fleets: run many variants on an executor, stream records to one JSONL index, resume.

Layout of a fleet folder ``DIR``:
  ``fleet.json``        what ran: suite, planners, sweep, seed, executor, version, variant count,
                        ``scenarios``: each scenario's file and the SHA-256 of its loaded
                        config (:func:`scenario_digests`), and ``known_failures``: the suite's
                        list for the fleet's planners (:func:`listed_failures`); ``lights``
                        (``truth`` or ``camera``), the planners' ``unknown_light`` policy and
                        ``light_camera`` (the camera's preset and effects; null with truth);
                        ``planner_params`` (every ``--planner-params`` value; null without)
                        and ``planner_params_file``
  ``fleet.jsonl``       one record per finished variant (``ok``: it ran, passed or not; or
                        ``crashed``: it raised, with the error; older indexes say ``failed``
                        for that, read as ``crashed``), appended and flushed as each ends; the
                        last record of a variant wins
  ``<planner>/<folder>/metrics.json, history.npz``   per variant (as ``drivestack sim``: the
  scenario name made folder-safe by ``drivestack.sim.scenario.safe_name``)
  ``fleet_summary.json`` per planner: variants; ``passed`` (ran, met the pass criteria),
                        ``failed`` (ran, did not), ``known_failures`` (ran, did not, listed by
                        the suite), ``crashed`` (raised), ``unexpected_passes`` (listed, yet
                        passed), as ``drivestack sim``'s summary.json counts them; ``ok``
                        (ran), collisions, mean score; with camera lights
                        ``light_perception`` / ``light_perception_raw`` pooled over its runs
The summary and :attr:`FleetResult.records` cover the latest usable record of every variant in
the index (another ``--filter``'s, a larger ``count``'s too), and ``fleet.json`` records the
folder: ``filters`` (every filter run into it), the largest sweep ``count`` and ``variants``
(the folder's); the planners are compared as a set. A fleet holds ``.fleet.lock``
(:func:`fleet_lock`) while it runs: a second one at once is refused.
A rerun with the same fleet skips the variants already in the index (``retry_failed`` also
reruns the crashed ones), except those whose index line does not read (cut by a kill, not
JSON or UTF-8, a field :func:`fleet_summary` needs missing or of the wrong type) and those
that ran but whose ``metrics.json`` / ``history.npz`` is gone or damaged (as the report
checks them: :func:`drivestack.report.collect.history_problem` and its metrics.json reader):
each is warned about (file, line, field) and run again (a cut line no longer once a later
record of its variant reads); a rerun with more random draws (``count``) extends the sweep; a rerun
with other swept parameters, seed, suite, planners, step cap, ``lights``, planner settings
(``planner_params``, compared by value, not by file) or light camera effects (compared by their parameters, not the preset's name) into the same folder is refused,
and so is one whose scenarios were edited since (a scenario of the same name whose loaded config
differs: the results would mix two different scenarios), and one whose suite lists other known
failures for its planners since (the finished variants carry the marks of the old list, in
the index and in metrics.json: the summary would count by two lists). A folder whose
``fleet.json`` predates ``known_failures`` is not checked for them (and records them now).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from drivestack.core.atomic import write_text_atomic
from drivestack.core.errors import ConfigError, DataError
from drivestack.core.json_values import is_finite_number, strict_dumps
from drivestack.core.locks import exclusive_lock
from drivestack.core.progress import PROGRESS_LINES, is_terminal
from drivestack.exec.executors import Executor
from drivestack.exec.lights import (
    LIGHT_IDENTITY_KEYS,
    TRUE_LIGHTS,
    FleetLights,
    light_camera_shown,
    lights_identity,
    pooled_light_perception,
)
from drivestack.exec.sweep import Variant
from drivestack.exec.task import (
    CRASHED,
    VariantTask,
    count_outcomes,
    crashed_fields,
    is_crashed,
    run_variant,
    unknown_light_policy,
    variant_record,
)

if TYPE_CHECKING:  # (drivestack.exec.sweep imports it at run time anyway)
    from drivestack.sim.scenario import KnownFailures, ScenarioConfig

INDEX_NAME = "fleet.jsonl"
MANIFEST_NAME = "fleet.json"
SUMMARY_NAME = "fleet_summary.json"
#: Held (``flock``) by the fleet running into the folder: :func:`fleet_lock`.
LOCK_NAME = ".fleet.lock"


@dataclass(frozen=True)
class FleetResult:
    """Counts of one call: ``ran`` variants now (``crashed`` of them), ``skipped`` as done
    before."""

    total: int
    ran: int
    crashed: int
    skipped: int
    wall_s: float
    records: tuple[dict[str, Any], ...]  # the latest record of every variant in the index

    @property
    def failed(self) -> int:
        """The older name of ``crashed`` (variants that raised, not runs that did not pass)."""
        return self.crashed


#: A record's variant id as it starts a JSON line the fleet wrote (its first field): what a
#: line cut by a kill still tells.
_VARIANT_AT_START = re.compile(r'^\{\s*"variant"\s*:\s*"((?:[^"\\]|\\.)*)"')


def _cut_variant(raw: bytes) -> str | None:
    """The variant id a line that does not read still shows at its start, None if none."""
    match = _VARIANT_AT_START.match(raw.decode("utf-8", errors="replace"))
    if match is None:
        return None
    try:
        value = json.loads(f'"{match.group(1)}"')
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _index_lines(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[str]]:
    """``(line number, record)`` of a JSONL index and the problems met (a line cut by a
    kill, bad JSON or UTF-8, a record without a string ``variant`` and ``status``). A line
    that does not read but starts with a variant id that a later record holds (the variant
    ran again after the kill) is left out silently: nothing of it is lost."""
    records: list[tuple[int, dict[str, Any]]] = []
    problems: list[tuple[int, str | None, str]] = []  # (line, the variant it shows, what)
    if not path.exists():
        return records, []
    for n, raw in enumerate(path.read_bytes().splitlines(), start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append((n, _cut_variant(raw), f"not UTF-8 ({exc.reason})"))
            continue
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append((n, _cut_variant(raw), f"not JSON ({exc.msg})"))
            continue
        if not isinstance(rec, dict) or "variant" not in rec or "status" not in rec:
            problems.append((n, None, "not a fleet record"))
            continue
        for key in ("variant", "status"):
            if not isinstance(rec[key], str):
                problems.append((n, None, f"field {key}: not a string"))
                break
        else:
            records.append((n, rec))
    last = {rec["variant"]: n for n, rec in records}
    shown = [
        f"{path}: line {n}: {what}; skipped"
        for n, variant_id, what in problems
        if variant_id is None or last.get(variant_id, 0) < n
    ]
    return records, shown


def read_index(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Records of a JSONL index and the problems met (a line cut by a kill, bad JSON or
    UTF-8, a record without a string ``variant`` and ``status``: skipped)."""
    records, problems = _index_lines(path)
    return [rec for _, rec in records], problems


#: What :func:`fleet_summary` reads of a record: field -> (check, what it must be); the
#: score and collision only of records that ran (``ok``).
_RECORD_FIELDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "planner": (lambda v: isinstance(v, str), "a string"),
    "score": (is_finite_number, "a finite number"),
    "collision": (lambda v: isinstance(v, bool), "true or false"),
}


def record_problem(rec: dict[str, Any]) -> str | None:
    """What makes an index record unusable for a resume and the summary (``field X: ...``),
    or None: an unknown ``status``, a ``planner`` that is not a string; for ``ok`` records
    a ``score`` that is not a finite number or a ``collision`` that is not a bool."""
    status = rec.get("status")
    if status != "ok" and not is_crashed(rec):
        return f"field status: {status!r} is neither 'ok' nor {CRASHED!r}"
    for key in _RECORD_FIELDS if status == "ok" else ("planner",):
        check, what = _RECORD_FIELDS[key]
        if key not in rec:
            return f"field {key}: missing"
        if not check(rec[key]):
            return f"field {key}: {rec[key]!r} is not {what}"
    return None


def _result_problem(out_dir: Path, rec: dict[str, Any]) -> str | None:
    """Why a variant that ran (``ok``) has no usable result folder, or None when it has one:
    its ``metrics.json`` or ``history.npz`` missing, or either one that the report would show
    as corrupt (the report's own checks: a ``metrics.json`` that does not read or lacks a
    field the report needs, a ``history.npz`` whose archive does not open and list its
    arrays)."""
    from drivestack.report.collect import history_problem, row_from_metrics

    folder = out_dir / rec["variant"]
    for name in ("metrics.json", "history.npz"):
        if not (folder / name).is_file():
            return f"{folder / name}: missing"
    row, _ = row_from_metrics(folder / "metrics.json", rec["variant"], rec)
    if row.status not in ("pass", "fail"):
        return row.error or f"{folder / 'metrics.json'}: {row.status}"
    return history_problem(folder / "history.npz")


def latest_records(records: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """variant id -> its last record."""
    return {rec["variant"]: rec for rec in records}


def scenario_digest(cfg: ScenarioConfig) -> str:
    """SHA-256 of ``cfg`` as loaded (canonical JSON, ``source`` left out): it covers what a
    suite includes, sweep cases and map parameters, not the bytes of a map file."""
    data = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "source"}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def scenario_digests(scenarios: Iterable[ScenarioConfig]) -> dict[str, dict[str, str]]:
    """``{scenario name: {"file": its file, "sha256": scenario_digest}}`` (the manifest's
    ``scenarios``: what a resume checks the fleet's runs were made from)."""
    return {cfg.name: {"file": cfg.source, "sha256": scenario_digest(cfg)} for cfg in scenarios}


def listed_failures(
    known_failures: KnownFailures | None, planners: Iterable[str]
) -> dict[str, dict[str, str]]:
    """The manifest's ``known_failures``: scenario -> planner -> reason, for ``planners``
    only (another planner's listing marks none of this fleet's variants), scenarios sorted.

    >>> listed_failures({"b": {"idm": "x", "pdm": "y"}, "a": {"idm": "z"}}, ["pdm"])
    {'b': {'pdm': 'y'}}
    """
    wanted = set(planners)
    out: dict[str, dict[str, str]] = {}
    for name in sorted(known_failures or {}):
        mine = {p: r for p, r in sorted((known_failures or {})[name].items()) if p in wanted}
        if mine:
            out[name] = mine
    return out


def _listing_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """How two ``known_failures`` listings differ, one phrase per (scenario, planner):
    ``ccrs[10kph] pdm: 'old' -> not listed``."""
    changes = []
    for name in sorted(set(old) | set(new)):
        then, now = old.get(name) or {}, new.get(name) or {}
        for planner in sorted(set(then) | set(now)):
            if then.get(planner) != now.get(planner):
                a, b = (
                    repr(x) if x is not None else "not listed"
                    for x in (then.get(planner), now.get(planner))
                )
                changes.append(f"{name} {planner}: {a} -> {b}")
    return changes


def _check_manifest(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The folder's manifest (``{}`` when there is none); ``ConfigError`` when it holds a
    different fleet, a scenario of the same name whose config changed since, or other known
    failures (``known_failures``; not checked against a manifest that predates them)."""
    path = out / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        old = json.loads(path.read_bytes())
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 JSON: {exc.reason}", path=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise DataError(
            f"not JSON: {exc.msg}", record=f"line {exc.lineno}", path=str(path)
        ) from exc
    if not isinstance(old, dict):
        raise DataError(f"not a JSON object but {type(old).__name__}", path=str(path))
    for key in ("sweep", "scenarios", "known_failures"):
        if old.get(key) is not None and not isinstance(old[key], dict):
            raise DataError(
                f"not a JSON object but {type(old[key]).__name__}", path=str(path), field=key
            )
    for name, listed in (old.get("known_failures") or {}).items():
        if not isinstance(listed, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in listed.items()
        ):
            raise DataError(
                f"expected a mapping of planner -> reason, got {listed!r:.80}",
                path=str(path),
                field=f"known_failures.{name}",
            )
    filters = old.get("filters")
    if filters is not None and not (
        isinstance(filters, list) and all(isinstance(f, str) for f in filters)
    ):
        raise DataError(f"expected a list of strings, got {filters!r:.80}", path=str(path),
                        field="filters")  # fmt: skip

    def same(key: str) -> bool:
        if key == "sweep":  # more draws extend a sweep: a variant's seed does not depend on count
            a, b = dict(old.get(key) or {}), dict(manifest.get(key) or {})
            a.pop("count", None)
            b.pop("count", None)
            return a == b
        if key in LIGHT_IDENTITY_KEYS:  # as drivestack sim compares them
            return lights_identity(key, old.get(key)) == lights_identity(key, manifest.get(key))
        if key == "planners":  # pdm,idm and idm,pdm run the same variants
            return planner_set(old.get(key)) == planner_set(manifest.get(key))
        if key == "planner_params":  # (a record from before the idm block was trimmed)
            from drivestack.sim.evaluate import recorded_planner_params

            then, now = old.get(key), manifest.get(key)
            return recorded_planner_params(then) == recorded_planner_params(now)
        return old.get(key) == manifest.get(key)

    keys = ("suite", "planners", "sweep", "max_steps", *LIGHT_IDENTITY_KEYS, "planner_params")
    for key in keys:
        if not same(key):
            then, now = old.get(key), manifest.get(key)
            if key == "light_camera":
                then, now = light_camera_shown(then), light_camera_shown(now)
            if key == "planner_params":  # (every value of the file: too long for one line)
                then = _settings_shown(then, old.get("planner_params_file"))
                now = _settings_shown(now, manifest.get("planner_params_file"))
                if then == now:  # the same file, edited since
                    now += " as edited since"
            raise ConfigError(  # (the fleet command adds how to resume without --planner)
                f"this folder holds a different fleet ({key}: {then!r} != {now!r}); use "
                "another --out",
                path=str(path),
                field=key,
            )
    before: dict[str, Any] = old.get("scenarios") or {}  # a mapping or none (checked above)
    for name, now in (manifest.get("scenarios") or {}).items():
        then = before.get(name)
        if isinstance(then, dict) and then.get("sha256") != now.get("sha256"):
            raise ConfigError(
                f"scenario {name!r} ({now.get('file')}) changed since this folder's fleet ran "
                "(its config differs from the one recorded); its results would mix two "
                "scenarios: use another --out",
                path=str(path),
                field=f"scenarios.{name}",
            )
    if isinstance(old.get("known_failures"), dict) and "known_failures" in manifest:
        changes = _listing_changes(old["known_failures"], manifest["known_failures"])
        if changes:
            shown = "; ".join(changes[:3]) + (
                f" and {len(changes) - 3} more" if len(changes) > 3 else ""
            )
            raise ConfigError(
                f"the suite's known_failures changed since this folder's fleet ran ({shown}); "
                "its finished variants are marked by the old list (in fleet.jsonl and "
                "metrics.json), so their counts would mix two lists: use another --out, or "
                "restore the list",
                path=str(path),
                field="known_failures",
            )
    return old


def _settings_shown(value: object, file: object) -> str:
    """A manifest's ``planner_params`` in a refusal: ``the built-in settings``, or the
    settings of the file they were read from (``planner_params_file``)."""
    if value is None:
        return "the built-in settings"
    return (
        f"the settings of {file}" if isinstance(file, str) else "a --planner-params file's settings"
    )


def planner_set(value: object) -> object:
    """A manifest's ``planners`` as compared (fleet.json's and ``drivestack sim``'s sim.json):
    a list as a set (its order is the output's only), anything else as it is."""
    return frozenset(map(str, value)) if isinstance(value, list) else value


def _merge_manifest(manifest: dict[str, Any], old: dict[str, Any]) -> None:
    """``manifest`` made to describe the whole folder, not this invocation alone: the
    ``scenarios`` a ``--filter`` leaves out this time stay recorded (a later resume checks
    them), ``filters`` lists every ``--filter`` run into the folder (``""``: all scenarios;
    an older manifest's ``filter`` counts as one) and the sweep's ``count`` is the largest
    one run (more draws extend a sweep; fewer leave the extra variants in the folder)."""
    if isinstance(old.get("scenarios"), dict) and "scenarios" in manifest:
        manifest["scenarios"] = {**old["scenarios"], **manifest["scenarios"]}
    filters = {str(f) for f in old.get("filters") or [] if isinstance(f, str)}
    if isinstance(old.get("filter"), str):
        filters.add(old["filter"])
    if "filter" in manifest:
        filters.add(str(manifest.pop("filter")))
    if filters:
        manifest["filters"] = sorted(filters)
    sweep, old_sweep = manifest.get("sweep"), old.get("sweep")
    if isinstance(sweep, dict) and isinstance(old_sweep, dict):
        counts = [c for c in (sweep.get("count"), old_sweep.get("count")) if isinstance(c, int)]
        if counts:
            sweep["count"] = max(counts)


def fleet_summary(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per planner, in ``drivestack sim``'s words: ``variants``; ``passed`` (ran and met the
    pass criteria), ``failed`` (ran, did not pass), ``known_failures`` (ran, did not pass, and
    the suite lists it), ``crashed`` (raised: no result), ``unexpected_passes`` (listed, but
    passed; among ``passed``), ``known_failures_not_evaluated`` (listed, passed what a run
    cut short could judge; among ``passed``); ``ok`` (ran: passed + failed + known failures), collisions and
    mean score of those that ran (:func:`~drivestack.exec.task.count_outcomes`); with camera
    lights, ``light_perception`` and ``light_perception_raw`` pooled over the runs that
    carry them (:func:`~drivestack.exec.lights.pooled_light_perception`)."""
    out: dict[str, Any] = {}
    for planner in sorted({r["planner"] for r in records}):
        mine = [r for r in records if r["planner"] == planner]
        ok = [r for r in mine if not is_crashed(r)]
        scores = [float(r["score"]) for r in ok]
        out[planner] = {
            "variants": len(mine),
            **count_outcomes(mine),
            "ok": len(ok),
            "collisions": sum(bool(r["collision"]) for r in ok),
            "mean_score": sum(scores) / len(scores) if scores else None,
            **pooled_light_perception(ok),
        }
    return out


@contextlib.contextmanager
def fleet_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out_dir/.fleet.lock`` (:data:`LOCK_NAME`) for the
    block: a second fleet into the same folder at once is a ``DataError`` naming the lock
    (two fleets would run the same variants and interleave their index lines). The lock is
    the operating system's (``flock``): a killed fleet leaves the file, never the lock."""
    path = out_dir / LOCK_NAME
    with exclusive_lock(
        path,
        busy="another fleet is running into this folder (it holds the lock); wait for it "
        "to end, or give another --out",
        where=str(path),
    ):
        yield


def run_fleet(
    variants: Sequence[Variant],
    out_dir: Path,
    executor: Executor,
    *,
    manifest: dict[str, Any] | None = None,
    data_root: Path | None = None,
    max_steps: int | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    task_fn: Callable[[VariantTask], dict[str, Any]] = run_variant,
    known_failures: KnownFailures | None = None,
    lights: FleetLights = TRUE_LIGHTS,
    planner_params: dict[str, Any] | None = None,
    planner_params_file: str | None = None,
) -> FleetResult:
    """Run the variants not yet in ``out_dir``'s index on ``executor``; return the counts.

    ``retry_failed`` also reruns the variants whose last record is crashed (``crashed``, or
    ``failed`` in an older index), not those that ran and did not pass. ``task_fn`` must be
    a top-level function (it is pickled to the workers); an exception it raises is recorded
    as a ``crashed`` record, like a crashing scenario. ``progress`` shows a bar when stderr
    is a terminal, else a plain line at every 10 % of the runs (no carriage-return frames in
    a pipe or a log). Stopped early (Ctrl-C), the executor's run is closed at
    once, which ends its workers; the index keeps every record written so far.
    ``known_failures`` (a suite's, by scenario name and planner) marks the variants of a
    listed scenario (by ``base_scenario``, whatever the sweep changed) with the reason, in
    their records and metrics.json, so that the summary counts them apart; ``fleet.json``
    records them (for the fleet's planners), and a rerun with another list is refused
    (``ConfigError``): the finished variants keep the marks they were written with.
    ``lights``: what the planners know of the traffic lights (the true states, or a camera's
    reads; each variant's camera noise seeded from its seed,
    :meth:`~drivestack.exec.lights.FleetLights.variant_effects`); ``fleet.json`` records it
    (``lights``, ``unknown_light``, ``light_camera``) and a rerun with another is refused.
    ``planner_params``: the ``--planner-params`` settings as plain data
    (:meth:`~drivestack.sim.evaluate.PlannerParams.as_dict`, ``unknown_light`` as ``lights``
    has it; None: the built-in settings), read from ``planner_params_file``; every variant
    runs them (:attr:`~drivestack.exec.task.VariantTask.planner_params`), ``fleet.json``
    records both and a rerun with other settings is refused.
    """
    from drivestack.core.folder_links import refuse_folder_links

    out_dir.mkdir(parents=True, exist_ok=True)
    with fleet_lock(out_dir):  # DataError while another fleet runs into out_dir
        refuse_folder_links(out_dir, 2, "--out")  # <planner>/<run> folders: cleared, written
        return _run_fleet_locked(
            variants,
            out_dir,
            executor,
            manifest=manifest,
            data_root=data_root,
            max_steps=max_steps,
            retry_failed=retry_failed,
            progress=progress,
            task_fn=task_fn,
            known_failures=known_failures,
            lights=lights,
            planner_params=planner_params,
            planner_params_file=planner_params_file,
        )


def _run_fleet_locked(
    variants: Sequence[Variant],
    out_dir: Path,
    executor: Executor,
    *,
    manifest: dict[str, Any] | None,
    data_root: Path | None,
    max_steps: int | None,
    retry_failed: bool,
    progress: bool,
    task_fn: Callable[[VariantTask], dict[str, Any]],
    known_failures: KnownFailures | None,
    lights: FleetLights,
    planner_params: dict[str, Any] | None,
    planner_params_file: str | None,
) -> FleetResult:
    """:func:`run_fleet`'s work, with ``out_dir``'s lock held."""
    manifest = dict(manifest or {})
    manifest.setdefault("max_steps", max_steps)
    manifest.update(
        lights=lights.lights,
        unknown_light=unknown_light_policy(lights.lights),
        light_camera=lights.manifest_value(),
        planner_params=planner_params,
        planner_params_file=planner_params_file,
    )
    manifest = json.loads(json.dumps(manifest, default=str))  # as it reads back
    planners = manifest.get("planners") or sorted({v.planner for v in variants})
    manifest["known_failures"] = listed_failures(known_failures, planners)
    _merge_manifest(manifest, _check_manifest(out_dir, manifest))
    index = out_dir / INDEX_NAME
    numbered, problems = _index_lines(index)
    wanted_ids = {v.variant_id for v in variants}
    done: dict[str, dict[str, Any]] = {}
    last_usable: dict[str, int] = {}  # variant -> the line of its last usable record
    unusable: list[tuple[int, str, str]] = []  # (line, variant, problem)
    for n, rec in numbered:  # the last usable record of a variant wins
        problem = record_problem(rec)
        if problem is None:
            done[rec["variant"]] = rec
            last_usable[rec["variant"]] = n
        elif rec["variant"] in wanted_ids:
            unusable.append((n, rec["variant"], problem))
    problems += [  # silent when a later record of the variant is usable (a rerun mended it)
        f"{index}: line {n}: {problem}; skipped"
        for n, variant_id, problem in unusable
        if last_usable.get(variant_id, 0) < n
    ]
    for variant_id in sorted(wanted_ids & done.keys()):
        if done[variant_id]["status"] != "ok":
            continue
        missing = _result_problem(out_dir, done[variant_id])
        if missing is not None:  # its results were deleted or damaged since: run it again
            problems.append(f"{missing} (the index says {variant_id} ran); running it again")
            del done[variant_id]
    for problem in problems:
        tqdm.write(f"warning: {problem}")
    finished = {v for v, rec in done.items() if not is_crashed(rec) or not retry_failed}
    todo = [v for v in variants if v.variant_id not in finished]
    # the folder's variants: those in the index and this invocation's
    folder_ids = sorted(wanted_ids | {rec["variant"] for _, rec in numbered})
    manifest.update(
        variants=len(folder_ids),
        # the report tells the variants that never ran (a fleet stopped part-way) by them
        variant_ids=folder_ids,
        executor=executor.name,
        workers=executor.workers,
    )
    # whole or not at all: a resume reads it back (a cut-off one could not be resumed)
    write_text_atomic(out_dir / MANIFEST_NAME, json.dumps(manifest, indent=2, default=str))
    # written again when this invocation ends: until then a summary would be a stale one
    (out_dir / SUMMARY_NAME).unlink(missing_ok=True)
    root = str(data_root) if data_root else None
    commit = manifest.get("git_commit")
    known = known_failures or {}
    tasks = [
        VariantTask(
            v,
            str(out_dir),
            root,
            max_steps,
            commit,
            known.get(v.base_scenario, {}).get(v.planner),
            lights,
            manifest["planner_params"],
            planner_params_file,
        )
        for v in todo
    ]
    start = time.perf_counter()
    crashed = 0
    needs_newline = False
    if index.exists() and index.stat().st_size > 0:
        with index.open("rb") as f:
            f.seek(-1, 2)
            needs_newline = f.read(1) != b"\n"
    bar_shown = progress and is_terminal(sys.stderr)
    desc = f"fleet ({executor.name} x{executor.workers})"
    every = max(1, math.ceil(len(tasks) / PROGRESS_LINES))  # plain lines: 10 % steps
    with (
        index.open("a") as sink,
        tqdm(
            total=len(tasks),
            desc=desc,
            unit="run",
            disable=not bar_shown,  # no carriage-return frames in a log or a pipe
            smoothing=0.1,
        ) as bar,
    ):
        if needs_newline:  # a line cut by a kill: end it so the next record stands alone
            sink.write("\n")
        outcomes = executor.run(task_fn, tasks)
        try:
            for n, (task, outcome) in enumerate(outcomes, start=1):
                if isinstance(outcome, BaseException):  # the task itself or its worker failed
                    outcome = {**variant_record(task.variant), **crashed_fields(outcome)}
                crashed += is_crashed(outcome)
                sink.write(strict_dumps(outcome, indent=None) + "\n")
                sink.flush()
                done[outcome["variant"]] = outcome
                bar.set_postfix(done=bar.n + 1, crashed=crashed, refresh=False)
                bar.update(1)
                if progress and not bar_shown and (n % every == 0 or n == len(tasks)):
                    print(
                        f"{desc}: {n}/{len(tasks)} runs done, {crashed} crashed, "
                        f"{time.perf_counter() - start:.0f} s",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:  # stopped early (Ctrl-C): the executor ends its workers now, not at exit
            close = getattr(outcomes, "close", None)
            if close is not None:
                close()
    wall = time.perf_counter() - start
    # the whole folder's, as the report sees it: the latest usable record of every variant in
    # the index, this invocation's first (another --filter's or a larger --variants' too)
    order = [v.variant_id for v in variants if v.variant_id in done]
    order += sorted(done.keys() - wanted_ids)
    latest = tuple(done[variant_id] for variant_id in order)
    write_text_atomic(out_dir / SUMMARY_NAME, strict_dumps(fleet_summary(latest), indent=2))
    return FleetResult(len(variants), len(tasks), crashed, len(variants) - len(tasks), wall, latest)
