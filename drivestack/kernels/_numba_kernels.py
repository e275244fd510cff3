"""numba-compiled CPU route for the pairwise geometry kernels.

Same algorithms as the array reference (``_polygon.py``) written as scalar loops, so the
compiled route returns the same answers while touching only the pairs that can interact
(bounding-circle prefilter, x-sorted sweeps, a coarse grid for points in boxes).
Compiled on first use; ``cache=True`` keeps the machine code between runs.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from drivestack.kernels._polygon import ALIGNED_SIN, PARALLEL_SIN

_jit = nb.njit(cache=True, nogil=True)

_SX = np.array([0.5, -0.5, -0.5, 0.5])
_SY = np.array([0.5, 0.5, -0.5, -0.5])


# Rows of the per-box work block written by _box_in_frame (7 rows of 4 values per box).
_CX, _CY, _DX, _DY, _NX, _NY, _OFF = range(7)


@_jit
def _box_in_frame(box, cx, cy, length, width, c, s):
    """Fill ``box (7, 4)``: corners, edge vectors, outward unit normals and half-plane offsets
    of a rectangle centred at (cx, cy) with axes rotated by (c, s); CCW from front-left."""
    for j in range(4):
        lx = _SX[j] * length
        ly = _SY[j] * width
        box[_CX, j] = cx + c * lx - s * ly
        box[_CY, j] = cy + s * lx + c * ly
    for j in range(4):
        k = (j + 1) % 4
        box[_DX, j] = box[_CX, k] - box[_CX, j]
        box[_DY, j] = box[_CY, k] - box[_CY, j]
    # normals of edges 0..3 in box axes: (0,1), (-1,0), (0,-1), (1,0)
    box[_NX, 0], box[_NY, 0] = -s, c
    box[_NX, 1], box[_NY, 1] = -c, -s
    box[_NX, 2], box[_NY, 2] = s, -c
    box[_NX, 3], box[_NY, 3] = c, s
    box[_OFF, 0] = 0.5 * width
    box[_OFF, 1] = 0.5 * length
    box[_OFF, 2] = 0.5 * width
    box[_OFF, 3] = 0.5 * length


@_jit
def _clip_cross(p, q, qx, qy, scale, tol, collinear_counts, ratios, parallels, use_crossings):
    """Sum of cross(p0, p1) over the edges of box ``p`` clipped to box ``q`` (centre qx, qy).

    Writes each edge's clip parameter against each plane to ``ratios[i, j]`` and whether they
    are parallel to ``parallels[i, j]`` (1.0 or 0.0; both ``(4, 4)`` views of the caller's
    work block); with ``use_crossings`` reads them (written by the
    call with the boxes swapped) and takes each crossing as the point found on ``q``'s edge,
    projected onto ``p``'s (as the reference: both boundaries meet at one point)."""
    total = 0.0
    sin_tol = max(tol, PARALLEL_SIN)
    for i in range(4):
        t_lo = 0.0
        t_hi = 1.0
        blocked = False
        len2 = p[_DX, i] * p[_DX, i] + p[_DY, i] * p[_DY, i]
        edge_len = math.sqrt(len2)
        eps_len = tol * scale + sin_tol * edge_len
        # every plane is visited (no early exit on a blocked edge): the swapped call reads
        # all sixteen parameters, as the reference computes them
        for j in range(4):
            num = q[_NX, j] * (p[_CX, i] - qx) + q[_NY, j] * (p[_CY, i] - qy) - q[_OFF, j]
            den = q[_NX, j] * p[_DX, i] + q[_NY, j] * p[_DY, i]
            parallel = abs(den) <= sin_tol * edge_len
            ratio = -num / (1.0 if parallel else den)
            if use_crossings:
                if not parallel and parallels[j, i] == 0.0:
                    mx = q[_CX, j] + ratios[j, i] * q[_DX, j] - p[_CX, i]
                    my = q[_CY, j] + ratios[j, i] * q[_DY, j] - p[_CY, i]
                    ratio = (mx * p[_DX, i] + my * p[_DY, i]) / (len2 if len2 > 0.0 else 1.0)
            else:
                ratios[i, j] = ratio
                parallels[i, j] = 1.0 if parallel else 0.0
            if parallel:
                inside = num < -eps_len
                if collinear_counts and not inside and abs(num) <= eps_len:
                    inside = p[_DX, i] * q[_DX, j] + p[_DY, i] * q[_DY, j] > 0.0
                if not inside:
                    blocked = True
            elif den > 0.0:
                if ratio < t_hi:
                    t_hi = ratio
            elif ratio > t_lo:
                t_lo = ratio
        if blocked or t_hi <= t_lo:
            continue
        x0 = p[_CX, i] + t_lo * p[_DX, i]
        y0 = p[_CY, i] + t_lo * p[_DY, i]
        x1 = p[_CX, i] + t_hi * p[_DX, i]
        y1 = p[_CY, i] + t_hi * p[_DY, i]
        total += x0 * y1 - y0 * x1
    return total


