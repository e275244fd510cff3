"""KITTI tracking sequences as drivestack logs, with everything the KITTI protocols need.

:func:`kitti_tracking_to_log` writes the Velodyne scans of one KITTI tracking sequence into a
drivestack log (:mod:`drivestack.replay.log_format`), one frame per scan at 10 Hz
(``t = frame index x 100 ms``, the timestamps of ``drivestack eval detection``'s loader):

=========================  ============================  =====================================
topic                      schema                        content
=========================  ============================  =====================================
``/lidar/lidar``           ``foxglove.PointCloud``       the scan (``x y z intensity`` float32)
``/tf``                    ``foxglove.FrameTransforms``  ``world -> ego`` from the ORB-SLAM3
                                                         ego poses (when the file exists) and
                                                         ``ego -> lidar`` (identity: the ego
                                                         frame is the Velodyne frame)
``/labels``                ``foxglove.SceneUpdate``      LiDAR-frame label boxes (no DontCare)
``/labels/kitti``          ``drivestack.KittiLabels``    the frame's ``label_02`` rows as
                                                         written: type, track id, truncation,
                                                         occlusion, alpha, 2D box, camera_rect
                                                         3D box, DontCare regions included
``/calibration/kitti``     ``drivestack.KittiCalib``     the calib file's matrices, exactly
=========================  ============================  =====================================

Floats go through JSON as shortest round-trip reprs, so rows and matrices read back bit for bit
(:func:`read_kitti_channels`), and a replay scores detections and tracks with the same KITTI
functions ``drivestack eval`` uses (:mod:`drivestack.replay.kitti_score`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.frames import LIDAR
from drivestack.ingest.kitti_calib import KittiCalib
from drivestack.ingest.kitti_format import KittiObjects
from drivestack.replay.log_format import KITTI_CALIB, KITTI_LABELS, LogWriter

if TYPE_CHECKING:
    from drivestack.replay.dataset_log import LogWritten

KITTI_LABELS_TOPIC = "/labels/kitti"
KITTI_CALIB_TOPIC = "/calibration/kitti"
KITTI_FRAME_PERIOD_NS = 100_000_000  # 10 Hz
#: image_02 size of KITTI tracking sequence 0000 (the eval's ``KITTI_TRACKING_IMAGE_WH``).
KITTI_IMAGE_WH = (1242, 375)
_MATRICES = ("P0", "P1", "P2", "P3")
#: Numbers per row of the label columns that hold one vector per row.
_ROW_WIDTHS = {"bbox_xyxy_px": 4, "dimensions_hwl_m": 3, "location_m": 3}


# -- messages -------------------------------------------------------------------------------
def kitti_labels_message(
    rows: KittiObjects,
    *,
    timestamp_ns: int,
    sequence: str,
    frame_index: int,
    image_size_wh: tuple[int, int],
) -> dict[str, Any]:
    """``drivestack.KittiLabels`` of one frame's label rows (column lists, scores left out;
    the 2D boxes, sizes and locations flat, row-major: 4, 3 and 3 numbers per row)."""
    return {
        "timestamp_ns": int(timestamp_ns),
        "sequence": sequence,
        "frame_index": int(frame_index),
        "image_size_wh": [int(v) for v in image_size_wh],
        "objects": {
            "type": [str(t) for t in rows.type_name],
            "track_id": [int(v) for v in rows.track_id],
            "truncated": [float(v) for v in rows.truncation],
            "occluded": [int(v) for v in rows.occlusion],
            "alpha_rad": [float(v) for v in rows.alpha_rad],
            "bbox_xyxy_px": rows.box2d_xyxy_px.reshape(-1).tolist(),
            "dimensions_hwl_m": rows.hwl_m.reshape(-1).tolist(),
            "location_m": rows.location_m.reshape(-1).tolist(),
            "rotation_y_rad": [float(v) for v in rows.rotation_y_rad],
        },
    }


@dataclass(frozen=True)
class KittiFrameLabels:
    """One frame's KITTI label rows as read back from a log (``rows.score`` is NaN)."""

    timestamp_ns: int
    sequence: str
    frame_index: int
    image_size_wh: tuple[int, int]
    rows: KittiObjects


def _field(msg: dict[str, Any], key: str, prefix: str = "") -> Any:
    """``msg[key]``; a DataError naming the field when it is missing."""
    if not isinstance(msg, dict) or key not in msg:
        raise DataError("missing", field=prefix + key)
    return msg[key]


