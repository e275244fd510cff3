"""Offline stitching of tracks split by a short gap, over a whole sequence.

An online tracker that loses an object for longer than its ``max_age`` (a missed detection run,
an occlusion) starts a new track when the object returns: one object, two ids (an identity
switch or a fragmentation for the KITTI protocol). A runner that writes a whole sequence sees
both pieces and can join them: a track whose last match is at frame ``f1`` and a track that
starts at ``f2`` shortly after are the same object when the first one's motion, extrapolated
to ``f2``, lands on the second one's start (its first box, or a line fitted to its first
frames) with a similar heading and size
(:class:`~drivestack.tracking.config.OfflineStitchConfig`). Competing candidates are resolved
one to one (:func:`drivestack.tracking.association.match`, gated Hungarian). The joined track
keeps the first id; the rows of its gap are interpolated between the two boxes (the helpers of
:mod:`drivestack.tracking.refine`, in the ego-pose world frame when asked), and its per-row
match counts continue the first track's, so the evidence rules see the whole track.

Everything works on the ``N`` rows of one sequence (KITTI's rectified camera frame), with one
row per track and frame; tracks are assumed to start with a match (the runner's tracks do).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from drivestack.ingest.kitti_format import KittiObjects, observation_angle
from drivestack.tracking.association import match
from drivestack.tracking.config import OfflineStitchConfig
from drivestack.tracking.kitti_run import SequenceRun
from drivestack.tracking.refine import (
    camera_to_world,
    check_track_rows,
    group_weighted_median,
    interpolate_between,
    local_polynomial,
    observation_weight,
    orthonormal_poses,
    window_pairs,
    world_to_camera,
)


@dataclass(frozen=True)
class TrackEnds:
    """Per track (``K`` tracks, indices of ``np.unique(track_id)``): ``first_row`` ``(K,)`` its
    first row, ``last_match_row`` ``(K,)`` its last matched row, ``size_m`` ``(K, 3)`` the median
    of its matched rows' ``h w l`` and ``matches`` ``(K,)`` its number of matches (the maximum of
    its rows' ``hits``)."""

    first_row: np.ndarray
    last_match_row: np.ndarray
    size_m: np.ndarray
    matches: np.ndarray


def stitch_tracks(
    run: SequenceRun, cfg: OfflineStitchConfig, camera_poses: np.ndarray | None = None
) -> SequenceRun:
    """Join the tracks of ``run`` that ``cfg`` finds to be one object.

    Args:
        run: a sequence's rows with per-row ``hits`` and ``detection_score`` (NaN while
            coasting); ``detection_box`` (when present) is carried along.
        cfg: the stitching rule; the defaults return ``run`` unchanged.
        camera_poses: ``(F, 4, 4)`` camera_rect -> world pose per frame: when given, motion is
            extrapolated and gaps interpolated in that world frame.

    Returns:
        The run with joined tracks under their first id, the first track's rows after its last
        match replaced by interpolated gap rows, ``hits`` continued along the join, rows sorted
        by frame then track id.
    """
    rows = run.results
    if cfg.max_gap_frames == 0:
        return run
    if run.hits is None or run.detection_score is None:
        raise ValueError("stitching needs a run with per-row hits and detection scores")
    if len(rows) == 0:
        return run
    check_track_rows(rows, camera_poses, "stitch_tracks")
    track_ids, track = np.unique(rows.track_id, return_inverse=True)
    matched = ~np.isnan(run.detection_score)
    location, yaw = rows.location_m, rows.rotation_y_rad
    if camera_poses is not None:
        rotation, translation = orthonormal_poses(camera_poses[rows.frame.astype(np.int64)])
        location, yaw = camera_to_world(location, yaw, rotation, translation)
    ends = track_ends(track, rows.frame, matched, rows.hwl_m, run.hits, len(track_ids))
    # exp(w * score) relative to the best match (the fits read the matched rows' only)
    weight = observation_weight(run.detection_score, matched, cfg.score_weight)
    first, second = stitch_pairs(track, rows.frame, matched, location, yaw, ends, cfg, weight)
    if first.size == 0:
        return run
    gap = gap_rows(rows, location, yaw, ends.last_match_row[first], ends.first_row[second])
    if camera_poses is not None and len(gap):
        g_rotation, g_translation = orthonormal_poses(camera_poses[gap.frame.astype(np.int64)])
        g_location, g_yaw = world_to_camera(
            gap.location_m, gap.rotation_y_rad, g_rotation, g_translation
        )
        gap = replace(
            gap,
            location_m=g_location,
            rotation_y_rad=g_yaw,
            alpha_rad=observation_angle(g_location, g_yaw),
        )
    return joined_run(run, track, ends, first, second, gap)


