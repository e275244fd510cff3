"""Motion-forecast results in a report: the metrics.json of ``drivestack eval prediction``.

Recognised (:func:`is_prediction`) by its ``settings`` holding ``history_s`` and
``horizon_s``; read and checked by :func:`read_prediction` (a malformed field is a
``ValueError`` naming it): dataset, split, settings, the models (description, modes ``K``,
a learned model's checkpoint and training provenance), the recordings, the notes and
``metrics[traffic][model][group][motion]`` (``cases``, ``ADE@<t>s`` / ``FDE@<t>s`` at each of
``checkpoints_s``, ``miss_rate``; ``minADE``, ``minFDE``, ``brier_minFDE``, ``miss_rate_K`` for
a multi-modal model), means in metres.

Two results are compared (:func:`compare_prediction`, the same file of both runs, else the
one of each) only when their :data:`SETTINGS` agree (dataset, split, pasts, history, horizon,
stride, fit window, and the miss and moving thresholds that define the figures); otherwise a
warning says they are not comparable. Compared per traffic kind, model, class group and motion (cells
with cases in both): FDE at the horizon (a rise beyond the error tolerance in metres is a
regression, a fall an improvement) and the miss rate (beyond the score tolerance in
percentage points); for a multi-modal model also minFDE and brier-minFDE (metres) and
miss_rate_K (points). Scored on other recordings, they are compared with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivestack.report.detection import pair_files
from drivestack.report.fields import array, count, number, numbers, obj, required_number, text

#: What must agree for two results to be compared: (where, key) of the metrics.json.
SETTINGS = (
    ("", "dataset"),
    ("", "split"),
    ("", "pasts"),
    ("settings", "history_s"),
    ("settings", "horizon_s"),
    ("settings", "stride_s"),
    ("settings", "fit_window_s"),
    ("settings", "miss_threshold_m"),
    ("settings", "moving_displacement_m"),
)
#: The multi-modal figures of a model with ``K > 1`` modes.
MULTIMODAL = ("minADE", "minFDE", "brier_minFDE", "miss_rate_K")
#: A learned model's training provenance a result keeps (its ``trained_on``).
TRAINING_FIELDS = (
    "datasets",
    "split",
    "git_commit",
    "best_epoch",
    "holdout_top_mode_ade_m",
    "training_cases",
    "licence_note",
)
#: The run's provenance a result keeps (the summary shows it).
PROVENANCE = ("git_commit", "drivestack_version", "command")


def is_prediction(data: object) -> bool:
    """Whether a metrics.json is ``drivestack eval prediction``'s (module doc)."""
    settings = data.get("settings") if isinstance(data, dict) else None
    return isinstance(settings, dict) and "history_s" in settings and "horizon_s" in settings


def fde_key(result: dict[str, Any]) -> str:
    """The FDE at the horizon: ``FDE@3s``."""
    return f"FDE@{result['checkpoints_s'][-1]:g}s"


def columns(result: dict[str, Any]) -> list[str]:
    """A table's figures: ADE at each checkpoint, FDE at the horizon, miss rate."""
    return [f"ADE@{c:g}s" for c in result["checkpoints_s"]] + [fde_key(result), "miss_rate"]


def _row(value: object, where: str) -> dict[str, Any]:
    row = obj(value, where)
    out: dict[str, Any] = {"cases": count(row.get("cases"), f"{where}.cases")}
    for key, v in row.items():
        if key != "cases":
            out[str(key)] = number(v, f"{where}.{key}")
    return out


def _model(name: str, data: dict[str, Any], modes: dict[str, Any]) -> dict[str, Any]:
    """A model's description, modes and, for a learned one, its checkpoint and provenance."""
    settings = data["settings"]
    described = settings.get("models") if isinstance(settings.get("models"), dict) else {}
    k = modes.get(name, 1)
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"field modes.{name}: expected a whole number of at least 1, got {k!r}")
    records = data.get("model_records")
    record = records.get(name) if isinstance(records, dict) else None
    out: dict[str, Any] = {"name": name, "description": described.get(name), "modes": k}
    if isinstance(record, dict):
        given = record.get("provenance")
        prov: dict[str, Any] = given if isinstance(given, dict) else {}
        out["checkpoint"] = record.get("checkpoint")
        out["config"] = record.get("config") if isinstance(record.get("config"), dict) else {}
        out["trained_on"] = {key: prov[key] for key in TRAINING_FIELDS if key in prov}
    return out