def _finite(values: Any, field: str, dtype: type = np.float64) -> np.ndarray:
    """``values`` as an array of ``dtype``; a DataError naming the field (and the entry) when
    they are not numbers, one is null, NaN or infinite (nothing a log could be written with),
    or, for an integer ``dtype``, one is not a whole number or out of its range."""
    try:
        numbers = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise DataError(f"not numbers ({exc})", field=field) from None

    def refuse(bad: np.ndarray, why: str) -> None:
        index = tuple(np.argwhere(bad)[0]) if numbers.ndim else ()
        where = "".join(f"[{i}]" for i in index)
        raise DataError(why.format(numbers[index]), field=field + where)

    if not np.isfinite(numbers).all():
        nulls = np.vectorize(lambda v: v is None, otypes=[bool])(np.asarray(values, dtype=object))
        if nulls.any():
            refuse(nulls, "null, not a number")
        refuse(~np.isfinite(numbers), "{} is not a finite number")
    if dtype is np.float64:
        return numbers
    if (numbers != np.round(numbers)).any():
        refuse(numbers != np.round(numbers), "{} is not a whole number")
    info = np.iinfo(dtype)
    if ((numbers < info.min) | (numbers > info.max)).any():
        refuse(
            (numbers < info.min) | (numbers > info.max), f"{{}} is out of the {info.dtype} range"
        )
    try:
        return np.asarray(values, dtype=dtype)
    except OverflowError:
        raise DataError(f"out of the {info.dtype} range", field=field) from None


def decode_kitti_labels(msg: dict[str, Any]) -> KittiFrameLabels:
    """Raises:
    DataError: a missing field, a number that is null, NaN or infinite, or an integer
        field that is not a whole number or out of range (naming the field).
    ValueError: columns of different lengths."""
    objs = _field(msg, "objects")
    n = len(_field(objs, "type", "objects."))
    for key in ("track_id", "truncated", "occluded", "alpha_rad", "rotation_y_rad"):
        length = len(_field(objs, key, "objects."))
        if length != n:
            raise ValueError(f"objects.{key} has {length} entries, objects.type has {n}")
    for key, width in _ROW_WIDTHS.items():
        values = _field(objs, key, "objects.")
        # flat row-major (this format), or one list per row (logs written before)
        count = len(values) if values and isinstance(values[0], list) else len(values) / width
        if count != n:
            raise ValueError(
                f"objects.{key} has {len(values)} entries ({width} numbers per row, flat, or "
                f"one list per row), objects.type has {n}"
            )

    def column(key: str, dtype: type = np.float64) -> np.ndarray:
        return _finite(objs[key], f"objects.{key}", dtype)

    frame_index = int(_finite(_field(msg, "frame_index"), "frame_index", np.int64))
    rows = KittiObjects(
        frame=np.full(n, frame_index),
        track_id=column("track_id", np.int64),
        type_name=np.asarray(objs["type"], dtype=str),
        truncation=column("truncated"),
        occlusion=column("occluded", np.int64),
        alpha_rad=column("alpha_rad"),
        box2d_xyxy_px=column("bbox_xyxy_px").reshape(n, 4),
        hwl_m=column("dimensions_hwl_m").reshape(n, 3),
        location_m=column("location_m").reshape(n, 3),
        rotation_y_rad=column("rotation_y_rad"),
        score=np.full(n, np.nan),
    )
    size = _finite(_field(msg, "image_size_wh"), "image_size_wh", np.int64)
    if size.shape != (2,):
        raise DataError(f"expected [width, height], got {size.tolist()}", field="image_size_wh")
    stamp = int(_finite(_field(msg, "timestamp_ns"), "timestamp_ns", np.int64))
    if stamp < 0:  # a log time: the labels are written back at it
        raise DataError(f"{stamp} is negative", field="timestamp_ns")
    w, h = (int(v) for v in size)
    return KittiFrameLabels(stamp, str(_field(msg, "sequence")), frame_index, (w, h), rows)


def kitti_calib_message(calib: KittiCalib, *, timestamp_ns: int, sequence: str) -> dict[str, Any]:
    """``drivestack.KittiCalib``: the calib file's matrices, row-major (no ``Tr_imu_to_velo``
    when the file has none; logs written before hold ``null`` there)."""
    message: dict[str, Any] = {
        "timestamp_ns": int(timestamp_ns),
        "sequence": sequence,
        "lidar_frame": LIDAR,
        **{k: [float(v) for v in calib.P[k].reshape(-1)] for k in _MATRICES if k in calib.P},
        "R0_rect": [float(v) for v in calib.R0_rect.reshape(-1)],
        "Tr_velo_to_cam": [float(v) for v in calib.Tr_velo_to_cam.reshape(-1)],
    }
    if calib.Tr_imu_to_velo is not None:
        message["Tr_imu_to_velo"] = [float(v) for v in calib.Tr_imu_to_velo.reshape(-1)]
    return message