@_jit
def _separated_on_axes(cx, cy, c, s, half_l, half_w, ext_l, ext_w):
    """Is a box centred (cx, cy) with axes rotated by (c, s) and half extents (ext_l, ext_w)
    outside the axis-aligned rectangle [-half_l, half_l] x [-half_w, half_w]? (2 SAT axes)"""
    reach_x = abs(c) * ext_l + abs(s) * ext_w
    reach_y = abs(s) * ext_l + abs(c) * ext_w
    return (
        cx - reach_x > half_l
        or cx + reach_x < -half_l
        or cy - reach_y > half_w
        or cy + reach_y < -half_w
    )


@_jit
def _pair_intersection(a, b, ca, sa, cb_abs, sb_abs, tol, work):  # work: (4, 7, 4)
    """Exact BEV intersection area of boxes ``a`` and ``b`` (rows of 7), A-centred frame
    (nearly aligned pairs by axis overlaps, tiny areas 0: as ``_polygon.bev_intersection_area``).

    ``ca, sa`` / ``cb_abs, sb_abs``: cos and sin of each box's yaw (precomputed by callers).
    A separating-axis test on all four axes returns 0 early for boxes whose bounding circles
    meet but whose rectangles do not (the common case among neighbours).
    """
    dx = b[0] - a[0]
    dy = b[1] - a[1]
    bx = ca * dx + sa * dy
    by = -sa * dx + ca * dy
    cb = cb_abs * ca + sb_abs * sa  # cos(yaw_b - yaw_a)
    sb = sb_abs * ca - cb_abs * sa  # sin(yaw_b - yaw_a)
    if _separated_on_axes(bx, by, cb, sb, 0.5 * a[3], 0.5 * a[4], 0.5 * b[3], 0.5 * b[4]):
        return 0.0
    ax = -(cb * bx + sb * by)  # A's centre in B's frame
    ay = -(-sb * bx + cb * by)
    if _separated_on_axes(ax, ay, cb, -sb, 0.5 * b[3], 0.5 * b[4], 0.5 * a[3], 0.5 * a[4]):
        return 0.0
    scale = 1.0 + max(abs(bx), abs(by), a[3], a[4], b[3], b[4])
    if min(abs(cb), abs(sb)) <= ALIGNED_SIN:
        # nearly aligned: the product of the axis overlaps (as the reference; B turned by
        # ~90 degrees swaps its length and width)
        if abs(cb) < abs(sb):
            half_bx = 0.5 * b[4]
            half_by = 0.5 * b[3]
            residual = -cb * (-1.0 if sb < 0.0 else 1.0)
        else:
            half_bx = 0.5 * b[3]
            half_by = 0.5 * b[4]
            residual = sb * (-1.0 if cb < 0.0 else 1.0)
        # each box turns by half the residual towards the other (order-independent)
        bx0 = bx
        bx = bx0 + 0.5 * residual * by
        by = by - 0.5 * residual * bx0
        over_x = min(0.5 * a[3], bx + half_bx) - max(-0.5 * a[3], bx - half_bx)
        over_y = min(0.5 * a[4], by + half_by) - max(-0.5 * a[4], by - half_by)
        area = max(over_x, 0.0) * max(over_y, 0.0)
    else:
        box_a = work[0]
        box_b = work[1]
        _box_in_frame(box_a, 0.0, 0.0, a[3], a[4], 1.0, 0.0)
        _box_in_frame(box_b, bx, by, b[3], b[4], cb, sb)
        ratios = work[2, :4]
        parallels = work[3, :4]
        twice = _clip_cross(box_a, box_b, bx, by, scale, tol, True, ratios, parallels, False)
        twice += _clip_cross(box_b, box_a, 0.0, 0.0, scale, tol, False, ratios, parallels, True)
        area = 0.5 * twice
    # within rounding of 0 (edge-touching boxes): exactly 0, whichever box comes first
    if area <= tol * scale * scale:
        return 0.0
    upper = min(a[3] * a[4], b[3] * b[4])
    if area < 0.0:
        area = 0.0
    if area > upper:
        area = upper
    return area


