"""Boxes3D: oriented 3D boxes, structure of arrays.

Centre = geometric centre; size = (length along heading, width, height); yaw about +z,
counter-clockwise from +x, in ``[-pi, pi)``. The kernels take boxes as ``(N, 7)`` arrays
``[x, y, z, length, width, height, yaw]`` (:meth:`Boxes3D.to_array7`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from drivestack.core.arrays import is_kernel_float
from drivestack.core.frames import check_frame
from drivestack.core.transforms import SE3, require_single_se3, wrap_angle
from drivestack.core.value_equality import ArrayValueEquality
from drivestack.structures._checks import SAME_FRAME_ATOL as _SAME_FRAME_ATOL
from drivestack.structures._checks import (
    adopt_read_only,
    as_array,
    as_index,
    check_class_labels,
    check_frame_and_time,
    check_move_into,
    check_shape,
    frozen_array,
    parts_of,
)
from drivestack.structures.labels import ObjectClass

#: How far from the identity (rotation entries, metres) a transform into the boxes' own frame
#: may be in :meth:`Boxes3D.transformed`: float32 calibration round trips are ~4e-6 off.
SAME_FRAME_ATOL = _SAME_FRAME_ATOL
#: The most a transform may tilt the z axis in :meth:`Boxes3D.transformed` (boxes turn about
#: z only; a road's grade is under 10 degrees, an axes change such as LiDAR -> camera 90).
MAX_TILT_DEG = 30.0
#: A transform whose R[2, 2] is within this of 1 (z tilted by under ~1.4e-6 rad) turns
#: boxes by its heading alone (:func:`rigid_move_centres_and_yaw`).
_LEVEL_TOL = 1e-12


def _zeros_f() -> np.ndarray:
    return np.zeros(0)


def _zeros_i() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


def rigid_move_centres_and_yaw(
    dst_from_src: SE3, center_m: np.ndarray, yaw_rad: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 3)`` centres and ``(N,)`` yaws of boxes mapped by one rigid transform: centres
    moved; the yaw is the heading of each box's forward axis ``(cos yaw, sin yaw, 0)`` after
    the rotation, read in the destination's xy plane, which for a transform about z alone is
    the yaw plus the transform's heading, wrapped (taken so, bit for bit, when the transform
    tilts z by less than about 1e-6 rad). The rule of :meth:`Boxes3D.transformed`, for hot
    paths that hold box arrays rather than a ``Boxes3D``."""
    rot = dst_from_src.rotation
    if rot.ndim > 2:  # a batch of one transform is that transform (as float(yaw_rad) took it)
        if rot.size != 9:
            raise ValueError(
                f"dst_from_src must be a single SE3, got a batch of shape {rot.shape[:-2]}"
            )
        rot = rot.reshape(3, 3)
    if abs(float(rot[2, 2]) - 1.0) <= _LEVEL_TOL:
        heading_t = float(np.reshape(dst_from_src.yaw_rad, -1)[0])
        return dst_from_src.apply(center_m), wrap_angle(yaw_rad + heading_t)
    yaw = np.asarray(yaw_rad, dtype=np.float64)
    c, s = np.cos(yaw), np.sin(yaw)
    heading = np.arctan2(rot[1, 0] * c + rot[1, 1] * s, rot[0, 0] * c + rot[0, 1] * s)
    return dst_from_src.apply(center_m), wrap_angle(heading)


def _integer_labels(label: npt.ArrayLike, n: int) -> np.ndarray:
    """:meth:`Boxes3D.from_array7`'s ``label`` as int64, refusing non-whole floats (which a
    cast would truncate: 1.7 -> 1) with a ``ValueError`` naming the row."""
    where = "Boxes3D.from_array7 label"
    arr = as_array(label, where, (n,))
    if arr.dtype.kind == "f" and arr.size:
        whole = np.isfinite(arr) & (arr == np.trunc(arr))
        if not whole.all():
            bad = int(np.flatnonzero(~whole.reshape(-1))[0])
            value = float(arr.reshape(-1)[bad])
            raise ValueError(f"{where} must hold integer class ids, got {value} at row {bad}")
    return as_array(arr, where, (n,), np.int64)


def _class_name(label: int) -> str:
    try:
        return ObjectClass(label).name.lower()
    except ValueError:
        return str(label)


