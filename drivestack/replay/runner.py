"""Log replay: run the stack over every frame of a recorded drive and write what it did.

Input: a drivestack log (MCAP with Foxglove schemas) or a ROS bag (ROS 1 ``.bag``, rosbag2
directory, or a bare rosbag2 ``.db3`` / ``.mcap`` file). A drivestack log, ROS 1 ``.bag`` or
``.mcap`` cut short replays up to the cut and says so; a rosbag2 ``.db3`` cut short is refused
(sqlite cannot read it). Output: a drivestack log with the input clouds, labels and poses plus the
stack's detections (``/perception/detections``), tracks (``/tracking/tracks``), the tracks'
forecasts when the stack predicts (``/prediction/forecasts``) and per-frame stage timings
(``/drivestack/timing``), and a JSON summary: frames processed and skipped (each skipped frame
named with its reason), ingest problems, per-stage timing percentiles, real-time factor, quick
label-based detection metrics when the log has labels, and, when the stack predicts and the
labels carry ids, the end-to-end forecast metric (summary key ``forecast_vs_labels``,
:mod:`drivestack.replay.forecast_score`; a KITTI log's ids come from its label rows) and, when
the stack tracks, CLEAR-MOT and HOTA of its tracks per class (summary key
``tracking_vs_labels``, None when no frame has labels with ids;
:mod:`drivestack.replay.track_score`). A log
with KITTI label rows (``/labels/kitti``, written by :mod:`drivestack.replay.kitti_log`) is
also scored with the KITTI 3D object and 3D-MOT protocols, as ``drivestack eval`` scores
(summary key ``kitti``; see :mod:`drivestack.replay.kitti_score`).
A bad frame is skipped, recorded and reported; the run goes on: one the stack refuses (a
``DataError``, or a ``ValueError`` about the frame, such as a time not after the last), and
one a drivestack log cannot give whole (a message that does not decode, a header stamp far
from its log time, a LiDAR scan lost with a corrupt chunk: an
:class:`~drivestack.replay.log_reader.InputProblem` in the frame stream, counted in
``frames_skipped`` and ``frames_skipped_bad_input``); a frame replayed without messages lost
with a corrupt chunk or a cut gets a ``frame_notes`` entry, and a camera without calibration a
whole-input note. A stage that breaks its interface makes no bad frame but is a programming
error, which would recur on every frame: a :class:`~drivestack.pipeline.StageOutputError` (a
plug-in detector's boxes in the LiDAR frame where the stack needs them in the ego frame, a
tracker's tracks in another frame, a forecast that does not start at its tracks) or a
``TypeError`` (a stage returning the wrong type) stops the run where it happens, naming the
stage's class, as a crash does (the frames before it kept as ``RUN.crashed.mcap``). The label
metrics count, on a KITTI log, only detections inside the camera view its labels cover, and
no Car detection on a Van label (:class:`DetectionTally`).
Settings that do not fit the input (a ``ConfigError``, such as a Velodyne calibration table
for another model, found when the input is opened or at its first scan) stop the run: nothing
is written, an older output stays as it was. A replay that replays no
frame at all (an empty log, or a bag none of whose messages make a frame) is not clean either:
a run that checked nothing must not pass.

The output is written under a temporary name beside it (``RUN.mcap.partial``) and renamed
when the replay ends; the summary JSON is written the same way. A replay stopped by Ctrl-C
leaves no new output; one that crashes leaves the valid log of the frames before the crash
as ``RUN.crashed.mcap`` (an older finished ``RUN.mcap`` and its summary stay as they were).
The output may not be
an existing directory, the input itself, nor lie inside a rosbag2 input folder; missing
parent folders of the output are created.
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from drivestack.core.atomic import partial_path, write_text_atomic
from drivestack.core.errors import ConfigError, DataError, is_interrupt
from drivestack.core.frames import EGO
from drivestack.core.json_values import strict_dumps
from drivestack.kernels._common import prepare_compiled_cpu_route
from drivestack.pipeline import Stack, StackOutput, StageOutputError
from drivestack.replay.forecast_score import NO_LABELS, ForecastScorer, forecast_lines
from drivestack.replay.log_format import RUN_TOPIC, TrackForecasts
from drivestack.replay.log_reader import InputProblem
from drivestack.replay.track_score import (
    IGNORED_LABELS,
    TrackScorer,
    count_text,
    not_counted,
    tracking_lines,
)
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.sensor_frame import SensorFrame

if TYPE_CHECKING:
    from drivestack.replay.kitti_score import KittiReplayScorer, KittiResultsFolder
    from drivestack.replay.log_format import LogWriter
    from drivestack.structures.tracks import Tracks

DETECTIONS_TOPIC = "/perception/detections"
TRACKS_TOPIC = "/tracking/tracks"
FORECASTS_TOPIC = "/prediction/forecasts"
TIMING_TOPIC = "/drivestack/timing"


@dataclass
class SkippedFrame:
    timestamp_ns: int
    source: str
    reason: str


@dataclass
class DetectionTally:
    """Greedy BEV-IoU matching of detections to labels, per class (a quick replay metric).

    A detection outside the labelled region (``region`` of :meth:`add`: KITTI labels only
    the camera's view) or on a label of a class in :data:`IGNORED_LABELS` is not counted
    (neither true nor false); the counts of such detections are kept apart."""

    iou_threshold: float = 0.5
    true_positives: dict[str, int] = field(default_factory=dict)
    false_positives: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    outside_region: dict[str, int] = field(default_factory=dict)
    on_ignored_labels: dict[str, int] = field(default_factory=dict)

    def add(self, detections: Boxes3D, labels: Boxes3D, region: np.ndarray | None = None) -> None:
        """``region``: which detections lie where the labels cover (bool per detection);
        None: the labels cover everything."""
        from drivestack.kernels import box_iou_bev

        if labels.frame != detections.frame:
            raise DataError(
                f"labels in frame {labels.frame!r} but detections in {detections.frame!r}"
            )
        if region is not None:
            inside = np.asarray(region, dtype=bool)
            outside, counts = np.unique(detections.label[~inside], return_counts=True)
            for cls, n in zip(outside, counts, strict=True):
                name = ObjectClass(int(cls)).name.lower()
                self.outside_region[name] = self.outside_region.get(name, 0) + int(n)
            detections = detections.select(inside)
        for cls in np.union1d(np.unique(detections.label), np.unique(labels.label)):
            klass = ObjectClass(int(cls))
            name = klass.name.lower()
            det = detections.select(detections.label == cls)
            gt = labels.select(labels.label == cls)
            matched = np.zeros(len(gt), dtype=bool)
            unmatched = np.ones(len(det), dtype=bool)
            if len(det) and len(gt):
                iou = box_iou_bev(det.to_array7(), gt.to_array7())
                for i in np.argsort(-det.score, kind="stable"):
                    candidates = np.where(matched, -1.0, iou[i])
                    j = int(np.argmax(candidates))
                    if candidates[j] >= self.iou_threshold:
                        matched[j] = True
                        unmatched[i] = False
            tp = len(det) - int(unmatched.sum())
            ignored = 0
            if klass in IGNORED_LABELS and unmatched.any():
                others = labels.select(np.isin(labels.label, IGNORED_LABELS[klass]))
                if len(others):
                    rest = det.select(unmatched)
                    iou_other = box_iou_bev(rest.to_array7(), others.to_array7())
                    ignored = int((iou_other.max(axis=1) >= self.iou_threshold).sum())
                    self.on_ignored_labels[name] = self.on_ignored_labels.get(name, 0) + ignored
            self.true_positives[name] = self.true_positives.get(name, 0) + tp
            self.false_positives[name] = self.false_positives.get(name, 0) + len(det) - tp - ignored
            self.labels[name] = self.labels.get(name, 0) + len(gt)

    def as_dict(self) -> dict[str, dict[str, float]]:
        out = {}
        for name in sorted(self.labels):
            tp, fp, n = self.true_positives[name], self.false_positives[name], self.labels[name]
            out[name] = {
                "labels": n,
                "detections": tp + fp,
                "recall": tp / n if n else float("nan"),
                "precision": tp / (tp + fp) if tp + fp else float("nan"),
                # detections not counted: outside the labelled region, on an ignored class
                "outside_labelled_region": self.outside_region.get(name, 0),
                "on_ignored_labels": self.on_ignored_labels.get(name, 0),
            }
        return out


def open_frames(
    path: Path, rosbag_config: Any = None, announce: Callable[[str], None] | None = None
) -> tuple[Iterable[SensorFrame], Any]:
    """Frames of a drivestack log or a ROS bag, and the bag's ingest report: a
    :class:`~drivestack.ingest.rosbag.bag_io.IngestReport`, for a log converted from a bag
    its recorded one (:func:`~drivestack.replay.convert.recorded_ingest`, already a summary
    entry), else None.

    ``rosbag_config``: the :class:`~drivestack.ingest.rosbag.topic_map.RosbagConfig` a ROS bag
    is read with (None: the defaults, topics guessed); a drivestack log does not need one.
    ``announce``: where a guessed topic map is described (default: stderr).
    """
    if not path.exists():
        raise DataError("no such log file or bag folder", path=str(path))
    if path.is_file() and path.suffix == ".mcap":
        from drivestack.replay.convert import recorded_ingest
        from drivestack.replay.log_reader import ROS2_PROFILE, LogReader, cut_short, mcap_profile

        if mcap_profile(path) != ROS2_PROFILE:  # a drivestack log: its errors are its own
            reader = LogReader(path)
            # a log must declare its run channel; its message is not read here, so a replay of
            # a log whose first chunk (holding it) is corrupt replays the rest and reports it
            if RUN_TOPIC not in reader.topics():
                # a log cut inside its first records declares nothing: say it is cut, and where
                cut = cut_short(path)
                if cut is not None:
                    raise DataError(f"{cut}: no message of it can be read", path=str(path))
                raise DataError("log has no run metadata", path=str(path), record=RUN_TOPIC)
            # a log converted from a bag carries the conversion's ingest record (read back
            # into the summary: what the conversion dropped keeps the replay unclean)
            return reader.frames(problems=True), recorded_ingest(reader, str(path))
    from drivestack.ingest.rosbag.reader import RosbagLog

    bag = RosbagLog(path, rosbag_config, announce=announce)
    # no "no frames" announcement: the replay's summary says why, from the report
    return bag.frames(say_why=False), bag.report


def check_output_path(log_path: Path, out_path: Path) -> None:
    """Refuse an output that cannot be written or would destroy the input: an existing
    directory (or one where the replay writes its temporary or crashed log or its summary
    JSON), a folder that cannot be written (or a file on the way to it), the input file
    itself (or its summary JSON), or a file inside a rosbag2 input folder. Checked before
    anything is read; missing parent folders of the output are fine (the replay creates
    them).

    Raises:
        DataError: naming ``--out`` (normalised) and the input it would overwrite.
    """
    if out_path.is_dir():
        raise DataError(
            f"is a directory; give a file name such as {out_path / 'run.mcap'}",
            path=f"--out {out_path}",
        )
    summary_path = out_path.with_suffix(".summary.json")
    for beside in (
        partial_path(out_path),
        crashed_log_path(out_path),
        summary_path,
        partial_path(summary_path),
    ):
        if beside.is_dir():  # the replay writes (and on a crash renames) files of these names
            raise DataError(
                f"{beside} is a directory, and the replay writes a file of that name: move it "
                "or give another --out",
                path=f"--out {out_path}",
            )
    folder = out_path.absolute().parent
    while not folder.exists() and folder.parent != folder:  # the replay creates the rest
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        why = "is not a directory" if not folder.is_dir() else "cannot be written"
        raise DataError(
            f"{folder} {why}: the log and its summary JSON go there", path=f"--out {out_path}"
        )
    if not log_path.exists():  # a missing log is open_frames' error
        return
    log, out = log_path.resolve(), out_path.resolve()
    summary = out.with_suffix(".summary.json")
    if log in (out, summary, partial_path(out), crashed_log_path(out)):
        raise DataError(
            f"the output would overwrite the input log {log}: give another --out",
            path=f"--out {out}",
        )
    if log.is_dir() and out.is_relative_to(log):
        raise DataError(
            f"the output lies inside the input bag folder {log}: give an --out outside it",
            path=f"--out {out}",
        )


def check_replaced_output(log_path: Path, out_path: Path, overwrite: bool) -> None:
    """Refuse, unless ``overwrite``, an existing ``out_path`` that is not this log's replay: one
    whose summary JSON names another input (by its full path, ``input_resolved``; a summary
    written before it had only ``input`` as typed, taken from the current folder), or a file
    without a readable replay summary beside it (not a replay's output). A rerun of the same
    log replaces its own output, from whatever folder it is run.

    Raises:
        DataError: naming ``--out``, what it holds and ``--overwrite``.
    """
    if overwrite or not out_path.is_file():
        return
    summary_path = out_path.with_suffix(".summary.json")
    try:
        summary = json.loads(summary_path.read_text())
        earlier, resolved = summary.get("input"), summary.get("input_resolved")
    except (OSError, ValueError, AttributeError):
        earlier = resolved = None
    if earlier is None:
        held = f"a file without a readable replay summary ({summary_path.name})"
    elif Path(resolved or earlier).resolve() == log_path.resolve():
        # (a summary before input_resolved: its input as typed, taken from the current folder)
        return
    else:
        held = f"the replay of another log, {resolved or earlier}"
    raise DataError(
        f"{out_path} holds {held}: give another --out, or --overwrite to replace it",
        path=f"--out {out_path}",
    )


def log_frame_count(path: Path) -> int | None:
    """The number of frames of a drivestack log from its MCAP summary (the first LiDAR
    topic's message count), for the progress bar; None when unknown (a bag, a cut log)."""
    if not (path.is_file() and path.suffix == ".mcap"):
        return None
    from mcap.reader import make_reader

    from drivestack.replay.log_format import LIDAR_TOPIC_PREFIX

    try:
        with path.open("rb") as stream:
            summary = make_reader(stream).get_summary()
    except Exception:  # only a progress bar's total: never fail over it
        return None
    if summary is None or summary.statistics is None:
        return None
    lidars = sorted(
        (c.topic, c.id) for c in summary.channels.values() if c.topic.startswith(LIDAR_TOPIC_PREFIX)
    )
    if not lidars:
        return None
    return summary.statistics.channel_message_counts.get(lidars[0][1])


def _labels_in(frame: SensorFrame, target_frame: str) -> Boxes3D | None:
    """The frame's labels in ``target_frame`` (ego or a LiDAR's frame), when that is possible."""
    labels = frame.labels
    if labels is None or labels.frame == target_frame:
        return labels
    if target_frame == EGO:
        for name, cloud in frame.lidars.items():
            mount = frame.ego_from_sensor.get(name)
            if cloud.frame == labels.frame and mount is not None:
                return labels.transformed(mount, EGO)
    return None


def stack_description(stack: Stack) -> dict[str, Any]:
    """What a replay records as the stack it ran (the output log's run metadata, the summary's
    ``stack``): the stack's ``config`` (what :func:`~drivestack.pipeline.build_stack` built it
    from), or, for a stack of your own stages without one, each stage's class
    (:meth:`~drivestack.pipeline.Stack.stage_classes`: ``{"detector": "module.Class", ...}``)."""
    return stack.config or stack.stage_classes()


def _kitti_scorer(log_path: Path, skipped: list[SkippedFrame]) -> Any:
    """A :class:`KittiReplayScorer` when the drivestack log carries KITTI label rows; a log
    whose KITTI channels do not decode is replayed unscored, the reason in ``skipped``."""
    from drivestack.replay.kitti_log import KITTI_LABELS_TOPIC, read_kitti_channels
    from drivestack.replay.log_reader import LogReader

    try:
        if KITTI_LABELS_TOPIC not in LogReader(log_path).topics():
            return None
    except DataError:
        return None  # a truncated log: reading its frames reports that
    from drivestack.replay.kitti_score import KittiReplayScorer

    try:
        channels = read_kitti_channels(log_path)
    except DataError as exc:
        skipped.append(SkippedFrame(-1, str(log_path), f"KITTI labels not scored: {exc}"))
        return None
    return KittiReplayScorer(channels) if channels is not None else None


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values)
    return {
        "p50": float(np.percentile(arr, 50)),
        "p95": float(np.percentile(arr, 95)),
        "p99": float(np.percentile(arr, 99)),
        "max": float(arr.max()),
        "mean": float(arr.mean()),
    }


def _write_frame(
    writer: LogWriter,
    frame: SensorFrame,
    outputs: tuple[Boxes3D, Tracks | None, TrackForecasts | None, dict[str, float]],
) -> None:
    """One replayed frame in the output log: its inputs, then the stack's outputs for it."""
    detections, tracks, forecasts, timing_ms = outputs
    writer.sensor_frame(frame)
    writer.boxes(DETECTIONS_TOPIC, detections, kind="detections")
    if tracks is not None:
        writer.tracks(TRACKS_TOPIC, tracks)
    if forecasts is not None:
        writer.forecasts(FORECASTS_TOPIC, forecasts)
    writer.metrics(TIMING_TOPIC, frame.timestamp_ns, timing_ms)


def _track_forecasts(out: StackOutput) -> TrackForecasts | None:
    """The frame's forecasts as the log holds them (None without a predictor)."""
    if out.forecast is None or out.tracks is None:
        return None
    tracks = out.tracks
    return TrackForecasts(tracks.track_id, out.forecast, tracks.frame, tracks.timestamp_ns)


def frame_label_ids(frame: SensorFrame, kitti: KittiReplayScorer | None) -> tuple[str, ...] | None:
    """The ids of the frame's labels: its ``label_ids``, else (a KITTI log written before
    logs carried them) the track ids of its KITTI label rows, DontCare left out as the label
    boxes leave it (None when the counts disagree or there are none)."""
    if frame.label_ids is not None or frame.labels is None or kitti is None:
        return frame.label_ids
    from drivestack.ingest.kitti_tracking import tracking_label_ids

    rows = kitti.channels.labels.get(frame.timestamp_ns)
    if rows is None:
        return None
    ids = tracking_label_ids(rows.rows)
    return ids if len(ids) == len(frame.labels) else None


def _score_forecasts(
    scorer: ForecastScorer,
    stack: Stack,
    frame: SensorFrame,
    out: StackOutput | None,
    kitti: KittiReplayScorer | None,
    tracks_region: np.ndarray | None = None,
) -> None:
    """Add one frame to the forecast metric: its labelled truth and, when the stack forecast
    there (``out``), its forecasts, or the reason they cannot be scored. The tracks (and the
    labels with them) are in the ego frame when the frame's pose places them.
    ``tracks_region``: which tracks lie where the labels cover (a KITTI log: camera view, from
    :meth:`KittiReplayScorer.add_in_region`), None: all."""
    target = out.tracks.frame if out is not None and out.tracks is not None else EGO
    labels = _labels_in(frame, target)
    ids = frame_label_ids(frame, kitti) if labels is not None else None
    pose = frame.world_from_ego if target == EGO else None
    scorer.add_frame(frame.timestamp_ns, labels, ids, pose)
    if out is None or out.forecast is None or out.tracks is None:
        return
    if frame.labels is None:  # (first: without labels nothing else matters)
        scorer.not_scored(NO_LABELS)
    elif not stack.velocities_over_ground:
        scorer.not_scored(
            "velocities relative to the ego (the tracker's velocities_over_ground is False)"
        )
    elif pose is None:
        scorer.not_scored("no ego pose")
    elif labels is None:
        scorer.not_scored("labels not placeable in the tracks' frame")
    elif ids is None:
        scorer.not_scored("labels without ids")
    else:
        scorer.add_forecasts(
            frame.timestamp_ns, out.tracks, out.forecast, labels, ids, pose, tracks_region
        )


def _score_tracks(
    scorer: TrackScorer,
    frame: SensorFrame,
    tracks: Tracks,
    kitti: KittiReplayScorer | None,
    tracks_region: np.ndarray | None,
) -> None:
    """Add one replayed frame's tracks and its labels with ids (placed in the tracks'
    frame) to the tracking metric; ``tracks_region`` as for :func:`_score_forecasts`."""
    labels = _labels_in(frame, tracks.frame)
    if frame.labels is not None and labels is None:
        scorer.not_scored("labels not placeable in the tracks' frame")
        return
    ids = frame_label_ids(frame, kitti) if labels is not None else None
    scorer.add(tracks, labels, ids, tracks_region)


def _is_bag(ingest_report: Any) -> bool:
    """Whether :func:`open_frames` read a ROS bag (its live report), not a drivestack log."""
    return ingest_report is not None and not isinstance(ingest_report, dict)


def _ingest_summary(report: Any) -> dict[str, Any] | None:
    """The summary's ``ingest`` entry of a ROS bag's ingest report (None for drivestack logs;
    a converted log's recorded entry as it is)."""
    if report is None or isinstance(report, dict):
        return report
    return {
        "clean": report.clean,
        "counts": report.counts(),
        "messages_read": dict(report.messages_read),
        "lidar_topics": list(report.lidar_topics),
        # the bag's topics no frame uses: topic, type, message count
        "unused_topics": list(report.unused_topics),
        "skipped": [
            {
                "topic": s.topic,
                "index": s.index,
                "timestamp_ns": s.timestamp_ns,
                "kind": s.kind,
                "reason": s.reason,
                "kept": s.kept,
            }
            for s in report.skipped
        ],
    }


def replay(
    log_path: str | Path,
    stack: Stack,
    out_path: str | Path,
    *,
    command: str = "",
    progress: bool = True,
    compression: str = "lz4",
    io_worker: Literal["process", "thread"] = "process",
    rosbag_config: Any = None,
    announce: Callable[[str], None] | None = None,
    kitti_results: str | Path | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Replay ``log_path`` through ``stack``; write ``out_path`` (MCAP) and its summary JSON.

    Before the log is read, the stack's perception config is checked against it
    (:func:`~drivestack.replay.stack_fit.check_stack_fits_log`): a config with map steps is a
    ``ConfigError``; one made for other data than the log's gives one warning (``warnings``
    in the summary). ``kitti_results``: a folder to write the replay's KITTI tracking rows to,
    ``<folder>/<Class>/<sequence>.txt`` in the KITTI tracking result format with the frames
    numbered as in the log's source sequence (``kitti_results`` in the summary names them;
    :meth:`~drivestack.replay.kitti_score.KittiReplayScorer.write_tracking_results`); the log
    must carry KITTI label rows and the stack track (``DataError`` before the log is read).
    The folder is held for the run (:func:`~drivestack.replay.kitti_score.kitti_results_folder`:
    locked, refused when it holds another run's results unless ``overwrite``; an existing
    ``out_path`` of another log is refused likewise, :func:`check_replaced_output`); its files are
    written into a staging folder and moved in after the log's commit, with a manifest
    (``kitti_results.json``).

    ``rosbag_config``: how a ROS bag is read; ``announce``: where its guessed topic map is
    described (:func:`open_frames`). The output may not overwrite the input
    (:func:`check_output_path`, ``DataError``); it is written as ``out_path.partial`` and
    renamed when the run is complete, its KITTI scores and summary JSON too (the summary
    renamed just before the log), so that a run stopped or failed before then leaves an
    older ``out_path`` and its summary as they were.

    ``compression``: the output's MCAP chunk compression (``lz4``: fast; ``zstd``: smaller).
    ``io_worker``: where the input is read and the output written beside the stack
    (:mod:`drivestack.replay.log_io`): a forked ``process`` (a thread where fork is not
    available) or a ``thread``; the output is the same.
    The timed part (``wall_s``, ``realtime_factor``) runs from starting the I/O worker until
    the output log is closed: reading and decoding every frame, the stack, writing the output,
    the per-frame label tally and KITTI collection. Opening the input (its summary and run
    metadata), reading its KITTI channels and the final KITTI scoring are outside it.
    Returns the summary (also written beside the output as ``<out>.summary.json``).
    """
    from drivestack.replay.kitti_score import kitti_results_folder

    log_path, out_path = Path(log_path), Path(out_path)
    check_output_path(log_path, out_path)
    check_replaced_output(log_path, out_path, overwrite)
    run = functools.partial(
        _replay,
        log_path,
        stack,
        out_path,
        command=command,
        progress=progress,
        compression=compression,
        io_worker=io_worker,
        rosbag_config=rosbag_config,
        announce=announce,
    )
    if kitti_results is None:
        return run(results=None)
    results_dir = Path(kitti_results)
    _check_kitti_results(results_dir, log_path, stack)
    with kitti_results_folder(
        results_dir, log_path=log_path, out_path=out_path, overwrite=overwrite
    ) as results:
        return run(results=results)


def _replay(
    log_path: Path,
    stack: Stack,
    out_path: Path,
    *,
    command: str,
    progress: bool,
    compression: str,
    io_worker: Literal["process", "thread"],
    rosbag_config: Any,
    announce: Callable[[str], None] | None,
    results: KittiResultsFolder | None,
) -> dict[str, Any]:
    """:func:`replay` once its arguments are checked and its results folder is held."""
    from drivestack.core.progress import progress as progress_bar
    from drivestack.core.provenance import git_commit
    from drivestack.replay.kitti_log import KittiChannelCopy
    from drivestack.replay.log_format import LogWriter
    from drivestack.replay.log_io import LogIO
    from drivestack.replay.stack_fit import check_stack_fits_log

    stack_warnings = check_stack_fits_log(stack, log_path)
    for line in stack_warnings:
        warnings.warn(line, stacklevel=2)
    frames, ingest_report = open_frames(log_path, rosbag_config, announce)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    skipped: list[SkippedFrame] = []
    kitti = _kitti_scorer(log_path, skipped) if not _is_bag(ingest_report) else None
    notes: dict[str, int] = {}
    stage_ms: dict[str, list[float]] = {}
    tally = DetectionTally()
    forecasts = ForecastScorer() if stack.predictor is not None else None
    track_scores = TrackScorer() if stack.tracker is not None else None
    # frames replayed; of those not replayed (``skipped`` also lists frames replayed but not
    # scored, and notes), the ones the input could not give
    processed = not_replayed = bad_input = 0
    first_ns = last_ns = None
    stack.reset()

    # the input's KITTI channels go into the output with the frames (on the I/O side)
    kitti_copy = KittiChannelCopy(kitti.channels) if kitti is not None else None

    def open_writer() -> LogWriter:
        writer = LogWriter(
            partial_path(out_path),
            config=stack_description(stack),
            command=command,
            inputs=[str(log_path)],
            compression=compression,
        )
        if kitti_copy is not None:
            kitti_copy.start(writer)
            writer.at_close(kitti_copy.rest)  # the rows after the last frame written
        return writer

    def write_frame(writer: LogWriter, frame: SensorFrame, outputs: Any) -> None:
        _write_frame(writer, frame, outputs)
        if kitti_copy is not None:
            kitti_copy.through(writer, frame.timestamp_ns)

    summary_path = out_path.with_suffix(".summary.json")
    start = time.perf_counter()
    bar: Any = None
    log_io = LogIO(
        frames,
        open_writer,
        write_frame,
        finish=lambda: _ingest_summary(ingest_report),
        worker=io_worker,
    )
    try:
        # numba's CPU target is set up while the I/O process reads the first frames
        prepare_compiled_cpu_route()
        bar = progress_bar(
            log_io.frames(),
            unit="frame",
            desc=f"replay {log_path.name}",
            disable=not progress,
            total=log_frame_count(log_path) if progress else None,
        )
        for frame in bar:
            if isinstance(frame, InputProblem):  # a frame the log could not give whole
                log_io.drop()
                if frame.kind == "partial":  # the frame follows: replayed, noted
                    note = f"t={frame.timestamp_ns} {frame.reason}"
                    notes[note] = notes.get(note, 0) + 1
                else:  # a frame skipped, or a note about the input (timestamp -1)
                    skipped.append(SkippedFrame(frame.timestamp_ns, frame.source, frame.reason))
                    bad_input += frame.kind == "skipped"
                    not_replayed += frame.kind == "skipped"
                    if forecasts is not None and frame.kind == "skipped":
                        forecasts.add_frame(frame.timestamp_ns, None, None, None)
                continue
            try:
                out = stack.step(frame)
            except StageOutputError:  # a stage's programming error, not bad data: stop
                raise
            except (DataError, ValueError) as exc:
                log_io.drop()
                not_replayed += 1
                source = frame.source or str(log_path)
                skipped.append(
                    SkippedFrame(
                        frame.timestamp_ns, source, _reason(exc, source, frame.timestamp_ns)
                    )
                )
                if forecasts is not None:  # its labels are still truth for earlier forecasts
                    _score_forecasts(forecasts, stack, frame, None, kitti)
                continue
            log_io.write(
                (
                    out.detections,
                    out.tracks,
                    _track_forecasts(out),
                    {f"{k}_ms": v for k, v in out.stage_ms.items()},
                )
            )
            processed += 1
            for note in [*out.notes, *_empty_lidar_notes(frame)]:
                notes[note] = notes.get(note, 0) + 1
            first_ns = frame.timestamp_ns if first_ns is None else first_ns
            last_ns = frame.timestamp_ns
            for stage, ms in out.stage_ms.items():
                stage_ms.setdefault(stage, []).append(ms)
            # the detections and tracks where the labels cover (a KITTI log: camera view)
            region = tracks_region = None
            if kitti is not None:
                try:
                    regions = kitti.add_in_region(frame, out.detections, out.tracks)
                    if regions is not None:
                        region, tracks_region = regions
                except (DataError, ValueError) as exc:
                    reason = f"replayed but not KITTI-scored: {_reason(exc, frame.source, frame.timestamp_ns)}"
                    skipped.append(SkippedFrame(frame.timestamp_ns, frame.source, reason))
            labels = _labels_in(frame, out.detections.frame)
            if labels is not None:
                tally.add(out.detections, labels, region)
            if forecasts is not None:
                try:
                    _score_forecasts(forecasts, stack, frame, out, kitti, tracks_region)
                except (DataError, ValueError) as exc:
                    reason = f"replayed but forecasts not scored: {_reason(exc, frame.source, frame.timestamp_ns)}"
                    skipped.append(SkippedFrame(frame.timestamp_ns, frame.source, reason))
            if track_scores is not None and out.tracks is not None:
                try:
                    _score_tracks(track_scores, frame, out.tracks, kitti, tracks_region)
                except (DataError, ValueError) as exc:
                    reason = f"replayed but tracks not scored: {_reason(exc, frame.source, frame.timestamp_ns)}"
                    skipped.append(SkippedFrame(frame.timestamp_ns, frame.source, reason))
        if log_io.input_stopped is not None:
            skipped.append(
                SkippedFrame(-1, str(log_path), f"input incomplete: {log_io.input_stopped}")
            )
        ingest = log_io.close()
        if processed == 0:  # (after close: the ingest report is complete then)
            why = _nothing_replayed(skipped, ingest, stopped=log_io.input_stopped is not None)
            skipped.append(SkippedFrame(-1, str(log_path), why))
        wall_s = time.perf_counter() - start
        log_s = (last_ns - first_ns) * 1e-9 if first_ns is not None and last_ns is not None else 0.0
        summary: dict[str, Any] = {
            "input": str(log_path),
            # the input as a full path: a rerun from another folder is told apart by it
            "input_resolved": str(log_path.resolve()),
            "output": str(out_path),
            "git_commit": git_commit(),
            "stack": stack_description(stack),
            "frames_processed": processed,
            # frames the stack refused or the input could not give; the list also holds
            # whole-input notes (timestamp -1) and frames replayed but not scored
            "frames_skipped": not_replayed,
            # of them, frames the input could not give (a message that does not decode, a stamp
            # far from its log time, a LiDAR scan lost with a corrupt chunk)
            "frames_skipped_bad_input": bad_input,
            "skipped": [vars(s) for s in skipped],
            "frame_notes": notes,
            "ingest": ingest,
            "timing_ms": {stage: _percentiles(values) for stage, values in stage_ms.items()},
            "wall_s": wall_s,
            "log_duration_s": log_s,
            # undefined (null) for a log of one frame: no log time passed
            "realtime_factor": (log_s / wall_s) if wall_s > 0 and log_s > 0 else None,
            "detection_vs_labels": tally.as_dict() or None,
            "kitti": kitti.metrics() if kitti is not None else None,
            # None when the stack does not track or no frame had labels with ids
            "tracking_vs_labels": track_scores.metrics()
            if track_scores is not None and track_scores.frames_scored
            else None,
        }
        if forecasts is not None:  # a stack that predicts (the key is absent otherwise)
            summary["forecast_vs_labels"] = forecasts.metrics()
        if stack_warnings:  # (the key is absent otherwise)
            summary["warnings"] = stack_warnings
        if results is not None and kitti is not None:  # staged; moved in after the commit
            summary["kitti_results"] = results.write(kitti)
        # a bag's frames kept without an ego pose are what --missing-ego-pose track_in_ego_frame
        # asked for: listed, but they do not make the run unclean
        accepted = ["no_ego_pose"] if stack.missing_ego_pose == "track_in_ego_frame" else []
        summary["ingest_accepted"] = accepted
        summary["clean"] = not skipped and _ingest_clean(ingest, accepted)
        # Both files are complete (the log closed above) before either takes its final name,
        # so that nothing raised before (Ctrl-C during the KITTI scoring, a scorer's error)
        # leaves a new log beside an old summary or none. The summary is renamed first and the
        # log last: the log's rename is the run's commit point, so a new RUN.mcap always has
        # its own summary beside it, and an interrupted run leaves no new RUN.mcap (only the
        # instant between the two renames could leave a new summary beside the older log).
        write_text_atomic(summary_path, strict_dumps(summary, indent=2))
        os.replace(partial_path(out_path), out_path)
        if results is not None and "kitti_results" in summary:
            results.commit(summary["kitti_results"])
    except BaseException as exc:
        if bar is not None:
            bar.close()  # the error's line goes below the bar, not onto it
        log_io.abort()
        _keep_or_drop_partial(out_path, exc)
        raise
    summary["summary_path"] = str(summary_path)
    return summary


def _check_kitti_results(folder: Path, log_path: Path, stack: Stack) -> None:
    """``--kitti-results``, before the log is read: a folder (or none yet), a drivestack log
    with KITTI label rows (their frame numbers number the rows), a stack that tracks.

    Raises:
        DataError: naming ``--kitti-results`` and what is missing.
    """
    from drivestack.replay.kitti_log import KITTI_LABELS_TOPIC
    from drivestack.replay.log_reader import LogReader

    where = f"--kitti-results {folder}"
    if folder.exists() and not folder.is_dir():
        raise DataError("is a file; give a folder for the result files", path=where)
    if stack.tracker is None:
        raise DataError("the stack has no tracking stage: there are no tracks to write", path=where)
    if not log_path.exists():  # (the replay's own message, not "carries no label rows")
        raise DataError("no such log file or bag folder", path=str(log_path))
    try:
        has_rows = KITTI_LABELS_TOPIC in LogReader(log_path).topics()
    except DataError:
        has_rows = False
    if not (log_path.is_file() and log_path.suffix == ".mcap" and has_rows):
        raise DataError(
            f"{log_path} carries no KITTI label rows ({KITTI_LABELS_TOPIC}), which give the "
            "result rows their sequence and frame numbers: only a log written by "
            "tools/kitti_tracking_to_log.py has them",
            path=where,
        )


def _reason(exc: Exception, source: str, timestamp_ns: int) -> str:
    """The error of a skipped frame without the frame's source and time at its start (the
    skip line names both once): a :class:`DataError` of the frame (path the source, record
    ``t=<time>``) is rendered from its field and message; other errors lose the two from the
    start of their text."""
    if isinstance(exc, DataError) and exc.path == source and exc.record == f"t={timestamp_ns}":
        return str(DataError(exc.reason, field=exc.field))
    text = str(exc)
    text = text.removeprefix(f"{source}: ") if source else text
    return text.removeprefix(f"t={timestamp_ns}: ")


def crashed_log_path(out_path: Path) -> Path:
    """Where a crashed replay leaves the log of the frames before the crash
    (``RUN.mcap`` -> ``RUN.crashed.mcap``), so that it never replaces an older finished log."""
    return out_path.with_name(f"{out_path.stem}.crashed{out_path.suffix or '.mcap'}")


def _empty_lidar_notes(frame: SensorFrame) -> list[str]:
    """A frame note per LiDAR of ``frame`` without a (finite) point: a sensor dropout is
    replayed (its empty detections are the right answer) but not taken for an empty road."""
    return [
        f"t={frame.timestamp_ns} LiDAR {name!r} has no point (a dropout, or every point "
        "non-finite): replayed with nothing detected from it"
        for name, cloud in sorted(frame.lidars.items())
        if len(cloud) == 0
    ]


def _keep_or_drop_partial(out_path: Path, exc: BaseException) -> None:
    """After a failed replay: a crash leaves the closed, valid log of the frames before it as
    :func:`crashed_log_path` for debugging (named in a note on ``exc``); Ctrl-C (also an
    error raised while it was under way: :func:`drivestack.core.errors.is_interrupt`) and a
    configuration error (``ConfigError``: settings that do not fit the input, found at its
    first scan) leave nothing. Either way an older ``out_path`` and its summary JSON stay as
    they were."""
    partial = partial_path(out_path)
    if not partial.is_file():
        return
    if is_interrupt(exc) or isinstance(exc, ConfigError):
        partial.unlink()
        return
    crashed = crashed_log_path(out_path)
    os.replace(partial, crashed)
    exc.add_note(f"the log of the frames replayed before the failure: {crashed}")


def _nothing_replayed(
    skipped: list[SkippedFrame], ingest: dict[str, Any] | None = None, *, stopped: bool = False
) -> str:
    """The whole-input note of a replay that replayed no frame: for a ROS bag, what became of
    the LiDAR messages it read (from the ingest report). ``stopped``: the input broke off
    (its "input incomplete" note is in ``skipped``)."""
    if any(s.timestamp_ns != -1 for s in skipped):
        return "no frame replayed: every frame was skipped (listed above)"
    if ingest is not None:
        lidar = set(ingest.get("lidar_topics") or ())
        read = sum(n for t, n in (ingest.get("messages_read") or {}).items() if t in lidar)
        kinds: dict[str, int] = {}
        partial: list[str] = []
        for s in ingest["skipped"]:
            if s["topic"] in lidar and not s["kept"]:
                if s["kind"] == "partial_frame":  # one entry for the packets of a frame
                    partial.append(f"partial_frame: {s['reason']}")
                else:
                    kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
        if read:
            dropped = "all dropped" if sum(kinds.values()) == read else "none made a frame"
            why = "; ".join([", ".join(f"{kind}: {n}" for kind, n in kinds.items()), *partial])
            if not why and stopped:
                why = "the input broke off (above)"
            return (
                f"no frame replayed: {count_text(read, 'LiDAR message')} read, {dropped} "
                f"({why.strip('; ') or 'no reason recorded'}; see the summary JSON's ingest "
                "report)"
            )
    if stopped:
        return "no frame replayed: the input broke off before its first frame (above)"
    return (
        "no frame replayed: the input holds no frame to replay (for a ROS bag: no message on "
        "the LiDAR topics; see --ingest-config)"
    )


def _ingest_clean(ingest: dict[str, Any] | None, accepted: list[str]) -> bool:
    """No ingest report, or only messages kept in an ``accepted`` way."""
    if ingest is None:
        return True
    return all(s["kept"] and s["kind"] in accepted for s in ingest["skipped"])


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The human-readable lines of a replay summary (what was replayed, skipped, measured)."""
    timing = ", ".join(
        f"{stage} p50 {t['p50']:.1f} / p95 {t['p95']:.1f} ms"
        for stage, t in summary["timing_ms"].items()
    )
    bad_input = summary.get("frames_skipped_bad_input", 0)
    lines = [
        f"replayed {count_text(summary['frames_processed'], 'frame')} "
        f"({summary['frames_skipped'] - bad_input} skipped by "
        f"the stack{_ingest_skips(summary)})"
        + (
            f" and skipped {count_text(bad_input, 'bad input frame')} (listed below)"
            if bad_input
            else ""
        )
        + " in "
        f"{summary['wall_s']:.1f} s, {_factor(summary['realtime_factor'])} real time"
        + (f"; {timing}" if timing else "")
    ]
    lines += _skipped_lines(summary["skipped"])
    lines += _note_lines(summary.get("frame_notes", {}))
    if summary["ingest"] is not None and not summary["ingest"]["clean"]:
        accepted = summary.get("ingest_accepted") or []
        counts = summary["ingest"]["counts"]
        title = "ingest problems"
        if set(counts) <= set(accepted):
            title = "ingest notes (accepted: --missing-ego-pose track_in_ego_frame)"
        lines.append(f"  {title}: {json.dumps(counts)}")
        lines += [f"    first {kind}: {reason}" for kind, reason in _first_reasons(summary)]
    unused = (summary["ingest"] or {}).get("unused_topics") or []
    if unused:
        lines.append(
            "  bag topics not read: "
            + ", ".join(
                f"{u['topic']} ({u['type']}, {u['messages'] if u['messages'] is not None else '?'})"
                for u in unused
            )
        )
    never = []
    for cls, m in (summary["detection_vs_labels"] or {}).items():
        if m["labels"] and not m["detections"]:
            never.append(f"{cls} ({m['labels']} labels)")
        elif m["labels"]:
            lines.append(
                f"  {cls}: recall {_ratio(m['recall'])}, precision {_ratio(m['precision'])} "
                f"({m['labels']} labels, BEV IoU 0.5{_not_counted(cls, m)})"
            )
        elif m["detections"]:  # detected, never labelled: every detection a false positive
            lines.append(class_line(cls, m))
    if never:
        # a labelled class the stack never output (KITTI's Van, Truck, Tram, ...): its recall
        # of 0 says more about the detector's classes than about its quality
        lines.append("  labelled but never detected: " + ", ".join(never))
    lines += tracking_lines(summary.get("tracking_vs_labels"))
    lines += _kitti_lines(summary.get("kitti"))
    lines += kitti_results_lines(summary.get("kitti_results"))
    model = ((summary.get("stack") or {}).get("prediction") or {}).get("model", "")
    lines += forecast_lines(summary.get("forecast_vs_labels"), model)
    lines.append(f"wrote {summary['output']} and {summary['summary_path']}")
    return lines