@_jit
def _chain(px, py, hx, hy, k, first, stop, step, floor):
    """One pass of Andrew's monotone chain: push points, popping right turns above ``floor``."""
    for i in range(first, stop, step):
        while (
            k >= floor
            and (hx[k - 1] - hx[k - 2]) * (py[i] - hy[k - 2])
            - (hy[k - 1] - hy[k - 2]) * (px[i] - hx[k - 2])
            <= 0.0
        ):
            k -= 1
        hx[k] = px[i]
        hy[k] = py[i]
        k += 1
    return k


@_jit
def _hull_area8(xs, ys, scratch):
    """Convex-hull area of a few points (insertion sort by x then y, then monotone chain).

    ``scratch (6, 2 * n)`` is caller-owned working memory (no allocation per pair)."""
    n = xs.shape[0]
    px = scratch[2, :n]
    py = scratch[3, :n]
    px[:] = xs
    py[:] = ys
    for i in range(1, n):
        j = i
        while j > 0 and (px[j - 1] > px[j] or (px[j - 1] == px[j] and py[j - 1] > py[j])):
            px[j - 1], px[j] = px[j], px[j - 1]
            py[j - 1], py[j] = py[j], py[j - 1]
            j -= 1
    hx = scratch[4]
    hy = scratch[5]
    k = _chain(px, py, hx, hy, 0, 0, n, 1, 2)
    k = _chain(px, py, hx, hy, k, n - 2, -1, -1, k + 1)
    area = 0.0
    for i in range(k - 1):
        area += hx[i] * hy[i + 1] - hx[i + 1] * hy[i]
    return 0.5 * area


@_jit
def _enclosing_area(a, b, scratch, tol):
    """Area of the convex hull of the 8 BEV corners of boxes ``a`` and ``b``; 0 for a
    degenerate (collinear within ``tol``) hull, as the array reference's ``hull_area``."""
    xs = scratch[0, :8]
    ys = scratch[1, :8]
    ox = 0.5 * (a[0] + b[0])
    oy = 0.5 * (a[1] + b[1])
    for box_index in range(2):
        box = a if box_index == 0 else b
        c = math.cos(box[6])
        s = math.sin(box[6])
        for j in range(4):
            lx = _SX[j] * box[3]
            ly = _SY[j] * box[4]
            xs[4 * box_index + j] = box[0] - ox + c * lx - s * ly
            ys[4 * box_index + j] = box[1] - oy + s * lx + c * ly
    scale = 1.0
    for j in range(8):
        scale = max(scale, 1.0 + abs(xs[j]), 1.0 + abs(ys[j]))
    area = _hull_area8(xs, ys, scratch)
    # twice the area within rounding of 0: the points are collinear (a segment or a point,
    # e.g. zero-size boxes); the reference's collinearity test reads the same
    if 2.0 * abs(area) <= tol * scale * scale:
        return 0.0
    return area


@_jit
def _z_overlap(a, b):
    lo = max(a[2] - 0.5 * a[5], b[2] - 0.5 * b[5])
    hi = min(a[2] + 0.5 * a[5], b[2] + 0.5 * b[5])
    # at most the lower box's height (rounding of thin boxes far from z = 0 would exceed it,
    # and the 3D IoU of such a box with itself would exceed 1)
    return min(hi - lo, a[5], b[5]) if hi > lo else 0.0