@dataclass(frozen=True, eq=False)
class Boxes3D(ArrayValueEquality):
    """N oriented boxes in ``frame`` at ``timestamp_ns`` (N may be 0).

    Attributes:
        center_m: ``(N, 3)`` float64 geometric centres.
        size_m: ``(N, 3)`` float64 ``(length, width, height)``, non-negative.
        yaw_rad: ``(N,)`` float64 heading, wrapped into ``[-pi, pi)``. Whether it is a
            heading (front known) or only the direction of the box's long axis (modulo pi)
            depends on the producer: labels and tracks carry headings; boxes fitted to one
            LiDAR scan's clusters (:class:`~drivestack.perception.lidar.detector.LidarDetector`)
            know the axis only, as front and back look alike in one scan.
        score: ``(N,)`` float64 confidence, higher = more confident (1.0 for labels). Any
            finite value is allowed, not only [0, 1]: the built-in LiDAR detector calibrates
            its scores to [0, 1], but other detectors may not (the AB3DMOT-format
            PointRCNN detections carry raw network scores, often outside [0, 1]); compare scores
            of one source only.
        label: ``(N,)`` int64 class ids, each an
            :class:`~drivestack.structures.labels.ObjectClass` value (``UNKNOWN`` = 0 for
            classes outside the list; other integers are refused).
        velocity_mps: ``(N, 2)`` float64 planar velocity, its components along ``frame``'s x
            and y axes (zeros if unknown). What it is measured against (over the ground, or
            relative to the moving ego) depends on the producer, which documents it (the
            tracker does); :meth:`transformed` rotates it as a free vector, adding no motion of
            the frames themselves.

    Every field is converted on construction: the floats to float64 from any real dtype
    (int, float16, float32: exact) or array-like (lists, CPU tensors; a tensor that
    requires grad is refused, detach it), ``label`` to int64 from integers.
    """

    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: np.ndarray
    frame: str
    timestamp_ns: int = 0
    score: np.ndarray = field(default_factory=_zeros_f)
    label: np.ndarray = field(default_factory=_zeros_i)
    velocity_mps: np.ndarray = field(default_factory=_zeros_f)

    def __post_init__(self) -> None:
        check_frame_and_time(self)
        center = frozen_array(self, "center_m", (None, 3), dtype=np.float64)
        n = center.shape[0]
        size = frozen_array(self, "size_m", (n, 3), dtype=np.float64, rows_of="center_m")
        if n and np.any(size < 0):
            raise ValueError(
                f"Boxes3D.size_m must be non-negative (row {int(np.argwhere(size < 0)[0, 0])})"
            )
        yaw = frozen_array(self, "yaw_rad", (n,), dtype=np.float64, rows_of="center_m")
        wrapped = wrap_angle(yaw)
        wrapped.setflags(write=False)
        object.__setattr__(self, "yaw_rad", wrapped)
        for name, default in (("score", 1.0), ("label", 0)):
            if np.asarray(getattr(self, name)).size == 0 and n:
                object.__setattr__(self, name, np.full(n, default))
        if np.asarray(self.velocity_mps).size == 0 and n:
            object.__setattr__(self, "velocity_mps", np.zeros((n, 2)))
        frozen_array(self, "score", (n,), dtype=np.float64, rows_of="center_m")
        label = frozen_array(self, "label", (n,), dtype=np.int64, kinds="iu", rows_of="center_m")
        check_class_labels(label, "Boxes3D.label")
        frozen_array(self, "velocity_mps", (n, 2), dtype=np.float64, rows_of="center_m")

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def empty(cls, frame: str, timestamp_ns: int = 0) -> Boxes3D:
        return cls(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros(0), frame, timestamp_ns)

    @classmethod
    def from_array7(
        cls,
        boxes: npt.ArrayLike,
        frame: str,
        timestamp_ns: int = 0,
        *,
        score: npt.ArrayLike | None = None,
        label: npt.ArrayLike | None = None,
        velocity_mps: npt.ArrayLike | None = None,
    ) -> Boxes3D:
        """From ``(N, 7)`` ``[x, y, z, l, w, h, yaw]`` (an empty input of any shape gives no
        boxes, a ``(7,)`` row one box). ``label``: ``(N,)`` integer class ids (a float array
        of whole numbers, e.g. ``2.0``, is taken as those integers).

        Raises:
            ValueError: ``boxes`` has another shape or is not numeric, ``label`` holds a
                number that is not a whole one (e.g. ``1.7``), or a field is invalid (see the
                class).
        """
        where = "Boxes3D.from_array7 boxes"
        arr = as_array(boxes, where, (None, 7), dtype=np.float64)
        if arr.size == 0 or arr.shape == (7,):
            arr = arr.reshape(-1, 7)
        check_shape(arr, where, (None, 7))
        n = arr.shape[0]
        return cls(
            arr[:, 0:3],
            arr[:, 3:6],
            arr[:, 6],
            frame,
            timestamp_ns,
            score=as_array([] if score is None else score, "Boxes3D.from_array7 score", (n,)),
            label=_integer_labels([] if label is None else label, n),
            velocity_mps=as_array(
                [] if velocity_mps is None else velocity_mps,
                "Boxes3D.from_array7 velocity_mps",
                (n, 2),
            ),
        )

    @classmethod
    def unchecked(
        cls,
        center_m: np.ndarray,
        size_m: np.ndarray,
        yaw_rad: np.ndarray,
        frame: str,
        timestamp_ns: int,
        score: np.ndarray,
        label: np.ndarray,
        velocity_mps: np.ndarray,
    ) -> Boxes3D:
        """Boxes from arrays a stage derived itself from validated inputs, without the checks.

        For per-frame hot paths (a tracker's outputs): the arguments must already obey every
        rule of the class (float64 ``(N, 3)`` centres, ``(N, 3)`` non-negative sizes, ``(N,)``
        yaw already wrapped into ``[-pi, pi)``, ``(N,)`` scores, int64 ``(N,)`` labels (each an
        ``ObjectClass`` value),
        ``(N, 2)`` velocities, all finite; a frame id and an ``int`` timestamp). The arrays are
        kept as they are (no copy) and made read-only: the caller hands them over.
        """
        boxes = object.__new__(cls)
        adopt_read_only(
            boxes,
            center_m=center_m,
            size_m=size_m,
            yaw_rad=yaw_rad,
            score=score,
            label=label,
            velocity_mps=velocity_mps,
        )
        object.__setattr__(boxes, "frame", frame)
        object.__setattr__(boxes, "timestamp_ns", timestamp_ns)
        return boxes

    # -- access -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.center_m.shape[0])

    def __repr__(self) -> str:
        """A one-line summary (count, frame, time, boxes per class), never the arrays."""
        labels, counts = np.unique(self.label, return_counts=True)
        per_class = ", ".join(
            f"{_class_name(int(label))}: {int(count)}"
            for label, count in zip(labels, counts, strict=True)
        )
        moving = int(np.count_nonzero(np.any(self.velocity_mps != 0, axis=1))) if len(self) else 0
        return (
            f"Boxes3D(n={len(self)}, frame={self.frame!r}, timestamp_ns={self.timestamp_ns}, "
            f"classes={{{per_class}}}, nonzero_velocity={moving})"
        )

    def to_array7(self, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
        """``(N, 7)`` ``[x, y, z, l, w, h, yaw]`` for the kernels, float64 unless ``dtype`` says
        otherwise (the kernels want one dtype: ``to_array7(dtype=cloud.xyz_m.dtype)`` pairs
        the boxes with a float32 point cloud).

        Raises:
            ValueError: ``dtype`` is not float32 or float64 (an integer dtype would truncate,
                float16 is no kernel dtype).
        """
        target = np.dtype(dtype)
        if not is_kernel_float(target):
            raise ValueError(f"Boxes3D.to_array7 dtype must be float32 or float64, got {target}")
        array = np.concatenate([self.center_m, self.size_m, self.yaw_rad[:, None]], axis=1)
        return array if target == array.dtype else array.astype(target)

    def select(self, selection: npt.ArrayLike | slice) -> Boxes3D:
        """Subset by boolean mask, integer indices or a slice."""
        idx = as_index(selection, len(self), "Boxes3D.select")
        return replace(
            self,
            center_m=self.center_m[idx],
            size_m=self.size_m[idx],
            yaw_rad=self.yaw_rad[idx],
            score=self.score[idx],
            label=self.label[idx],
            velocity_mps=self.velocity_mps[idx],
        )

    def transformed(self, dst_from_src: SE3, dst_frame: str) -> Boxes3D:
        """Boxes mapped by a single rigid transform; yaw gains the transform's heading.

        Boxes stay yaw-only: the transform should be (close to) a rotation about z, as
        between ego, LiDAR and world frames on a level road. ``velocity_mps`` is rotated as a
        free vector (no translation, and the frames' own motion is not added: a velocity
        relative to a moving ego stays relative to it). Valid boxes and a valid transform
        give valid boxes, so the result is built without re-checking (:meth:`unchecked`).

        Args:
            dst_from_src: one :class:`~drivestack.core.transforms.SE3` from ``self.frame`` to
                ``dst_frame``.
            dst_frame: the frame id of the result; ``self.frame`` only with the identity
                (within :data:`SAME_FRAME_ATOL`, 1e-5 in rotation entries and metres: float32
                calibration products such as ``T @ T.inverse()`` pass): boxes moved but still
                named in their old frame are boxes transformed twice, or not at all, by the
                next step that reads the name.

        Raises:
            TypeError: ``dst_from_src`` is not an ``SE3`` (a 4x4 matrix: ``SE3.from_matrix``).
            ValueError: ``dst_from_src`` is a batch of transforms, ``dst_frame`` is invalid,
                or ``dst_frame`` is ``self.frame`` and ``dst_from_src`` is not the identity.
        """
        require_single_se3(dst_from_src, "Boxes3D.transformed dst_from_src")
        check_move_into(self, dst_from_src, dst_frame)
        tilt = float(np.degrees(np.arccos(np.clip(dst_from_src.rotation[2, 2], -1.0, 1.0))))
        if tilt > MAX_TILT_DEG:  # boxes turn about z only: their yaw cannot follow this
            raise ValueError(
                f"Boxes3D.transformed: dst_from_src tilts the z axis by {tilt:.1f} degrees "
                f"(at most {MAX_TILT_DEG:g}): boxes rotate about z only, so their yaw and "
                "extents cannot follow (a LiDAR -> camera axes change? keep boxes in z-up "
                "frames, as the KITTI label writer does)"
            )
        center_m, yaw_rad = rigid_move_centres_and_yaw(dst_from_src, self.center_m, self.yaw_rad)
        return Boxes3D.unchecked(
            center_m,
            self.size_m,
            yaw_rad,
            check_frame(dst_frame, argument="Boxes3D.transformed dst_frame"),
            self.timestamp_ns,
            self.score,
            self.label,
            dst_from_src.rotate_xy(self.velocity_mps),
        )

    @staticmethod
    def concatenate(parts: Iterable[Boxes3D]) -> Boxes3D:
        """Join boxes of one frame and one time (the tracker predicts by ``timestamp_ns``);
        ``parts`` any iterable (a generator, a dict's values).

        Raises:
            ValueError: no parts, or parts in different frames or at different timestamps.
            TypeError: a part that is not a ``Boxes3D`` (naming its index).
        """
        parts = parts_of(parts, Boxes3D, "Boxes3D.concatenate")
        frames = {b.frame for b in parts}
        if len(frames) != 1:
            raise ValueError(f"Boxes3D.concatenate: boxes are in different frames {sorted(frames)}")
        times = {b.timestamp_ns for b in parts}
        if len(times) != 1:
            raise ValueError(
                f"Boxes3D.concatenate: boxes are at different timestamps_ns {sorted(times)}; "
                "join boxes of one time only"
            )
        return Boxes3D(
            np.concatenate([b.center_m for b in parts]),
            np.concatenate([b.size_m for b in parts]),
            np.concatenate([b.yaw_rad for b in parts]),
            parts[0].frame,
            parts[0].timestamp_ns,
            score=np.concatenate([b.score for b in parts]),
            label=np.concatenate([b.label for b in parts]),
            velocity_mps=np.concatenate([b.velocity_mps for b in parts]),
        )


def require_boxes3d(value: object, argument: str) -> None:
    """``TypeError`` ``"<argument> must be a Boxes3D, got <type>"`` unless ``value`` is a
    :class:`Boxes3D` (pointing ``Tracks`` to ``tracks.boxes``); ``argument`` names it, e.g.
    ``"Observation.agents"`` or ``"lane_following_forecast: agents"``."""
    if not isinstance(value, Boxes3D):
        hint = "; for Tracks pass tracks.boxes" if hasattr(value, "track_id") else ""
        raise TypeError(f"{argument} must be a Boxes3D, got {type(value).__name__}{hint}")