def track_ends(
    track: np.ndarray,
    frame: np.ndarray,
    matched: np.ndarray,
    hwl_m: np.ndarray,
    hits: np.ndarray,
    n_tracks: int,
) -> TrackEnds:
    """The :class:`TrackEnds` of ``n_tracks`` tracks from ``(N,)`` track indices, frames,
    matched flags, ``(N, 3)`` sizes and ``(N,)`` match counts (every track has a match)."""
    order = np.lexsort((frame, track))
    starts = np.flatnonzero(np.r_[True, track[order][1:] != track[order][:-1]])
    first_row = order[starts]
    m_idx = np.flatnonzero(matched)
    m_order = m_idx[np.lexsort((frame[m_idx], track[m_idx]))]
    last_match_row = np.full(n_tracks, -1, dtype=np.int64)
    last_match_row[track[m_order]] = m_order  # the last write per track is its latest match
    size = group_weighted_median(track[m_idx], hwl_m[m_idx], np.ones(m_idx.size), n_tracks)
    matches = np.zeros(n_tracks, dtype=np.int64)
    np.maximum.at(matches, track, hits.astype(np.int64))
    return TrackEnds(first_row, last_match_row, size, matches)


def line_fits(
    track: np.ndarray,
    frame: np.ndarray,
    matched: np.ndarray,
    location_m: np.ndarray,
    yaw_rad: np.ndarray,
    cand_track: np.ndarray,
    cand_end_frame: np.ndarray,
    cand_target_frame: np.ndarray,
    window_frames: int,
    weight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``(C, 3)`` centre and ``(C,)`` heading (modulo pi) of each candidate's track at
    ``cand_target_frame``: straight lines in time fitted (least squares, each matched row
    weighted by ``(N,)`` ``weight``) to the track's matched centres and
    doubled-angle headings within ``window_frames`` frames of ``cand_end_frame`` (its last
    match or its first row, so the window lies on one side), evaluated there; constants when
    the window holds one match. ``(N,)`` track indices, frames, matched flags, ``(N, 3)``
    centres and ``(N,)`` yaws describe the rows; ``(C,)`` arrays the candidates."""
    m_idx = np.flatnonzero(matched)
    pair_cand, pair_obs = window_pairs(
        cand_track, cand_end_frame, track[m_idx], frame[m_idx], window_frames
    )
    dt = (frame[m_idx][pair_obs] - cand_target_frame[pair_cand]).astype(np.float64)
    yaw2 = 2.0 * yaw_rad[m_idx]
    values = np.column_stack([location_m[m_idx], np.cos(yaw2), np.sin(yaw2)])
    pair_weight = weight[m_idx][pair_obs]
    fit = local_polynomial(pair_cand, dt, pair_weight, values, pair_obs, cand_track.size, degree=1)
    return fit[:, :3], 0.5 * np.arctan2(fit[:, 4], fit[:, 3])


def stitch_pairs(
    track: np.ndarray,
    frame: np.ndarray,
    matched: np.ndarray,
    location_m: np.ndarray,
    yaw_rad: np.ndarray,
    ends: TrackEnds,
    cfg: OfflineStitchConfig,
    weight: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The joined ``(first, second)`` track index pairs, two ``(P,)`` int64 arrays: each track
    ends at most one pair and starts at most one. Rows and ``weight`` as in
    :func:`line_fits`."""
    last_frame = frame[ends.last_match_row].astype(np.int64)
    first_frame = frame[ends.first_row].astype(np.int64)
    gap = first_frame[None, :] - last_frame[:, None]
    enough = ends.matches >= cfg.min_track_matches
    in_reach = (gap >= 1) & (gap <= cfg.max_gap_frames) & enough[:, None] & enough[None, :]
    cand_a, cand_b = np.nonzero(in_reach)
    if cand_a.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    rows = (track, frame, matched, location_m, yaw_rad)
    target = first_frame[cand_b]
    predicted, yaw_a = line_fits(
        *rows, cand_a, last_frame[cand_a], target, cfg.motion_window_frames, weight
    )
    start, yaw_b = line_fits(*rows, cand_b, target, target, cfg.start_window_frames, weight)
    distance = np.linalg.norm(predicted - start, axis=1)
    turn = np.abs((yaw_b - yaw_a + 0.5 * np.pi) % np.pi - 0.5 * np.pi)
    size_ratio = np.abs(np.log(ends.size_m[cand_a] / ends.size_m[cand_b])).max(axis=1)
    ok = (
        (distance <= cfg.max_distance_m)
        & (turn <= cfg.max_yaw_diff_rad)
        & (size_ratio <= np.log(cfg.max_size_ratio))
    )
    n_tracks = ends.first_row.size
    affinity = np.full((n_tracks, n_tracks), -np.inf)
    affinity[cand_a[ok], cand_b[ok]] = -distance[ok]
    return match(affinity, -cfg.max_distance_m, "hungarian", gated=True)


def gap_rows(
    rows: KittiObjects,
    location_m: np.ndarray,
    yaw_rad: np.ndarray,
    before_row: np.ndarray,
    after_row: np.ndarray,
) -> KittiObjects:
    """The ``G`` rows filling the frames strictly between ``before_row`` and ``after_row``
    (``(P,)`` row indices of joined pairs) under the before row's track id: centre and heading
    interpolated in the frame of ``(N, 3)`` ``location_m`` and ``(N,)`` ``yaw_rad``
    (:func:`drivestack.tracking.refine.interpolate_between`; ``alpha_rad`` is only correct
    when that is the camera frame), size, image box and score linear in time, truncation
    and occlusion of the before row."""
    f0 = rows.frame[before_row].astype(np.int64)
    f1 = rows.frame[after_row].astype(np.int64)
    count = np.maximum(f1 - f0 - 1, 0)
    pair = np.repeat(np.arange(before_row.size), count)
    frame = f0[pair] + 1 + np.arange(pair.size) - np.repeat(np.cumsum(count) - count, count)
    b, a = before_row[pair], after_row[pair]
    location, yaw = interpolate_between(
        frame, f0[pair], f1[pair], location_m[b], location_m[a], yaw_rad[b], yaw_rad[a], yaw_rad[b]
    )
    u = ((frame - f0[pair]) / (f1[pair] - f0[pair]))[:, None]
    return replace(
        rows.select(b),
        frame=frame,
        location_m=location,
        rotation_y_rad=yaw,
        alpha_rad=observation_angle(location, yaw),
        hwl_m=(1.0 - u) * rows.hwl_m[b] + u * rows.hwl_m[a],
        box2d_xyxy_px=(1.0 - u) * rows.box2d_xyxy_px[b] + u * rows.box2d_xyxy_px[a],
        score=(1.0 - u[:, 0]) * rows.score[b] + u[:, 0] * rows.score[a],
    )


def chain_offsets(
    first: np.ndarray, second: np.ndarray, matches: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(K,)`` root track index of each track (the head of its chain of joins) and ``(K,)``
    matches of the tracks before it in that chain, from the joined ``(P,)`` ``first`` and
    ``second`` track indices and ``(K,)`` matches per track."""
    n = matches.size
    previous = np.full(n, -1, dtype=np.int64)
    previous[second] = first
    root = np.arange(n, dtype=np.int64)
    offset = np.zeros(n, dtype=np.int64)
    for k in range(n):
        p = previous[k]
        while p >= 0:
            root[k] = p
            offset[k] += matches[p]
            p = previous[p]
    return root, offset


def joined_run(
    run: SequenceRun,
    track: np.ndarray,
    ends: TrackEnds,
    first: np.ndarray,
    second: np.ndarray,
    gap: KittiObjects,
) -> SequenceRun:
    """``run`` with the ``(P,)`` pairs ``first -> second`` joined: the first tracks' rows after
    their last match replaced by ``gap`` (from :func:`gap_rows`), every track relabelled to its
    chain's root id, ``hits`` continued along the chain; rows sorted by frame then track id."""
    assert run.hits is not None and run.detection_score is not None
    rows = run.results
    root, offset = chain_offsets(first, second, ends.matches)
    track_ids = np.unique(rows.track_id)
    cut_after = np.full(track_ids.size, np.iinfo(np.int64).max)
    cut_after[first] = rows.frame[ends.last_match_row[first]]
    keep = np.flatnonzero(rows.frame <= cut_after[track])
    gap_track = np.repeat(
        first, np.maximum(rows.frame[ends.first_row[second]] - cut_after[first] - 1, 0)
    )
    out = KittiObjects.concatenate([rows.select(keep), gap])
    out_track = np.r_[track[keep], gap_track]
    hits = np.r_[run.hits[keep] + offset[track[keep]], ends.matches[gap_track] + offset[gap_track]]
    score = np.r_[run.detection_score[keep], np.full(len(gap), np.nan)]
    box = None
    if run.detection_box is not None:
        box = np.r_[run.detection_box[keep], np.full((len(gap), 7), np.nan)]
    out = replace(out, track_id=track_ids[root[out_track]])
    order = np.lexsort((out.track_id, out.frame))
    return replace(
        run,
        results=out.select(order),
        hits=hits[order],
        detection_score=score[order],
        detection_box=None if box is None else box[order],
    )
