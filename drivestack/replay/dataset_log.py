"""Recorded datasets as drivestack logs, and which dataset a log was made from.

:func:`dataset_to_log` writes the LiDAR frames of one Argoverse 2 log, aiMotive sequence,
nuScenes info file or PandaSet sequence into a drivestack log (MCAP, Foxglove schemas) through
the dataset's ingest reader and :meth:`~drivestack.replay.log_format.LogWriter.sensor_frame`:
clouds, ``world -> ego`` where the dataset has ego poses, the LiDAR mountings and the labels
(with their track ids where the dataset has them, so a replay scores forecasts against them).
KITTI tracking sequences have their own converter, which adds the KITTI label rows and
calibration the KITTI protocols need (:func:`~drivestack.replay.kitti_log.kitti_tracking_to_log`);
both pick frames with :func:`select_frames`.

=============  ============================  ==================  ==========  ============
dataset        ``--root``                    frame numbers       ego poses   label ids
=============  ============================  ==================  ==========  ============
``av2``        one log folder                sweep order (0..)   yes         track uuids
``aimotive``   one sequence folder           frame order (0..)   no          object ids
``nuscenes``   an ``*_info.json`` (folder)   sample index        yes         none
``pandaset``   one sequence folder           ``lidar/NN.npz``    yes         cuboid uuids
=============  ============================  ==================  ==========  ============

:func:`source_dataset` maps a log's run record (``/drivestack/run``: the command that wrote it
and its config) to the dataset its frames come from, in the names of ``drivestack eval
detection --dataset`` and of the perception configs' ``datasets:`` (``sim`` for drivestack's
simulator); None when the log does not say (a ROS bag, a script of one's own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivestack.core.errors import DataError
from drivestack.ingest.kitti_tracking import format_frame_ranges
from drivestack.replay.log_format import LogWriter
from drivestack.structures.sensor_frame import SensorFrame

#: The run record's ``command`` of the logs this module writes.
DATASET_TO_LOG = "dataset_to_log"
#: ... of :func:`~drivestack.replay.kitti_log.kitti_tracking_to_log` and of the simulator.
KITTI_TRACKING_TO_LOG = "kitti_tracking_to_log"
SIM_LOG = "drivestack.sim.record.write_sim_log"

#: The note for logs whose frames have no ego pose (the default stack's tracker needs one).
NO_EGO_POSE_NOTE = (
    "its frames have no ego pose: replay it with --missing-ego-pose track_in_ego_frame "
    "(tracks in the ego frame; forecasts are not scored)"
)


def source_dataset(run: dict[str, Any]) -> str | None:
    """The dataset a log's frames come from, from its run record (``/drivestack/run``):
    ``kitti-tracking`` (``kitti_tracking_to_log``), the ``dataset`` of ``dataset_to_log``,
    ``sim`` (the simulator's ``write_sim_log``); None for anything else (a converted ROS bag,
    a replay's output, a script of one's own): nothing is known about its sensor."""
    command = str(run.get("command", ""))
    config = run.get("config")
    config = config if isinstance(config, dict) else {}
    if command == KITTI_TRACKING_TO_LOG:
        return "kitti-tracking"
    if command == DATASET_TO_LOG and isinstance(config.get("dataset"), str):
        return str(config["dataset"])
    if command == SIM_LOG:
        return "sim"
    return None


# -- frame ranges -----------------------------------------------------------------------------
def select_frames(
    numbers: list[int], first: int | None, last: int | None, *, what: str, path: str
) -> list[int]:
    """The positions in ``numbers`` (sorted frame numbers) of frames ``first`` to ``last``
    (both included; None: from the first, to the last). Every frame of the range must be
    there, the default range (first to last frame) too: a range reaching past the frames, or
    over a gap in them, is refused.

    Raises:
        DataError: naming ``path``, the range asked and the frames ``what`` has.
    """
    if not numbers:
        raise DataError(f"{what} has no frames", path=path)
    lo = numbers[0] if first is None else first
    hi = numbers[-1] if last is None else last
    positions = [k for k, n in enumerate(numbers) if lo <= n <= hi]
    if lo > hi or len(positions) != hi - lo + 1:  # (unique numbers) a frame is missing
        if first is None and last is None:
            asked = f"frames {lo}-{hi} (all, no range given)"
        elif lo <= hi:
            asked = f"frames {lo}-{hi}"
        else:  # one end given, beyond the other end of the frames
            asked = f"frames from {lo}" if last is None else f"frames up to {hi}"
        raise DataError(
            f"{asked} asked, but {what} has frames {format_frame_ranges(numbers)} "
            f"({len(numbers)} frames; {len(positions)} of those asked)",
            path=path,
        )
    return positions


# -- datasets ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetFrames:
    """The frames of one dataset folder: ``numbers`` (sorted frame numbers, see the module
    table), ``read(k)`` the frame at position ``k``; ``what`` names the folder in messages."""

    dataset: str
    root: Path
    numbers: list[int]
    read: Callable[[int], SensorFrame]
    what: str


def _av2(root: Path) -> DatasetFrames:
    from drivestack.ingest.argoverse2 import list_av2_sweeps, read_av2_frame

    if not (root / "sensors" / "lidar").is_dir():
        logs = sorted(p.parent.parent.name for p in root.glob("*/sensors/lidar"))
        hint = f"; its log folders: {', '.join(logs)}" if logs else ""
        raise DataError(f"not an Argoverse 2 log folder (no sensors/lidar){hint}", path=str(root))
    sweeps = list_av2_sweeps(root)
    return DatasetFrames(
        "av2",
        root,
        list(range(len(sweeps))),
        lambda k: read_av2_frame(root, sweeps[k]),
        f"log {root.name}",
    )


def _aimotive(root: Path) -> DatasetFrames:
    from drivestack.ingest.aimotive import list_aimotive_frames, read_aimotive_frame

    names = list_aimotive_frames(root)
    if not names:
        raise DataError("no dynamic/raw-revolutions/frame_*.laz", path=str(root))
    return DatasetFrames(
        "aimotive",
        root,
        list(range(len(names))),
        lambda k: read_aimotive_frame(root, names[k]),
        f"sequence {root.name}",
    )


def _nuscenes(root: Path) -> DatasetFrames:
    from drivestack.ingest.nuscenes import read_nuscenes_frame, read_nuscenes_info

    info = root
    if root.is_dir():
        infos = sorted(root.glob("*_info.json"))
        if len(infos) != 1:
            found = f"{len(infos)}: {', '.join(p.name for p in infos)}" if infos else "none"
            raise DataError(
                f"expected one *_info.json in the folder (found {found}): give the file",
                path=str(root),
            )
        info = infos[0]
    samples = read_nuscenes_info(info)
    return DatasetFrames(
        "nuscenes",
        info,
        list(range(len(samples))),
        lambda k: read_nuscenes_frame(info, k),
        f"info file {info.name}",
    )


def _pandaset(root: Path) -> DatasetFrames:
    from drivestack.ingest.pandaset import list_pandaset_frames, read_pandaset_frame

    numbers = list_pandaset_frames(root)
    if not numbers:
        raise DataError("no lidar/NN.npz", path=str(root))
    return DatasetFrames(
        "pandaset",
        root,
        numbers,
        lambda k: read_pandaset_frame(root, numbers[k]),
        f"sequence {root.name}",
    )


#: The datasets :func:`dataset_to_log` converts (KITTI tracking: ``kitti_tracking_to_log``).
DATASET_FRAMES: dict[str, Callable[[Path], DatasetFrames]] = {
    "av2": _av2,
    "aimotive": _aimotive,
    "nuscenes": _nuscenes,
    "pandaset": _pandaset,
}


@dataclass
class LogWritten:
    """What a converter wrote: ``frames`` written, their ``first`` and ``last`` frame numbers,
    how many have ``labels`` and label ``ids``, and how many lack an ego pose (:meth:`count`
    adds each frame written)."""

    frames: int
    first: int
    last: int
    labelled: int = 0
    with_ids: int = 0
    without_ego_pose: int = 0

    def count(self, frame: SensorFrame) -> None:
        """Count a written ``frame``'s labels, label ids and ego pose."""
        self.labelled += frame.labels is not None
        self.with_ids += frame.label_ids is not None
        self.without_ego_pose += frame.world_from_ego is None

    def notes(self) -> list[str]:
        """The lines a user needs before replaying the log (:data:`NO_EGO_POSE_NOTE`, ...)."""
        notes = []
        if self.without_ego_pose:
            n = self.without_ego_pose
            some = "" if n == self.frames else f"{n} of "
            notes.append(f"note: {some}{NO_EGO_POSE_NOTE}")
        if self.labelled and not self.with_ids:
            notes.append(
                "note: its labels carry no track ids (the dataset has none): a replay scores "
                "detections against them, not forecasts"
            )
        return notes