def read_prediction(data: dict[str, Any]) -> dict[str, Any]:
    """What the report shows of a prediction metrics.json (module doc), checked.

    Raises:
        ValueError: naming the first malformed field (``field settings.horizon_s: ...``).
    """
    dataset = text(data.get("dataset"), "dataset")
    split = data.get("split")
    if split is not None:
        split = text(split, "split")
    settings = obj(data.get("settings"), "settings")
    checked: dict[str, float | None] = {
        key: required_number(settings.get(key), f"settings.{key}", positive=True)
        for key in ("history_s", "horizon_s", "stride_s", "fit_window_s")
    }
    for key in ("miss_threshold_m", "moving_displacement_m"):
        checked[key] = number(settings.get(key), f"settings.{key}")
    checkpoints = numbers(data.get("checkpoints_s"), "checkpoints_s")
    if not checkpoints:
        raise ValueError("field checkpoints_s: expected at least one time")
    modes = obj(data.get("modes"), "modes")
    metrics: dict[str, dict[str, Any]] = {}
    for traffic, models in obj(data.get("metrics"), "metrics").items():
        for model, groups in obj(models, f"metrics.{traffic}").items():
            for group, motions in obj(groups, f"metrics.{traffic}.{model}").items():
                for motion, row in obj(motions, f"metrics.{traffic}.{model}.{group}").items():
                    where = f"metrics.{traffic}.{model}.{group}.{motion}"
                    metrics.setdefault(str(traffic), {}).setdefault(str(model), {}).setdefault(
                        str(group), {}
                    )[str(motion)] = _row(row, where)
    model_names = list(dict.fromkeys([*modes, *(m for ms in metrics.values() for m in ms)]))
    recordings = []
    for i, rec in enumerate(array(data.get("recordings"), "recordings")):
        rec = obj(rec, f"recordings.{i}")
        recordings.append(
            {
                "name": text(rec.get("name"), f"recordings.{i}.name"),
                "traffic": rec.get("traffic"),
                "cases": count(rec.get("cases"), f"recordings.{i}.cases"),
                "has_map": rec.get("has_map"),
                "models_not_run": [str(m) for m in rec.get("models_not_run") or []],
            }
        )
    notes = data.get("notes")
    return {
        "dataset": dataset,
        "split": split,
        # labels (ground-truth pasts) or tracks (the tracker's; eval prediction --pasts);
        # results written before --pasts existed are label pasts
        "pasts": text(data.get("pasts", "labels"), "pasts"),
        "root": data.get("root"),
        "settings": checked,
        "checkpoints_s": checkpoints,
        "models": [_model(str(m), data, modes) for m in model_names],
        "recordings": recordings,
        "cases": {
            str(k): count(v, f"cases.{k}") for k, v in obj(data.get("cases", {}), "cases").items()
        },
        "metrics": metrics,
        "notes": [str(n) for n in notes] if isinstance(notes, list) else [],
        **{k: data[k] for k in PROVENANCE if isinstance(data.get(k), str)},
    }


def settings_differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The :data:`SETTINGS` that differ between two read results, as ``history_s 1 here, 2
    in the baseline``; ``[]`` when they agree."""
    out = []
    for where, key in SETTINGS:
        a = mine[where][key] if where else mine[key]
        b = theirs[where][key] if where else theirs[key]
        if a != b:
            out.append(f"{key} {a} here, {b} in the baseline")
    return out


def _cells(result: dict[str, Any]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """``(traffic, model, group, motion) -> row`` of the cells with cases."""
    return {
        (traffic, model, group, motion): row
        for traffic, models in result["metrics"].items()
        for model, groups in models.items()
        for group, motions in groups.items()
        for motion, row in motions.items()
        if row["cases"]
    }


def change(delta: float, tolerance: float) -> str | None:
    """``regression`` when an error rose by more than ``tolerance``, ``improvement`` when it
    fell by more, else None (lower is better)."""
    if delta > tolerance:
        return "regression"
    if delta < -tolerance:
        return "improvement"
    return None


def compare_pairs(
    run: dict[str, dict[str, Any]],
    baseline: dict[str, dict[str, Any]],
    run_root: Path,
    baseline_root: Path,
    what: str,
    not_shown: str,
    coverage: str,
    differences: Callable[[dict[str, Any], dict[str, Any]], list[str]],
    compare_pair: Callable[..., list[str]],
    score_tolerance: float,
    error_tolerance_m: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The comparisons of the results paired by :func:`pair_files`, their regressions (in row
    order) and the warnings, the loop :func:`compare_prediction` and
    :func:`~drivestack.report.planning.compare_planning` share.

    Each comparison holds the two files, whether comparable (``differences``: the settings
    that differ; otherwise a warning that the ``what`` results are not comparable and no
    ``not_shown`` difference is shown), the flag ``coverage`` (``same_recordings``) and the
    ``rows``. ``compare_pair(entry, mine, theirs, run_path, baseline_path, score_tolerance,
    error_tolerance_m)`` fills a comparable entry's ``rows`` (each with its ``change``),
    ``only_in_run``, ``only_in_baseline`` and ``coverage`` and returns its warnings.
    """
    pairs: list[dict[str, Any]] = []
    regressions: list[dict[str, Any]] = []
    warnings: list[str] = []
    for rel, b_rel in pair_files(run, baseline):
        mine, theirs = run[rel], baseline[b_rel]
        run_path, baseline_path = run_root / rel, baseline_root / b_rel
        differ = differences(mine, theirs)
        entry: dict[str, Any] = {
            "file": rel,
            "baseline_file": b_rel,
            "comparable": not differ,
            "not_comparable": "; ".join(differ),
            coverage: True,
            "rows": [],
            "only_in_run": [],
            "only_in_baseline": [],
        }
        pairs.append(entry)
        if differ:
            warnings.append(
                f"the {what} results of the run ({run_path}) and of the baseline "
                f"({baseline_path}) are not comparable: their settings differ "
                f"({'; '.join(differ)}); no {not_shown} difference is shown"
            )
            continue
        warnings.extend(
            compare_pair(
                entry, mine, theirs, run_path, baseline_path, score_tolerance, error_tolerance_m
            )
        )
        regressions.extend(
            {"file": rel, "baseline_file": b_rel, **item}
            for item in entry["rows"]
            if item["change"] == "regression"
        )
    return pairs, regressions, warnings


