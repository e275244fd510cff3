"""Detections2D: axis-aligned image boxes from a camera detector."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from drivestack.core.value_equality import ArrayValueEquality
from drivestack.structures._checks import (
    as_index,
    check_class_labels,
    check_frame_and_time,
    frozen_array,
)


@dataclass(frozen=True, eq=False)
class Detections2D(ArrayValueEquality):
    """N image-plane boxes of one camera image.

    Attributes:
        box_xyxy_px: ``(N, 4)`` float64 ``(x1, y1, x2, y2)`` pixels, ``x1 <= x2``, ``y1 <= y2``.
        score: ``(N,)`` float64; label: ``(N,)`` int64 class ids, each an
            :class:`~drivestack.structures.labels.ObjectClass` value (``UNKNOWN`` = 0, the
            default, for none; other integers are refused).
        frame: the camera's frame id; timestamp_ns: the image time.
    """

    box_xyxy_px: np.ndarray
    frame: str
    timestamp_ns: int = 0
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    label: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        check_frame_and_time(self)
        boxes = frozen_array(self, "box_xyxy_px", (None, 4), dtype=np.float64)
        n = boxes.shape[0]
        if n and (np.any(boxes[:, 2] < boxes[:, 0]) or np.any(boxes[:, 3] < boxes[:, 1])):
            bad = int(np.flatnonzero((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1]))[0])
            raise ValueError(
                f"Detections2D.box_xyxy_px row {bad} has x2 < x1 or y2 < y1: {boxes[bad].tolist()}"
            )
        if np.asarray(self.score).size == 0 and n:
            object.__setattr__(self, "score", np.ones(n))
        if np.asarray(self.label).size == 0 and n:
            object.__setattr__(self, "label", np.zeros(n, dtype=np.int64))
        frozen_array(self, "score", (n,), dtype=np.float64)
        label = frozen_array(self, "label", (n,), dtype=np.int64, kinds="iu")
        check_class_labels(label, "Detections2D.label")

    def __len__(self) -> int:
        return int(self.box_xyxy_px.shape[0])

    def select(self, selection: npt.ArrayLike) -> Detections2D:
        idx = as_index(selection, len(self), "Detections2D.select")
        return replace(
            self, box_xyxy_px=self.box_xyxy_px[idx], score=self.score[idx], label=self.label[idx]
        )
