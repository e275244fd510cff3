"""Image-box identity continuity: find neighbouring tracks whose 3D association was swapped.

Two tracks a few decimetres apart (people walking side by side) can exchange their LiDAR
detections when their predicted positions are off; the tracker then continues each identity on
the other object. The camera keeps a second, independent record of who is who: the image box
of each track's last camera-confirmed detection. An object's image box moves little from one
frame to the next, so if each track's new image box overlaps the *other* track's previous
image box clearly better than its own, the two tracks have swapped objects.
"""

from __future__ import annotations

import numpy as np

from drivestack.eval.detection.kitti import image_box_overlap


def continuity_swaps(
    previous_xyxy_px: np.ndarray,
    current_xyxy_px: np.ndarray,
    centres_xy_m: np.ndarray,
    radius_m: float,
    margin: float,
    max_mutual_iou: float = 1.0,
) -> list[tuple[int, int]]:
    """Pairs of tracks to exchange identities, from image-box continuity.

    Args:
        previous_xyxy_px: ``(T, 4)`` image box of each track's last camera-confirmed detection
            (NaN rows: none known).
        current_xyxy_px: ``(T, 4)`` image box of the detection each track was updated with
            this frame (NaN rows: no camera-confirmed detection this frame).
        centres_xy_m: ``(T, 2)`` BEV centres of the tracks after the update.
        radius_m: only pairs closer than this (BEV centre distance) are considered (the
            LiDAR association can confuse only neighbours); ``<= 0`` disables the check.
        margin: the exchanged pairing's summed IoU must exceed the tracker's by more than this.
        max_mutual_iou: the two previous image boxes must overlap less than this (IoU): when
            one person stands behind the other their boxes coincide and the camera cannot
            tell who is who.

    Returns:
        ``(i, j)`` row pairs, ``i < j``, each row in at most one pair (largest gain first).
    """
    prev = np.asarray(previous_xyxy_px, dtype=np.float64).reshape(-1, 4)
    cur = np.asarray(current_xyxy_px, dtype=np.float64).reshape(-1, 4)
    xy = np.asarray(centres_xy_m, dtype=np.float64).reshape(-1, 2)
    if not (prev.shape[0] == cur.shape[0] == xy.shape[0]):
        raise ValueError(
            f"row counts differ: previous {prev.shape[0]}, current {cur.shape[0]}, centres {xy.shape[0]}"
        )
    known = np.flatnonzero(np.all(np.isfinite(prev), axis=1) & np.all(np.isfinite(cur), axis=1))
    if radius_m <= 0 or known.size < 2:
        return []
    iou = image_box_overlap(prev[known], cur[known])  # (K, K): previous of i vs current of j
    dist = np.linalg.norm(xy[known, None, :] - xy[None, known, :], axis=2)
    keep_sum = np.diag(iou)[:, None] + np.diag(iou)[None, :]
    swap_sum = iou + iou.T
    gain = swap_sum - keep_sum
    own = np.diag(iou)
    # both tracks must prefer the other's box (one clear preference is not enough: with
    # overlapping boxes of a nearer and a farther person the other one is often ambiguous)
    prefers = iou > own[:, None]  # (i, j): track i's old box overlaps j's new box more
    mutual = prefers & prefers.T
    distinct = image_box_overlap(prev[known], prev[known]) < max_mutual_iou
    candidate = (dist < radius_m) & (gain > margin) & mutual & distinct
    ii, jj = np.nonzero(np.triu(candidate, k=1))
    order = np.argsort(-gain[ii, jj], kind="stable")
    used: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for k in order.tolist():
        a, b = int(known[ii[k]]), int(known[jj[k]])
        if a in used or b in used:
            continue
        used.update((a, b))
        pairs.append((a, b))
    return pairs
