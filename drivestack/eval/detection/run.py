"""Score detections on a dataset's labelled scans with its own protocol.

``evaluate_dataset`` walks the labelled frames (:mod:`.datasets`), takes detections either from
a detector stage (``step(SensorFrame) -> Boxes3D``, boxes in the ego frame or the cloud's
frame) or from files made elsewhere, and scores them:

- ``kitti`` / ``kitti-tracking``: KITTI 3D object protocol (Car, Pedestrian, Cyclist), from
  LiDAR boxes converted to camera_rect labels (detections outside the image are dropped, as
  mmdetection3d does). Files: a folder of KITTI label files ``<frame>.txt``, or AB3DMOT
  ``pointrcnn_<Class>_val/<seq>.txt`` folders (tracking).
- ``nuscenes``: the nuScenes protocol (``detection_cvpr_2019``); files: a submission JSON,
  whose samples are ranked in its JSON key order as the devkit ranks equal scores. Known
  deviation from the devkit (:data:`NUSCENES_DEVIATIONS`, in metrics.json): no bike-rack
  filtering.
- ``av2``: the Argoverse 2 protocol, on the class groups (vehicle, pedestrian, cyclist: labels
  and detections of AV2 categories regrouped) or on the official per-category AV2 classes
  (:func:`resolve_av2_categories` picks which: groups for drivestack's detector); files: a
  detections ``.feather`` with a ``score`` column (a log without any detection row is scored
  as no detections, with a warning on stderr and the log under ``logs_without_detections``:
  the AV2 evaluator does not require one; a log whose rows all miss its scored sweeps, as
  with timestamps in microseconds, is warned about, and a table none of whose rows of scored
  logs is on a scored sweep refused). ``AVERAGE_METRICS`` averages the categories (or groups)
  with a label in range (``average_metrics_categories``); on the official categories
  metrics.json also holds av2's default mean over its 26 categories
  (``av2_default_categories_average``, unlabelled ones at AP 0).
- ``aimotive`` / ``pandaset`` (no native protocol): nuScenes-style centre-distance AP and TP
  errors on the class groups (:data:`GROUP_CENTER_DISTANCE`), ego frame; GT boxes without
  LiDAR points are not scored.

Suspect but valid inputs the loader meets (a KITTI scan of 0 bytes) are warned about on stderr
as they are read and listed under ``loader_warnings``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.core.json_values import strict_dumps
from drivestack.core.transforms import wrap_angle
from drivestack.eval.detection.datasets import LabelledFrame, frame_count, labelled_frames
from drivestack.ingest.kitti_format import KittiObjects, boxes_to_objects
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass

KITTI_CLASSES = ("Car", "Pedestrian", "Cyclist")
#: Class groups scored on datasets whose classes are finer than a LiDAR detector's.
CLASS_GROUPS: dict[str, frozenset[ObjectClass]] = {
    "vehicle": frozenset(
        {
            ObjectClass.CAR,
            ObjectClass.VAN,
            ObjectClass.TRUCK,
            ObjectClass.BUS,
            ObjectClass.TRAILER,
            ObjectClass.OTHER_VEHICLE,
        }
    ),
    "pedestrian": frozenset({ObjectClass.PEDESTRIAN}),
    "cyclist": frozenset({ObjectClass.CYCLIST, ObjectClass.MOTORCYCLE}),
}


def _group_config() -> Any:
    from drivestack.eval.detection.nuscenes import DETECTION_CVPR_2019, DetectionConfig

    r = DETECTION_CVPR_2019.class_range
    return DetectionConfig(
        class_range={"vehicle": r["car"], "pedestrian": r["pedestrian"], "cyclist": r["bicycle"]},
        dist_fcn="center_distance",
        dist_ths=DETECTION_CVPR_2019.dist_ths,
        dist_th_tp=DETECTION_CVPR_2019.dist_th_tp,
        min_recall=DETECTION_CVPR_2019.min_recall,
        min_precision=DETECTION_CVPR_2019.min_precision,
        max_boxes_per_sample=DETECTION_CVPR_2019.max_boxes_per_sample,
        mean_ap_weight=DETECTION_CVPR_2019.mean_ap_weight,
    )


#: nuScenes-style centre-distance config on the class groups (nuScenes ranges of car,
#: pedestrian and bicycle), for datasets without a native protocol.
GROUP_CENTER_DISTANCE = _group_config()


#: Where drivestack's nuScenes scoring knowingly differs from nuscenes-devkit's (metrics.json
#: ``deviations_from_devkit``).
NUSCENES_DEVIATIONS: tuple[str, ...] = (
    "no bike-rack filtering: the devkit also drops bicycle / motorcycle boxes (labels and "
    "predictions) inside a static_object.bicycle_rack annotation, which an mmdet3d info file "
    "does not carry",
)


#: ``--av2-categories``: score AV2 on the class groups or on the official categories.
AV2_CATEGORY_MODES = ("groups", "official")


def resolve_av2_categories(requested: str, detections: Path | None) -> str:
    """The AV2 categories to score on (``groups`` or ``official``) for ``requested``
    (``auto``, ``groups`` or ``official``): ``auto`` is ``groups`` for drivestack's detector
    (``detections`` None) and for a detections file whose categories are all group names,
    ``official`` for a file with a category drivestack's detector never writes (a detector
    of the AV2 categories).

    Raises:
        DataError: ``auto`` with a file holding only categories drivestack's detector writes
            (REGULAR_VEHICLE, PEDESTRIAN, BICYCLIST, ...): its own detections.feather or an
            AV2 detector's of a few classes; the two protocols score them differently.
    """
    if requested != "auto":
        return requested
    if detections is None:
        return "groups"
    from drivestack.ingest.argoverse2 import CLASS_TO_CATEGORY

    found = set(read_av2_detections(detections).category.tolist()) - {""}
    if found <= set(CLASS_GROUPS):
        return "groups"
    if found - set(CLASS_TO_CATEGORY.values()):
        return "official"
    raise DataError(
        f"its categories ({', '.join(sorted(found))}) are those drivestack's detector writes: "
        "pass --av2-categories groups (drivestack's protocol, class groups: how its detector "
        "is scored) or official (per AV2 category)",
        path=str(detections),
        field="--av2-categories",
    )


def read_av2_detections(path: Path) -> Any:
    """An AV2 detections table (:func:`~drivestack.ingest.argoverse2.read_av2_cuboids`:
    finite numbers and score, non-zero quaternions, sizes of 0 or more) with a ``score``
    column, whose categories are AV2 categories or drivestack's group names
    (:data:`CLASS_GROUPS`; ``""`` is an UNKNOWN detection). Read once per evaluation
    (:func:`_cached`).

    Raises:
        DataError: naming the file and field ``score`` when there is no score column (the
            reader gives labels score 1; a detections table without scores would rank in
            file order), or the first row and field ``category`` of any other category (a
            misspelt one would be dropped as of another category).
    """
    from drivestack.ingest.argoverse2 import (
        CATEGORY_TO_CLASS,
        UNMAPPED_CATEGORIES,
        read_av2_cuboids,
        read_feather,
    )

    def read(p: Path) -> Any:
        table = read_av2_cuboids(p)
        if "score" not in read_feather(p, ("score",), optional=("score",)):
            raise DataError(
                "no score column: a detections table needs each detection's confidence "
                "(AV2 ranks detections by it)",
                path=str(p),
                field="score",
            )
        known = set(CATEGORY_TO_CLASS) | UNMAPPED_CATEGORIES | set(CLASS_GROUPS)
        unknown = ~np.isin(table.category.astype(str), sorted(known))
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise DataError(
                f"unknown category {str(table.category[row])!r} ({int(unknown.sum())} row(s)): "
                "expected an AV2 category (REGULAR_VEHICLE, PEDESTRIAN, ...) or a drivestack "
                f"class group ({', '.join(CLASS_GROUPS)})",
                path=str(p),
                record=f"row {row}",
                field="category",
            )
        return table

    return _cached(path, read)


class DetectorStage(Protocol):
    def reset(self) -> None: ...

    def step(self, frame: Any) -> Boxes3D: ...


def group_names(labels: np.ndarray) -> np.ndarray:
    """``(N,)`` group name per ObjectClass id ("" when in no group)."""
    lookup = {int(c): g for g, members in CLASS_GROUPS.items() for c in members}
    return np.array([lookup.get(int(c), "") for c in labels], dtype=str)


def _in_cloud_frame(boxes: Boxes3D, lf: LabelledFrame) -> Boxes3D:
    """Detector boxes (ego or cloud frame) in the frame of the cloud and labels."""
    cloud_frame = lf.frame.lidar().frame
    if boxes.frame == cloud_frame:
        return boxes
    name = next(iter(lf.frame.lidars))
    ego_from_sensor = lf.frame.ego_from_sensor.get(name)
    if ego_from_sensor is None:
        raise DataError(
            f"detections in frame {boxes.frame!r} but no ego_from_sensor for {name!r}",
            path=lf.frame.source,
        )
    return boxes.transformed(ego_from_sensor.inverse(), cloud_frame)


# -- KITTI ---------------------------------------------------------------------------------


def kitti_detections_from_boxes(boxes: Boxes3D, lf: LabelledFrame) -> KittiObjects:
    """Camera_rect objects for LiDAR boxes, keeping those in front of and inside the image."""
    objs = boxes_to_objects(boxes, lf.calib, image_edge_px=lf.image_size_wh)
    b = objs.box2d_xyxy_px
    keep = (objs.location_m[:, 2] > 0) & (b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1])
    if lf.image_size_wh is not None:
        keep &= (
            (b[:, 0] < lf.image_size_wh[0])
            & (b[:, 1] < lf.image_size_wh[1])
            & (b[:, 2] > 0)
            & (b[:, 3] > 0)
        )
    return objs.select(keep)


def read_kitti_detection_files(folder: Path, lf: LabelledFrame, sequence: str) -> KittiObjects:
    """KITTI label files ``<folder>/<frame>.txt``, or AB3DMOT ``pointrcnn_<Class>_val`` files
    (each such folder needs the sequence's file: an empty one means no detections)."""
    from drivestack.ingest.kitti_object import read_kitti_label

    ab3dmot = [d / f"{sequence}.txt" for d in sorted(folder.glob("pointrcnn_*_val")) if d.is_dir()]
    if ab3dmot:
        from drivestack.ingest.kitti_tracking import read_ab3dmot_detections

        index = int(lf.key)
        parts = []
        for path in ab3dmot:
            if not path.is_file():  # else that class would silently have no detections
                raise DataError(
                    f"no detection file for sequence {sequence} in {path.parent.name} (an "
                    "empty file means no detections)",
                    path=str(path),
                )
            rows = _cached(path, read_ab3dmot_detections)
            parts.append(rows.select(np.flatnonzero(rows.frame == index)))
        return KittiObjects.concatenate(parts)
    path = folder / f"{lf.key}.txt"
    if not path.is_file():  # as KITTI's devkit: every labelled frame needs its file (may be empty)
        raise DataError(
            f"no detection file for labelled frame {lf.key} (an empty file means no detections)",
            path=str(path),
        )
    return read_kitti_label(path)


class _Counted:
    """An iterable of frames with a length (what a progress bar shows as its total)."""

    def __init__(self, frames: Iterable[LabelledFrame], count: int) -> None:
        self._frames, self._count = frames, count

    def __iter__(self) -> Iterator[LabelledFrame]:
        return iter(self._frames)

    def __len__(self) -> int:
        return self._count


#: Detection files read once per :func:`evaluate_dataset` call (cleared at its start).
_FILE_CACHE: dict[str, Any] = {}


def _cached(path: Path, reader: Callable[[Path], Any]) -> Any:
    key = str(path)
    if key not in _FILE_CACHE:
        _FILE_CACHE[key] = reader(path)
    return _FILE_CACHE[key]


# -- the loop ------------------------------------------------------------------------------


#: What ``--detections`` must be per dataset (a folder or a file, and its words).
_DETECTIONS_KIND = {
    "kitti": (True, "a folder of KITTI label files <frame>.txt (16 columns, with score)"),
    "kitti-tracking": (True, "a folder of KITTI label files <frame>.txt (16 columns, with score)"),
    "nuscenes": (False, "a nuScenes submission file (results_nusc.json)"),
    "av2": (False, "an AV2 detections table (.feather)"),
}


def check_detections_kind(dataset: str, detections: Path) -> None:
    """Before any work: ``--detections`` with a dataset that scores only its detector run
    (aimotive, pandaset: no result format), or of the wrong kind (a file where a folder of
    KITTI label files is needed, a folder where a file is); a DataError naming the flag. A
    path that does not exist is left to the caller (:func:`evaluate_dataset` names it)."""
    if dataset not in _DETECTIONS_KIND:
        raise DataError(
            f"--dataset {dataset} has no detection file format: run a detector (drivestack's, "
            "or --detector open3d-baseline) instead",
            path=str(detections),
            field="--detections",
        )
    folder, what = _DETECTIONS_KIND[dataset]
    if detections.exists() and detections.is_dir() != folder:
        found = "a folder" if detections.is_dir() else "a file"
        raise DataError(
            f"--dataset {dataset} needs {what}, got {found}",
            path=str(detections),
            field="--detections",
        )


def evaluate_dataset(
    dataset: str,
    root: Path,
    *,
    detector: DetectorStage | None = None,
    detections: Path | None = None,
    max_frames: int | None = None,
    out_dir: Path | None = None,
    progress: Callable[[Iterable[LabelledFrame]], Iterable[LabelledFrame]] | None = None,
    av2_categories: str | None = None,
) -> dict[str, Any]:
    """Metrics of ``detector`` (run on every labelled scan) or of ``detections`` files.

    Writes the detections in the dataset's result format under ``out_dir/detections`` when
    they come from the detector: KITTI label files ``<frame>.txt`` (kitti*),
    ``results_nusc.json`` (nuscenes), ``detections.feather`` (av2, native AV2 categories via
    :data:`~drivestack.ingest.argoverse2.CLASS_TO_CATEGORY`; UNKNOWN boxes left out); none for
    aimotive / pandaset (no result format). ``av2_categories``: ``auto``, ``groups`` or
    ``official`` (:func:`resolve_av2_categories`; ``drivestack eval detection`` passes its
    ``--av2-categories``, default auto); None: groups for ``detector``, official for
    ``detections``.
    """
    if (detector is None) == (detections is None):
        raise ValueError("give exactly one of detector= or detections=")
    if detections is not None and not detections.exists():
        raise DataError("no such file or folder", path=str(detections), field="--detections")
    if detections is not None:
        check_detections_kind(dataset, detections)
    _FILE_CACHE.clear()
    av2_mode = None
    if dataset == "av2":
        requested = av2_categories or ("groups" if detections is None else "official")
        av2_mode = resolve_av2_categories(requested, detections)
    frames: Iterable[LabelledFrame] = labelled_frames(
        dataset, root, load_points=detector is not None
    )
    if max_frames is not None:
        frames = (f for i, f in zip(range(max_frames), frames, strict=False))
    if progress is not None:  # with the number of frames when the listing tells it
        count = frame_count(dataset, root)
        if count is not None:
            frames = _Counted(frames, count if max_frames is None else min(count, max_frames))
        frames = progress(frames)
    if detector is not None:
        detector.reset()
    gts: list[Any] = []
    dts: list[Any] = []
    keys: list[str] = []
    submission: dict[str, list[dict[str, Any]]] = {}
    av2_rows: list[Any] = []
    outputs = _DetectorOutputs(turns_along_lanes=_turns_along_lanes(detector))
    warnings: list[str] = []
    for lf in frames:
        keys.append(lf.key)
        for warning in lf.warnings:  # said when met (stderr), kept for metrics.json
            print(f"warning: {warning}", file=sys.stderr)
            warnings.append(warning)
        gts.append(lf.native)
        boxes = None
        if detector is not None:
            raw = detector.step(lf.frame)
            outputs.add(raw)
            boxes = _in_cloud_frame(raw, lf)
        dts.append(
            _native_detections(dataset, lf, boxes, detections, submission, out_dir, av2_mode)
        )
        if dataset == "av2" and boxes is not None and out_dir is not None:
            av2_rows.append(_av2_native_rows(boxes, lf))
    if not keys:
        raise DataError("no labelled frames", path=str(root))
    if detections is not None:  # said, kept for metrics.json
        every = set(keys) if max_frames is None else None  # every labelled frame was scored
        file_warnings: list[str] = []
        if dataset == "nuscenes":
            file_warnings = _submission_warnings(detections, root, every)
        elif dataset in ("kitti", "kitti-tracking"):
            file_warnings = _kitti_unscored_files(dataset, detections, root, every)
            file_warnings += _kitti_score_columns(detections, keys)
        elif dataset == "av2":
            file_warnings = _av2_unscored_rows(detections, root, every)
            file_warnings += _av2_rows_off_sweeps(detections, keys)
        for warning in file_warnings:
            print(f"warning: {warning}", file=sys.stderr)
            warnings.append(warning)
    curves: dict[str, Any] = {}
    pred_order = None
    if dataset == "nuscenes" and detections is not None:  # ties ranked as the devkit ranks them
        pred_order = submission_order(list(_read_submission(detections)[0]), keys)
    metrics = _score(
        dataset, root, gts, dts, external=detections is not None, curves_out=curves,
        av2=av2_mode, pred_order=pred_order,
    )  # fmt: skip
    if dataset == "nuscenes":
        source = str(detections) if detections is not None else "the detector"
        for warning in out_of_range_warning(metrics["predictions_in_range"], source):
            print(f"warning: {warning}", file=sys.stderr)
            warnings.append(warning)
    if out_dir is not None and submission:
        from drivestack.ingest.nuscenes import write_submission

        write_submission(out_dir / "detections" / "results_nusc.json", submission)
    if out_dir is not None and av2_rows:
        from drivestack.ingest.argoverse2 import concatenate_cuboids, write_av2_detections

        write_av2_detections(
            out_dir / "detections" / "detections.feather", concatenate_cuboids(av2_rows)
        )
    result: dict[str, Any] = {
        "dataset": dataset,
        "root": str(root),
        "num_frames": len(keys),
        "frames": keys,
        "metrics": metrics,
    }
    if curves:  # KITTI: the precision-recall curves behind the APs
        result["pr_curves"] = curves
    if detector is not None and outputs.boxes:
        result["detector_outputs"] = outputs.as_dict()
    if warnings:
        result["loader_warnings"] = warnings
    if dataset == "av2" and detections is not None:
        result["logs_without_detections"] = _av2_logs_without_detections(keys, detections)
    return result


def submission_order(submitted: Sequence[str], keys: Sequence[str]) -> list[int]:
    """Indices of the scored samples ``keys`` in the order their tokens appear in a
    submission's ``results`` (``submitted``, its JSON key order, which the devkit keeps and
    ranks equal scores by); samples not submitted (none when every one is required) last, in
    ``keys`` order."""
    position = {token: i for i, token in enumerate(submitted)}
    return sorted(range(len(keys)), key=lambda i: (position.get(keys[i], len(position)), i))


def _read_submission(path: Path) -> tuple[dict[str, Any], list[str]]:
    """A nuScenes submission (:func:`~drivestack.ingest.nuscenes.read_submission`) and its
    warnings, read once per evaluation (:func:`_cached`)."""
    from drivestack.ingest.nuscenes import read_submission

    def read(p: Path) -> tuple[dict[str, Any], list[str]]:
        warnings: list[str] = []
        return read_submission(p, warnings=warnings), warnings

    result: tuple[dict[str, Any], list[str]] = _cached(path, read)
    return result


def _submission_warnings(path: Path, root: Path, labelled: set[str] | None = None) -> list[str]:
    """What the nuScenes devkit refuses in a submission but scoring does not need: no
    ``meta``, and sample tokens that are not labelled samples under ``root`` (not scored; the
    devkit requires the submission's samples to be the evaluated set). Labelled samples left
    out by ``--max-frames`` are not counted. ``labelled``: the labelled sample tokens when the
    caller has them all (else they are read from ``root``)."""
    boxes, warnings = _read_submission(path)
    if labelled is None:
        labelled = {lf.key for lf in labelled_frames("nuscenes", root, load_points=False)}
    unknown = sorted(set(boxes) - labelled)
    if unknown:
        n_boxes = sum(len(boxes[t].detection_name) for t in unknown)
        warnings = [
            *warnings,
            f"{path}: {len(unknown)} sample token(s) that are no labelled sample of "
            f"{root} (first {unknown[0]!r}, {n_boxes} box(es) in all): not scored; the "
            "nuScenes devkit requires the submission's samples to equal the evaluated set",
        ]
    return warnings


def _kitti_unscored_files(
    dataset: str, folder: Path, root: Path, labelled: set[str] | None = None
) -> list[str]:
    """A warning when the KITTI label-file folder ``folder`` holds ``<frame>.txt`` files of
    frames with no labelled scan under ``root`` (another split, a misnumbered file): they are
    not scored, like the nuScenes submission's unknown sample tokens. Labelled frames left out
    by ``--max-frames`` are not counted; AB3DMOT ``pointrcnn_*`` folders (whole sequences,
    frames without scans too) are not checked. ``labelled``: every labelled frame's key when
    the caller scored them all (else read)."""
    if any(d.is_dir() for d in folder.glob("pointrcnn_*_val")):
        return []
    if labelled is None:
        labelled = {lf.key for lf in labelled_frames(dataset, root, load_points=False)}
    extra = sorted(p.name for p in folder.glob("*.txt") if p.stem not in labelled)
    if not extra:
        return []
    first = ", ".join(extra[:3]) + (", ..." if len(extra) > 3 else "")
    return [
        f"{folder}: {len(extra)} detection file(s) of frames with no labelled scan under "
        f"{root} (first {first}): not scored"
    ]


def _kitti_score_columns(folder: Path, keys: Sequence[str]) -> list[str]:
    """Whether the scored KITTI label files ``<folder>/<key>.txt`` agree on the score column
    (the 16th, read from each file's first row): ``DataError`` naming the first file that
    differs from the others when some have it and some do not (a file without scores reads
    as 1.0 and outranks every scored box: a ground-truth file or a truncated export mixed
    in); a warning when none has it (every box 1.0: ranked in file order, not by
    confidence). AB3DMOT ``pointrcnn_*`` folders always carry a score and are not checked."""
    from drivestack.ingest.kitti_format import read_text_lines

    if any(d.is_dir() for d in folder.glob("pointrcnn_*_val")):
        return []
    scored: list[str] = []
    unscored: list[str] = []
    for key in keys:
        path = folder / f"{key}.txt"
        first = next((line.split() for line in read_text_lines(path) if line.strip()), None)
        if first is not None:
            (scored if len(first) > 15 else unscored).append(str(path))
    if scored and unscored:
        odd, usual = (unscored, scored) if len(unscored) <= len(scored) else (scored, unscored)
        has = "has a" if odd is scored else "has no"
        raise DataError(
            f"{has} score column (16th) unlike {len(usual)} other detection file(s) "
            f"(first {usual[0]}); {len(odd)} file(s) differ: a row without a score reads as "
            "1.0 and would outrank every scored box",
            path=odd[0],
            record="line 1",
            field="score",
        )
    if unscored:
        return [
            f"{folder}: no detection file has a score column (16th): every box is scored "
            "1.0, so the precision-recall curve ranks them in file order, not by confidence"
        ]
    return []


def _turns_along_lanes(detector: DetectorStage | None) -> bool:
    """Whether ``detector`` documents turning boxes to the map's lanes' direction of travel:
    drivestack's LiDAR detector with ``classify.lane_heading`` enabled and
    ``orient_along_lanes`` (its other yaws are box axes, modulo pi)."""
    lanes = getattr(getattr(getattr(detector, "cfg", None), "classify", None), "lane_heading", None)
    return bool(
        lanes is not None
        and getattr(lanes, "enabled", False)
        and getattr(lanes, "orient_along_lanes", False)
    )


class _DetectorOutputs:
    """What the detector's boxes carry, seen over the scored frames: whether any has a
    velocity, and whether the yaws all lie in half a turn (a box axis, front and back not told
    apart: orientation errors of objects heading the other way are near pi).
    ``turns_along_lanes``: the detector's config turns Car / Truck boxes along the map's lanes
    (:func:`_turns_along_lanes`): its yaws are axes except for those boxes, so they span more
    than half a turn although most are axes."""

    def __init__(self, turns_along_lanes: bool = False) -> None:
        self.turns_along_lanes = turns_along_lanes
        self.boxes = 0
        self.with_velocity = 0
        self.yaw_min = np.inf
        self.yaw_max = -np.inf

    def add(self, boxes: Boxes3D) -> None:
        if not len(boxes):
            return
        self.boxes += len(boxes)
        self.with_velocity += int(np.count_nonzero(np.any(boxes.velocity_mps != 0, axis=1)))
        yaw = wrap_angle(boxes.yaw_rad)
        self.yaw_min = min(self.yaw_min, float(yaw.min()))
        self.yaw_max = max(self.yaw_max, float(yaw.max()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "boxes": self.boxes,
            "boxes_with_velocity": self.with_velocity,
            # every yaw within [-pi/2, pi/2]: an axis (modulo pi), not a heading
            "yaw_is_axis": bool(self.yaw_max - self.yaw_min <= np.pi + 1e-6),
            # the config turns boxes along the lanes: axes except for those (not measured)
            "yaw_turned_along_lanes": self.turns_along_lanes,
        }


def _av2_native_rows(boxes: Boxes3D, lf: LabelledFrame) -> Any:
    """Detector boxes of one AV2 sweep as native-category rows (UNKNOWN ones left out)."""
    from drivestack.ingest.argoverse2 import av2_categories, cuboids_from_boxes

    log_id = lf.key.split("/")[0]
    rows = cuboids_from_boxes(boxes, log_id=log_id, category=av2_categories(boxes.label))
    return rows.select(rows.category != "")


def _av2_unscored_rows(path: Path, root: Path, labelled: set[str] | None) -> list[str]:
    """A warning when rows of the detections table ``path`` are of a log with no labelled
    sweep under ``root`` (another log, a misspelt log id): they are not scored, like the
    nuScenes submission's unknown sample tokens. (Rows of a labelled log's other sweeps are
    not counted: a table for a whole log or split holds them.) ``labelled``: every labelled
    sweep's key ``<log_id>/<timestamp_ns>`` when the caller scored them all (else read)."""
    if labelled is None:
        labelled = {lf.key for lf in labelled_frames("av2", root, load_points=False)}
    logs = sorted({key.split("/")[0] for key in labelled})
    table = read_av2_detections(path)
    unknown = ~np.isin(table.log_id.astype(str), logs)
    if not unknown.any():
        return []
    other = sorted(set(table.log_id[unknown].astype(str).tolist()))
    return [
        f"{path}: {int(unknown.sum())} row(s) of {len(other)} log(s) with no labelled sweep "
        f"under {root} (first {other[0]!r}, row {int(np.flatnonzero(unknown)[0])}): not scored"
    ]


#: Time units a ``timestamp_ns`` column is sometimes written in, as nanoseconds per unit.
_TIME_UNITS_NS = (("microseconds", 10**3), ("milliseconds", 10**6), ("seconds", 10**9))


def _av2_rows_off_sweeps(path: Path, keys: list[str]) -> list[str]:
    """One warning per scored log (``keys`` ``<log_id>/<timestamp_ns>``) that has rows in the
    detections table ``path`` but none on one of its scored sweeps: its sweeps are scored as
    no detections (AP 0), most likely from timestamps in another unit than nanoseconds.

    Raises:
        DataError: naming the file, the first row of a scored log and field ``timestamp_ns``
            when no row of any scored log is on a scored sweep (nothing would be scored).
    """
    table = read_av2_detections(path)
    sweeps: dict[str, list[int]] = {}
    for key in keys:
        log_id, ts = key.split("/")
        sweeps.setdefault(log_id, []).append(int(ts))
    off: list[tuple[str, np.ndarray]] = []  # (log, its rows), none on a scored sweep
    on_any = False
    for log_id, stamps in sorted(sweeps.items()):
        rows = np.flatnonzero(table.log_id == log_id)
        if len(rows) == 0:
            continue  # _av2_logs_without_detections says so
        if np.isin(table.timestamp_ns[rows], stamps).any():
            on_any = True
        else:
            off.append((log_id, rows))
    if not off:
        return []

    def hint(log_id: str, rows: np.ndarray) -> str:
        first = int(table.timestamp_ns[rows[0]])
        stamps = np.asarray(sweeps[log_id], dtype=np.int64)
        unit = next(
            (name for name, ns in _TIME_UNITS_NS if np.any(np.abs(first * ns - stamps) < ns)),
            None,
        )
        guess = f", which looks like {unit}" if unit else ""
        return (
            f"timestamp_ns must be the sweep's LiDAR time in integer nanoseconds "
            f"(a scored sweep: {int(stamps.min())}); row {int(rows[0])} has {first}{guess}"
        )

    if not on_any:
        log_id, rows = off[0]
        raise DataError(
            f"no row of the {len(sweeps)} scored log(s) is on a scored sweep, nothing to "
            f"score: {hint(log_id, rows)}",
            path=str(path),
            record=f"row {int(rows[0])}",
            field="timestamp_ns",
        )
    return [
        f"{path}: none of the {len(rows)} row(s) of log {log_id} is on one of its "
        f"{len(sweeps[log_id])} scored sweep(s): they are scored as no detections "
        f"({hint(log_id, rows)})"
        for log_id, rows in off
    ]


def _av2_logs_without_detections(keys: list[str], files: Path) -> list[str]:
    """The scored logs (``keys`` ``<log_id>/<timestamp_ns>``) without a single row in the
    detections table ``files``, each announced on stderr: the AV2 protocol scores them as
    no detections (it does not require every log), which is most likely a wrong file."""
    have = set(read_av2_detections(files).log_id.tolist())
    missing = sorted({k.split("/")[0] for k in keys} - have)
    for log_id in missing:
        print(
            f"warning: {files}: no detection rows for log {log_id}: all its sweeps are scored "
            "as no detections",
            file=sys.stderr,
        )
    return missing


def _native_detections(
    dataset: str,
    lf: LabelledFrame,
    boxes: Boxes3D | None,
    files: Path | None,
    submission: dict[str, list[dict[str, Any]]],
    out_dir: Path | None,
    av2_mode: str | None = None,
) -> Any:
    if dataset in ("kitti", "kitti-tracking"):
        if boxes is None:
            assert files is not None
            return read_kitti_detection_files(files, lf, "0000")
        objs = kitti_detections_from_boxes(boxes, lf)
        if out_dir is not None:
            from drivestack.ingest.kitti_object import write_kitti_label

            write_kitti_label(out_dir / "detections" / f"{lf.key}.txt", objs)
        return objs
    if dataset == "nuscenes":
        from drivestack.eval.detection.nuscenes import EvalBoxes
        from drivestack.ingest.nuscenes import boxes_to_submission, sample_boxes

        world_from_lidar = lf.calib
        lidar_from_ego = lf.frame.ego_from_sensor[LIDAR].inverse()
        if boxes is None:
            assert files is not None
            sub = _read_submission(files)[0].get(lf.key)
            if sub is None:  # the devkit requires every sample of the split (may be empty)
                raise DataError(
                    "no entry for a labelled sample (an empty list means no detections)",
                    path=str(files),
                    record=f"results[{lf.key!r}]",
                )
        else:  # scored as submitted: attributes and names as the submission file has them
            submission[lf.key] = boxes_to_submission(boxes, lf.key, world_from_lidar)
            sub = sample_boxes(submission[lf.key], lf.key, path=None)
        ego_from_world = (world_from_lidar @ lidar_from_ego).inverse()
        return EvalBoxes.from_submission(sub, ego_from_world=ego_from_world)
    if dataset == "av2":
        from drivestack.ingest.argoverse2 import cuboids_from_boxes

        log_id, ts = lf.key.split("/")
        if boxes is None:
            assert files is not None
            table = read_av2_detections(files)
            return table.select((table.log_id == log_id) & (table.timestamp_ns == int(ts)))
        if av2_mode == "official":
            from drivestack.ingest.argoverse2 import av2_categories

            return cuboids_from_boxes(boxes, log_id=log_id, category=av2_categories(boxes.label))
        return cuboids_from_boxes(boxes, log_id=log_id, category=group_names(boxes.label))
    if dataset in ("aimotive", "pandaset"):
        from drivestack.eval.detection.nuscenes import EvalBoxes

        assert boxes is not None  # check_detections_kind refuses detection files for them
        names = {int(c): g for g, members in CLASS_GROUPS.items() for c in members}
        return EvalBoxes.from_boxes(boxes, names)
    raise ValueError(f"unknown dataset {dataset!r}")


def _score(
    dataset: str,
    root: Path,
    gts: list[Any],
    dts: list[Any],
    *,
    external: bool,
    curves_out: dict[str, Any] | None = None,
    av2: str | None = None,
    pred_order: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The protocol's metrics; KITTI also adds its precision-recall curves to ``curves_out``.
    ``av2``: score AV2 on the class ``groups`` (labels and, from a file, detections regrouped)
    or the ``official`` categories (:func:`resolve_av2_categories`). ``pred_order``
    (nuScenes): the order of the frames' detections that ranks equal scores
    (:func:`submission_order`; default the frames' order)."""
    if dataset in ("kitti", "kitti-tracking"):
        return kitti_protocol_metrics(gts, dts, curves_out)
    if dataset == "nuscenes":
        from drivestack.eval.detection.nuscenes import DETECTION_CVPR_2019, evaluate

        order = range(len(dts)) if pred_order is None else pred_order
        preds = {str(i): dts[i] for i in order}
        res = evaluate(dict(enumerate_keys(gts)), preds, DETECTION_CVPR_2019)
        counts = labels_in_range(gts, DETECTION_CVPR_2019.class_range)
        return {
            "protocol": "nuscenes_detection_cvpr_2019",
            "protocol_config": _as_dict(DETECTION_CVPR_2019),
            "labels_in_range": counts,
            "predictions_in_range": predictions_in_range(dts, DETECTION_CVPR_2019.class_range),
            # scored AP 0 and averaged into the mAP all the same, as the official evaluator does
            "classes_without_labels_in_range": [c for c, n in counts.items() if not n],
            "ground_truth": ground_truth_fields(gts),
            "deviations_from_devkit": list(NUSCENES_DEVIATIONS),
            **res.to_dict(),
        }
    if dataset == "av2":
        from dataclasses import replace

        from drivestack.eval.detection.argoverse2 import (
            METRIC_UNITS,
            SENSOR_COMPETITION_CATEGORIES,
            Av2DetectionConfig,
            evaluated_gts_mask,
            summarize,
        )
        from drivestack.eval.detection.argoverse2 import evaluate as av2_evaluate
        from drivestack.ingest.argoverse2 import concatenate_cuboids

        gt = concatenate_cuboids(gts)
        dt = concatenate_cuboids(dts)
        on_groups = av2 == "groups"
        if on_groups:  # drivestack classes are coarser than AV2's: score class groups
            gt = _regroup(gt)
            if external:  # a file's AV2 categories (or group names) regrouped alike
                dt = _regroup(dt)
        # categories with at least one label that can be scored (av2 would average in AP 0
        # for categories without any)
        scorable = evaluated_gts_mask(
            gt.boxes[:, :3], np.abs(gt.num_interior_pts), Av2DetectionConfig()
        )
        categories = tuple(sorted({c for c in gt.category[scorable].tolist() if c}))
        from drivestack.eval.detection.av2_roi import roi_filter_for_logs

        logs = sorted(set(gt.log_id.tolist()))
        in_roi = roi_filter_for_logs(root, logs)
        av2_cfg = Av2DetectionConfig(categories=categories)
        av2_res = av2_evaluate(dt, gt, av2_cfg, in_roi)
        from drivestack.eval.detection.av2_diagnostics import miss_breakdown

        official: dict[str, Any] = {}
        if not on_groups:  # what av2's default DetectionCfg reports: its 26 categories' mean
            default_cfg = replace(av2_cfg, categories=SENSOR_COMPETITION_CATEGORIES)
            everything = summarize(
                dt, av2_res.dts_metrics, av2_res.dts_evaluated, gt, av2_res.gts_evaluated,
                default_cfg,
            )  # fmt: skip
            official["av2_default_categories_average"] = {
                "categories": list(SENSOR_COMPETITION_CATEGORIES),
                # at the default row (AP 0, ATE tp_threshold_m, ASE 1, AOE pi, CDS 0)
                "without_labels_in_range": [
                    c for c in SENSOR_COMPETITION_CATEGORIES if c not in categories
                ],
                "AVERAGE_METRICS": everything["AVERAGE_METRICS"],
            }
        return {
            "protocol": "argoverse2_detection" + ("_class_groups" if on_groups else ""),
            "protocol_config": _as_dict(av2_cfg),
            "summary": av2_res.summary,
            "metric_units": METRIC_UNITS,
            # AVERAGE_METRICS is their mean: the categories with a label in range
            "average_metrics_categories": list(categories),
            **official,
            "ap_by_threshold": {
                c: {str(t): v for t, v in d.items()} for c, d in av2_res.ap_by_threshold.items()
            },
            # the ranking bound and the missed labels by cause at the TP threshold
            "misses": {
                c: miss_breakdown(dt, gt, av2_res, c, av2_cfg.tp_threshold_m, av2_cfg).as_dict()
                for c in categories
            },
        }
    if dataset in ("aimotive", "pandaset"):
        from drivestack.eval.detection.nuscenes import evaluate as nusc_evaluate

        counts = labels_in_range(gts, GROUP_CENTER_DISTANCE.class_range)
        cfg, unlabelled = labelled_groups_config(gts, counts)
        groups = nusc_evaluate(dict(enumerate_keys(gts)), dict(enumerate_keys(dts)), cfg)
        return {
            "protocol": "center_distance_class_groups",
            "protocol_config": _as_dict(cfg),
            # groups with no scorable label: no AP (not 0), left out of the mean
            "groups_without_labels": unlabelled,
            "labels_in_range": counts,
            "ground_truth": ground_truth_fields(gts),
            **groups.to_dict(),
        }
    raise ValueError(f"unknown dataset {dataset!r}")


def ground_truth_fields(gts: list[Any]) -> dict[str, int]:
    """What the ground-truth eval boxes carry for the TP errors that need it: ``boxes``, those
    ``with_velocity`` (finite; an unknown one is NaN) and ``with_attribute`` (non-empty). A
    field no box has makes its error all-NaN, scored 1 whatever the detector outputs."""
    boxes = sum(len(g.detection_name) for g in gts)
    velocity = sum(int(np.isfinite(g.velocity_mps).all(axis=1).sum()) for g in gts)
    attribute = sum(int((np.asarray(g.attribute_name) != "").sum()) for g in gts)
    return {"boxes": boxes, "with_velocity": velocity, "with_attribute": attribute}


def labelled_groups_config(
    gts: list[Any], counts: Mapping[str, int] | None = None
) -> tuple[Any, list[str]]:
    """:data:`GROUP_CENTER_DISTANCE` on the class groups that have a scorable label (in range,
    with LiDAR points) in any of the frames' ``gts`` (EvalBoxes), and the groups without one:
    a dataset that labels only vehicles (aiMotive) is not scored AP 0 on pedestrians and
    cyclists, nor are those zeros averaged into its mAP. DataError when no group has a label.
    ``counts``: :func:`labels_in_range` of ``gts`` when the caller has it already."""
    from dataclasses import replace

    ranges = GROUP_CENTER_DISTANCE.class_range
    if counts is None:
        counts = labels_in_range(gts, ranges)
    labelled = {g: r for g, r in ranges.items() if counts[g]}
    if not labelled:
        raise DataError("no scorable label of any class group (vehicle, pedestrian, cyclist)")
    return replace(GROUP_CENTER_DISTANCE, class_range=labelled), [
        g for g in ranges if not counts[g]
    ]


def labels_in_range(gts: list[Any], class_range: Mapping[str, float]) -> dict[str, int]:
    """``{class: labels the protocol scores}`` over the frames' ``gts`` (EvalBoxes): GT boxes
    of the class within its evaluation range of the ego (BEV) and with LiDAR (or radar) points,
    as :func:`~drivestack.eval.detection.nuscenes.filter_boxes` keeps them; 0 for a class with
    none (labels only beyond the range, or no labels at all), in ``class_range``'s order."""
    from drivestack.eval.detection.nuscenes import filter_boxes

    counts = dict.fromkeys(class_range, 0)
    for gt in gts:
        names, n = np.unique(
            filter_boxes(gt, class_range, is_gt=True).detection_name, return_counts=True
        )
        for name, k in zip(names.tolist(), n.tolist(), strict=True):
            counts[str(name)] += int(k)
    return counts


def predictions_in_range(dts: list[Any], class_range: Mapping[str, float]) -> dict[str, int]:
    """``{"scored_classes": predictions of the protocol's classes, "in_range": those within
    their class's range of the ego}`` over the frames' ``dts`` (EvalBoxes), as
    :func:`~drivestack.eval.detection.nuscenes.filter_boxes` keeps them (the devkit prints
    the same two counts)."""
    from drivestack.eval.detection.nuscenes import filter_boxes

    scored = in_range = 0
    for dt in dts:
        scored += int(np.isin(dt.detection_name, list(class_range)).sum())
        in_range += len(filter_boxes(dt, class_range, is_gt=False).detection_name)
    return {"scored_classes": scored, "in_range": in_range}


#: Below this share of predictions within their class range a nuScenes run is warned about.
MIN_SHARE_IN_RANGE = 0.1


def out_of_range_warning(counts: Mapping[str, int], source: str) -> list[str]:
    """A warning when fewer than :data:`MIN_SHARE_IN_RANGE` of the predictions lie within
    their class range (:func:`predictions_in_range`): boxes written in the LiDAR or ego frame
    instead of the global frame lie ~1 km from the ego's global position, all dropped."""
    scored, in_range = counts["scored_classes"], counts["in_range"]
    if scored == 0 or in_range >= MIN_SHARE_IN_RANGE * scored:
        return []
    return [
        f"{source}: {scored - in_range} of {scored} predictions lie beyond their class's "
        "range of the ego (x-y distance in the global frame) and are not scored: boxes in "
        "the LiDAR or ego frame instead of the global frame?"
    ]


def _as_dict(cfg: Any) -> dict[str, Any]:
    import dataclasses

    return {
        k: (dict(v) if isinstance(v, Mapping) else v) for k, v in dataclasses.asdict(cfg).items()
    }


def enumerate_keys(items: list[Any]) -> Iterable[tuple[str, Any]]:
    return ((str(i), v) for i, v in enumerate(items))


def _regroup(gt: Any) -> Any:
    from dataclasses import replace

    from drivestack.ingest.argoverse2 import CATEGORY_TO_CLASS

    labels = np.array(
        [int(CATEGORY_TO_CLASS.get(c, ObjectClass.UNKNOWN)) for c in gt.category], dtype=np.int64
    )
    names = group_names(labels)
    keep = np.isin(gt.category, list(CLASS_GROUPS))  # group names already
    return replace(gt, category=np.where(keep, gt.category.astype(str), names))


def kitti_protocol_metrics(
    gts: Sequence[Any], dts: Sequence[Any], curves_out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The KITTI 3D object protocol's metrics of :data:`KITTI_CLASSES` as ``drivestack eval
    detection`` reports them (and a KITTI replay's summary: the same dict): the protocol and
    its overlaps, the labels per difficulty with the best AP40 they allow, and the APs
    (:func:`~drivestack.eval.detection.kitti.kitti_eval`; its precision-recall curves added to
    ``curves_out``)."""
    from drivestack.eval.detection.kitti import (
        DEFAULT_MIN_OVERLAPS,
        kitti_eval,
        perfect_ap40,
        valid_gt_counts,
    )

    gt_counts = valid_gt_counts(list(gts), KITTI_CLASSES)
    return {
        "protocol": "kitti_3d_object",
        "protocol_config": {
            "classes": list(KITTI_CLASSES),
            "min_overlaps": DEFAULT_MIN_OVERLAPS.tolist(),
        },
        "labels_per_difficulty": gt_counts,
        # AP40 over 40 labels or fewer is quantised: the best a perfect detector scores
        "perfect_ap40": {
            cls: {d: perfect_ap40(n) for d, n in by_diff.items()}
            for cls, by_diff in gt_counts.items()
        },
        **kitti_eval(
            list(gts),
            list(dts),
            KITTI_CLASSES,
            eval_types=("bbox", "bev", "3d"),
            curves_out=curves_out,
        ),
    }


def write_metrics(path: Path, result: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(strict_dumps(result, indent=2))  # undefined figures as null