def _compare_pair(
    entry: dict[str, Any],
    mine: dict[str, Any],
    theirs: dict[str, Any],
    run_path: Path,
    baseline_path: Path,
    score_tolerance: float,
    error_tolerance_m: float,
) -> list[str]:
    """:func:`compare_pairs`'s ``compare_pair`` of two prediction results."""
    warnings = []
    names = {r["name"] for r in mine["recordings"]}
    b_names = {r["name"] for r in theirs["recordings"]}
    if names != b_names:
        entry["same_recordings"] = False
        warnings.append(
            f"the prediction results of the run ({run_path}) and of the baseline "
            f"({baseline_path}) were not scored on the same recordings "
            f"({len(names)} against {len(b_names)}, {len(names & b_names)} in common): "
            "their differences are not the models' alone"
        )
    cells, b_cells = _cells(mine), _cells(theirs)
    entry["only_in_run"] = ["/".join(k) for k in cells if k not in b_cells]
    entry["only_in_baseline"] = ["/".join(k) for k in b_cells if k not in cells]
    fde = fde_key(mine)
    for key, row in cells.items():
        if key not in b_cells:
            continue
        for metric, scale, unit, tol in (
            (fde, 1.0, "m", error_tolerance_m),
            ("miss_rate", 100.0, "points", score_tolerance),
            # a model of K modes (cells without them give None: skipped)
            ("minFDE", 1.0, "m", error_tolerance_m),
            ("brier_minFDE", 1.0, "m", error_tolerance_m),
            ("miss_rate_K", 100.0, "points", score_tolerance),
        ):
            value, before = row.get(metric), b_cells[key].get(metric)
            if value is None or before is None:
                continue
            delta = value - before
            entry["rows"].append(
                {
                    "traffic": key[0],
                    "model": key[1],
                    "group": key[2],
                    "motion": key[3],
                    "metric": metric,
                    "unit": unit,
                    "value": value,
                    "baseline": before,
                    "delta": delta,
                    "change": change(delta * scale, tol),
                }
            )
    return warnings


def compare_prediction(
    run: dict[str, dict[str, Any]],
    baseline: dict[str, dict[str, Any]],
    run_root: Path,
    baseline_root: Path,
    score_tolerance: float,
    error_tolerance_m: float,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The comparisons of the paired results (``rows`` per cell and figure with ``change``;
    empty when not comparable), the regressions (largest first) and the warnings.

    ``run`` / ``baseline``: file -> :func:`read_prediction`'s result. FDE at the horizon,
    and a multi-modal model's minFDE and brier-minFDE, are compared in metres against
    ``error_tolerance_m``; the miss rate and miss_rate_K in percentage points against
    ``score_tolerance``.
    """
    pairs, regressions, warnings = compare_pairs(
        run,
        baseline,
        run_root,
        baseline_root,
        "prediction",
        "FDE or miss-rate",
        "same_recordings",
        settings_differences,
        _compare_pair,
        score_tolerance,
        error_tolerance_m,
    )
    regressions.sort(key=lambda r: -r["delta"] * (100.0 if r["unit"] == "points" else 1.0))
    return pairs, regressions, warnings


def headline(
    run: dict[str, dict[str, Any]], comparisons: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per result and model: FDE at the horizon of the moving vehicles (recorded traffic when
    there is, else the first kind), with the baseline's where compared (lower is better)."""
    lines = []
    for rel, result in run.items():
        fde = fde_key(result)
        traffic = (
            "recorded" if "recorded" in result["metrics"] else next(iter(result["metrics"]), "")
        )
        before = {
            r["model"]: r["baseline"]
            for c in comparisons
            if c["file"] == rel
            for r in c["rows"]
            if (r["traffic"], r["group"], r["motion"], r["metric"])
            == (traffic, "vehicle", "moving", fde)
        }
        where = f", {rel}" if len(run) > 1 else ""
        for model, groups in result["metrics"].get(traffic, {}).items():
            row = groups.get("vehicle", {}).get("moving")
            if not row or not row["cases"]:
                continue
            lines.append(
                {
                    "name": f"prediction {model}: {fde} m, moving vehicles ({traffic}{where})",
                    "value": row.get(fde),
                    "baseline": before.get(model),
                    "anchor": None,
                    "lower_is_better": True,
                }
            )
    return lines
