"""The KITTI 3D-MOT evaluation protocol as AB3DMOT's evaluator implements it.

AB3DMOT (``evaluation/evaluate_kitti3dmot.py`` of 2020, ``scripts/KITTI/evaluate.py`` of 2022,
both extensions of the KITTI tracking devkit) evaluates one class at a time:

- ground truth rows of the class *and* its neighbouring class (Van for Car, Person_sitting for
  Pedestrian, matched by substring of the type name) plus DontCare regions are loaded;
- per frame, ground truth and tracker boxes are matched by the Hungarian method on
  ``1 - IoU_3D``, pairs with ``1 - IoU > 1 - min_overlap`` are gated out;
- ground truth that is truncated (> ``max_truncation``), occluded (> ``max_occlusion``) or of the
  neighbouring class is *ignored* (neither TP nor FN; an ignored match still counts in TP for
  recall/precision/MOTP, as the devkit does);
- unmatched tracker boxes of the neighbouring class, 2D height <= ``min_height_px``, or whose
  2D box lies more than ``dontcare_ioa`` inside a DontCare region are ignored. "Matched" means
  matched in *any* evaluation pass so far (the devkit keeps a ``valid`` flag on the objects
  across thresholds), which this implementation reproduces;
- tracks are scored by their mean score over the sequence; the 40 recall thresholds come from
  the scores of the true positives; sMOTA/AMOTA/AMOTP average over them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: class -> (type names loaded, neighbouring type ignored). Matching is by substring of the
#: lower-cased type, as in the devkit (so "Person" does not match "person_sitting").
KITTI_CLASS_RULES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "car": (("car", "van"), "van"),
    "pedestrian": (("pedestrian", "person_sitting"), "person_sitting"),
    "cyclist": (("cyclist",), None),
}

#: class -> ground-truth type (lower case, exact) that TrackEval's KITTI preprocessing, and so
#: this protocol's HOTA, treats as a distractor: a tracker box tied to one is removed, the row
#: itself is never a miss. KITTI tracking spells people sitting ``Person``, which the
#: devkit's substring ``person_sitting`` never matches, so its CLEAR figures do not load
#: those rows at all (a box on one is a false positive there) while TrackEval's HOTA does.
HOTA_DISTRACTOR_TYPES: dict[str, str] = {"pedestrian": "person"}


#: HOTA preprocessing threshold per similarity: TrackEval's KITTI rule ties a tracker box to a
#: ground-truth box at 2D IoU >= 0.5; with 3D IoU this protocol uses AB3DMOT's 0.25.
HOTA_MATCH_THRESHOLDS = {"iou_3d": 0.25, "iou_2d": 0.5}

#: metrics.json key of a class's CLEAR figures (``sAMOTA``, ``AMOTA``, ``AMOTP``, ``best``)
#: without the devkit's per-pass score re-averaging
#: (:func:`~drivestack.eval.tracking.clear.remean`; :data:`~drivestack.eval.tracking.kitti.
#: REMEAN_NOTE` says what a difference means).
WITHOUT_REMEAN_KEY = "clear_without_devkit_remean"
#: Points (percent) by which sAMOTA, AMOTA or best-pass MOTA must differ from the devkit's
#: figures for a table (``eval tracking``, ``drivestack report``) to show the class's row
#: without the re-averaging.
REMEAN_SHOWN_ABOVE_POINTS = 0.5


@dataclass(frozen=True)
class KittiMotProtocol:
    """Parameters of the KITTI 3D-MOT protocol (defaults = AB3DMOT's evaluator, 3D IoU 0.25).

    Attributes:
        min_overlap: IoU threshold of a true positive (0.25, 0.5 or 0.7 in AB3DMOT's tables).
        similarity: ``"iou_3d"`` (3D MOT) or ``"iou_2d"`` (image boxes, the 2D MOT protocol).
        max_truncation / max_occlusion: ground truth beyond these is ignored.
        min_height_px: unmatched tracker boxes at most this tall (2D) are ignored.
        dontcare_ioa: unmatched tracker boxes covered more than this by a DontCare box are ignored.
        num_sample_points: 41 -> 40 recall thresholds (the first, recall 0, is dropped).
        hota_match_threshold: similarity above which a tracker box is tied to a ground truth
            box in the HOTA preprocessing (TrackEval's KITTI rule; TrackEval uses 0.5 on 2D IoU).
    """

    min_overlap: float = 0.25
    similarity: str = "iou_3d"
    max_truncation: int = 0
    max_occlusion: int = 2
    min_height_px: float = 25.0
    dontcare_ioa: float = 0.5
    num_sample_points: int = 41
    hota_match_threshold: float = 0.25

    def __post_init__(self) -> None:
        if self.similarity not in ("iou_3d", "iou_2d"):
            raise ValueError(f"similarity must be 'iou_3d' or 'iou_2d', got {self.similarity!r}")
        if not 0.0 < self.min_overlap <= 1.0:
            raise ValueError(f"min_overlap must be in (0, 1], got {self.min_overlap}")
        if self.num_sample_points < 2:
            raise ValueError("num_sample_points must be at least 2")

    @classmethod
    def for_similarity(cls, similarity: str, min_overlap: float = 0.25) -> KittiMotProtocol:
        """The protocol for ``similarity`` with its HOTA match threshold
        (:data:`HOTA_MATCH_THRESHOLDS`) and ``min_overlap``; an unknown ``similarity`` is the
        constructor's ValueError."""
        return cls(
            min_overlap=min_overlap,
            similarity=similarity,
            hota_match_threshold=HOTA_MATCH_THRESHOLDS.get(similarity, 0.25),
        )


def class_rule(cls: str) -> tuple[tuple[str, ...], str | None]:
    """``(loaded type substrings, neighbouring type)`` for a KITTI class name (any case)."""
    key = cls.lower()
    if key not in KITTI_CLASS_RULES:
        raise ValueError(f"unknown KITTI tracking class {cls!r}; known: Car, Pedestrian, Cyclist")
    return KITTI_CLASS_RULES[key]