def decode_kitti_calib(msg: dict[str, Any]) -> KittiCalib:
    """Raises:
    DataError: a missing matrix, or one that is not ``rows x cols`` finite numbers (naming
        the field)."""

    def matrix(key: str, rows: int, cols: int) -> np.ndarray:
        values = _finite(_field(msg, key), key)
        if values.size != rows * cols:
            raise DataError(f"expected {rows * cols} numbers, got {values.size}", field=key)
        return values.reshape(rows, cols)

    imu = msg.get("Tr_imu_to_velo")
    return KittiCalib(
        P={k: matrix(k, 3, 4) for k in _MATRICES if k in msg},
        R0_rect=matrix("R0_rect", 3, 3),
        Tr_velo_to_cam=matrix("Tr_velo_to_cam", 3, 4),
        Tr_imu_to_velo=None if imu is None else matrix("Tr_imu_to_velo", 3, 4),
    )


@dataclass(frozen=True)
class KittiChannels:
    """The KITTI channels of a log: calibration and label rows keyed by timestamp."""

    calib: KittiCalib
    labels: dict[int, KittiFrameLabels]


def read_kitti_channels(log_path: str | Path) -> KittiChannels | None:
    """``/calibration/kitti`` and ``/labels/kitti`` of a drivestack log; None when it has none.

    A log cut short or with corrupt chunks (a
    :class:`~drivestack.replay.log_reader.TruncatedLogError`) gives the labels that could be
    read (the error when there are none).

    Raises:
        DataError: labels without a calibration, or a message that does not decode (naming
            the topic and message index, and the field: one missing, or a number NaN or
            infinite, which no log could be written with).
    """
    from drivestack.replay.log_reader import LogReader, TruncatedLogError

    reader = LogReader(log_path)
    calib: KittiCalib | None = None
    labels: dict[int, KittiFrameLabels] = {}
    index: dict[str, int] = {}
    try:
        for topic, _, _, msg in reader.raw_messages([KITTI_CALIB_TOPIC, KITTI_LABELS_TOPIC]):
            i = index[topic] = index.get(topic, -1) + 1
            try:
                if topic == KITTI_CALIB_TOPIC:
                    calib = calib or decode_kitti_calib(msg)
                else:
                    frame = decode_kitti_labels(msg)
                    labels[frame.timestamp_ns] = frame
            except DataError as exc:  # a decoder's own error: the field and what is wrong
                raise DataError(
                    exc.reason, path=str(log_path), record=f"{topic} #{i}", field=exc.field
                ) from None
            except (KeyError, ValueError, TypeError) as exc:
                raise DataError(
                    f"cannot decode {type(exc).__name__}: {exc}",
                    path=str(log_path),
                    record=f"{topic} #{i}",
                ) from None
    except TruncatedLogError:
        if not labels:
            raise
        # a log cut short or with corrupt chunks: the labels that were read score the frames
        # that replay (the replay reports what the input lost)
    if not labels:
        return None
    if calib is None:
        raise DataError(
            f"log has {KITTI_LABELS_TOPIC} but no {KITTI_CALIB_TOPIC}",
            path=str(log_path),
            record=KITTI_CALIB_TOPIC,
        )
    return KittiChannels(calib, labels)


class KittiChannelCopy:
    """Copies a log's KITTI channels into another log along with its frames (a replay's
    output keeps its input's labels): :meth:`start` writes the calibration (stamped at the
    first label time), :meth:`through` the label rows up to a frame's time (call it after
    writing each frame: the rows come with their frame, not all before the first one, so
    chunks do not all overlap and a streaming reader gets each frame's rows with it) and
    :meth:`rest` the rows not written yet (those after the last frame written).
    """

    def __init__(self, channels: KittiChannels) -> None:
        self.channels = channels
        self._times = sorted(channels.labels)
        self._next = 0  # index in _times of the first row not written

    def start(self, writer: LogWriter) -> None:
        if not self._times:
            return
        first = self._times[0]
        sequence = self.channels.labels[first].sequence
        message = kitti_calib_message(self.channels.calib, timestamp_ns=first, sequence=sequence)
        writer.write(KITTI_CALIB_TOPIC, KITTI_CALIB, first, message)

    def through(self, writer: LogWriter, timestamp_ns: int) -> None:
        """The label rows at times up to ``timestamp_ns`` not written yet."""
        while self._next < len(self._times) and self._times[self._next] <= timestamp_ns:
            t = self._times[self._next]
            f = self.channels.labels[t]
            message = kitti_labels_message(
                f.rows,
                timestamp_ns=t,
                sequence=f.sequence,
                frame_index=f.frame_index,
                image_size_wh=f.image_size_wh,
            )
            writer.write(KITTI_LABELS_TOPIC, KITTI_LABELS, t, message)
            self._next += 1

    def rest(self, writer: LogWriter) -> None:
        """The label rows not written yet."""
        if self._times:
            self.through(writer, self._times[-1])