def class_line(cls: str, m: dict[str, Any]) -> str:
    """``  car: recall 0.639, precision 0.696, 17 false positives (61 labels, 56 detections,
    BEV IoU 0.5)``: the figures of one class of :class:`DetectionTally` (its ``as_dict``,
    undefined figures NaN, or null once read back from the summary JSON). ``drivestack
    demo`` prints one per class; a replay, one per class detected but never labelled."""
    detections = int(m["detections"])
    precision = m["precision"]
    true_positives = 0 if precision is None or detections == 0 else round(precision * detections)
    false_positives = detections - true_positives
    return (
        f"  {cls}: recall {_ratio(m['recall'])}, precision {_ratio(precision)}, "
        f"{count_text(false_positives, 'false positive')} "
        f"({m['labels']} labels, {detections} detections, BEV IoU 0.5{_not_counted(cls, m)})"
    )


def _not_counted(cls: str, m: dict[str, Any]) -> str:
    """``"; not counted: 343 detections outside the labelled camera view, ..."``."""
    return not_counted(cls, m, "detection", "outside the labelled camera view")


def _skipped_line(s: dict[str, Any]) -> str:
    """One skipped frame (with its time), or a note about the whole input (timestamp -1)."""
    if s["timestamp_ns"] == -1:
        return f"  {s['source']}: {s['reason']}"
    return f"  skipped t={s['timestamp_ns']} {s['source']}: {s['reason']}"


