"""Run-to-run comparison: regressions of a run against a baseline run on their common scenarios.

Rows are matched by result folder (``planner/scenario``). A *regression* is a scenario that
newly crashes (ran to a verdict in the baseline, pass or fail; crashed, corrupt or missing
now), newly fails (passed in the baseline, anything else now) or whose score dropped by more
than ``score_tolerance`` points; an *improvement* is the reverse (``runs_again``,
``newly_passes``, ``score_rose``). Scenarios present in only one of
the runs are listed, not compared. A common folder whose embedded scenario configs set a
key they both record to other values (a scenario file edited between the runs: a lead car
moved 18 m closer read as five regressions, without a word) is compared and listed in
``other_config``, so that the report says the change may be the scenario's. With
``match_params`` (two fleets, whose folder names are
variant indexes, not values), a folder in both whose swept ``params`` differ ran another
scenario: it is listed as not comparable, not compared. So is a folder in both whose recorded
traffic ran another way (``recorded_agents``: ``reactive`` in one, ``replay`` in the other,
``drivestack sim --agents`` or a scenario's ``agents_reactive``; a record made before the key
was written is read from its embedded scenario config: :mod:`~drivestack.report.collect`). A
folder in both where one side cannot tell how its recorded traffic ran (``unknown``: a record
with neither the key nor its config) and the other ran recorded traffic is compared, and
listed in ``agents_unknown`` so that the report can say it cannot tell whether the two are
comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivestack.report.collect import AGENTS_UNKNOWN, ScenarioRow
from drivestack.report.defaults import DEFAULT_SCORE_TOLERANCE
from drivestack.sim.scenario import safe_name

__all__ = ["DEFAULT_SCORE_TOLERANCE", "Comparison", "RowChange", "comparable_key", "compare_rows"]


@dataclass(frozen=True)
class RowChange:
    key: str
    # "newly_crashes" | "newly_fails" | "score_dropped" | "runs_again" | "newly_passes" |
    # "score_rose"
    kind: str
    baseline_status: str
    status: str
    baseline_score: float | None
    score: float | None

    @property
    def delta(self) -> float | None:
        if self.score is None or self.baseline_score is None:
            return None
        return self.score - self.baseline_score

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "baseline_status": self.baseline_status,
            "status": self.status,
            "baseline_score": self.baseline_score,
            "score": self.score,
            "delta": self.delta,
        }


@dataclass(frozen=True)
class Comparison:
    common: tuple[str, ...]
    only_in_run: tuple[str, ...]
    only_in_baseline: tuple[str, ...]
    regressions: tuple[RowChange, ...]
    improvements: tuple[RowChange, ...]
    mean_score: float | None  # over the common rows that have scores in both
    baseline_mean_score: float | None
    passed: int  # among the common rows
    baseline_passed: int
    not_comparable: tuple[str, ...] = ()  # in both, but run with other params (fleets)
    other_agents: tuple[str, ...] = ()  # in both, but their recorded traffic ran another way
    agents_unknown: tuple[str, ...] = ()  # compared, but one does not say how its traffic ran
    # compared, but their scenario configs set a key they both record to other values (a
    # scenario file edited between the runs): the report warns that such a change may be the
    # scenario's, not the stack's
    other_config: tuple[str, ...] = ()

    @property
    def regressed_keys(self) -> set[str]:
        return {c.key for c in self.regressions}

    def as_dict(self) -> dict[str, Any]:
        return {
            "common": len(self.common),
            "only_in_run": list(self.only_in_run),
            "only_in_baseline": list(self.only_in_baseline),
            "not_comparable": list(self.not_comparable),
            "other_config": list(self.other_config),
            "other_agents": list(self.other_agents),
            "agents_unknown": list(self.agents_unknown),
            "regressions": [c.as_dict() for c in self.regressions],
            "improvements": [c.as_dict() for c in self.improvements],
            "mean_score": self.mean_score,
            "baseline_mean_score": self.baseline_mean_score,
            "passed": self.passed,
            "baseline_passed": self.baseline_passed,
        }


#: Row statuses of a run that ran to its verdict, and of one that did not (raised, or left
#: unreadable or no metrics).
RAN = ("pass", "fail")
BROKEN = ("crashed", "corrupt", "missing")


def _change(run: ScenarioRow, base: ScenarioRow, tol: float) -> RowChange | None:
    def make(kind: str) -> RowChange:
        return RowChange(run.key, kind, base.status, run.status, base.score, run.score)

    if base.status in RAN and run.status in BROKEN:
        return make("newly_crashes")
    if run.status in RAN and base.status in BROKEN:
        return make("runs_again")
    if base.passed and not run.passed:
        return make("newly_fails")
    if run.passed and not base.passed:
        return make("newly_passes")
    if run.score is not None and base.score is not None:
        if run.score < base.score - tol:
            return make("score_dropped")
        if run.score > base.score + tol:
            return make("score_rose")
    return None


def comparable_key(key: str) -> str:
    """A result folder key (``planner/folder``) as ``drivestack sim`` names folders now
    (:func:`~drivestack.sim.scenario.safe_name`): runs made before it stopped writing stray
    separators (``pdm/ccrs_10kph_``) still line up with today's (``pdm/ccrs_10kph``)."""
    planner, _, folder = key.partition("/")
    return f"{planner}/{safe_name(folder)}" if folder else key