@_jit
def pairwise_overlap(a, b, mode, tol):
    """``(N, M)`` matrix: mode 0 BEV IoU, 1 3D IoU, 2 BEV GIoU, 3 3D GIoU (float64 boxes)."""
    n = a.shape[0]
    m = b.shape[0]
    out = np.zeros((n, m))
    work = np.empty((4, 7, 4))
    scratch = np.empty((6, 16))
    ra = np.empty(n)
    rb = np.empty(m)
    for i in range(n):
        ra[i] = 0.5 * math.sqrt(a[i, 3] * a[i, 3] + a[i, 4] * a[i, 4])
    for j in range(m):
        rb[j] = 0.5 * math.sqrt(b[j, 3] * b[j, 3] + b[j, 4] * b[j, 4])
    cos_a, sin_a = np.cos(a[:, 6]), np.sin(a[:, 6])
    cos_b, sin_b = np.cos(b[:, 6]), np.sin(b[:, 6])
    giou = mode >= 2
    three_d = mode == 1 or mode == 3
    # IoU is 0 unless bounding circles meet: sweep over b sorted by x. GIoU needs every pair.
    by_x = np.argsort(b[:, 0])
    xs = b[by_x, 0].copy()
    rb_max = 0.0
    for j in range(m):
        rb_max = max(rb_max, rb[j])
    for i in range(n):
        ai = a[i]
        area_a = ai[3] * ai[4]
        if giou:
            lo, hi = 0, m
        else:
            lo = np.searchsorted(xs, ai[0] - ra[i] - rb_max, side="left")
            hi = np.searchsorted(xs, ai[0] + ra[i] + rb_max, side="right")
        for q in range(lo, hi):
            j = q if giou else by_x[q]
            bj = b[j]
            dx = ai[0] - bj[0]
            dy = ai[1] - bj[1]
            reach = ra[i] + rb[j]
            inter = 0.0
            if dx * dx + dy * dy <= reach * reach * (1.0 + 1e-12):
                inter = _pair_intersection(
                    ai, bj, cos_a[i], sin_a[i], cos_b[j], sin_b[j], tol, work
                )
            if not giou and inter <= 0.0:
                continue
            area_b = bj[3] * bj[4]
            if three_d:
                inter = inter * _z_overlap(ai, bj)
                union = area_a * ai[5] + area_b * bj[5] - inter
            else:
                union = area_a + area_b - inter
            iou = inter / union if union > 0.0 else 0.0
            if not giou:
                out[i, j] = iou
                continue
            hull = _enclosing_area(ai, bj, scratch, tol)
            if three_d:
                top = max(ai[2] + 0.5 * ai[5], bj[2] + 0.5 * bj[5])
                bottom = min(ai[2] - 0.5 * ai[5], bj[2] - 0.5 * bj[5])
                hull = hull * (top - bottom)
            # the enclosing shape holds the union: rounding on slivers must not push GIoU
            # above its IoU (or above 1)
            hull = max(hull, union)
            out[i, j] = iou - (hull - union) / hull if hull > 0.0 else iou
    return out


@_jit
def _bucket(cell_of, n_cells):
    """Counting sort: ``(starts (n_cells + 1,), members)`` of items grouped by cell."""
    n = cell_of.shape[0]
    starts = np.zeros(n_cells + 1, dtype=np.int64)
    for i in range(n):
        starts[cell_of[i] + 1] += 1
    for c in range(n_cells):
        starts[c + 1] += starts[c]
    fill = starts[:-1].copy()
    members = np.empty(n, dtype=np.int64)
    for i in range(n):
        members[fill[cell_of[i]]] = i
        fill[cell_of[i]] += 1
    return starts, members


@_jit
def _grid_of(xs, ys, members_mask, x0, y0, cell):
    """Uniform grid over the boxes selected by ``members_mask``: ``(nx, ny, starts, members)``."""
    n = xs.shape[0]
    nx = 1
    ny = 1
    for i in range(n):
        if members_mask[i]:
            nx = max(nx, int((xs[i] - x0) / cell) + 1)
            ny = max(ny, int((ys[i] - y0) / cell) + 1)
    cell_of = np.full(n, nx * ny, dtype=np.int64)  # unselected boxes go to a spill slot
    for i in range(n):
        if members_mask[i]:
            cell_of[i] = int((xs[i] - x0) / cell) * ny + int((ys[i] - y0) / cell)
    starts, members = _bucket(cell_of, nx * ny + 1)
    return nx, ny, starts, members


@_jit
def grid_cell_m(extent_x_m, extent_y_m, n_items, floor_m):
    """The cell size (m) of a uniform xy grid over ``n_items`` spread over ``extent_x_m`` x
    ``extent_y_m``: at least ``floor_m``, at most 4096 cells a side, and at most about 4
    cells an item (``4 n + 64`` over the extent's area). One stray return or box km away
    would otherwise make every call build and scan millions of empty cells: the compiled
    route ran 40-90x slower than without it, slower than the reference route."""
    cell = max(floor_m, extent_x_m / 4096.0, extent_y_m / 4096.0)
    return max(cell, math.sqrt(extent_x_m * extent_y_m / (4.0 * n_items + 64.0)))


