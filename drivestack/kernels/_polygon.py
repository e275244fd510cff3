"""Array-API geometry on box pairs: exact BEV intersection area and convex-hull area.

Used as the NumPy reference and, unchanged, as the Torch and CuPy backends (fixed-shape
array code, no Python loop over pairs).

Intersection by Green's theorem: the boundary of A ∩ B is the part of A's boundary inside B
plus the part of B's boundary inside A, so

    area(A ∩ B) = 1/2 * sum over clipped edge segments [p0, p1] of cross(p0, p1).

Each edge is clipped to the other box's four half-planes by its parameter range (Cyrus–Beck).
Collinear edges need one rule so a shared boundary is counted exactly once: an edge of A lying
on an edge line of B counts as inside when both run the same way, an edge of B lying on an edge
line of A never counts. Opposite-running shared edges (touching boxes) then contribute nothing.
Coordinates are taken relative to A's centre, in A's axes, for precision.

Nearly aligned pairs (relative yaw within :data:`ALIGNED_SIN` of a multiple of 90 degrees)
skip the clipping: each box turns by half the residual angle towards the other (so the
answer does not depend on which box comes first) and the area is the product of the two
axis overlaps. Clipping such pairs is ill-conditioned (an edge's crossing with a
nearly parallel line moves by ~eps/angle) and decides collinear edges from each box's side
separately (a shared stretch 1e-9 inside the other box was counted twice: IoU 0.2 one way,
0.143 the other). Areas within rounding of 0 (below ``tol * scale^2``, ``scale`` the pair's
size and offset) read exactly 0, so edge-touching boxes have IoU 0 whichever comes first.
"""

from __future__ import annotations

from typing import Any

import array_api_compat

from drivestack.kernels._common import tolerance

# Edge j runs from corner j to corner j+1 of a CCW box (corners as in corners._BEV_SIGNS);
# its outward unit normal in box axes and the half-extent index (0 = length, 1 = width).
_EDGE_DIRS = ((-1.0, 0.0), (0.0, -1.0), (1.0, 0.0), (0.0, 1.0))
_EDGE_NORMALS = ((0.0, 1.0), (-1.0, 0.0), (0.0, -1.0), (1.0, 0.0))
_CORNER_SIGNS = ((0.5, 0.5), (-0.5, 0.5), (-0.5, -0.5), (0.5, -0.5))

#: Edges whose directions differ by less than this angle (rad) are taken as parallel (the
#: clip of one by the other's line is then decided by side, or by the collinear rule when the
#: edge lies within its own spread of the line); the area error this allows is about the
#: angle times the squared box size (~1e-7 m^2 for 10 m boxes). Only degenerate edges and
#: rounding at the :data:`ALIGNED_SIN` boundary reach it: nearly aligned pairs take the
#: axis-overlap route first.
PARALLEL_SIN = 1e-9

#: Pairs whose relative yaw is within this angle (rad, as |sin|) of a multiple of 90 degrees
#: are intersected as exactly aligned rectangles: the IoU error this allows is about the
#: angle (~1e-8); clipping them instead would lose ~1e-16 * size / angle along each nearly
#: parallel edge (the same order at this angle, growing below it).
ALIGNED_SIN = 1e-8


def _rotate(xp: Any, vec: Any, c: Any, s: Any) -> Any:
    """Rotate ``vec (..., 4, 2)`` by per-pair ``c, s (K,)``."""
    x, y = vec[..., 0], vec[..., 1]
    return xp.stack([c[:, None] * x - s[:, None] * y, s[:, None] * x + c[:, None] * y], axis=-1)