_TIME_IN_TEXT = re.compile(r"\d{10,}")  # a nanosecond time (or a longer number) in a reason


def reason_template(reason: str) -> str:
    """``reason`` with its nanosecond times (runs of 10 or more digits) as ``…``: the frames a
    reason names by their own times group as one reason on the console."""
    return _TIME_IN_TEXT.sub("…", reason)


def _note_lines(notes: dict[str, int]) -> list[str]:
    """The summary's ``frame_notes`` (``t=<ns> <reason>`` -> frames) for the console: notes
    whose reasons differ only in times one line, with the frames and the first and last time
    (the summary JSON keeps each), in the order of each reason's first note."""
    groups: dict[str, list[tuple[str, str, int]]] = {}
    for note, count in notes.items():
        time, sep, reason = note.partition(" ")
        if not (time.startswith("t=") and sep):
            time, reason = "", note
        groups.setdefault(reason_template(reason), []).append((time, reason, count))
    out = []
    for group in groups.values():
        (first_t, reason, count), last_t = group[0], group[-1][0]
        total = sum(n for _, _, n in group)
        if len(group) == 1:
            out.append(
                f"  {f'{first_t} ' if first_t else ''}{reason}: {count_text(count, 'frame')}"
            )
        else:
            out.append(f"  {count_text(total, 'frame')}, {first_t} to {last_t}: {reason}")
    return out