@_jit
def nms_bev(boxes, order, iou_threshold, tol):
    """Greedy rotated NMS over ``order`` (indices by descending score); returns kept indices.

    Candidates come from two uniform grids: one for the common box sizes (cells twice the
    size-cut radius) and one for the few large boxes (trucks, buses), so a handful of long
    boxes does not inflate every neighbourhood. Exact IoU only for bounding-circle overlaps.
    """
    n = boxes.shape[0]
    xs = boxes[:, 0].copy()
    ys = boxes[:, 1].copy()
    radius = np.empty(n)
    for i in range(n):
        radius[i] = 0.5 * math.sqrt(boxes[i, 3] * boxes[i, 3] + boxes[i, 4] * boxes[i, 4])
    cos_yaw, sin_yaw = np.cos(boxes[:, 6]), np.sin(boxes[:, 6])
    r_cut = max(2.0 * np.median(radius), 1e-9)
    r_max = max(np.max(radius), 1e-9)
    large = radius > r_cut
    small = ~large
    x0 = np.min(xs)
    y0 = np.min(ys)
    extent_x, extent_y = np.max(xs) - x0, np.max(ys) - y0
    cells = (
        grid_cell_m(extent_x, extent_y, n, 2.0 * r_cut),
        grid_cell_m(extent_x, extent_y, n, 2.0 * r_max),
    )
    grid_small = _grid_of(xs, ys, small, x0, y0, cells[0])
    grid_large = _grid_of(xs, ys, large, x0, y0, cells[1])
    level_radius = (r_cut, r_max)
    rank = np.empty(n, dtype=np.int64)
    for r in range(n):
        rank[order[r]] = r
    suppressed = np.zeros(n, dtype=np.bool_)
    keep = np.empty(n, dtype=np.int64)
    kept = 0
    work = np.empty((4, 7, 4))
    for r in range(n):
        i = order[r]
        if suppressed[i]:
            continue
        keep[kept] = i
        kept += 1
        for level in range(2):
            nx, ny, starts, members = grid_small if level == 0 else grid_large
            cell = cells[level]
            reach_cells = math.ceil((radius[i] + level_radius[level]) / cell)
            gx = int((xs[i] - x0) / cell)
            gy = int((ys[i] - y0) / cell)
            for cx in range(max(gx - reach_cells, 0), min(gx + reach_cells + 1, nx)):
                for cy in range(max(gy - reach_cells, 0), min(gy + reach_cells + 1, ny)):
                    c = cx * ny + cy
                    for q in range(starts[c], starts[c + 1]):
                        j = members[q]
                        if suppressed[j] or rank[j] <= r:
                            continue
                        dx = xs[i] - xs[j]
                        dy = ys[i] - ys[j]
                        reach = radius[i] + radius[j]
                        if dx * dx + dy * dy > reach * reach * (1.0 + 1e-12):
                            continue
                        # the lower index first, as the reference evaluates its pairs
                        lo, hi = (i, j) if i < j else (j, i)
                        inter = _pair_intersection(
                            boxes[lo],
                            boxes[hi],
                            cos_yaw[lo],
                            sin_yaw[lo],
                            cos_yaw[hi],
                            sin_yaw[hi],
                            tol,
                            work,
                        )
                        union = boxes[lo, 3] * boxes[lo, 4] + boxes[hi, 3] * boxes[hi, 4] - inter
                        if union > 0.0 and inter / union > iou_threshold:
                            suppressed[j] = True
    return keep[:kept]


@_jit
def _cell_index(position, count):
    """``floor(position)`` clamped to ``[-1, count]`` (-1 and ``count``: beyond either end)."""
    if position < 0.0:
        return -1
    if position >= count:
        return count
    return math.floor(position)