def _local_boxes(xp: Any, a: Any, b: Any) -> tuple[Any, ...]:
    """Both boxes of each pair in A's frame: corners, edge dirs, normals, offsets, centres;
    and the cos and sin ``(K,)`` of B's yaw relative to A's."""
    dev = array_api_compat.device(a)
    dt = a.dtype
    signs = xp.asarray(_CORNER_SIGNS, dtype=dt, device=dev)
    dirs = xp.asarray(_EDGE_DIRS, dtype=dt, device=dev)
    normals = xp.asarray(_EDGE_NORMALS, dtype=dt, device=dev)
    k = a.shape[0]
    ca, sa = xp.cos(a[:, 6]), xp.sin(a[:, 6])
    dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    center_b = xp.stack([ca * dx + sa * dy, -sa * dx + ca * dy], axis=1)  # (K, 2)
    # cos and sin of yaw_b - yaw_a from each yaw's own (as the compiled route): the difference
    # of two large yaws (e.g. 1e20 rad) would lose the relative angle
    cb_abs, sb_abs = xp.cos(b[:, 6]), xp.sin(b[:, 6])
    cb, sb = cb_abs * ca + sb_abs * sa, sb_abs * ca - cb_abs * sa
    extent_a = xp.stack([a[:, 3], a[:, 4]], axis=1)  # (K, 2) full extents
    extent_b = xp.stack([b[:, 3], b[:, 4]], axis=1)
    corners_a = signs[None] * extent_a[:, None, :]
    corners_b = _rotate(xp, signs[None] * extent_b[:, None, :], cb, sb) + center_b[:, None, :]
    dirs_a = (
        xp.broadcast_to(dirs[None], (k, 4, 2))
        * xp.stack([extent_a[:, 0], extent_a[:, 1], extent_a[:, 0], extent_a[:, 1]], axis=1)[
            ..., None
        ]
    )
    dirs_b = _rotate(
        xp,
        xp.broadcast_to(dirs[None], (k, 4, 2))
        * xp.stack([extent_b[:, 0], extent_b[:, 1], extent_b[:, 0], extent_b[:, 1]], axis=1)[
            ..., None
        ],
        cb,
        sb,
    )
    normals_a = xp.broadcast_to(normals[None], (k, 4, 2))
    normals_b = _rotate(xp, normals_a, cb, sb)
    # half-plane offsets in the order of the normals: width/2, length/2, width/2, length/2
    off_a = 0.5 * xp.stack([extent_a[:, 1], extent_a[:, 0], extent_a[:, 1], extent_a[:, 0]], axis=1)
    off_b = 0.5 * xp.stack([extent_b[:, 1], extent_b[:, 0], extent_b[:, 1], extent_b[:, 0]], axis=1)
    center_a = xp.zeros((k, 2), dtype=dt, device=dev)
    return (
        (corners_a, dirs_a, normals_a, off_a, center_a),
        (corners_b, dirs_b, normals_b, off_b, center_b),
        (cb, sb),
    )