# -- converter ------------------------------------------------------------------------------
def kitti_tracking_to_log(
    root: str | Path,
    out: str | Path,
    *,
    sequence: str = "0000",
    image_size_wh: tuple[int, int] = KITTI_IMAGE_WH,
    progress: Callable[[Iterable[int]], Iterable[int]] | None = None,
    first_frame: int | None = None,
    last_frame: int | None = None,
) -> LogWritten:
    """Write every scan of one KITTI tracking sequence into the log ``out`` (only frames
    ``first_frame`` to ``last_frame``, both included, when given: every one of them must
    have a scan, :func:`~drivestack.replay.dataset_log.select_frames`).

    ``root`` is a KITTI tracking folder with ``training/{label_02,calib}``, the scans in any
    layout the ingest reads (:data:`~drivestack.ingest.kitti_tracking.KITTI_TRACKING_SCAN_LAYOUTS`:
    KITTI's own ``velodyne/<seq>/*.bin``, the shared data's ``velodyne_pcd_xz/<seq>/*.pcd.xz``)
    and, optionally, ``training/ego_poses_orbslam3_stereo`` (estimated ego poses; frames have
    no ``world -> ego`` without it). ``progress`` wraps the frame numbers written. Returns what
    was written (frames, first and last frame number, ...).

    Raises:
        DataError: no scans (naming the folders looked in), a frame range the sequence does
            not have (naming the frames it has), or a missing / malformed label,
            calibration or pose file; all before ``out`` is created.
    """
    from drivestack.ingest.kitti_tracking import (
        KittiTrackingSequence,
        kitti_tracking_scan_path,
        list_kitti_tracking_frames,
    )
    from drivestack.replay.dataset_log import KITTI_TRACKING_TO_LOG, LogWritten, select_frames

    root = Path(root)
    seq = KittiTrackingSequence(root, sequence)
    available = list_kitti_tracking_frames(root, seq.name)
    if not available:  # the error naming the folders looked in and the sequences with scans
        kitti_tracking_scan_path(root, seq.name, -1)
    scan_dir = kitti_tracking_scan_path(root, seq.name, available[0]).parent
    positions = select_frames(
        available, first_frame, last_frame, what=f"sequence {seq.name}", path=str(scan_dir)
    )
    indices = [available[k] for k in positions]
    # read (and check) the per-sequence files once, before the log is created; the labels
    # are required here (a frame of a sequence without label_02 would have no labels)
    calib, _, camera_poses = seq.calib, seq.label_rows, seq.camera_poses
    written = LogWritten(len(indices), indices[0], indices[-1])
    with LogWriter(
        out,
        config={
            "source": "kitti_tracking",
            "sequence": sequence,
            "frames": [indices[0], indices[-1]],
            "ego_poses": str(seq.pose_path) if camera_poses is not None else None,
            "image_size_wh": list(image_size_wh),
        },
        command=KITTI_TRACKING_TO_LOG,
        inputs=[str(scan_dir), str(seq.calib_path)],
    ) as writer:
        first_ns = indices[0] * KITTI_FRAME_PERIOD_NS
        writer.write(
            KITTI_CALIB_TOPIC,
            KITTI_CALIB,
            first_ns,
            kitti_calib_message(calib, timestamp_ns=first_ns, sequence=sequence),
        )
        for index in progress(indices) if progress else indices:
            frame = seq.frame(index, load_images=False)
            writer.sensor_frame(frame)
            written.count(frame)
            writer.write(
                KITTI_LABELS_TOPIC,
                KITTI_LABELS,
                frame.timestamp_ns,
                kitti_labels_message(
                    seq.frame_rows(index),
                    timestamp_ns=frame.timestamp_ns,
                    sequence=sequence,
                    frame_index=index,
                    image_size_wh=image_size_wh,
                ),
            )
    return written