def _skipped_lines(skipped: list[dict[str, Any]]) -> list[str]:
    """The summary's ``skipped`` entries for the console: whole-input notes one line each;
    frames skipped for the same reason (up to the times it names, :func:`reason_template`)
    one line with their count and the first and last frame (the summary JSON keeps every
    entry), in the order of each reason's first frame."""
    groups: list[list[dict[str, Any]]] = []
    by_reason: dict[str, list[dict[str, Any]]] = {}
    for s in skipped:
        whole_input = s["timestamp_ns"] == -1
        key = reason_template(s["reason"])
        if not whole_input and key in by_reason:
            by_reason[key].append(s)
            continue
        groups.append([s])
        if not whole_input:
            by_reason[key] = groups[-1]
    out = []
    for group in groups:
        first, last = group[0], group[-1]
        out.append(
            _skipped_line(first)
            if len(group) == 1
            else f"  skipped {len(group)} frames, t={first['timestamp_ns']} {first['source']} "
            f"to t={last['timestamp_ns']} {last['source']}: {first['reason']}"
        )
    return out


def kitti_results_lines(results: dict[str, Any] | None) -> list[str]:
    """Where ``--kitti-results`` wrote the replay's KITTI tracking rows."""
    if not results:
        return []
    frames = results["frames"]
    span = f"frames {frames[0]}-{frames[1]}" if frames else "no frame tracked"
    return [
        f"  KITTI tracking results ({span} of sequence {results['sequence']}, as numbered "
        f"there): {results['folder']}/<Class>/{results['sequence']}.txt for "
        f"{', '.join(results['classes'])}"
    ]