def compare_rows(
    rows: tuple[ScenarioRow, ...] | list[ScenarioRow],
    baseline: tuple[ScenarioRow, ...] | list[ScenarioRow],
    score_tolerance: float = DEFAULT_SCORE_TOLERANCE,
    *,
    match_params: bool = False,
) -> Comparison:
    """Compare ``rows`` with ``baseline`` on their common keys (see the module docstring);
    with ``match_params``, only those whose ``params`` are equal are common; never those
    whose ``recorded_agents`` differ."""
    mine = {comparable_key(r.key): r for r in rows}
    theirs = {comparable_key(r.key): r for r in baseline}
    shared = sorted(set(mine) & set(theirs))
    other = [k for k in shared if mine[k].params != theirs[k].params] if match_params else []
    agents = [
        k
        for k in shared
        if k not in other and _agents_differ(mine[k].recorded_agents, theirs[k].recorded_agents)
    ]
    other_set = {*other, *agents}
    common = [k for k in shared if k not in other_set]
    config = [k for k in common if config_differences(mine[k].config_flat, theirs[k].config_flat)]
    changes = [_change(mine[k], theirs[k], score_tolerance) for k in common]
    found = [c for c in changes if c is not None]
    regressions = [c for c in found if c.kind in ("newly_crashes", "newly_fails", "score_dropped")]
    improvements = [c for c in found if c.kind in ("runs_again", "newly_passes", "score_rose")]
    regressions.sort(
        key=lambda c: (("newly_crashes", "newly_fails").count(c.kind) == 0, c.delta or 0.0, c.key)
    )
    scored = [k for k in common if mine[k].score is not None and theirs[k].score is not None]

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    return Comparison(
        tuple(common),
        tuple(sorted(set(mine) - set(theirs))),
        tuple(sorted(set(theirs) - set(mine))),
        tuple(regressions),
        tuple(improvements),
        mean([mine[k].score for k in scored]),  # type: ignore[misc]
        mean([theirs[k].score for k in scored]),  # type: ignore[misc]
        sum(mine[k].passed for k in common),
        sum(theirs[k].passed for k in common),
        tuple(other),
        tuple(agents),
        tuple(
            k for k in common if _agents_unknown(mine[k].recorded_agents, theirs[k].recorded_agents)
        ),
        tuple(config),
    )


def config_differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The dotted keys both flattened scenario configs record with other values. Keys only one
    records are left out: a field added to the scenario format since the older run is not a
    difference in what ran."""
    return sorted(k for k in set(mine) & set(theirs) if repr(mine[k]) != repr(theirs[k]))


def _agents_unknown(mine: str | None, theirs: str | None) -> bool:
    """Whether one run cannot say how its recorded traffic ran (:data:`AGENTS_UNKNOWN`) while
    the other ran recorded traffic (``reactive`` / ``replay``): then the report cannot tell
    whether the two are comparable. (Two records that both cannot say, or one beside a run
    without recorded traffic, give no sign of recorded traffic: not flagged.)"""
    modes = {mine, theirs}
    return AGENTS_UNKNOWN in modes and bool(modes - {AGENTS_UNKNOWN, None})


def _agents_differ(mine: str | None, theirs: str | None) -> bool:
    """Whether two runs' recorded traffic ran differently: both say how (``reactive`` /
    ``replay`` / None without recorded traffic, not :data:`AGENTS_UNKNOWN`) and not alike.
    (None beside a mode, a folder with recorded traffic in one of the runs only, is
    compared.)"""
    known = (mine, theirs)
    if AGENTS_UNKNOWN in known or None in known:
        return False
    return mine != theirs
