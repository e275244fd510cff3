"""Offline per-track box refinement of result rows, from each track's matched detections.

A runner that writes a whole sequence (KITTI result files) sees every detection a track was
matched to, before and after each row, where an online filter saw only the past. Three rules
(:class:`~drivestack.tracking.config.OfflineRefineConfig`, all off by default):

- size consensus: a car is rigid, so every row of a track gets one ``h w l``, the median (or
  mean) of its matched detections' sizes;
- smoothing: the centre, and the heading modulo pi, of each matched row is a local polynomial
  fit in time to the track's matched detections around it (tricube weights, optionally robust);
- gap filling: coasting rows between two matches are interpolated between those matches
  instead of extrapolated by the Kalman filter.

Everything works on the ``N`` rows of one sequence at once (tracks are grouped by sorting), in
KITTI's rectified camera frame (``location_m`` is the box bottom centre, ``rotation_y_rad`` the
yaw about the camera y axis). A box's 3D IoU does not change when its yaw turns by pi, so
headings are averaged as doubled angles and each refined row keeps the branch nearest its own
yaw. Rows, their order, scores and image boxes are kept.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from drivestack.core.transforms import nearest_rotation
from drivestack.ingest.kitti_format import KittiObjects, observation_angle
from drivestack.tracking.config import OfflineRefineConfig


def refine_track_boxes(
    results: KittiObjects,
    detection_box: np.ndarray,
    detection_score: np.ndarray,
    cfg: OfflineRefineConfig,
    camera_poses: np.ndarray | None = None,
) -> KittiObjects:
    """Refine the boxes of ``N`` result rows of one sequence under ``cfg``.

    Args:
        results: ``N`` rows (``track_id``, ``frame`` and the box columns are used); one row per
            track and frame.
        detection_box: ``(N, 7)`` the matched detection's box per row (bottom centre x y z,
            h w l, rotation_y in camera_rect), NaN rows while the track is coasting.
        detection_score: ``(N,)`` the matched detection's score (used when
            ``cfg.score_weight`` is set; NaN while coasting).
        cfg: the rules; the defaults return ``results`` unchanged.
        camera_poses: ``(F, 4, 4)`` camera_rect -> world pose per frame (ego poses): when
            given, centres and headings are smoothed and interpolated in that world frame,
            where parked cars stand still and moving ones follow smooth paths.

    Returns:
        ``N`` rows in the same order with refined ``hwl_m``, ``location_m``,
        ``rotation_y_rad`` and ``alpha_rad``.
    """
    n = len(results)
    if detection_box.shape != (n, 7) or detection_score.shape != (n,):
        raise ValueError(
            f"detection_box {detection_box.shape} and detection_score {detection_score.shape} "
            f"must have shapes ({n}, 7) and ({n},)"
        )
    if n == 0 or cfg == OfflineRefineConfig():
        return results
    check_track_rows(results, camera_poses, "refine_track_boxes")
    _, track = np.unique(results.track_id, return_inverse=True)
    matched = ~np.isnan(detection_box[:, 0])
    finite = np.isfinite(detection_box).all(axis=1)
    if cfg.score_weight:
        finite &= np.isfinite(detection_score)
    if not finite[matched].all():
        row = int(np.flatnonzero(matched & ~finite)[0])
        raise ValueError(
            f"refine_track_boxes: row {row}: a matched detection (detection_box "
            f"{detection_box[row].tolist()}, detection_score {detection_score[row]}) must be "
            "finite (NaN rows only while coasting)"
        )
    weight = observation_weight(detection_score, matched, cfg.score_weight)
    hwl = results.hwl_m
    if cfg.size != "off":
        # a track without a matched row (never the runner's) keeps its rows' sizes
        consensus = track_size_consensus(track, detection_box[:, 3:6], weight, cfg.size)
        hwl = np.where(np.isnan(consensus), hwl, consensus)
    location, yaw = refine_centres_and_yaws(
        results, track, detection_box, weight, cfg, camera_poses
    )
    return replace(
        results,
        hwl_m=hwl,
        location_m=location,
        rotation_y_rad=yaw,
        alpha_rad=observation_angle(location, yaw),
    )


def refine_centres_and_yaws(
    results: KittiObjects,
    track: np.ndarray,
    detection_box: np.ndarray,
    weight: np.ndarray,
    cfg: OfflineRefineConfig,
    camera_poses: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 3)`` locations and ``(N,)`` yaws (camera_rect) after the smoothing and gap rules
    of ``cfg``, computed in the world frame of ``camera_poses`` when given; rows no rule
    touches keep their values exactly. Arguments as in :func:`refine_track_boxes`, with
    ``track (N,)`` track indices and ``weight (N,)`` observation weights (0 while coasting).
    """
    frame = results.frame.astype(np.int64)
    matched = weight > 0
    location, yaw = results.location_m, results.rotation_y_rad
    observed = detection_box.copy()
    if camera_poses is not None:
        rotation, translation = orthonormal_poses(camera_poses[frame])
        location, yaw = camera_to_world(location, yaw, rotation, translation)
        observed[matched, 0:3], observed[matched, 6] = camera_to_world(
            observed[matched, 0:3], observed[matched, 6], rotation[matched], translation[matched]
        )
    location, yaw = location.copy(), yaw.copy()
    moved = np.zeros(len(results), dtype=bool)
    turned = np.zeros(len(results), dtype=bool)
    if cfg.smooth_half_window_frames > 0:
        fit_location, fit_yaw = smooth_matched_rows(track, frame, observed, weight, cfg)
        location[matched] = fit_location
        moved |= matched
        if cfg.smooth_yaw:
            yaw[matched] = nearest_yaw_branch(fit_yaw, yaw[matched])
            turned |= matched
    if cfg.interpolate_gaps:
        gap, before, after = gap_neighbours(track, frame, matched)
        location[gap], yaw[gap] = interpolate_between(
            frame[gap],
            frame[before],
            frame[after],
            location[before],
            location[after],
            yaw[before],
            yaw[after],
            yaw[gap],
        )
        moved[gap] = turned[gap] = True
    if camera_poses is not None:
        location, yaw = world_to_camera(location, yaw, rotation, translation)
    location = np.where(moved[:, None], location, results.location_m)
    yaw = np.where(turned, nearest_yaw_branch(yaw, results.rotation_y_rad), results.rotation_y_rad)
    return location, yaw