def _factor(value: float | None) -> str:
    """A real-time factor for the console: ``n/a`` when undefined (a one-frame log)."""
    return f"{value:.2f}x" if value is not None and np.isfinite(value) else "n/a"


def _ratio(value: float | None) -> str:
    """A recall or precision for the console: ``n/a`` when undefined (no labels, no boxes:
    NaN, or null once read back from the summary JSON)."""
    return f"{value:.3f}" if value is not None and np.isfinite(value) else "n/a"


def _ingest_skips(summary: dict[str, Any]) -> str:
    """``", N ingest drops (listed below)"`` when a ROS bag's ingest dropped anything: a
    message, or the packets of an unfinished frame (one entry each). A config entry that
    names no sensor (``unused_config``) dropped nothing: listed, not counted."""
    ingest = summary["ingest"]
    dropped = (
        0
        if ingest is None
        # (an entry of a converted log's record stands for its kind's ``dropped`` messages)
        else sum(
            s.get("dropped", 1)
            for s in ingest["skipped"]
            if not s["kept"] and s["kind"] != "unused_config"
        )
    )
    return f", {count_text(dropped, 'ingest drop')} (listed below)" if dropped else ""


def _first_reasons(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """``(kind, reason)`` of the first skipped bag message of each kind of ingest problem."""
    first: dict[str, str] = {}
    for s in summary["ingest"]["skipped"]:
        where = f"{s['topic']} #{s['index']}: " if s["index"] >= 0 else ""  # (recorded: in it)
        first.setdefault(s["kind"], where + s["reason"])
    return list(first.items())


def _kitti_lines(kitti: dict[str, Any] | None) -> list[str]:
    """Car figures of the KITTI protocols (the summary JSON has every class and difficulty).
    A figure without Car labels to score (none at moderate difficulty; no labelled Car to
    track) is ``n/a (no ... Car labels in these frames)``, not a measured 0 or -inf, as
    ``drivestack eval`` notes it; any other undefined figure is ``n/a``."""
    if not kitti:
        return []
    det = kitti["detection"]
    head = (
        f"  KITTI {kitti['sequence']} frames {kitti['first_frame']}-{kitti['last_frame']} "
        f"({kitti['frames_scored']} scored): Car moderate BEV AP40 "
    )
    if (det.get("labels_per_difficulty") or {}).get("Car", {}).get("moderate", 1) == 0:
        lines = [head + "n/a (no moderate Car labels in these frames)"]
    else:
        lines = [
            head + f"{_percent(det.get('Car_BEV_AP40_moderate_strict'))} (IoU 0.7), "
            f"{_percent(det.get('Car_BEV_AP40_moderate_loose'))} (IoU 0.5)"
        ]
    for key, block in (kitti.get("tracking") or {}).items():
        car = block["classes"]["Car"]
        if car["clear"]["best"].get("n_gt", 1) == 0:
            lines.append(f"  KITTI tracking Car ({key}): n/a (no Car labels in these frames)")
            continue
        lines.append(
            f"  KITTI tracking Car ({key}): sAMOTA {_percent(car['clear']['sAMOTA'], 100)}, "
            f"MOTA {_percent(car['clear']['best']['MOTA'], 100)}, "
            f"HOTA {_percent(car['hota']['HOTA'], 100)}"
        )
    return lines


def _percent(value: float | None, scale: float = 1.0) -> str:
    """``value * scale`` with two decimals; ``n/a`` when undefined (null, NaN, -inf)."""
    return f"{scale * value:.2f}" if value is not None and np.isfinite(value) else "n/a"