@_jit
def points_in_boxes(points, boxes, cell_m, slack_eps):
    """``(N, M)`` bool: point inside box (closed, faces widened by ``slack_eps`` times the
    box-centred offsets as the reference), via a coarse xy grid over the points."""
    n = points.shape[0]
    m = boxes.shape[0]
    out = np.zeros((n, m), dtype=np.bool_)
    if n == 0 or m == 0:
        return out
    x0 = points[0, 0]
    y0 = points[0, 1]
    x1 = x0
    y1 = y0
    for i in range(n):
        x0 = min(x0, points[i, 0])
        x1 = max(x1, points[i, 0])
        y0 = min(y0, points[i, 1])
        y1 = max(y1, points[i, 1])
    # far-flung points (an outlier km away) must not make a grid of millions of cells (the
    # grid only prunes pairs: the answer is the same)
    cell_m = grid_cell_m(x1 - x0, y1 - y0, n, cell_m)
    nx = int((x1 - x0) / cell_m) + 1
    ny = int((y1 - y0) / cell_m) + 1
    cell = np.empty(n, dtype=np.int64)
    for i in range(n):
        cell[i] = int((points[i, 0] - x0) / cell_m) * ny + int((points[i, 1] - y0) / cell_m)
    counts, sorted_idx = _bucket(cell, nx * ny)
    for k in range(m):
        c = math.cos(boxes[k, 6])
        s = math.sin(boxes[k, 6])
        hl = 0.5 * boxes[k, 3]
        hw = 0.5 * boxes[k, 4]
        hh = 0.5 * boxes[k, 5]
        # the box's xy reach, padded by the faces' slack and the rounding of the positions
        # (the grid only prunes: a point just outside the reach may still count)
        ex = abs(c) * hl + abs(s) * hw
        ey = abs(s) * hl + abs(c) * hw
        pad = slack_eps * (
            abs(boxes[k, 0]) + abs(boxes[k, 1]) + abs(x0) + abs(y0) + 2.0 * (ex + ey)
        )
        ex += pad
        ey += pad
        # cell ranges clamped to the grid before the integer conversion (a box far larger
        # than the grid would overflow int64)
        cx0 = _cell_index((boxes[k, 0] - ex - x0) / cell_m, nx)
        cx1 = _cell_index((boxes[k, 0] + ex - x0) / cell_m, nx)
        cy0 = _cell_index((boxes[k, 1] - ey - y0) / cell_m, ny)
        cy1 = _cell_index((boxes[k, 1] + ey - y0) / cell_m, ny)
        for gx in range(max(cx0, 0), min(cx1, nx - 1) + 1):
            for gy in range(max(cy0, 0), min(cy1, ny - 1) + 1):
                cc = gx * ny + gy
                for q in range(counts[cc], counts[cc + 1]):
                    i = sorted_idx[q]
                    dz = points[i, 2] - boxes[k, 2]
                    if abs(dz) > hh + slack_eps * abs(dz):
                        continue
                    dx = points[i, 0] - boxes[k, 0]
                    dy = points[i, 1] - boxes[k, 1]
                    across = slack_eps * (abs(dx) + abs(dy))
                    lx = c * dx + s * dy
                    if abs(lx) > hl + across:
                        continue
                    ly = -s * dx + c * dy
                    if abs(ly) <= hw + across:
                        out[i, k] = True
    return out


@_jit
def voxel_centroids(points, voxel_size):
    """Centroids ``(K, 3)`` float64 of occupied voxels, in order of first occurrence, and each
    point's voxel row ``(N,)``.

    Open-addressing hash table on the integer voxel key; one pass over the points.
    """
    n = points.shape[0]
    if n == 0:
        return np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    ix = np.empty(n, dtype=np.int64)
    iy = np.empty(n, dtype=np.int64)
    iz = np.empty(n, dtype=np.int64)
    for i in range(n):
        ix[i] = math.floor(points[i, 0] / voxel_size)
        iy[i] = math.floor(points[i, 1] / voxel_size)
        iz[i] = math.floor(points[i, 2] / voxel_size)
    capacity = 1
    while capacity < 2 * n:
        capacity *= 2
    mask = capacity - 1
    slot_voxel = np.full(capacity, -1, dtype=np.int64)
    key_x = np.empty(n, dtype=np.int64)
    key_y = np.empty(n, dtype=np.int64)
    key_z = np.empty(n, dtype=np.int64)
    sums = np.zeros((n, 3))
    counts = np.zeros(n, dtype=np.int64)
    voxel_of_point = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        h = (ix[i] * 73856093) ^ (iy[i] * 19349669) ^ (iz[i] * 83492791)
        slot = h & mask
        while True:
            v = slot_voxel[slot]
            if v == -1:
                slot_voxel[slot] = k
                key_x[k] = ix[i]
                key_y[k] = iy[i]
                key_z[k] = iz[i]
                v = k
                k += 1
                break
            if key_x[v] == ix[i] and key_y[v] == iy[i] and key_z[v] == iz[i]:
                break
            slot = (slot + 1) & mask
        voxel_of_point[i] = v
        sums[v, 0] += points[i, 0]
        sums[v, 1] += points[i, 1]
        sums[v, 2] += points[i, 2]
        counts[v] += 1
    out = np.empty((k, 3))
    for v in range(k):
        out[v, 0] = sums[v, 0] / counts[v]
        out[v, 1] = sums[v, 1] / counts[v]
        out[v, 2] = sums[v, 2] / counts[v]
    return out, voxel_of_point