def check_track_rows(results: KittiObjects, camera_poses: np.ndarray | None, caller: str) -> None:
    """``ValueError`` naming ``caller`` when a track has two rows at one frame (the offline
    rules fit and join each track's rows along its frames: two at one frame make those fits
    singular) or ``camera_poses`` misses a row's frame (:func:`check_camera_poses`)."""
    pairs = np.stack([results.track_id.astype(np.int64), results.frame.astype(np.int64)], axis=1)
    unique, counts = np.unique(pairs, axis=0, return_counts=True)
    if unique.shape[0] != len(results):
        i = int(np.flatnonzero(counts > 1)[0])
        raise ValueError(
            f"{caller}: results: track {int(unique[i, 0])} has {int(counts[i])} rows at frame "
            f"{int(unique[i, 1])}; the offline rules need one row per track and frame"
        )
    check_camera_poses(camera_poses, results.frame, caller)


def check_camera_poses(camera_poses: np.ndarray | None, frame: np.ndarray, caller: str) -> None:
    """``ValueError`` naming ``caller`` unless ``camera_poses`` is None or ``(F, 4, 4)`` with a
    pose for each of the ``(N,)`` row frames ``frame`` (0..F-1)."""
    if camera_poses is None:
        return
    if camera_poses.ndim != 3 or camera_poses.shape[1:] != (4, 4):
        raise ValueError(
            f"{caller}: camera_poses must be (F, 4, 4), one pose per frame, got "
            f"{camera_poses.shape}"
        )
    outside = (frame < 0) | (frame >= camera_poses.shape[0])
    if outside.any():
        raise ValueError(
            f"{caller}: camera_poses has {camera_poses.shape[0]} poses (frames 0.."
            f"{camera_poses.shape[0] - 1}) but a row is at frame {int(frame[outside][0])}"
        )


def orthonormal_poses(poses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 4, 4)`` poses -> ``(N, 3, 3)`` nearest rotations
    (:func:`drivestack.core.transforms.nearest_rotation`) and ``(N, 3)`` translations."""
    return nearest_rotation(poses[:, :3, :3]), poses[:, :3, 3]


def _heading(rotation_y_rad: np.ndarray) -> np.ndarray:
    """``(N, 3)`` camera_rect direction of a box's length axis for a yaw about camera y."""
    return np.stack(
        [np.cos(rotation_y_rad), np.zeros_like(rotation_y_rad), -np.sin(rotation_y_rad)], axis=1
    )


