"""Kernel benchmark: every kernel on every available backend, beside its peers, in one run.

Peers run here: shapely 2 (STRtree route and vectorised all pairs) for rotated IoU, open3d
for voxel down-sampling, plain NumPy broadcasting, and a plain per-pair Python loop. The
numba route is drivestack's default CPU route for NumPy input; "reference" is the array
reference on NumPy; "torch-cpu" the same reference on Torch tensors (1 thread).
Ratios are peer time / drivestack default time (> 1: drivestack is faster).
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from drivestack import kernels as K
from drivestack.bench.scenes import detections_like, driving_scene_boxes, lidar_like_scan
from drivestack.bench.timing import Timing, measure
from drivestack.core.errors import DataError


@dataclass
class CaseResult:
    case: str
    size: str
    timings: list[Timing] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    def default_ms(self) -> float:
        return next(t.median_ms for t in self.timings if t.implementation.startswith("drivestack"))


def _shapely_polygons(boxes: np.ndarray) -> Any:
    import shapely

    return shapely.polygons(K.box_corners(boxes)[:, :4, :2])


def _shapely_strtree_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix the usual shapely way: STRtree query of intersecting pairs, then exact areas."""
    import shapely

    pa, pb = _shapely_polygons(a), _shapely_polygons(b)
    ia, ib = shapely.STRtree(pb).query(pa, predicate="intersects")
    inter = shapely.area(shapely.intersection(pa[ia], pb[ib]))
    out = np.zeros((len(a), len(b)))
    union = shapely.area(pa[ia]) + shapely.area(pb[ib]) - inter
    out[ia, ib] = inter / union
    return out


def _shapely_vectorised_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import shapely

    pa, pb = _shapely_polygons(a), _shapely_polygons(b)
    inter = shapely.area(shapely.intersection(pa[:, None], pb[None, :]))
    union = shapely.area(pa)[:, None] + shapely.area(pb)[None, :] - inter
    return inter / union


def _per_pair_loop_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The naive baseline: a Python double loop calling shapely for every pair."""
    pa, pb = _shapely_polygons(a), _shapely_polygons(b)
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(pa):
        for j, q in enumerate(pb):
            inter = p.intersection(q).area
            out[i, j] = inter / (p.area + q.area - inter)
    return out


def _broadcast_points_in_boxes(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Plain NumPy broadcasting over all (point, box) pairs."""
    rel = points[:, None, :] - boxes[None, :, :3]
    c, s = np.cos(boxes[:, 6]), np.sin(boxes[:, 6])
    lx = c * rel[..., 0] + s * rel[..., 1]
    ly = -s * rel[..., 0] + c * rel[..., 1]
    return (
        (np.abs(lx) <= boxes[:, 3] / 2)
        & (np.abs(ly) <= boxes[:, 4] / 2)
        & (np.abs(rel[..., 2]) <= boxes[:, 5] / 2)
    )


def _differences_on_faces(
    points: np.ndarray, boxes: np.ndarray, ours: np.ndarray, ref: np.ndarray
) -> int | None:
    """How many ``(point, box)`` pairs ``ours`` and ``ref`` (``(N, M)`` bool) disagree on, when
    every such point lies within rounding (1e-9 m plus 8 epsilons of the box-centred offset)
    of one of its box's faces (on the face itself: within the box's extent along the other
    axes, not merely on the face's plane); None when one lies farther from every face (a real
    difference)."""
    n, m = np.nonzero(ours != ref)
    if len(n) == 0:
        return 0
    p, b = points[n].astype(np.float64), boxes[m].astype(np.float64)
    rel = p - b[:, :3]
    c, s = np.cos(b[:, 6]), np.sin(b[:, 6])
    local = np.c_[c * rel[:, 0] + s * rel[:, 1], -s * rel[:, 0] + c * rel[:, 1], rel[:, 2]]
    half = b[:, 3:6] / 2
    tol = 1e-9 + 8 * np.finfo(points.dtype).eps * np.abs(local)
    near_a_face = np.any(np.abs(np.abs(local) - half) <= tol, axis=1)
    within_extent = np.all(np.abs(local) <= half + tol, axis=1)
    return len(n) if bool(np.all(near_a_face & within_extent)) else None


