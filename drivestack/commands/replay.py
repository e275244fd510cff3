"""Replay a recorded drive through the stack and write what it did.

  drivestack replay LOG --stack configs/stack/default.yaml --out RUN.mcap

LOG is a drivestack log (.mcap) or a ROS bag: a ROS 1 .bag, a rosbag2 folder, or a bare
rosbag2 .db3 or .mcap file (a .db3 needs no metadata.yaml beside it). A drivestack log, ROS 1
.bag or .mcap cut short replays up to the cut and says so; a rosbag2 .db3 cut short is refused
(sqlite cannot read a cut database). Writes RUN.mcap
(input clouds, labels and poses, plus /perception/detections, /tracking/tracks, the tracks'
forecasts on /prediction/forecasts when the stack has a prediction block, and per-frame
timings, with Foxglove schemas: open it in Foxglove) and RUN.summary.json (frames processed
and skipped, per-stage timing p50/p95/p99, real-time factor, label-based metrics; for a
log made from KITTI tracking by tools/kitti_tracking_to_log.py, the KITTI detection and
tracking metrics of `drivestack eval`; with forecasts and labels that carry object ids, the
end-to-end forecast metric: ADE/FDE/miss rate of the forecasts against the labelled objects'
later positions, key forecast_vs_labels). --kitti-results DIR writes the replay's tracks of
such a log as KITTI tracking results (DIR/<Class>/<seq>.txt, frames numbered as in the
sequence; the summary's kitti_results names them) for `drivestack eval tracking --results DIR`.
Before the log is read, the stack's perception config is checked against it: one with HD-map
steps is refused (no log carries map priors: exit status 2 naming the config and key); one
whose datasets: leave out the log's source (a KITTI, dataset_to_log or simulator log) runs
with one warning line.
RUN.mcap is written as RUN.mcap.partial and renamed when the replay ends: Ctrl-C (exit
status 130) leaves no new RUN.mcap; a crash leaves the log of the frames before it as
RUN.crashed.mcap (an older RUN.mcap and its summary JSON stay as they were). Ctrl-C in the
instant after the rename (while --kitti-results files are moved in) still exits 130 although
RUN.mcap and its summary were written: its summary JSON says what the run did. --out names a file (not a
directory), may not be LOG itself nor lie inside a rosbag2 LOG folder; its missing parent
folders are created.
A bad input frame (a message that does not decode, a header stamp more than 50 ms from its
log time, a LiDAR scan lost with a corrupt chunk) is skipped and named, the rest replays; a
frame replayed without messages lost with a corrupt chunk or the cut is noted, and a camera
without calibration is reported with its count of images left out.
Two replays of the same LOG with the same settings write the same RUN.mcap, message for
message, except /drivestack/timing (wall-clock stage times) and /drivestack/run (the
command line and run metadata): the two channels that record the run itself.
Frames skipped for the same reason are printed as one line with their count and first and
last frame (the summary JSON lists each). A log cut short before its first messages is
refused as truncated, naming its size and where it ends.
Exit status: 0 for a clean run, 1 when any frame or message was skipped or repaired, or
when no frame was replayed at all (an empty log, a bag without LiDAR messages); 2 for bad
input or settings (one line naming the file and field; nothing written), such as a Velodyne
calibration table or model that does not fit the packets.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from drivestack.core.errors import DataError

DEFAULT_STACK = Path(__file__).resolve().parents[2] / "configs" / "stack" / "default.yaml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "log",
        type=Path,
        help="drivestack log (.mcap) or ROS bag (.bag, rosbag2 folder, or its .db3 / .mcap file)",
    )
    parser.add_argument(
        "--stack",
        type=Path,
        default=DEFAULT_STACK,
        help="stack YAML (default: configs/stack/default.yaml)",
    )
    parser.add_argument(
        "--out",
        required=True,
        help="output log file (.mcap; missing parent folders are created); the summary goes "
        "beside it",
    )
    parser.add_argument(
        "--kitti-results",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write the replay's tracks as KITTI tracking results, DIR/<Class>/<seq>.txt "
        "(Car, Pedestrian, Cyclist; frames numbered as in the log's KITTI sequence), for "
        "`drivestack eval tracking --results DIR`; the log must come from "
        "tools/kitti_tracking_to_log.py and the stack must track. DIR gets a manifest "
        "(kitti_results.json: log, output, frames, classes) and is locked while the replay "
        "writes; a DIR holding another replay's results (or files without a manifest) is "
        "refused unless --overwrite (a rerun with the same --out replaces its own)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an --out holding another log's replay (or a file that is no replay "
        "output), and another replay's results in --kitti-results DIR (a rerun of the same "
        "log replaces its own without it)",
    )
    parser.add_argument(
        "--compression",
        choices=["lz4", "zstd", "none"],
        default="lz4",
        help="MCAP chunk compression of the output (default lz4: fast; zstd: about 1/3 smaller)",
    )
    bag = parser.add_argument_group("ROS bags")
    bag.add_argument(
        "--ingest-config",
        type=Path,
        default=None,
        help="rosbag ingest YAML: topic map, ego_frame, world_frame, tolerances, Velodyne "
        "calibrations (drivestack.ingest.rosbag.topic_map; default: topics guessed, ego_frame "
        "base_link)",
    )
    bag.add_argument(
        "--ego-frame",
        default=None,
        help="TF frame of the vehicle (overrides the ingest config's ego_frame); for a bag "
        "without TF, the LiDAR's own frame id (with --missing-ego-pose track_in_ego_frame)",
    )
    parser.add_argument(
        "--missing-ego-pose",
        choices=["skip", "track_in_ego_frame"],
        default=None,
        help="a frame without an ego pose: skip it, or track it in the ego frame (overrides "
        "the stack YAML's missing_ego_pose; default: the stack's, skip)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar, no guessed topic map printed"
    )


def run(args: argparse.Namespace) -> int:
    from drivestack.pipeline import build_stack
    from drivestack.replay.runner import replay, summary_lines

    # a missing log, a bad stack or a log that cannot be read (DataError) is reported by the
    # CLI: one line, exit status 2
    out = _output_file(args.log, args.out)
    _check_bag_options(args)
    summary = replay(
        args.log,
        build_stack(args.stack, missing_ego_pose=args.missing_ego_pose),
        out,
        command=shlex.join(sys.argv),
        progress=not args.quiet,
        compression=args.compression,
        rosbag_config=_rosbag_config(args),
        announce=_silent if args.quiet else None,
        kitti_results=args.kitti_results,
        overwrite=args.overwrite,
    )
    print("\n".join(summary_lines(summary)))
    return 0 if summary["clean"] else 1


def _output_file(log: Path, text: str) -> Path:
    """``--out``: a file name, checked as :func:`~drivestack.replay.runner.check_output_path`
    checks it, before anything is read (``runs/`` or ``runs/.`` names a folder: refused, as an
    existing folder is, instead of becoming a file called ``runs``).

    Raises:
        DataError: naming ``--out`` (one line, exit status 2, as every other bad input).
    """
    from drivestack.core.errors import DataError
    from drivestack.replay.runner import check_output_path

    out = Path(text)
    check_output_path(log, out)  # an existing folder, the input itself, ...
    if text.endswith(("/", os.sep)) or out.name in ("", ".", ".."):
        raise DataError(
            f"names a folder; give a file name such as {out / 'run.mcap'}", path=f"--out {text}"
        )
    return out


def _silent(text: str) -> None:
    """``--quiet``: the guessed topic map is not printed (the summary JSON has the ingest)."""


def _rosbag_config(args: argparse.Namespace) -> Any:
    """The ROS bag ingest settings of ``--ingest-config`` and ``--ego-frame`` (None: defaults)."""
    if args.ego_frame is not None and not args.ego_frame.strip():
        raise DataError("empty frame id: give the TF frame of the vehicle", field="--ego-frame")
    if args.ingest_config is None and args.ego_frame is None:
        return None
    from drivestack.ingest.rosbag.topic_map import RosbagConfig, load_rosbag_config

    cfg = load_rosbag_config(args.ingest_config) if args.ingest_config else RosbagConfig()
    return cfg if args.ego_frame is None else cfg.replaced(ego_frame=args.ego_frame)


def _check_bag_options(args: argparse.Namespace) -> None:
    """``DataError`` for the ROS bag options (``--ingest-config``, ``--ego-frame``) given with a
    drivestack log, which would silently ignore them (its frames carry their ego poses)."""
    given = [
        o
        for o, v in (("--ingest-config", args.ingest_config), ("--ego-frame", args.ego_frame))
        if v is not None
    ]
    log = Path(args.log)
    if not given or not (log.is_file() and log.suffix == ".mcap"):
        return
    from drivestack.replay.log_reader import ROS2_PROFILE, mcap_profile

    try:
        drivestack_log = mcap_profile(log) != ROS2_PROFILE
    except (DataError, OSError):  # not MCAP, unreadable: the replay's own check names it
        return
    if drivestack_log:
        raise DataError(
            "only for ROS bags; LOG is a drivestack log (its frames carry their ego poses): "
            "leave the option out",
            path=str(log),
            field=" and ".join(given),
        )