def _yaw_of(heading: np.ndarray) -> np.ndarray:
    """``(N,)`` yaw about y of ``(N, 3)`` directions (projected onto the x-z plane)."""
    return np.arctan2(-heading[:, 2], heading[:, 0])


def camera_to_world(
    location_m: np.ndarray, yaw_rad: np.ndarray, rotation: np.ndarray, translation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(N, 3)`` camera_rect points and ``(N,)`` yaws -> world, with per-row ``(N, 3, 3)``
    rotations and ``(N, 3)`` translations of camera_rect -> world."""
    world = np.einsum("nij,nj->ni", rotation, location_m) + translation
    return world, _yaw_of(np.einsum("nij,nj->ni", rotation, _heading(yaw_rad)))


def world_to_camera(
    location_m: np.ndarray, yaw_rad: np.ndarray, rotation: np.ndarray, translation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`camera_to_world` (same per-row camera_rect -> world poses)."""
    camera = np.einsum("nji,nj->ni", rotation, location_m - translation)
    return camera, _yaw_of(np.einsum("nji,nj->ni", rotation, _heading(yaw_rad)))


def nearest_yaw_branch(yaw_rad: np.ndarray, reference_rad: np.ndarray) -> np.ndarray:
    """``(N,)`` ``yaw_rad + k pi`` nearest ``reference_rad`` (same shape), wrapped to [-pi, pi).

    The 3D box of a yaw and of that yaw plus pi is the same; the reference keeps the row's
    heading direction.
    """
    k = np.round((reference_rad - yaw_rad) / np.pi)
    return (yaw_rad + k * np.pi + np.pi) % (2 * np.pi) - np.pi


def observation_weight(
    detection_score: np.ndarray, matched: np.ndarray, score_weight: float
) -> np.ndarray:
    """``(N,)`` weight of each row's matched detection: ``exp(score_weight * score)``, scaled so
    the best is 1 (1 everywhere with ``score_weight`` 0), and 0 for coasting rows."""
    score = np.where(matched, detection_score, 0.0)
    if score_weight and matched.any():
        log_weight = score_weight * (score - score[matched].max())
        # bounded below so that no matched detection's weight underflows to 0 (coasting)
        return np.where(matched, np.exp(np.maximum(log_weight, -700.0)), 0.0)
    return matched.astype(np.float64)


def track_size_consensus(
    track: np.ndarray, detection_hwl_m: np.ndarray, weight: np.ndarray, mode: str
) -> np.ndarray:
    """``(N, 3)`` one size per track: the weighted ``median`` or ``mean`` of its matched rows'
    sizes.

    Args:
        track: ``(N,)`` int track index 0..K-1 per row.
        detection_hwl_m: ``(N, 3)`` matched detection sizes (ignored where ``weight`` is 0).
        weight: ``(N,)`` observation weights >= 0 (0 for coasting rows).
        mode: ``median`` or ``mean``.

    Tracks without a weighted row keep ``detection_hwl_m`` (NaN for coasting rows): the runner
    starts every track with a match, so this does not occur there.
    """
    n_tracks = int(track.max()) + 1
    idx = np.flatnonzero(weight > 0)
    if mode == "median":
        per_track = group_weighted_median(track[idx], detection_hwl_m[idx], weight[idx], n_tracks)
    elif mode == "mean":
        total = np.bincount(track[idx], weight[idx], n_tracks)[:, None]
        sums = np.stack(
            [
                np.bincount(track[idx], weight[idx] * detection_hwl_m[idx, c], n_tracks)
                for c in range(3)
            ],
            axis=1,
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            per_track = sums / total
    else:
        raise ValueError(f"size consensus must be median or mean, got {mode!r}")
    out = per_track[track]
    return np.where(np.isnan(out), detection_hwl_m, out)


def group_weighted_median(
    group: np.ndarray, values: np.ndarray, weight: np.ndarray, n_groups: int
) -> np.ndarray:
    """``(n_groups, D)`` per-group weighted median of ``(M, D)`` values, ``group (M,)`` in
    0..n_groups-1 and weights ``(M,)`` > 0: the value where the group's cumulative weight
    reaches half its total (the mean of two values when it lands exactly between them, so
    equal weights give the ordinary median); NaN for groups without values."""
    count = np.bincount(group, minlength=n_groups)
    total = np.bincount(group, weight, n_groups)
    out = np.full((n_groups, values.shape[1]), np.nan)
    if group.size == 0:
        return out
    has = np.flatnonzero(count > 0)
    for c in range(values.shape[1]):
        order = np.lexsort((values[:, c], group))
        g, v = group[order], values[order, c]
        cum = np.cumsum(weight[order])
        within = cum - np.repeat(cum[np.cumsum(count) - 1] - total, count)
        # group + cumulative fraction of the group's weight: increasing along the sorted rows
        key = g + within / total[g]
        lo = np.searchsorted(key, has + 0.5 - 1e-9, side="left")
        between = np.abs(key[lo] - (has + 0.5)) <= 1e-9
        hi = np.minimum(lo + between, v.size - 1)
        out[has, c] = 0.5 * (v[lo] + v[hi])
    return out


def window_pairs(
    row_track: np.ndarray,
    row_frame: np.ndarray,
    obs_track: np.ndarray,
    obs_frame: np.ndarray,
    half_window: int,
) -> tuple[np.ndarray, np.ndarray]:
    """All ``(row, obs)`` index pairs of the same track with ``|frame difference| <= half_window``:
    two ``(P,)`` int64 arrays (rows ascending), from ``(N,)`` row and ``(M,)`` observation
    track indices and frames."""
    stride = int(max(row_frame.max(initial=0), obs_frame.max(initial=0))) + 2 * half_window + 2
    obs_key = obs_track.astype(np.int64) * stride + obs_frame
    order = np.argsort(obs_key, kind="stable")
    row_key = row_track.astype(np.int64) * stride + row_frame
    start = np.searchsorted(obs_key[order], row_key - half_window, side="left")
    stop = np.searchsorted(obs_key[order], row_key + half_window, side="right")
    counts = stop - start
    pair_row = np.repeat(np.arange(row_key.shape[0]), counts)
    offsets = np.arange(pair_row.shape[0]) - np.repeat(np.cumsum(counts) - counts, counts)
    pair_obs = order[np.repeat(start, counts) + offsets]
    return pair_row.astype(np.int64), pair_obs.astype(np.int64)


def local_polynomial(
    pair_row: np.ndarray,
    pair_dt: np.ndarray,
    pair_weight: np.ndarray,
    obs_values: np.ndarray,
    pair_obs: np.ndarray,
    n_rows: int,
    degree: int,
) -> np.ndarray:
    """``(n_rows, D)`` weighted least-squares polynomial fits evaluated at each row's time.

    Args:
        pair_row, pair_obs: ``(P,)`` row and observation of each pair.
        pair_dt: ``(P,)`` observation time minus row time (frames).
        pair_weight: ``(P,)`` weight >= 0 of the pair.
        obs_values: ``(M, D)`` observed values.
        n_rows: number of rows.
        degree: polynomial degree; a row with fewer positively weighted observations than
            ``degree + 1`` gets the highest degree they determine.

    Rows without a positively weighted observation are NaN.
    """
    d = obs_values.shape[1]
    support = np.bincount(pair_row, weights=(pair_weight > 0), minlength=n_rows)
    powers = [
        np.bincount(pair_row, pair_weight * pair_dt**k, n_rows) for k in range(2 * degree + 1)
    ]
    rhs = [
        np.stack(
            [
                np.bincount(pair_row, pair_weight * pair_dt**k * obs_values[pair_obs, c], n_rows)
                for c in range(d)
            ],
            axis=1,
        )
        for k in range(degree + 1)
    ]
    out = np.full((n_rows, d), np.nan)
    row_degree = np.minimum(degree, support.astype(np.int64) - 1)
    for p in range(degree + 1):
        rows = np.flatnonzero(row_degree == p)
        if rows.size == 0:
            continue
        a = np.stack(
            [np.stack([powers[i + j][rows] for j in range(p + 1)], axis=-1) for i in range(p + 1)],
            axis=-2,
        )
        b = np.stack([rhs[i][rows] for i in range(p + 1)], axis=-2)
        out[rows] = np.linalg.solve(a, b)[:, 0, :]
    return out


def tricube(u: np.ndarray) -> np.ndarray:
    """``(1 - |u|^3)^3`` for ``|u| < 1``, else 0."""
    return np.clip(1.0 - np.abs(u) ** 3, 0.0, None) ** 3


def smooth_matched_rows(
    track: np.ndarray,
    frame: np.ndarray,
    detection_box: np.ndarray,
    weight: np.ndarray,
    cfg: OfflineRefineConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """``(M, 3)`` locations and ``(M,)`` yaws (modulo pi) of the ``M`` matched rows (those with
    ``weight > 0``), each a local polynomial fit to its track's matched detections within
    ``cfg.smooth_half_window_frames``, weighted by ``weight`` and a tricube kernel in time (see
    :class:`OfflineRefineConfig`)."""
    idx = np.flatnonzero(weight > 0)
    m_track, m_frame = track[idx], frame[idx]
    half = cfg.smooth_half_window_frames
    pair_row, pair_obs = window_pairs(m_track, m_frame, m_track, m_frame, half)
    dt = (m_frame[pair_obs] - m_frame[pair_row]).astype(np.float64)
    kernel = tricube(dt / (half + 1))
    yaw2 = 2.0 * detection_box[idx, 6]
    values = np.column_stack([detection_box[idx, 0:3], np.cos(yaw2), np.sin(yaw2)])
    prior = weight[idx]
    obs_weight = prior
    for it in range(cfg.robust_iterations + 1):
        fit = local_polynomial(
            pair_row,
            dt,
            kernel * obs_weight[pair_obs],
            values,
            pair_obs,
            idx.size,
            cfg.smooth_degree,
        )
        if it < cfg.robust_iterations:
            residual = np.linalg.norm(values[:, :3] - fit[:, :3], axis=1)
            obs_weight = prior * bisquare(np.nan_to_num(residual, nan=0.0) / cfg.robust_scale_m)
    # a row whose own observation was weighted 0 by every neighbour keeps that observation
    fit = np.where(np.isnan(fit), values, fit)
    return fit[:, :3], 0.5 * np.arctan2(fit[:, 4], fit[:, 3])


def bisquare(u: np.ndarray) -> np.ndarray:
    """Tukey's bisquare weight ``(1 - u^2)^2`` for ``|u| < 1``, else 0."""
    return np.clip(1.0 - u**2, 0.0, None) ** 2


def gap_neighbours(
    track: np.ndarray, frame: np.ndarray, matched: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``G`` unmatched rows that lie between two matched rows of their track, and those
    rows: three ``(G,)`` index arrays ``(gap, before, after)``, from ``(N,)`` track indices,
    frames and ``matched`` flags (one row per track and frame)."""
    order = np.lexsort((frame, track))
    pos = np.arange(order.size)
    m_sorted = matched[order]
    prev = np.maximum.accumulate(np.where(m_sorted, pos, -1))
    nxt = np.minimum.accumulate(np.where(m_sorted, pos, order.size)[::-1])[::-1]
    t_sorted = track[order]
    gap = (
        ~m_sorted
        & (prev >= 0)
        & (nxt < order.size)
        & (t_sorted[np.maximum(prev, 0)] == t_sorted)
        & (t_sorted[np.minimum(nxt, order.size - 1)] == t_sorted)
    )
    return order[gap], order[prev[gap]], order[nxt[gap]]


def interpolate_between(
    frame: np.ndarray,
    frame_before: np.ndarray,
    frame_after: np.ndarray,
    location_before_m: np.ndarray,
    location_after_m: np.ndarray,
    yaw_before_rad: np.ndarray,
    yaw_after_rad: np.ndarray,
    yaw_reference_rad: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(G, 3)`` locations and ``(G,)`` yaws linear in time between two boxes per row
    (``(G,)`` frames, ``(G, 3)`` locations and ``(G,)`` yaws before and after): the yaw turns
    along the shorter way modulo pi and lands on the branch nearest ``yaw_reference_rad``."""
    u = (frame - frame_before) / (frame_after - frame_before)
    location = (1.0 - u[:, None]) * location_before_m + u[:, None] * location_after_m
    turn = (yaw_after_rad - yaw_before_rad + 0.5 * np.pi) % np.pi - 0.5 * np.pi
    return location, nearest_yaw_branch(yaw_before_rad + u * turn, yaw_reference_rad)
