"""Labelled LiDAR frames of each dataset, for ``drivestack eval detection``.

Each loader yields :class:`LabelledFrame` s: the :class:`SensorFrame` a detector consumes (with
``labels`` in the frame the cloud is in) plus the dataset's native ground truth for its own
protocol (KITTI objects, nuScenes eval boxes, AV2 cuboids).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame

DATASETS = ("kitti", "kitti-tracking", "nuscenes", "av2", "aimotive", "pandaset")
#: Sub-folder of ``shared/data`` that ``--root`` defaults to, per dataset.
DEFAULT_ROOTS = {
    "kitti": "kitti_object",
    "kitti-tracking": "kitti_tracking",
    "nuscenes": "nuscenes_samples/mmdet3d_demo",
    "av2": "argoverse2/sensor/val",
    "aimotive": "aimotive/train/nighttime/20210901-194123-00.37.12-00.37.27@Yoda",
    "pandaset": "pandaset/002",
}
#: The datasets whose reader attaches an HD map to every frame (ground heights, drivable area,
#: lane headings): the detector steps that read the map run on these only.
DATASETS_WITH_MAP = ("av2",)
#: KITTI tracking sequence 0000: the frames with Velodyne scans in shared/data.
KITTI_TRACKING_SEQUENCE = "0000"
#: image_02's size in sequence 0000, used when its PNGs are not at hand.
KITTI_TRACKING_IMAGE_WH = (1242, 375)
#: KITTI's usual camera image size (image_2 / image_02: 1224-1242 x 370-376 px), the field of
#: view detections are kept in when a frame's PNG is not at hand.
KITTI_IMAGE_WH = (1242, 375)


class _ImageSizes:
    """KITTI object frames' image sizes: each frame's PNG header, or ``fallback_wh`` where the
    PNG is missing, said once (the first such frame's warning) so that a set read without its
    images is not scored over the whole scan: the KITTI protocol keeps only detections inside
    the camera image."""

    def __init__(self, fallback_wh: tuple[int, int]) -> None:
        self.fallback_wh = fallback_wh
        self._said = False

    def read(self, image: Path) -> tuple[tuple[int, int], tuple[str, ...]]:
        """``(width, height)`` of ``image`` and the warnings to attach to its frame."""
        from drivestack.ingest.kitti_object import png_size_wh

        if image.is_file():
            return png_size_wh(image), ()
        if self._said:
            return self.fallback_wh, ()
        self._said = True
        w, h = self.fallback_wh
        return self.fallback_wh, (
            f"{image}: no image: detections are kept inside KITTI's usual {w}x{h} image, for "
            "this frame and every other frame without its PNG (the protocol scores only the "
            "camera's field of view; give the images for their exact sizes)",
        )


def check_detector_config(dataset: str, cfg: Any, path: str | Path) -> list[str]:
    """Before any frame: whether drivestack's LiDAR detector config ``cfg`` (a
    :class:`~drivestack.perception.lidar.config.LidarDetectorConfig` read from ``path``) can
    run on ``dataset``'s frames.

    Returns one warning line when the config names the datasets it was made for (its
    ``datasets`` key) and ``dataset`` is not among them (a config made for another sensor runs,
    but its figures mean little); none for a config without the key.

    Raises:
        ConfigError: naming ``path`` and the key, when the config switches on a step that reads
            the map (:data:`~drivestack.perception.lidar.map_priors.MAP_STEPS`) and
            ``dataset`` is not one of :data:`DATASETS_WITH_MAP`.
    """
    from drivestack.perception.lidar.map_priors import check_map_steps

    check_map_steps(cfg, path, dataset in DATASETS_WITH_MAP, f"--dataset {dataset}")
    made_for = tuple(cfg.datasets)
    if not made_for or dataset in made_for:
        return []
    return [
        f"{path}: field datasets: this config was made for {', '.join(made_for)}, not "
        f"--dataset {dataset}: its figures there mean little (the default config of "
        f"--dataset {dataset} is used without --config)"
    ]


@dataclass(frozen=True)
class LabelledFrame:
    """One scan with labels: ``key`` names it in outputs; ``native`` is the protocol's GT.
    ``warnings``: what the loader found suspect but valid (a KITTI scan of 0 bytes, most
    likely a truncated copy, read as a cloud without points), one line each naming the file."""

    key: str
    frame: SensorFrame
    native: Any
    calib: Any = None
    image_size_wh: tuple[int, int] | None = None
    warnings: tuple[str, ...] = ()


def _kitti_label_files(root: Path) -> list[Path]:
    labels = sorted((root / "training" / "label_2").glob("*.txt"))
    if not labels:
        raise DataError("no label files", path=str(root / "training" / "label_2"))
    return labels


def kitti_frames(root: Path, load_points: bool = True) -> Iterator[LabelledFrame]:
    """KITTI object frames: ``native`` the ``label_2`` rows (camera_rect, what the protocol
    scores), ``frame.labels`` the same in the LiDAR frame through ``calib/``. Without points
    (scoring files made elsewhere) a frame without its calibration file is read all the same,
    as the KITTI devkit scores from label_2 and the result files alone: its ``calib`` is None
    and ``frame.labels`` empty."""
    from drivestack.ingest.kitti_calib import read_kitti_calib
    from drivestack.ingest.kitti_format import objects_to_boxes
    from drivestack.ingest.kitti_object import read_kitti_label, read_velodyne_bin

    base = root / "training"
    image_sizes = _ImageSizes(KITTI_IMAGE_WH)
    for path in _kitti_label_files(root):
        stem = path.stem
        calib_path = base / "calib" / f"{stem}.txt"
        calib = read_kitti_calib(calib_path) if load_points or calib_path.exists() else None
        objs = read_kitti_label(path)
        image = base / "image_2" / f"{stem}.png"
        scan = base / "velodyne" / f"{stem}.bin"
        lidars = {LIDAR: read_velodyne_bin(scan)} if load_points else {}
        frame = SensorFrame(
            timestamp_ns=0,
            lidars=lidars,
            ego_from_sensor={LIDAR: SE3.identity()},
            labels=objects_to_boxes(objs, calib) if calib is not None else Boxes3D.empty(LIDAR),
            source=str(path),
        )
        # a 0-byte scan is valid (no returns) but almost always a truncated copy: said, scored
        warnings = (
            (
                f"{scan}: empty scan (0 bytes), scored as a scan without points: most likely a "
                "truncated copy",
            )
            if load_points and len(lidars[LIDAR]) == 0
            else ()
        )
        image_wh, image_warnings = image_sizes.read(image)
        yield LabelledFrame(stem, frame, objs, calib, image_wh, warnings=warnings + image_warnings)


def _kitti_tracking_indices(root: Path) -> list[int]:
    """The frame indices of sequence :data:`KITTI_TRACKING_SEQUENCE` with a scan in any of
    :data:`~drivestack.ingest.kitti_tracking.KITTI_TRACKING_SCAN_LAYOUTS` (KITTI's own
    ``velodyne/<seq>/*.bin``, the shared data's ``velodyne_pcd_xz/<seq>/*.pcd.xz``).

    Raises:
        DataError: no scan of the sequence, naming the folders looked in and the sequences
            that have scans.
    """
    from drivestack.ingest.kitti_tracking import (
        kitti_tracking_scan_path,
        list_kitti_tracking_frames,
    )

    indices = list_kitti_tracking_frames(root, KITTI_TRACKING_SEQUENCE)
    if not indices:  # (a negative frame: the error that lists the folders and sequences)
        kitti_tracking_scan_path(root, KITTI_TRACKING_SEQUENCE, -1)
    return indices


def kitti_tracking_frames(root: Path, load_points: bool = True) -> Iterator[LabelledFrame]:
    """The labelled scans of sequence :data:`KITTI_TRACKING_SEQUENCE` (every scan layout the
    ingest reads, :func:`_kitti_tracking_indices`), read through one
    :class:`~drivestack.ingest.kitti_tracking.KittiTrackingSequence` (the calibration and
    ``label_02`` file parsed once); ``native`` is the frame's label rows (DontCare included);
    the image size (the detections kept are those inside image_02) from the frame's
    ``image_02`` PNG when present, else :data:`KITTI_TRACKING_IMAGE_WH` (sequence 0000's own
    size: shared/data has no image_02 of it). No ``world_from_ego``: the detection eval runs
    single frames."""
    from drivestack.ingest.kitti_object import png_size_wh
    from drivestack.ingest.kitti_tracking import (
        KITTI_TRACKING_FRAME_PERIOD_NS,
        KittiTrackingSequence,
        kitti_tracking_scan_path,
        read_kitti_tracking_scan,
    )

    seq = KittiTrackingSequence(root, KITTI_TRACKING_SEQUENCE)
    indices = _kitti_tracking_indices(root)
    calib, _ = seq.calib, seq.label_rows  # both required, read before the first frame
    for index in indices:
        scan = kitti_tracking_scan_path(root, seq.name, index)
        ts = index * KITTI_TRACKING_FRAME_PERIOD_NS  # 10 Hz
        labels, label_ids = seq.frame_labels(index)
        frame = SensorFrame(
            timestamp_ns=ts,
            lidars={LIDAR: read_kitti_tracking_scan(scan, timestamp_ns=ts)} if load_points else {},
            ego_from_sensor={LIDAR: SE3.identity()},
            labels=labels,
            source=str(scan),
            label_ids=label_ids,
        )
        image = seq.base / "image_02" / seq.name / f"{index:06d}.png"
        image_wh = png_size_wh(image) if image.is_file() else KITTI_TRACKING_IMAGE_WH
        yield LabelledFrame(f"{index:06d}", frame, seq.frame_rows(index), calib, image_wh)


def nuscenes_frames(root: Path, load_points: bool = True) -> Iterator[LabelledFrame]:
    """The samples of every ``*_info.json`` under ``root``, with global-frame ground truth as
    the devkit scores it: yaw by :func:`~drivestack.ingest.nuscenes.world_yaw_rad` (the rule
    submissions are written and read with), ``ego_distance_m`` the x-y distance from the ego
    translation in the global frame
    (:func:`~drivestack.eval.detection.nuscenes.ego_distance_xy_m`), unknown velocities NaN
    and ``num_pts`` -1 where the info file has no point counts (scored, never filtered as
    empty: a warning names the sample)."""
    from drivestack.eval.detection.nuscenes import EvalBoxes, ego_distance_xy_m
    from drivestack.ingest.nuscenes import read_lidar_pcd_bin, read_nuscenes_info, world_yaw_rad

    infos = sorted(root.glob("*_info.json"))
    if not infos:
        raise DataError("no *_info.json file", path=str(root))
    first_info: dict[str, Path] = {}  # token -> the info file that holds it
    for info in infos:
        for s in read_nuscenes_info(info):
            if s.token in first_info:  # scored twice would weigh its labels double, unsaid
                raise DataError(
                    f"sample {s.token} is also in {first_info[s.token]}: give --root a folder "
                    "whose info files hold each sample once",
                    path=str(info),
                    field="token",
                )
            first_info[s.token] = info
            lidars = (
                {
                    LIDAR: read_lidar_pcd_bin(
                        root / "samples" / "LIDAR_TOP" / s.lidar_path, timestamp_ns=s.timestamp_ns
                    )
                }
                if load_points
                else {}
            )
            frame = SensorFrame(s.timestamp_ns, lidars=lidars, ego_from_sensor={LIDAR: s.ego_from_lidar},
                                world_from_ego=s.world_from_ego, labels=s.labels, source=f"{info}:{s.token}")  # fmt: skip
            world_from_lidar = s.world_from_ego @ s.ego_from_lidar
            world = s.labels.transformed(world_from_lidar, "world")
            velocity = world.velocity_mps.copy()
            if s.velocity_known is not None:  # unknown: no velocity error, as the devkit's NaN
                velocity[~s.velocity_known] = np.nan
            num_pts = s.num_pts
            gt = EvalBoxes(
                center_m=world.center_m, size_m=world.size_m,
                yaw_rad=world_yaw_rad(world_from_lidar, s.labels.yaw_rad), velocity_mps=velocity,
                detection_name=s.detection_name, attribute_name=np.zeros(0, dtype=str), num_pts=num_pts,
                ego_distance_m=ego_distance_xy_m(world.center_m, s.world_from_ego),
            )  # fmt: skip
            unknown = int(np.count_nonzero((num_pts < 0) & (s.detection_name != "")))
            warnings = (
                (
                    f"{info}: sample {s.token}: {unknown} label(s) without num_lidar_pts / "
                    "num_radar_pts: scored whether or not they hold points (the devkit drops "
                    "labels without points; -1 = unknown is never dropped)",
                )
                if unknown
                else ()
            )
            yield LabelledFrame(s.token, frame, gt, calib=world_from_lidar, warnings=warnings)


def _av2_logs(root: Path) -> list[Path]:
    """The log folders with annotations and LiDAR sweeps."""
    logs = sorted(p for p in root.iterdir() if (p / "annotations.feather").exists())
    if not logs:
        raise DataError("no log folder with annotations.feather", path=str(root))
    return [log for log in logs if (log / "sensors" / "lidar").is_dir()]


def av2_frames(root: Path, load_points: bool = True) -> Iterator[LabelledFrame]:
    from drivestack.ingest.argoverse2 import list_av2_sweeps, read_av2_cuboids, read_av2_frame

    for log in _av2_logs(root):
        cuboids = read_av2_cuboids(log / "annotations.feather", log_id=log.name)
        for ts in list_av2_sweeps(log):
            at = cuboids.at(ts)
            frame = (
                read_av2_frame(log, ts)
                if load_points
                else SensorFrame(ts, labels=at.to_boxes(ts), source=f"{log}:{ts}", label_ids=at.label_ids())
            )  # fmt: skip
            yield LabelledFrame(f"{log.name}/{ts}", frame, at)


def _group_gt(frame: SensorFrame, *, velocity_known: bool = True) -> Any:
    """Ego-frame labels as center-distance eval boxes of class groups, with LiDAR point counts.
    ``velocity_known=False``: the dataset's labels have no velocity (PandaSet): NaN, which adds
    no velocity error (all NaN: the worst, 1, as the devkit's nan-aware cummean), instead of
    the 0 m/s the boxes default to."""
    from drivestack.eval.detection.nuscenes import EvalBoxes
    from drivestack.eval.detection.run import CLASS_GROUPS
    from drivestack.kernels import points_in_boxes

    labels = frame.labels
    assert labels is not None
    num_pts = None
    if frame.lidars and len(labels):
        num_pts = points_in_boxes(frame.lidar().xyz_m.astype(np.float64), labels.to_array7()).sum(
            axis=0
        )
    names = {int(c): g for g, members in CLASS_GROUPS.items() for c in members}
    gt = EvalBoxes.from_boxes(labels, names, num_pts=num_pts)
    if not velocity_known:
        gt = replace(gt, velocity_mps=np.full_like(gt.velocity_mps, np.nan))
    return gt


def aimotive_frames(root: Path, load_points: bool = True) -> Iterator[LabelledFrame]:
    from drivestack.ingest.aimotive import list_aimotive_frames, read_aimotive_frame

    names = list_aimotive_frames(root)
    if not names:
        raise DataError("no dynamic/raw-revolutions/frame_*.laz", path=str(root))
    for name in names:
        frame = read_aimotive_frame(root, name)  # points are needed to drop empty labels
        if frame.labels is not None:
            yield LabelledFrame(name, frame, _group_gt(frame))


def pandaset_frames(root: Path, load_points: bool = True) -> Iterator[LabelledFrame]:
    from drivestack.ingest.pandaset import list_pandaset_frames, read_pandaset_frame

    indices = list_pandaset_frames(root)
    if not indices:
        raise DataError("no lidar/NN.npz", path=str(root))
    for index in indices:
        frame = read_pandaset_frame(root, index)  # points are needed to drop empty labels
        # cuboids.parquet has no velocity (only stationary / object_motion): unknown, NaN
        yield LabelledFrame(f"{index:02d}", frame, _group_gt(frame, velocity_known=False))


LOADERS = {
    "kitti": kitti_frames,
    "kitti-tracking": kitti_tracking_frames,
    "nuscenes": nuscenes_frames,
    "av2": av2_frames,
    "aimotive": aimotive_frames,
    "pandaset": pandaset_frames,
}


def frame_count(dataset: str, root: Path) -> int | None:
    """How many frames :func:`labelled_frames` yields, from the file listings alone (for a
    progress bar; aiMotive: at most that many, its scans without labels are skipped); None
    for a dataset counted only by reading it. Raises what the loader would for a folder
    without frames."""
    from drivestack.ingest.aimotive import list_aimotive_frames
    from drivestack.ingest.argoverse2 import list_av2_sweeps
    from drivestack.ingest.pandaset import list_pandaset_frames

    counts: dict[str, Callable[[Path], int]] = {
        "kitti": lambda r: len(_kitti_label_files(r)),
        "kitti-tracking": lambda r: len(_kitti_tracking_indices(r)),
        "av2": lambda r: sum(len(list_av2_sweeps(log)) for log in _av2_logs(r)),
        "aimotive": lambda r: len(list_aimotive_frames(r)),
        "pandaset": lambda r: len(list_pandaset_frames(r)),
    }
    count = counts.get(dataset)
    return None if count is None else count(root)


def labelled_frames(
    dataset: str, root: Path, *, load_points: bool = True
) -> Iterator[LabelledFrame]:
    """The labelled frames of ``dataset`` under ``root`` (without clouds if not ``load_points``)."""
    if dataset not in LOADERS:
        raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(LOADERS)}")
    return LOADERS[dataset](root, load_points)