def _clipped_edges_cross(
    xp: Any,
    edges: tuple[Any, ...],
    planes: tuple[Any, ...],
    scale: Any,
    tol: float,
    collinear_counts: bool,
    crossings: tuple[Any, Any] | None = None,
) -> tuple[Any, Any, Any]:
    """Edges of one box clipped to the other box: ``(K,)`` sum of cross(p0, p1), and the clip
    parameters ``(K, 4 edges, 4 planes)`` with their ``parallel`` mask (for the other call).

    ``crossings``: the other call's ``(ratio, parallel)``, with the planes' box as its edges.
    Each crossing of an edge with a plane's line is then the point the other call found on
    that plane's edge, projected onto this edge: both boundaries meet at one point, where two
    independent crossings of nearly parallel lines would each move by ~eps / angle along
    them and leave a gap that Green's sum counts."""
    start, direction, _, _, _ = edges
    plane_start, plane_dirs, normals, offsets, center = planes
    rel = start[:, :, None, :] - center[:, None, None, :]  # (K, 4 edges, 1, 2)
    num = xp.sum(normals[:, None, :, :] * rel, axis=-1) - offsets[:, None, :]  # (K, 4, 4 planes)
    den = xp.sum(normals[:, None, :, :] * direction[:, :, None, :], axis=-1)
    len2 = xp.sum(direction * direction, axis=-1)
    edge_len = xp.sqrt(len2)[:, :, None]
    sin_tol = max(tol, PARALLEL_SIN)
    # an edge within sin_tol of a plane's direction is parallel to it: its crossing would be
    # ill-conditioned, and the two boxes' clipped boundaries would then not meet exactly
    eps_len = tol * scale[:, None, None] + sin_tol * edge_len
    parallel = xp.abs(den) <= sin_tol * edge_len
    safe_den = xp.where(parallel, xp.ones_like(den), den)
    ratio = -num / safe_den
    if crossings is not None:
        other_ratio, other_parallel = crossings
        # the point on plane edge j where it meets edge i's line: (K, 4 planes, 4 edges, 2)
        meet = plane_start[:, :, None, :] + other_ratio[..., None] * plane_dirs[:, :, None, :]
        meet = xp.permute_dims(meet, (0, 2, 1, 3)) - start[:, :, None, :]
        safe_len2 = xp.where(len2 > 0, len2, xp.ones_like(len2))[:, :, None]
        projected = xp.sum(meet * direction[:, :, None, :], axis=-1) / safe_len2
        shared = ~parallel & ~xp.permute_dims(other_parallel, (0, 2, 1))
        ratio = xp.where(shared, projected, ratio)
    one = xp.ones_like(ratio)
    zero = xp.zeros_like(ratio)
    t_hi = xp.min(xp.where((den > 0) & ~parallel, ratio, one), axis=-1)
    t_lo = xp.max(xp.where((den < 0) & ~parallel, ratio, zero), axis=-1)
    t_hi = xp.minimum(t_hi, xp.ones_like(t_hi))
    t_lo = xp.maximum(t_lo, xp.zeros_like(t_lo))
    on_line = xp.abs(num) <= eps_len
    if collinear_counts:
        same_way = xp.sum(direction[:, :, None, :] * plane_dirs[:, None, :, :], axis=-1) > 0
        inside_parallel = (num < -eps_len) | (on_line & same_way)
    else:
        inside_parallel = num < -eps_len
    blocked = xp.any(parallel & ~inside_parallel, axis=-1)
    valid = ~blocked & (t_hi > t_lo)
    p0 = start + t_lo[..., None] * direction
    p1 = start + t_hi[..., None] * direction
    cross = p0[..., 0] * p1[..., 1] - p0[..., 1] * p1[..., 0]
    return xp.sum(xp.where(valid, cross, xp.zeros_like(cross)), axis=1), ratio, parallel


def bev_intersection_area(xp: Any, a: Any, b: Any) -> Any:
    """``(K,)`` exact BEV intersection areas of box pairs ``a[k], b[k]`` (each ``(K, 7)``)."""
    box_a, box_b, (cb, sb) = _local_boxes(xp, a, b)
    tol = tolerance(xp, a.dtype)
    scale = 1.0 + xp.max(xp.abs(xp.concat([box_b[4], a[:, 3:5], b[:, 3:5]], axis=1)), axis=1)
    twice_a, ratio_a, parallel_a = _clipped_edges_cross(
        xp, box_a, box_b, scale, tol, collinear_counts=True
    )
    twice_b, _, _ = _clipped_edges_cross(
        xp, box_b, box_a, scale, tol, collinear_counts=False, crossings=(ratio_a, parallel_a)
    )
    twice_area = twice_a + twice_b
    area = 0.5 * twice_area
    # nearly aligned pairs: the overlap of B's axis-aligned extents with A's (B turned by
    # ~90 degrees swaps its length and width)
    turned = xp.abs(cb) < xp.abs(sb)
    aligned = xp.minimum(xp.abs(cb), xp.abs(sb)) <= ALIGNED_SIN
    half_bx = 0.5 * xp.where(turned, b[:, 4], b[:, 3])
    half_by = 0.5 * xp.where(turned, b[:, 3], b[:, 4])
    zero = xp.zeros_like(area)
    one = xp.ones_like(area)
    # the residual angle: each box turns by half of it towards the other (about its own
    # centre), so swapping the boxes snaps to the same pair of rectangles; in A's turned
    # frame B's centre turns by -residual / 2 (to first order: the error is residual^2)
    residual = xp.where(turned, -cb * xp.where(sb < 0, -one, one), sb * xp.where(cb < 0, -one, one))
    bx0, by0 = box_b[4][:, 0], box_b[4][:, 1]
    bx = bx0 + 0.5 * residual * by0
    by = by0 - 0.5 * residual * bx0
    over_x = xp.minimum(0.5 * a[:, 3], bx + half_bx) - xp.maximum(-0.5 * a[:, 3], bx - half_bx)
    over_y = xp.minimum(0.5 * a[:, 4], by + half_by) - xp.maximum(-0.5 * a[:, 4], by - half_by)
    area_aligned = xp.maximum(over_x, zero) * xp.maximum(over_y, zero)
    area = xp.where(aligned, area_aligned, area)
    area = xp.where(area <= tol * scale * scale, zero, area)
    upper = xp.minimum(a[:, 3] * a[:, 4], b[:, 3] * b[:, 4])
    return xp.clip(area, zero, upper)