def _host(result: Any) -> np.ndarray:
    """A route's result as a NumPy array on the host (Torch tensors on any device, CuPy
    arrays, NumPy arrays)."""
    if hasattr(result, "detach"):
        return np.asarray(result.detach().cpu().numpy())
    if hasattr(result, "get") and not isinstance(result, np.ndarray):
        return np.asarray(result.get())
    return np.asarray(result)


def _same_set(reference: np.ndarray, result: Any) -> bool:
    """Whether a route's kept indices are the reference's (in any order)."""
    return bool(np.array_equal(np.sort(reference), np.sort(_host(result))))


def _open3d_voxel_from_numpy(points: np.ndarray, voxel_size_m: float) -> Any:
    """open3d's route including the conversion a NumPy user has to pay."""
    import open3d as o3d

    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points.astype(np.float64)))
    return cloud.voxel_down_sample(voxel_size_m)


def _torch() -> Any | None:
    try:
        import torch
    except Exception:
        return None
    torch.set_num_threads(1)
    return torch


@dataclass
class DeviceBackend:
    """A GPU route to time: how to move inputs there and how to wait for it."""

    label: str
    to_device: Callable[[np.ndarray], Any]
    synchronize: Callable[[], None]

    def timed(self, fn: Callable[..., Any], *arrays: np.ndarray) -> Callable[[], Any]:
        moved = [self.to_device(a) for a in arrays]

        def call() -> Any:
            out = fn(*moved)
            self.synchronize()
            return out

        return call


def gpu_backends() -> list[DeviceBackend]:
    """Torch-CUDA and CuPy routes when a CUDA device is usable; empty otherwise."""
    found: list[DeviceBackend] = []
    torch = _torch()
    if torch is not None and torch.cuda.is_available():
        found.append(
            DeviceBackend(
                "drivestack torch-cuda",
                lambda a: torch.from_numpy(a).cuda(),
                torch.cuda.synchronize,
            )
        )
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            found.append(
                DeviceBackend(
                    "drivestack cupy", cupy.asarray, lambda: cupy.cuda.Stream.null.synchronize()
                )
            )
    except Exception:  # ImportError or CUDA runtime errors: no CuPy route here
        pass
    return found


def _load_kitti_scans(kitti_object_dir: Path | None) -> list[tuple[str, np.ndarray]]:
    if kitti_object_dir is None:
        return []
    velodyne = kitti_object_dir / "training" / "velodyne"
    scans = []
    for path in sorted(velodyne.glob("*.bin"))[:2]:
        size = path.stat().st_size
        if size % 16:
            raise DataError(
                f"size {size} bytes is not a multiple of 16 (x, y, z, r float32)", path=str(path)
            )
        raw = np.fromfile(path, dtype=np.float32)
        scans.append((path.name, np.ascontiguousarray(raw.reshape(-1, 4)[:, :3])))
    return scans


