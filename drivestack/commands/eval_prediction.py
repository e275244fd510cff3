r"""Forecast real agents' futures from their observed past and score the forecasts.

Every labelled agent (vehicle, pedestrian, cyclist) of the recordings gives a case at each
anchor time (every --stride-s) with --history-s of contiguous past and ground truth for the
whole --horizon-s. Each model forecasts from the state estimated from the past only (last
centre, least-squares velocity and yaw rate over the last --fit-window-s, size, class) and is
scored as Argoverse 2's motion-forecasting evaluator does, on centre xy in metres: ADE and
FDE at every whole second of the horizon (1, 2 and 3 s by default), miss rate (FDE > 2 m),
and for the multi-modal models (lane_branches, learned) minADE_K, minFDE_K, brier-minFDE_K
and their miss rate. Means by class group and by moving
(true displacement over the horizon >= 1 m) vs stationary, separately for recorded and
simulated traffic (CommonRoad's SUMO scenarios). The pasts are ground-truth boxes (--pasts
labels, the default).

--pasts tracks (kitti-tracking only): the pasts are drivestack's own tracks instead. The
tracker (--tracker-config, default configs/tracking/kitti_pointrcnn.yaml) runs ONLINE, frame
by frame, on the AB3DMOT PointRCNN detections (Car, Pedestrian, Cyclist) in the ORB-SLAM3
world frame, without eval tracking's offline whole-track rules (they read the future). At
each anchor every track it outputs then is matched to a labelled object (centre within 2 m,
same class group, Hungarian: the replay's rule); a track output for the whole --history-s
whose object is labelled for the whole --horizon-s is a case (past: the track's boxes; truth:
the object's labelled future). Also the model tracker_velocity (constant velocity from the
tracker's Kalman velocity). Counted beside the table: unmatched tracks (false positives),
objects with a labelled future no track matched (missed), matched tracks younger than the
history. A second pair of tables scores tracker and label pasts on the cases both have.

Datasets (--root defaults to the dataset's folder under ../shared/data):
  av2             Argoverse 2 sensor logs (<root>/<log_id>/annotations.feather + poses, or
                  --root one log folder), city frame, lanes from each log's map/ folder
  commonroad      CommonRoad XML files under --root (or one file), with their maps
  kitti-tracking  KITTI tracking label_02 of --split (val, train or training), world frame
                  from the ORB-SLAM3 ego poses; no map

Models: stationary, constant_velocity, ctrv, ctrv_shrunk (CTRV with the turn rate fitted over
1 s and shrunk by 2 standard errors: holds on tracked pasts), lane_following (map),
lane_branches (map, K<=6) and learned (a forecaster checkpoint given by --forecaster, written
by tools/train_forecaster.py; it reads the observed past itself; K modes). Without --models,
all but learned run, and learned too when --forecaster is given.

Examples:
  drivestack eval prediction --dataset kitti-tracking --split val --out runs/pred_kitti
  drivestack eval prediction --dataset kitti-tracking --split val --pasts tracks \
      --out runs/pred_kitti_tracks
  drivestack eval prediction --dataset commonroad --out runs/pred_cr
  drivestack eval prediction --dataset av2 --models constant_velocity,ctrv --out runs/pred_av2
  drivestack eval prediction --dataset av2 --models constant_velocity,ctrv,learned \
      --forecaster runs/forecaster.pt --out runs/pred_av2_learned

Prints the table (model x class x motion: cases, ADE@1/2/3 s, FDE@3 s, miss rate) and
writes OUT/metrics.json (settings, per-recording case counts, metrics, git commit).
--history-s, --horizon-s and a given --fit-window-s must be whole numbers of each recording's
samples (the first two label the scores, the window picks the samples fitted: exactly on KITTI's
and CommonRoad's grids, within 5% of a sample plus 0.5% of the duration on AV2's jittered
sweeps); --stride-s is rounded to whole samples (noted when it is
not whole); --fit-window-s may not exceed --history-s (its default is cut to a shorter
history, and noted). learned does not read --fit-window-s (it fits the window its checkpoint
was trained with) and ctrv_shrunk fits its yaw rate over its own 1 s: a note says so when
--fit-window-s is given. Scoring learned on recordings its checkpoint was trained or
validated on (its provenance's training_sequences and holdout_sequences, e.g. --split train
or training) warns on stderr and notes how many recordings and cases that is.
Exit status: 0; 1 when no case was scored (one line says why; metrics.json is still written,
with each recording's case count); 2 for bad input (one line naming the option or file).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from drivestack.commands._paths import (
    add_out_options,
    av2_log_dirs,
    check_eval_out,
    check_out_dir,
    dataset_root,
    default_shared_data,
    duration_s,
    reader_errors_as_data_errors,
    resolved,
    write_eval_metrics,
)
from drivestack.core.errors import DataError
from drivestack.core.provenance import run_provenance

DATASETS = ("av2", "commonroad", "kitti-tracking")
#: Where the pasts come from: labelled boxes, or the tracker's online output.
PASTS = ("labels", "tracks")
#: The tracker of --pasts tracks (the one ``drivestack eval tracking`` runs).
DEFAULT_TRACKER_CONFIG = (
    Path(__file__).resolve().parents[2] / "configs" / "tracking" / "kitti_pointrcnn.yaml"
)
#: The CommonRoad folder under the shared data.
COMMONROAD_FOLDER = "commonroad"


#: The ``--*-s`` windows: positive, at most an hour (longer than any recording read here).
WINDOW_S = duration_s(3600.0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from drivestack.eval.prediction.models import MODELS
    from drivestack.prediction.state import FIT_WINDOW_S

    parser.add_argument("--dataset", required=True, choices=DATASETS, help="which recordings")
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="dataset folder (default: its folder under ../shared/data: argoverse2/sensor/val, "
        "commonroad, kitti_tracking); av2 also takes one log folder, commonroad one .xml file",
    )
    parser.add_argument(
        "--split",
        default=None,
        choices=["val", "train", "training"],
        help="KITTI tracking sequences (default val; train: the 10 the parameters were chosen "
        "on); only with --dataset kitti-tracking",
    )
    parser.add_argument(
        "--pasts",
        default="labels",
        choices=PASTS,
        help="labels: ground-truth pasts (default); tracks: the tracker's online output on "
        "the PointRCNN detections (--dataset kitti-tracking only)",
    )
    parser.add_argument(
        "--tracker-config",
        type=Path,
        default=None,
        help=f"tracker YAML of --pasts tracks (default configs/tracking/"
        f"{DEFAULT_TRACKER_CONFIG.name}); only with --pasts tracks",
    )
    parser.add_argument(
        "--models",
        default=None,
        help=f"comma-separated models (default all: {','.join(MODELS)}, and tracker_velocity "
        "with --pasts tracks; with --forecaster also learned); map models are skipped on "
        "recordings without a map",
    )
    parser.add_argument(
        "--history-s", type=WINDOW_S, default=1.0, help="observed past (default 1.0)"
    )
    parser.add_argument(
        "--horizon-s", type=WINDOW_S, default=3.0, help="forecast horizon (default 3.0)"
    )
    parser.add_argument(
        "--stride-s", type=WINDOW_S, default=0.5, help="anchor spacing (default 0.5)"
    )
    parser.add_argument(
        "--fit-window-s",
        type=WINDOW_S,
        default=None,
        help=f"past fitted for velocity and yaw rate, at most --history-s (default "
        f"{FIT_WINDOW_S}, chosen on KITTI train, or the whole history when that is shorter); "
        "learned fits its checkpoint's window instead and ctrv_shrunk its yaw rate over 1 s "
        "(noted)",
    )
    parser.add_argument(
        "--forecaster",
        type=Path,
        default=None,
        help="checkpoint of the learned forecaster (tools/train_forecaster.py): adds model "
        "learned to the default models; with --models, that list must name learned",
    )
    add_out_options(parser)


def _models(
    text: str | None, forecaster: Path | None, tracks: bool = False
) -> tuple[list[str], dict[str, Any]]:
    """The model names and the catalog to run them from (:data:`MODELS`, with ``tracks`` also
    :data:`TRACKER_MODELS`, plus the learned forecaster when ``learned`` is asked for);
    ``text`` None: all but learned, and learned too when ``forecaster`` is given."""
    from drivestack.eval.prediction.models import LEARNED, MODELS, TRACKER_MODELS, learned_model

    base: dict[str, Any] = {**MODELS, **(TRACKER_MODELS if tracks else {})}
    if text is None:
        text = ",".join([*base, LEARNED] if forecaster is not None else base)
    names = list(dict.fromkeys(m.strip() for m in text.split(",") if m.strip()))
    if not tracks and any(m in TRACKER_MODELS for m in names):
        raise DataError(
            f"model(s) {[m for m in names if m in TRACKER_MODELS]} need tracker pasts: add "
            "--pasts tracks",
            field="--models",
        )
    known = [*base, LEARNED]
    unknown = [m for m in names if m not in known]
    if unknown or not names:
        raise DataError(
            f"unknown model(s) {unknown or text!r}; known: {', '.join(known)}", field="--models"
        )
    catalog: dict[str, Any] = dict(base)
    if LEARNED in names:
        if forecaster is None:
            raise DataError(
                "model learned needs its checkpoint: give --forecaster PATH (written by "
                "tools/train_forecaster.py)",
                field="--forecaster",
            )
        catalog[LEARNED] = learned_model(forecaster)
    elif forecaster is not None:
        raise DataError(
            "--forecaster is only for model learned: add it to --models", field="--forecaster"
        )
    return names, catalog


def _root(args: argparse.Namespace) -> Path:
    if args.dataset != "commonroad":
        return dataset_root(args.dataset, args.root)
    root = args.root
    if root is None:
        shared = default_shared_data()
        if shared is None:
            raise DataError(
                "no --root given and ../shared/data not found (set DRIVESTACK_SHARED_DATA)"
            )
        root = shared / COMMONROAD_FOLDER
    if not (root.is_dir() or (root.is_file() and root.suffix == ".xml")):
        raise DataError("no such CommonRoad folder or .xml file", path=str(root), field="--root")
    return root


def _recording_paths(args: argparse.Namespace, root: Path) -> list[str]:
    """The recordings to read, before reading any: AV2 log folders, CommonRoad files or
    KITTI sequence names."""
    if args.dataset == "av2":
        return [str(p) for p in av2_log_dirs(root)]
    if args.dataset == "commonroad":
        found = [str(root)] if root.is_file() else sorted(str(p) for p in root.rglob("*.xml"))
        what = "no .xml file"
    else:
        from drivestack.ingest.kitti_tracking import read_split_seqmap

        found = [e.name for e in read_split_seqmap(root, args.split)]
        what = f"no sequence in the {args.split} split"
    if not found:
        raise DataError(what, path=str(root), field="--root")
    return found


def _read(dataset: str, root: Path, item: str) -> Any:
    from drivestack.eval.prediction import sources

    if dataset == "av2":
        return sources.read_av2_trajectories(item)
    if dataset == "commonroad":
        return sources.read_commonroad_trajectories(item)
    return sources.read_kitti_trajectories(root, item)


@reader_errors_as_data_errors()
def run(args: argparse.Namespace) -> int:
    """Bad input is one line naming the file and field, exit status 2 (a ValueError or
    OSError of the readers as a DataError)."""
    from drivestack.core.progress import progress as progress_bar
    from drivestack.eval.prediction.cases import (
        MOVING_DISPLACEMENT_M,
        CaseSettingError,
        CaseSettings,
        whole_samples,
    )
    from drivestack.eval.prediction.metrics import MISS_THRESHOLD_M
    from drivestack.eval.prediction.models import CTRV_YAW_RATE_DECAY_S, LEARNED
    from drivestack.eval.prediction.run import evaluate, format_tables
    from drivestack.eval.prediction.sources import av2_road_map_available
    from drivestack.prediction.multimodal import MAX_MODES
    from drivestack.prediction.state import FIT_WINDOW_S
    from drivestack.replay.forecast_score import MATCH_DISTANCE_M

    check_out_dir(args.out)
    if args.split is not None and args.dataset != "kitti-tracking":
        raise DataError("--split is for --dataset kitti-tracking only", field="--split")
    tracks = args.pasts == "tracks"
    if tracks and args.dataset != "kitti-tracking":
        raise DataError(
            f"--pasts tracks runs the tracker on the AB3DMOT PointRCNN detections, which only "
            f"--dataset kitti-tracking has ({args.dataset} has no detections here): use "
            "--pasts labels",
            field="--pasts",
        )
    if args.tracker_config is not None and not tracks:
        raise DataError("--tracker-config is for --pasts tracks only", field="--tracker-config")
    args.split = args.split or "val"
    fit_note = None
    fit_given = args.fit_window_s  # checked on each recording's grid, like --history-s
    if args.fit_window_s is None:
        args.fit_window_s = min(FIT_WINDOW_S, args.history_s)
        if args.fit_window_s < FIT_WINDOW_S:
            fit_note = (
                f"fit window {args.fit_window_s:g} s: the whole --history-s (the default "
                f"--fit-window-s {FIT_WINDOW_S:g} s is longer)"
            )
    elif args.fit_window_s > args.history_s:
        raise DataError(
            f"{args.fit_window_s:g} s is longer than --history-s {args.history_s:g} s: the "
            "fit reads only the observed past (give at most the history)",
            field="--fit-window-s",
        )
    models, catalog = _models(args.models, args.forecaster, tracks)
    if LEARNED in models:
        _check_learned_window(args, catalog[LEARNED].record["config"])
    root = _root(args)
    if tracks:
        args.tracker_config = args.tracker_config or DEFAULT_TRACKER_CONFIG
    settings_json = {
        "models": {m: catalog[m].description for m in models},
        "history_s": args.history_s,
        "horizon_s": args.horizon_s,
        "stride_s": args.stride_s,
        "fit_window_s": args.fit_window_s,
        "ctrv_yaw_rate_decay_s": CTRV_YAW_RATE_DECAY_S,
        "max_modes": MAX_MODES,
        "miss_threshold_m": MISS_THRESHOLD_M,
        "moving_displacement_m": MOVING_DISPLACEMENT_M,
        **(
            {
                "tracker_config_file": resolved(args.tracker_config),
                "match_distance_m": MATCH_DISTANCE_M,
            }
            if tracks
            else {}
        ),
        # the learned model's file and bytes: another checkpoint is another run
        **(
            _forecaster_identity(catalog[LEARNED].record["checkpoint"]) if LEARNED in models else {}
        ),
    }
    identity = {
        "dataset": args.dataset,
        "root": Path(root),
        "pasts": args.pasts,
        "split": args.split if args.dataset == "kitti-tracking" else None,
        "settings": settings_json,  # what changes the figures
    }
    # before any work; writes only metrics.json (the old run's listed folders removed at the
    # end: no folder of a replaced run is left without its metrics.json)
    clear = check_eval_out(args.out, "prediction", identity, args.overwrite)
    items = _recording_paths(args, root)
    settings = CaseSettings(args.history_s, args.horizon_s, args.stride_s, fit_given)
    tracker = _tracker_of(args) if tracks else None  # a bad --tracker-config: before the bar
    bar = progress_bar(
        total=len(items), desc=f"eval prediction {args.dataset}", unit="rec", disable=args.quiet
    )
    same: dict[str, Any] = {}
    with bar:
        try:
            if tracks:
                report, same = _evaluate_tracks(args, root, settings, models, catalog, bar, tracker)
            else:
                report = evaluate(
                    (_read(args.dataset, root, item) for item in items),  # read one at a time
                    models,
                    settings,
                    args.fit_window_s,
                    progress=lambda _n: bar.update(),
                    catalog=catalog,
                )
        except CaseSettingError as exc:
            option = "--" + exc.name.replace("_", "-")
            raise DataError(exc.reason, path=exc.path, field=option) from None
    notes = [
        "pasts are the tracker's online output (no offline whole-track rules), matched to "
        "labelled objects at the anchor (<= 2 m, same class group, Hungarian)"
        if tracks
        else "pasts are ground-truth boxes (labels), not tracker output",
        "cases of one agent overlap in time (anchors every stride): they are not independent",
    ]
    if fit_note is not None:
        notes.append(fit_note)
    periods = sorted({round(float(r["dt_s"]), 3) for r in report["recordings"] if r["cases"]})
    if len(periods) > 1:  # ADE averages each recording's own samples
        notes.append(
            f"recordings sampled every {' and '.join(f'{p:g}' for p in periods)} s are pooled: "
            "ADE averages each one's own samples, so the same forecasts read higher on a "
            "coarser grid (it leaves out the early, small errors between its samples); compare "
            "ADE within one sample period (FDE and miss rate do not depend on it)"
        )
    skipped = sorted({m for r in report["recordings"] for m in r["models_not_run"]})
    if skipped:
        notes.append(f"not run on recordings without a map: {', '.join(skipped)}")
    off = {
        (f"{r['dt_s']:.4g}", f"{r['stride_s']:.4g}")
        for r in report["recordings"]
        if not whole_samples(args.stride_s, r["dt_s"], r["dt_jittered"])[1]
    }
    for dt, used in sorted(off):
        notes.append(
            f"--stride-s {args.stride_s:g} is not a whole number of {dt} s samples: anchors "
            f"every {used} s on those recordings (stride_s of each in metrics.json)"
        )
    if args.dataset == "av2" and not av2_road_map_available():
        notes.append("no AV2 map reader (drivestack.ingest.maps.av2_road_map): map models skipped")
    notes += _fit_window_notes(models, catalog, args.fit_window_s, fit_given, args.history_s)
    trained_on = (
        _trained_on_note(args.dataset, catalog[LEARNED].record, report["recordings"])
        if LEARNED in models
        else None
    )
    if trained_on is not None:
        notes.append(trained_on)
        print(f"warning: {trained_on}", file=sys.stderr)
    result = {
        "dataset": args.dataset,
        "pasts": args.pasts,
        "root": resolved(root),
        **({"split": args.split} if args.dataset == "kitti-tracking" else {}),
        "settings": settings_json,
        "model_records": {m: catalog[m].record for m in models if catalog[m].record},
        **run_provenance(),
        **report,
        **({"same_cases": same} if tracks else {}),
        "notes": notes,
    }
    print(format_tables(report))
    for r in report["recordings"]:
        print(f"  {r['name']}: {r['traffic']}, {r['cases']} cases")
    if tracks:
        print(_tracking_line(report["tracking_counts"]))
        for pasts in ("tracks", "labels"):
            print(f"\nthe cases both pasts give, {pasts} pasts:")
            print(format_tables(same[pasts]))
    for note in notes:
        print(f"note: {note}")
    write_eval_metrics(args.out, "prediction", result, clear)
    print(f"wrote {args.out / 'metrics.json'}")
    if not report["metrics"]:
        print(f"no case was scored: {_why_nothing_scored(args, report)}", file=sys.stderr)
        return 1
    return 0


def _why_nothing_scored(args: argparse.Namespace, report: dict[str, Any]) -> str:
    """Why a run scored no case: no recording gave one, or every model asked for needs a
    map that no recording has."""
    if not any(r["cases"] for r in report["recordings"]):
        need = args.history_s + args.horizon_s
        return (
            f"no agent is observed without a gap for --history-s + --horizon-s = {need:g} s "
            f"at an anchor (anchors every --stride-s {args.stride_s:g} s), or none is a "
            "vehicle, pedestrian or cyclist"
        )
    return "the models asked for (--models) need a map and no recording with cases has one"


def _fit_window_notes(
    models: list[str],
    catalog: dict[str, Any],
    fit_window_s: float,
    given: float | None,
    history_s: float,
) -> list[str]:
    """Which past the models that do not fit over ``fit_window_s`` (the window metrics.json
    records; ``given``: --fit-window-s, None when not given) read instead: learned its
    checkpoint's window (noted when --fit-window-s is given or differs from it), a model with
    its own yaw-rate window (ctrv_shrunk) that one for its yaw rate, cut to the
    ``history_s`` of past the cases hold (noted when --fit-window-s is given or the history is
    shorter than that window)."""
    from drivestack.eval.prediction.models import LEARNED

    notes = []
    for name in models:
        model = catalog[name]
        if name == LEARNED:
            own = float(model.record["config"]["fit_window_s"])
            if given is not None or own != fit_window_s:
                notes.append(
                    f"learned fits its constant-velocity base over its checkpoint's {own:g} s "
                    f"of past, not the {fit_window_s:g} s fit window of the other models"
                )
        elif model.yaw_rate is not None and model.yaw_rate.window_s:
            window = model.yaw_rate.window_s
            cut = history_s < window
            over = (
                f"the {history_s:g} s of --history-s (its own {window:g} s window, cut)"
                if cut
                else f"its own {window:g} s"
            )
            if given is not None:
                notes.append(
                    f"{name} fits its velocity over --fit-window-s {given:g} s but its yaw "
                    f"rate over {over}"
                )
            elif cut:
                notes.append(f"{name} fits its yaw rate over {over}")
    return notes


def _trained_on_note(
    dataset: str, record: dict[str, Any], recordings: list[dict[str, Any]]
) -> str | None:
    """A line when recordings with cases are among those the learned forecaster's checkpoint
    was trained on or chose its epoch on (its provenance's ``training_sequences`` and
    ``holdout_sequences`` of a dataset of ``datasets``): its scores there are not
    out-of-sample. None when none is."""
    provenance = record.get("provenance") or {}
    datasets = provenance.get("datasets")
    if not isinstance(datasets, list) or dataset.replace("-", "_") not in {
        str(d).replace("-", "_") for d in datasets
    }:
        return None
    scored = [r for r in recordings if r["cases"]]
    parts = []
    for key, what in (
        ("training_sequences", "was trained on"),
        ("holdout_sequences", "chose its epoch on the held-out"),
    ):
        names = provenance.get(key)
        seen = {str(n) for n in names} if isinstance(names, list) else set()
        hit = [r for r in scored if r["name"] in seen]
        if hit:
            parts.append(
                f"{what} {len(hit)} ({', '.join(r['name'] for r in hit)}: "
                f"{sum(r['cases'] for r in hit)} cases)"
            )
    if not parts:
        return None
    total = sum(r["cases"] for r in scored)
    return (
        f"of the {len(scored)} recordings with cases ({total} cases), the learned "
        f"forecaster's checkpoint {' and '.join(parts)}: its scores there are not "
        "out-of-sample (score it on recordings it never saw, e.g. --split val)"
    )


def _forecaster_identity(checkpoint: str) -> dict[str, Any]:
    """``{"forecaster_file": its resolved path, "forecaster_sha256": its bytes' digest}``."""
    import hashlib

    digest = hashlib.sha256(Path(checkpoint).read_bytes()).hexdigest()
    return {"forecaster_file": resolved(checkpoint), "forecaster_sha256": digest}


def _check_learned_window(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """``DataError`` naming the option when --history-s is shorter, or --horizon-s longer,
    than the learned forecaster's checkpoint reads or forecasts (to half its grid step, as
    the forecaster allows)."""
    step = float(config["step_s"])
    history = config["history_steps"] * step
    horizon = config["horizon_steps"] * step
    if args.history_s < history - 0.5 * step - 1e-9:
        raise DataError(
            f"{args.history_s:g} s is shorter than the {history:g} s of past the learned "
            f"forecaster reads ({args.forecaster}): give --history-s {history:g} or more",
            field="--history-s",
        )
    if args.horizon_s > horizon + 0.5 * step + 1e-9:
        raise DataError(
            f"{args.horizon_s:g} s is beyond the learned forecaster's {horizon:g} s horizon "
            f"({args.forecaster}): give --horizon-s {horizon:g} or less",
            field="--horizon-s",
        )


def _evaluate_tracks(
    args: argparse.Namespace,
    root: Path,
    settings: Any,
    models: list[str],
    catalog: dict[str, Any],
    bar: Any,
    tracker: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``--pasts tracks``: the report of the tracker-past cases of every sequence of the
    split, and ``{"tracks": ..., "labels": ...}``, the reports of tracker and label pasts on
    the cases both give (same labelled object, same anchor)."""
    from drivestack.eval.prediction.cases import build_cases
    from drivestack.eval.prediction.run import evaluate
    from drivestack.eval.prediction.sources import read_kitti_trajectories
    from drivestack.eval.prediction.tracked import (
        kitti_online_tracks,
        same_cases,
        track_cases,
    )
    from drivestack.ingest.kitti_tracking import read_split_seqmap

    tracked, same_t, same_l = [], [], []
    for entry in read_split_seqmap(root, args.split):
        rec = read_kitti_trajectories(root, entry.name)
        online = kitti_online_tracks(root, entry.name, entry.n_frames, tracker, rec.frame)
        cases = track_cases(rec, online, settings)
        t_same, l_same = same_cases(cases, build_cases(rec, settings))
        tracked.append(cases)
        same_t.append(t_same)
        same_l.append(l_same)
        bar.update()
    report = evaluate(tracked, models, settings, args.fit_window_s, catalog=catalog)
    label_models = [m for m in models if not catalog[m].tracker_velocity]
    same = {
        "tracks": evaluate(same_t, models, settings, args.fit_window_s, catalog=catalog),
        "labels": evaluate(same_l, label_models, settings, args.fit_window_s, catalog=catalog),
    }
    return report, same


def _tracker_of(args: argparse.Namespace) -> Any:
    """The tracker of ``--tracker-config`` (default :data:`DEFAULT_TRACKER_CONFIG`) for
    ``--pasts tracks``; ``DataError`` naming the file and key when it cannot give the pasts."""
    from drivestack.eval.prediction.tracked import KITTI_DETECTION_CLASSES
    from drivestack.tracking.config import load_tracker_config
    from drivestack.tracking.tracker import Tracker

    cfg = load_tracker_config(args.tracker_config)  # (set to the default in run())
    for cls in KITTI_DETECTION_CLASSES:
        if cls.lower() not in {c.lower() for c in cfg.classes}:
            raise DataError(
                f"no tracker parameters for class {cls} (its detections are tracked)",
                path=str(args.tracker_config),
                field=f"classes.{cls.lower()}",
            )
    if not cfg.ego_motion_compensation:
        raise DataError(
            "tracker pasts need velocities over ground: set it true",
            path=str(args.tracker_config),
            field="ego_motion_compensation",
        )
    return Tracker(cfg)


def _tracking_line(counts: dict[str, int]) -> str:
    """One line of what tracking cost beyond accuracy (:mod:`drivestack.eval.prediction.tracked`)."""
    return (
        f"tracking, summed over {counts['anchors']} anchor frames: {counts['labels_with_future']}"
        f" labelled objects with the whole horizon of truth: {counts['scored']} scored, "
        f"{counts['missed']} missed (no track within 2 m), {counts['matched_short_history']} "
        f"matched by a track younger than the history; {counts['output_tracks']} output "
        f"tracks: {counts['unmatched_tracks']} matched no label (false positives; "
        f"{counts['unmatched_with_history']} of them output for the whole history), "
        f"{counts['matched_no_label_future']} matched an object not labelled for the whole "
        "horizon"
    )