def dataset_to_log(
    dataset: str,
    root: str | Path,
    out: str | Path,
    *,
    first_frame: int | None = None,
    last_frame: int | None = None,
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
) -> LogWritten:
    """Write frames ``first_frame`` to ``last_frame`` (frame numbers of the module table; all
    when not given) of ``dataset`` under ``root`` into the log ``out``.

    Raises:
        DataError: an unknown dataset, a folder without frames, a frame range the folder
            does not have (:func:`select_frames`), or a malformed file (the reader's error);
            all but the last before ``out`` is created.
    """
    if dataset not in DATASET_FRAMES:
        raise DataError(
            f"unknown dataset {dataset!r}; known: {', '.join(DATASET_FRAMES)}", field="--dataset"
        )
    root = Path(root)
    if not root.exists():
        raise DataError("no such file or folder", path=str(root), field="--root")
    source = DATASET_FRAMES[dataset](root)
    positions = select_frames(
        source.numbers, first_frame, last_frame, what=source.what, path=str(source.root)
    )
    numbers = [source.numbers[k] for k in positions]
    written = LogWritten(len(numbers), numbers[0], numbers[-1])
    with LogWriter(
        out,
        config={"source": dataset, "dataset": dataset, "frames": [numbers[0], numbers[-1]]},
        command=DATASET_TO_LOG,
        inputs=[str(source.root)],
    ) as writer:
        for k in progress(positions) if progress else positions:
            frame = source.read(k)
            writer.sensor_frame(frame)
            written.count(frame)
    return written