def run(
    *,
    quick: bool = False,
    repeats: int = 5,
    seed: int = 0,
    kitti_object_dir: Path | None = None,
    json_path: Path | None = None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run all cases; print a table; return (and optionally write) the JSON report.

    ``kitti_object_dir``: its first two ``training/velodyne/*.bin`` scans are timed too (a
    folder without any: none), read before anything is timed (a damaged one: ``DataError``).
    A negative ``seed`` is a ``DataError`` naming it, before anything is timed."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"must be an integer >= 0, got {seed!r}", field="seed")
    kitti_scans = _load_kitti_scans(kitti_object_dir)  # a bad scan stops it now, not at the end
    rng = np.random.default_rng(seed)
    torch = _torch()
    gpus = gpu_backends()
    scale = 0.25 if quick else 1.0
    n_sparse = int(2000 * scale) if quick else 2000
    n_dense = int(500 * scale) if quick else 500
    n_nms = int(10_000 * scale) if quick else 10_000
    results: list[CaseResult] = []

    def case(name: str, size: str) -> CaseResult:
        res = CaseResult(name, size)
        results.append(res)
        log(f"  running {name} [{size}] ...")
        return res

    # -- rotated IoU, sparse driving scene ---------------------------------------------------
    gt = driving_scene_boxes(rng, n_sparse)
    det = detections_like(rng, gt)
    res = case("box_iou_bev sparse scene", f"{n_sparse} x {n_sparse}")
    t, ours = measure("drivestack numba (default)", lambda: K.box_iou_bev(det, gt), repeats)
    res.timings.append(t)
    t, ref = measure(
        "drivestack reference numpy",
        lambda: K.box_iou_bev(det, gt, impl="reference"),
        repeats // 2,
    )
    res.timings.append(t)
    if torch is not None:
        td, tg = torch.from_numpy(det), torch.from_numpy(gt)
        t, _ = measure("drivestack torch-cpu", lambda: K.box_iou_bev(td, tg), repeats // 2)
        res.timings.append(t)
    t, peer = measure("shapely STRtree", lambda: _shapely_strtree_iou(det, gt), repeats // 2)
    res.timings.append(t)
    sub = slice(0, 60)
    t, _ = measure(
        "per-pair Python loop (60 x 60, scaled)",
        lambda: _per_pair_loop_iou(det[sub], gt[sub]),
        1,
        warmup=0,
    )
    t.median_ms *= (n_sparse / 60) ** 2
    t.min_ms *= (n_sparse / 60) ** 2
    t.note = "timed on 60 x 60 pairs and scaled by the pair count"
    res.timings.append(t)
    res.checks["max_abs_diff_vs_shapely"] = float(np.max(np.abs(ours - peer)))
    res.checks["max_abs_diff_numba_vs_reference"] = float(np.max(np.abs(ours - ref)))
    res.checks["pairs_with_overlap"] = int(np.count_nonzero(ours))
    t3, _ = measure("drivestack numba box_iou_3d", lambda: K.box_iou_3d(det, gt), repeats)
    res.checks["iou_3d_over_bev_time"] = t3.median_ms / res.default_ms()

    # -- rotated IoU, dense -------------------------------------------------------------------
    dense = driving_scene_boxes(rng, n_dense, extent_m=8.0)
    dense_b = detections_like(rng, dense, 0.0)
    res = case("box_iou_bev dense", f"{n_dense} x {n_dense}")
    t, ours = measure("drivestack numba (default)", lambda: K.box_iou_bev(dense, dense_b), repeats)
    res.timings.append(t)
    t, _ = measure(
        "drivestack reference numpy", lambda: K.box_iou_bev(dense, dense_b, impl="reference"), 1
    )
    res.timings.append(t)
    if torch is not None:
        ta, tb = torch.from_numpy(dense), torch.from_numpy(dense_b)
        t, _ = measure("drivestack torch-cpu", lambda: K.box_iou_bev(ta, tb), 1)
        res.timings.append(t)
    t, peer = measure(
        "shapely vectorised all pairs", lambda: _shapely_vectorised_iou(dense, dense_b), 1, warmup=0
    )
    res.timings.append(t)
    res.checks["max_abs_diff_vs_shapely"] = float(np.max(np.abs(ours - peer)))

    # -- 3D IoU and GIoU ------------------------------------------------------------------------
    res = case("box_iou_3d sparse scene", f"{n_sparse} x {n_sparse}")
    res.timings.append(t3)
    res.checks["ratio_to_bev_time"] = res.checks.get(
        "ratio_to_bev_time", t3.median_ms / results[0].default_ms()
    )
    n_giou = 200
    res = case("box_giou_3d (tracking-size)", f"{n_giou} x {n_giou}")
    t, _ = measure(
        "drivestack numba (default)", lambda: K.box_giou_3d(det[:n_giou], gt[:n_giou]), repeats
    )
    res.timings.append(t)
    t, _ = measure(
        "drivestack reference numpy",
        lambda: K.box_giou_3d(det[:n_giou], gt[:n_giou], impl="reference"),
        1,
        warmup=0,  # plain NumPy (~4 s a call): nothing to compile or warm
    )
    res.timings.append(t)

    # -- NMS ------------------------------------------------------------------------------------
    cand = detections_like(rng, driving_scene_boxes(rng, n_nms // 4), 0.0)
    cand = np.concatenate([cand] + [detections_like(rng, cand, 0.0) for _ in range(3)])
    scores = rng.uniform(0, 1, len(cand))
    res = case("nms_bev", f"{len(cand)} boxes, IoU 0.5")
    t, keep = measure("drivestack numba (default)", lambda: K.nms_bev(cand, scores, 0.5), repeats)
    res.timings.append(t)
    t, keep_ref = measure(
        "greedy reference (sparse pairs + Python loop)",
        lambda: K.nms_bev(cand, scores, 0.5, impl="reference"),
        1,
    )
    res.timings.append(t)
    if torch is not None:
        tc, ts = torch.from_numpy(cand), torch.from_numpy(scores)
        t, other = measure("drivestack torch-cpu", lambda: K.nms_bev(tc, ts, 0.5), 1)
        res.timings.append(t)
        res.checks[f"same_keep_set_{t.implementation}"] = _same_set(keep_ref, other)
    for gpu in gpus:
        t, other = measure(
            gpu.label, gpu.timed(lambda b, sc: K.nms_bev(b, sc, 0.5), cand, scores), repeats
        )
        res.timings.append(t)
        res.checks[f"same_keep_set_{gpu.label}"] = _same_set(keep_ref, other)
    res.checks["same_keep_set_as_reference"] = bool(np.array_equal(keep, keep_ref))
    res.checks["kept"] = len(keep)

    # -- point kernels --------------------------------------------------------------------------
    scans = [("generated 64x1875 scan", lidar_like_scan(rng, driving_scene_boxes(rng, 200, 60.0)))]
    scans += [(f"KITTI {name}", pts) for name, pts in kitti_scans]
    boxes50 = driving_scene_boxes(rng, 50, extent_m=40.0)
    boxes50[:, 2] -= 1.73
    for label, pts in scans:
        res = case(f"voxel_downsample 0.1 m, {label}", f"{len(pts)} points")
        t, ours = measure(
            "drivestack numba (default)", partial(K.voxel_downsample, pts, 0.1), repeats
        )
        res.timings.append(t)
        t, _ = measure(
            "drivestack reference numpy",
            partial(K.voxel_downsample, pts, 0.1, impl="reference"),
            repeats,
        )
        res.timings.append(t)
        if torch is not None:
            tp = torch.from_numpy(pts)
            t, other = measure(
                "drivestack torch-cpu", partial(K.voxel_downsample, tp, 0.1), repeats
            )
            res.timings.append(t)
            res.checks[f"voxels_{t.implementation}"] = len(_host(other))
        for gpu in gpus:
            t, other = measure(
                gpu.label, gpu.timed(lambda p: K.voxel_downsample(p, 0.1), pts), repeats
            )
            res.timings.append(t)
            res.checks[f"voxels_{gpu.label}"] = len(_host(other))
        try:
            import open3d as o3d

            cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts.astype(np.float64)))
            t, theirs = measure(
                "open3d voxel_down_sample",
                partial(cloud.voxel_down_sample, 0.1),
                repeats,
            )
            t.note = "cloud already converted to open3d"
            res.timings.append(t)
            t, _ = measure(
                "open3d incl. numpy conversion",
                partial(_open3d_voxel_from_numpy, pts, 0.1),
                repeats,
            )
            res.timings.append(t)
            res.checks["voxels_drivestack"] = len(ours)
            res.checks["voxels_open3d"] = len(theirs.points)
        except ImportError as exc:
            res.checks["open3d"] = f"unavailable: {exc}"

        boxes = boxes50.astype(pts.dtype)
        res = case(f"points_in_boxes, {label}", f"{len(pts)} points x {len(boxes)} boxes")
        t, ours = measure(
            "drivestack numba (default)",
            partial(K.points_in_boxes, pts, boxes),
            repeats,
        )
        res.timings.append(t)
        t, ref = measure(
            "plain NumPy broadcasting",
            partial(_broadcast_points_in_boxes, pts, boxes),
            repeats // 2,
        )
        res.timings.append(t)
        routes: list[tuple[str, Any]] = []
        if torch is not None:
            tp, tb = torch.from_numpy(pts), torch.from_numpy(boxes)
            t, other = measure(
                "drivestack torch-cpu",
                partial(K.points_in_boxes, tp, tb),
                repeats // 2,
            )
            res.timings.append(t)
            routes.append((t.implementation, other))
        for gpu in gpus:
            t, other = measure(gpu.label, gpu.timed(K.points_in_boxes, pts, boxes), repeats)
            res.timings.append(t)
            routes.append((gpu.label, other))
        for name, other in routes:  # each route's answer, not only its time
            agree = _differences_on_faces(pts, boxes, _host(other).astype(bool), ref)
            res.checks[f"same_as_broadcasting_{name}"] = agree is not None
        # drivestack's faces carry a few ulps of slack (kernels.points_in_boxes): pairs that
        # differ must lie on a face within rounding
        on_face = _differences_on_faces(pts, boxes, ours, ref)
        res.checks["same_as_broadcasting"] = on_face is not None
        res.checks["differences_on_faces"] = -1 if on_face is None else on_face

    # -- one stray return 3 km away (a grid sized by the points' spread alone scanned
    # millions of empty cells on every call) ---------------------------------------------------
    label, pts = scans[0]
    stray = pts.copy()
    stray[0, :2] = 3000.0
    boxes = boxes50.astype(stray.dtype)
    boxes[:, 3:6] = (0.8, 0.8, 1.8)  # pedestrian boxes: the finest grid cells (1 m)
    res = case(
        f"points_in_boxes (pedestrians), {label} with one return 3 km away",
        f"{len(stray)} points x {len(boxes)} boxes",
    )
    t, ours = measure(
        "drivestack numba (default)", partial(K.points_in_boxes, stray, boxes), repeats
    )
    res.timings.append(t)
    t, ref = measure(
        "plain NumPy broadcasting", partial(_broadcast_points_in_boxes, stray, boxes), repeats // 2
    )
    res.timings.append(t)
    on_face = _differences_on_faces(stray, boxes, ours, ref)
    res.checks["same_as_broadcasting"] = on_face is not None

    # -- small ops ------------------------------------------------------------------------------
    pts = scans[0][1]
    mat = np.eye(4, dtype=pts.dtype)
    mat[:3, :3] = np.array(
        [[math.cos(0.3), -math.sin(0.3), 0], [math.sin(0.3), math.cos(0.3), 0], [0, 0, 1]]
    )
    small_ops: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = [
        (
            "transform_points",
            lambda xp_pts: K.transform_points(xp_pts, _like(mat, xp_pts)),
            lambda p: p @ mat[:3, :3].T + mat[:3, 3],
        ),
        (
            "crop_range 2-60 m",
            lambda xp_pts: K.crop_range(xp_pts, 2.0, 60.0),
            lambda p: np.linalg.norm(p, axis=1) <= 60,
        ),
    ]
    for name, fn, naive in small_ops:
        res = case(name, f"{len(pts)} points")
        t, _ = measure("drivestack numpy (default)", partial(fn, pts), repeats)
        res.timings.append(t)
        t, _ = measure("plain NumPy", partial(naive, pts), repeats)
        res.timings.append(t)
        if torch is not None:
            tp = torch.from_numpy(pts)
            t, _ = measure("drivestack torch-cpu", partial(fn, tp), repeats)
            res.timings.append(t)
    res = case("boxes_overlap_bev (planner)", "50 x 200")
    t, _ = measure(
        "drivestack numpy (default)", lambda: K.boxes_overlap_bev(boxes50, gt[:200]), repeats
    )
    res.timings.append(t)

    report = {
        "benchmark": "kernels",
        "quick": quick,
        "seed": seed,
        "machine": {
            "python": platform.python_version(),
            "processor": platform.processor(),
            "machine": platform.machine(),
        },
        "cases": [
            {
                **{k: v for k, v in asdict(r).items() if k != "timings"},
                "timings": [asdict(t) for t in r.timings],
            }
            for r in results
        ],
    }
    log(format_table(results))
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2))
        log(f"wrote {json_path}")
    return report


def _like(matrix: np.ndarray, points: Any) -> Any:
    from drivestack.core.arrays import from_numpy_like

    return from_numpy_like(matrix, points)


def format_table(results: list[CaseResult]) -> str:
    """The results as a text table whose columns are as wide as their longest entry."""
    labels = [f"{r.case} [{r.size}]" for r in results]
    case_w = max([len("case"), *map(len, labels)])
    impl_w = max(
        [len("implementation"), *(len(t.implementation) for r in results for t in r.timings)]
    )
    header = (
        f"{'case':<{case_w}} {'implementation':<{impl_w}} {'median ms':>11} {'vs default':>11} "
        f"{'runs':>5}"
    )
    lines = [header, "-" * len(header)]
    for r, case_label in zip(results, labels, strict=True):
        base = r.default_ms()
        for i, t in enumerate(r.timings):
            ratio = t.median_ms / base if base > 0 else float("nan")
            label = case_label if i == 0 else ""
            lines.append(
                f"{label:<{case_w}} {t.implementation:<{impl_w}} {t.median_ms:>11.2f} "
                f"{ratio:>10.2f}x {t.repeats:>5}"
            )
        for key, value in r.checks.items():
            lines.append(f"{'':<{case_w}} check {key} = {value}")
    return "\n".join(lines)