def hull_area(xp: Any, points: Any) -> Any:
    """``(K,)`` area of the convex hull of ``points (K, P, 2)`` (fixed-shape edge test).

    Edge i -> j is a hull edge when every point is strictly left of it or on its line
    within the segment (collinear: the point within rounding of the edge's line, a distance
    that grows with how far the point lies from the edge, so a cluster of points closer
    together than the set's extent but farther apart than rounding keeps its own shape);
    duplicates count once (lowest index). Summing
    cross(p_i, p_j) over hull edges gives twice the area; a set whose twice-area is within
    rounding of 0 (collinear, e.g. zero-size boxes) gives 0, as the compiled route's
    monotone chain.
    """
    k, p = points.shape[0], points.shape[1]
    dev = array_api_compat.device(points)
    if k == 0:
        return xp.zeros((0,), dtype=points.dtype, device=dev)
    centre = xp.mean(points, axis=1, keepdims=True)
    pts = points - centre
    tol = tolerance(xp, points.dtype)
    scale = 1.0 + xp.max(xp.abs(xp.reshape(pts, (k, -1))), axis=1)[:, None, None, None]
    pi = pts[:, :, None, None, :]
    pj = pts[:, None, :, None, :]
    pk = pts[:, None, None, :, :]
    e = pj - pi  # (K, P, P, 1, 2)
    r = pk - pi  # (K, P, P, P, 2)
    cross = e[..., 0] * r[..., 1] - e[..., 1] * r[..., 0]
    e_len2 = xp.sum(e * e, axis=-1)
    e_len = xp.sqrt(e_len2)
    # k within rounding of the line through i and j: |cross| is k's distance from that line
    # times |e|, and the points' own rounding (tol * scale each) tilts a short edge's line
    # by up to tol * scale / |e|, which moves the line by that times |r| at k. A test on the
    # triangle's area alone (|cross| <= tol * scale**2) called a 1e-9 m box's corners
    # collinear with each other and counted a third of a 1 m hull twice; one on the
    # distance alone let a 3e-4 m edge's tilted line take a point 2 m away as strictly left
    collinear = xp.abs(cross) <= tol * scale * (e_len + xp.sqrt(xp.sum(r * r, axis=-1)))
    t = xp.sum(r * e, axis=-1) / xp.where(e_len2 > 0, e_len2, xp.ones_like(e_len2))
    ok = (~collinear & (cross > 0)) | (collinear & (t >= -tol) & (t <= 1.0 + tol))
    dist = xp.sqrt(xp.sum((pts[:, :, None, :] - pts[:, None, :, :]) ** 2, axis=-1))  # (K, P, P)
    idx = xp.arange(p, device=dev)
    earlier_duplicate = xp.any(
        (dist <= tol * scale[:, :, :, 0]) & (idx[None, None, :] < idx[None, :, None]), axis=2
    )
    valid = (
        xp.all(ok, axis=-1)
        & (e_len[..., 0] > tol * scale[..., 0])
        & ~earlier_duplicate[:, :, None]
        & ~earlier_duplicate[:, None, :]
    )
    edge_cross = pi[..., 0, 0] * pj[..., 0, 1] - pi[..., 0, 1] * pj[..., 0, 0]
    twice_area = xp.sum(xp.where(valid, edge_cross, xp.zeros_like(edge_cross)), axis=(1, 2))
    degenerate = xp.abs(twice_area) <= tol * scale[:, 0, 0, 0] * scale[:, 0, 0, 0]
    return 0.5 * xp.where(degenerate, xp.zeros_like(twice_area), twice_area)
