"""The LiDAR detector stage: accumulation -> ROI -> ground -> clusters -> boxes -> classes.

``LidarDetector.step(frame) -> Boxes3D``; :meth:`LidarDetector.step_with_report` also returns
a :class:`RunReport` with the milliseconds and point counts of every step: ``accumulate``
(points in / merged), ``roi`` (merged / kept), ``ground`` (kept / points between the cluster
height limits), ``cluster`` (those / clusters; with ``large_vehicle_join``, the on-road pieces of
trucks and buses joined), ``box_fit`` (clusters / boxes) and
``classify`` (boxes / returned boxes; it also completes the far side of cars, with
``classify.lane_heading`` along the map's lanes for partly seen ones, and the end faces of
classes that read them and, with ``classify.far_vehicle``, takes sparse far clusters on the
drivable area for cars; the finished vehicle boxes are demoted off the drivable area and,
with ``classify.lane_heading``, across the lanes, and turned to the lanes' direction) and, when
``dedup.enabled``, ``dedup`` (classified boxes / returned boxes; then ``classify``'s count out
is the classified boxes before the score filter). With ``cluster.split_unknown_max_length_m``,
``split_unknown`` comes between ``classify`` and ``dedup`` (classified boxes / boxes after the
split, or returned boxes without ``dedup``; its time includes fitting and classifying the
parts of the clusters that fall apart). The stage works in
the LiDAR's own frame (the config's numbers are in that frame); the boxes are returned in the
ego frame when the frame carries ``ego_from_sensor`` for that LiDAR, else in the LiDAR frame.
A cloud given in the ego frame is taken as seen from the LiDAR's mount
(``ego_from_sensor[name]``, the identity when absent, as the Argoverse 2 and PandaSet readers
set it): with a mount other than the identity it is moved into the sensor frame first. A LiDAR
mounted more than 2 degrees from level is worked on in the level frame at its mount
(:mod:`~drivestack.perception.lidar.mount`).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from drivestack.config import config_or_file
from drivestack.core.arrays import dtype_message, is_kernel_float
from drivestack.core.errors import DataError
from drivestack.core.frames import EGO, MAP, WORLD, is_camera_frame
from drivestack.core.transforms import SE3
from drivestack.perception.lidar import mount
from drivestack.perception.lidar.accumulate import SweepAccumulator
from drivestack.perception.lidar.box_fit import (
    complete_end_faces,
    complete_far_side,
    complete_far_side_along,
    fit_boxes,
    split_rows,
)
from drivestack.perception.lidar.classify import class_likelihoods, classify
from drivestack.perception.lidar.cluster import Clusters, cluster_points, split_clusters
from drivestack.perception.lidar.config import (
    LidarDetectorConfig,
    load_lidar_detector_config,
)
from drivestack.perception.lidar.dedup import deduplicate
from drivestack.perception.lidar.far_vehicle import promote_far_vehicles
from drivestack.perception.lidar.ground import (
    GroundPlanes,
    GroundResult,
    PriorGround,
    ground_z_at,
    segment_ground,
)
from drivestack.perception.lidar.lane_heading import align_to_lanes, judge_along_lanes
from drivestack.perception.lidar.large_vehicle import join_large_vehicles
from drivestack.perception.lidar.map_priors import MapPriors, map_steps_off
from drivestack.perception.lidar.offroad import demote_offroad
from drivestack.perception.lidar.overhang import overhang_mask
from drivestack.perception.lidar.roi import roi_mask
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame, require_sensor_frame

_MAX_TIME_OFFSET_NS = 100_000_000  # one sweep period of a 10 Hz LiDAR


@dataclass(frozen=True)
class StepReport:
    """One step's cost: wall time and the number of points (or boxes) in and out."""

    name: str
    duration_ms: float
    items_in: int
    items_out: int


@dataclass(frozen=True)
class RunReport:
    """Per-step report of one :meth:`LidarDetector.step_with_report` call."""

    steps: tuple[StepReport, ...]

    @property
    def total_ms(self) -> float:
        return float(sum(s.duration_ms for s in self.steps))

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{step: {duration_ms, items_in, items_out}}`` (JSON-ready)."""
        return {
            s.name: {"duration_ms": s.duration_ms, "items_in": s.items_in, "items_out": s.items_out}
            for s in self.steps
        }


@dataclass
class _Recorder:
    steps: list[StepReport] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, items_in: int) -> Iterator[list[int]]:
        out = [0]
        start = time.perf_counter_ns()
        yield out
        self.steps.append(
            StepReport(name, (time.perf_counter_ns() - start) / 1e6, items_in, out[0])
        )


@dataclass(frozen=True)
class Detection:
    """Everything one step produced, for evaluation and debugging.

    Attributes:
        boxes: the detections.
        report: per-step timing and counts.
        xyz_m: ``(M, 3)`` the accumulated, ROI-cropped points in the LiDAR frame.
        is_ground: ``(M,)`` their ground labels.
        score_features: ``(K, 5)`` the score features of the returned boxes
            (:func:`~drivestack.perception.lidar.classify.score_features`).
    """

    boxes: Boxes3D
    report: RunReport
    xyz_m: np.ndarray
    is_ground: np.ndarray
    score_features: np.ndarray


@dataclass(frozen=True)
class _Fitted:
    """The box-fit step's output: ``(M, 3)`` cluster points grouped by box, ``(N + 1,)``
    bounds, ``(N,)`` ground z under each box and ``(N, 7)`` boxes (not completed)."""

    grouped: np.ndarray
    bounds: np.ndarray
    ground_z: np.ndarray
    boxes: np.ndarray


@dataclass(frozen=True)
class _Found:
    """The classify step's output: ``(N, 7)`` boxes before completion (for de-duplication)
    and after, ``(N,)`` labels and scores and ``(N, 5)`` score features."""

    raw_boxes: np.ndarray
    boxes: np.ndarray
    label: np.ndarray
    score: np.ndarray
    features: np.ndarray


class LidarDetector:
    """Classical LiDAR 3D detector stage (state: the sweep history of the accumulator).

    Output: :class:`~drivestack.structures.boxes.Boxes3D` in the ego frame (or the LiDAR's,
    see the module docstring), stamped with the LiDAR cloud's own ``timestamp_ns``, with
    calibrated scores in [0, 1] and zero ``velocity_mps`` (one scan measures no motion).

    Yaw is an axis, not a heading: ``yaw_rad`` gives the direction of the box's long axis
    (length along it) modulo pi, since front and back of a cluster look alike in one scan;
    ``yaw_rad`` and ``yaw_rad + pi`` describe the same box. Only boxes turned along the map's
    lanes (``classify.lane_heading.orient_along_lanes``) take the lane's direction of travel.
    A heading comes from motion over time (the tracker).

    Time: the cloud's ``timestamp_ns`` wins; the frame's ``timestamp_ns`` is not used, and
    ``world_from_ego`` is taken as the ego pose at the cloud's time (the readers make the two
    times equal; a ``UserWarning`` is issued once when they are more than 0.1 s apart).

    Multi-sweep accumulation (``accumulate.num_sweeps`` above 1) needs the frame's pose
    (``world_from_ego``, and ``ego_from_sensor`` for the LiDAR unless its cloud is in the ego
    frame): a frame without one is detected from its own sweep only and the history is
    dropped; a ``UserWarning`` naming ``num_sweeps`` says so once per detector. Past sweeps
    older than ``accumulate.max_sweep_age_s`` leave the history; a cloud whose time is not
    after the newest kept sweep's (a log replayed from earlier) drops the kept sweeps at or
    after it, with a ``UserWarning`` naming both times once until :meth:`reset`
    (:class:`~drivestack.perception.lidar.accumulate.SweepAccumulator`).
    """

    def __init__(self, cfg: LidarDetectorConfig | str | Path) -> None:
        """``cfg``: a config object or the path of its YAML file.

        Raises:
            TypeError: ``cfg`` is neither a ``LidarDetectorConfig`` nor a path.
            ConfigError: the YAML file is missing or invalid.
        """
        self.cfg = config_or_file(
            cfg, LidarDetectorConfig, load_lidar_detector_config, "LidarDetector"
        )
        self._accumulator = SweepAccumulator(self.cfg.accumulate)
        self.last_report: RunReport | None = None
        self._warned_time_offset = False

    def reset(self) -> None:
        """Forget past sweeps (and re-arm the warning about time going backwards)."""
        self._accumulator.reset()
        self.last_report = None

    def warmup(self, *dtypes: npt.DTypeLike) -> None:
        """Compile the stage's numba kernels now, on a small synthetic scan (a ground plane
        and a car-sized block, 4600 points) in each coordinate dtype of ``dtypes``, so that the
        first real frame's :class:`RunReport` times the work and not the compilation (see
        :meth:`step_with_report`).

        The kernels compile once per coordinate dtype: without ``dtypes`` both float32 (KITTI,
        nuScenes, AV2, PandaSet) and float64 (the aiMotive reader, most user clouds) are
        warmed, some 0.3-0.6 s more than one; ``warmup(np.float32)`` warms float32 only. The
        steps that read a map are left out (the scan has no map), and so is accumulation (the
        scan has no pose; ``accumulate.num_sweeps`` is taken as 1, so nothing warns). This
        detector's state (sweep history, last report, warnings given) is not touched: the scans
        run through a throwaway detector. Never called implicitly.

        Raises:
            TypeError: an entry of ``dtypes`` is not a dtype.
            ValueError: a dtype other than float32 or float64.
        """
        kinds = [np.dtype(d) for d in dtypes or (np.float32, np.float64)]
        for dtype in kinds:
            if not is_kernel_float(dtype):
                raise ValueError(dtype_message("LidarDetector.warmup dtypes", dtype))
        cfg = self.cfg
        quiet = map_steps_off(cfg)
        quiet = replace(quiet, accumulate=replace(quiet.accumulate, num_sweeps=1))
        rng = np.random.default_rng(0)
        z0 = -cfg.ground.sensor_height_m
        ground = np.c_[rng.uniform(3, 30, (4000, 2)) * [1, 0.6] - [0, 9], np.full(4000, z0)]
        block = np.c_[rng.uniform(8, 12, 600), rng.uniform(-0.9, 0.9, 600)]
        block = np.c_[block, rng.uniform(z0 + 0.3, z0 + 1.5, 600)]
        xyz = np.concatenate([ground, block])
        name = cfg.lidar_name or "lidar"
        scratch = LidarDetector(quiet)
        for dtype in dict.fromkeys(kinds):  # each dtype once, in the order given
            cloud = PointCloud(xyz.astype(dtype), "lidar", 0)
            scratch._detect(SensorFrame(0, lidars={name: cloud}, source="warmup"))

    def step(self, frame: SensorFrame) -> Boxes3D:
        """Boxes of the objects in ``frame``'s LiDAR sweep (see the module docstring for the frame).

        Raises:
            TypeError: ``frame`` is not a :class:`SensorFrame`.
            DataError: the frame has no LiDAR cloud, or not the configured one.
            ValueError: a step that reads the map is on but the frame lacks the map layer it
                needs or the ``world_from_ego`` pose that places it (the message names the
                config key): ``ground.prior_surface`` ("ground.prior_surface is on but no
                prior ground surface was given ...": ``ground_surface``),
                ``classify.offroad`` and ``classify.far_vehicle`` (``drivable_area``),
                ``classify.lane_heading`` (``lane_headings``, when a car box is asked about)
                and ``large_vehicle_join`` (``drivable_area`` and ``lane_headings``).
        """
        self._check_frame(frame, "step")
        return self._detect(frame).boxes

    def step_with_report(self, frame: SensorFrame) -> tuple[Boxes3D, RunReport]:
        """:meth:`step` plus the per-step run-time report (raises as :meth:`step`).

        The first frame of each coordinate dtype (float32, float64) a process detects also pays
        for compiling (or loading from numba's cache) the compiled kernels: some 150-300 ms more
        in ``ground`` (and some in ``cluster`` and ``box_fit``) than the frames after it. Call
        :meth:`warmup` once before timing (it warms both dtypes by default), or leave the first
        frame's report out (nothing calls :meth:`warmup` implicitly)."""
        self._check_frame(frame, "step_with_report")
        result = self._detect(frame)
        return result.boxes, result.report

    def detect(self, frame: SensorFrame) -> Detection:
        """Run every step; returns boxes, the report, the cropped points and their ground mask
        (raises as :meth:`step`)."""
        self._check_frame(frame, "detect")
        return self._detect(frame)

    def _check_frame(self, frame: object, method: str) -> None:
        """``TypeError`` saying what ``method`` got when ``frame`` is not a ``SensorFrame``."""
        require_sensor_frame(frame, f"LidarDetector.{method}", self.cfg.lidar_name)

    def _detect(self, frame: SensorFrame) -> Detection:
        cfg = self.cfg
        rec = _Recorder()
        name, cloud = self._lidar(frame)
        self._check_times(frame, name, cloud)
        cloud, ego_from_sensor = _in_stage_frame(frame, name, cloud)
        world_from_sensor = None
        if frame.world_from_ego is not None and ego_from_sensor is not None:
            world_from_sensor = frame.world_from_ego @ ego_from_sensor
        priors = MapPriors.of_frame(frame, world_from_sensor)
        ground_prior = priors.ground

        with rec.step("accumulate", len(cloud)) as out:
            merged = self._accumulator.step(cloud, world_from_sensor)
            out[0] = len(merged)
        with rec.step("roi", len(merged)) as out:
            xyz = merged.xyz_m[roi_mask(merged.xyz_m, cfg.roi)]
            out[0] = len(xyz)
        with rec.step("ground", len(xyz)) as out:
            ground = segment_ground(xyz, cfg.ground, ground_prior)
            objects = (ground.height_m >= cfg.cluster.min_height_above_ground_m) & (
                ground.height_m <= cfg.cluster.max_height_above_ground_m
            )
            num_objects = int(np.count_nonzero(objects))
            out[0] = num_objects
        with rec.step("cluster", num_objects) as out:
            clusters = cluster_points(xyz[objects], cfg.cluster)
            if cfg.large_vehicle_join.enabled:
                clusters = self._join_large_vehicles(clusters, ground.planes, priors)
            out[0] = clusters.num_clusters
        with rec.step("box_fit", clusters.num_clusters) as out:
            fitted = self._fit_boxes(clusters, ground, ground_prior)
            out[0] = len(fitted.boxes)
        split = cfg.cluster.split_unknown_max_length_m > 0
        with rec.step("classify", len(fitted.boxes)) as out:
            found = self._classify(fitted, xyz, ground.height_m, priors)
            if cfg.dedup.enabled or split:
                out[0] = len(found.boxes)
            else:
                result, features = self._finish(found, cloud, ego_from_sensor, priors)
                out[0] = len(result)
        if split:  # boxes in: the classified clusters; out: after the split (and finish)
            with rec.step("split_unknown", len(found.boxes)) as out:
                fitted, found = self._split_unknown(fitted, found, xyz, ground.height_m, priors)
                if cfg.dedup.enabled:
                    out[0] = len(found.boxes)
                else:
                    result, features = self._finish(found, cloud, ego_from_sensor, priors)
                    out[0] = len(result)
        if cfg.dedup.enabled:
            with rec.step("dedup", len(found.boxes)) as out:
                dedup = deduplicate(
                    fitted.grouped, fitted.bounds, fitted.ground_z, found.raw_boxes, found.boxes,
                    found.label, found.score, found.features, cfg.dedup, cfg.box_fit, cfg.classify,
                )  # fmt: skip
                found = _Found(
                    found.raw_boxes, dedup.boxes, dedup.label, dedup.score, dedup.features
                )
                result, features = self._finish(found, cloud, ego_from_sensor, priors)
                out[0] = len(result)
        report = RunReport(tuple(rec.steps))
        self.last_report = report
        return Detection(result, report, xyz, ground.is_ground, features)

    def _fit_boxes(
        self, clusters: Clusters, ground: GroundResult, ground_prior: PriorGround | None
    ) -> _Fitted:
        """Boxes of the clusters, standing on the ground under each cluster's centre (rows of
        parked cars cut into cars when ``box_fit.row_split_length_m`` is set)."""
        cfg = self.cfg
        grouped, bounds = clusters.grouped()
        counts = np.diff(bounds)
        centres = (
            np.add.reduceat(grouped[:, :2], bounds[:-1], axis=0) / counts[:, None]
            if len(counts)
            else np.zeros((0, 2))
        )
        ground_z = ground_z_at(
            centres, ground.planes, cfg.ground, cfg.box_fit.bottom_on_accepted_ground, ground_prior
        )
        boxes = fit_boxes(grouped, bounds, ground_z, cfg.box_fit)
        if cfg.box_fit.row_split_length_m > 0:
            grouped, bounds, source = split_rows(grouped, bounds, boxes, cfg.box_fit)
            if len(source) != len(boxes):
                ground_z = ground_z[source]
                boxes = fit_boxes(grouped, bounds, ground_z, cfg.box_fit)
        return _Fitted(grouped, bounds, ground_z, boxes)

    def _split_unknown(
        self,
        fitted: _Fitted,
        found: _Found,
        xyz: np.ndarray,
        height_m: np.ndarray,
        priors: MapPriors,
    ) -> tuple[_Fitted, _Found]:
        """Clusters whose boxes fit no class and are at most ``split_unknown_max_length_m``
        long, re-clustered at the base link distance (:func:`split_clusters`); the parts of
        those that fall apart are fitted and classified and take their places, every other
        box stays as it was (fitting and classifying are per box)."""
        cfg = self.cfg
        longest = np.maximum(fitted.boxes[:, 3], fitted.boxes[:, 4])
        which = np.flatnonzero(
            (found.label == int(ObjectClass.UNKNOWN))
            & (longest <= cfg.cluster.split_unknown_max_length_m)
        )
        if len(which) == 0:
            return fitted, found
        grouped, bounds, source = split_clusters(fitted.grouped, fitted.bounds, which, cfg.cluster)
        if len(source) == len(fitted.boxes):
            return fitted, found
        part = np.bincount(source)[source] > 1  # (C',) rows that are parts of a split cluster
        rows = np.flatnonzero(part)
        counts = np.diff(bounds)[rows]
        points = np.concatenate([np.arange(bounds[r], bounds[r + 1]) for r in rows])
        part_bounds = np.concatenate([[0], np.cumsum(counts)])
        ground_z = fitted.ground_z[source]
        parts = _Fitted(
            grouped[points],
            part_bounds,
            ground_z[rows],
            fit_boxes(grouped[points], part_bounds, ground_z[rows], cfg.box_fit),
        )
        parts_found = self._classify(parts, xyz, height_m, priors)

        def spliced(kept: np.ndarray, new: np.ndarray) -> np.ndarray:
            out = kept[source]
            out[rows] = new
            return out

        split = _Fitted(grouped, bounds, ground_z, spliced(fitted.boxes, parts.boxes))
        return split, _Found(
            *(spliced(getattr(found, f.name), getattr(parts_found, f.name)) for f in fields(_Found))
        )

    def _classify(
        self, fitted: _Fitted, xyz: np.ndarray, height_m: np.ndarray, priors: MapPriors
    ) -> _Found:
        """Classes and scores of the fitted boxes (the overhang veto looks at the ``(M, 3)``
        cropped points and their ``(M,)`` heights above the ground), the partly seen ones
        completed (along the lanes with the lane prior), sparse far clusters promoted."""
        cfg = self.cfg
        boxes = fitted.boxes
        vetoed = None
        if cfg.classify.overhang.enabled:
            plausible = np.any(
                class_likelihoods(boxes[:, 3:6], cfg.classify) >= cfg.classify.min_likelihood,
                axis=1,
            )
            vetoed = overhang_mask(
                boxes, xyz, height_m, cfg.cluster.max_height_above_ground_m,
                cfg.classify.overhang, plausible,
            )  # fmt: skip
        counts = np.diff(fitted.bounds)
        cls = classify(boxes, counts, cfg.classify, fitted.grouped, fitted.bounds, vetoed)
        car = cls.label == int(ObjectClass.CAR)
        boxes, lane_yaw = align_to_lanes(
            fitted.grouped, fitted.bounds, fitted.ground_z, boxes, car, priors,
            cfg.classify.lane_heading, cfg.box_fit,
        )  # fmt: skip
        raw_boxes = boxes
        lane_led = np.isfinite(lane_yaw)
        boxes = complete_far_side(boxes, car & ~lane_led, cfg.box_fit)
        if np.any(lane_led):
            boxes = complete_far_side_along(boxes, lane_led, np.nan_to_num(lane_yaw), cfg.box_fit)
        if np.any(cls.end_face):
            boxes = complete_end_faces(boxes, cls.end_face, cls.min_length_width_m)
        boxes, label, score = promote_far_vehicles(
            boxes, cls.label, cls.score, cfg.classify.car, priors, cfg.classify.far_vehicle
        )
        return _Found(raw_boxes, boxes, label, score, cls.features)

    def _finish(
        self,
        found: _Found,
        cloud: PointCloud,
        ego_from_sensor: SE3 | None,
        priors: MapPriors,
    ) -> tuple[Boxes3D, np.ndarray]:
        """Demote off-road vehicles and vehicles across the lanes (the frame's map
        ``priors``), turn those along them to their direction of travel, drop low scores (and
        UNKNOWN unless kept); the boxes in the output frame and the kept boxes' ``(K, 5)``
        score features."""
        cfg = self.cfg.classify
        label = found.label
        score = demote_offroad(found.boxes[:, :3], label, found.score, priors, cfg.offroad)
        boxes, score = judge_along_lanes(
            found.boxes, label, score, priors, cfg.lane_heading, self.cfg.box_fit
        )
        keep = score >= cfg.min_score
        if not cfg.keep_unknown:
            keep &= label != int(ObjectClass.UNKNOWN)
        result = Boxes3D.from_array7(
            boxes[keep], cloud.frame, cloud.timestamp_ns, score=score[keep], label=label[keep]
        )
        if ego_from_sensor is not None and cloud.frame != EGO:
            result = result.transformed(ego_from_sensor, EGO)
        return result, found.features[keep]

    def _join_large_vehicles(
        self,
        clusters: Clusters,
        planes: GroundPlanes,
        priors: MapPriors,
    ) -> Clusters:
        """``large_vehicle_join`` on ``clusters``: voxel heights above the ground the boxes
        stand on, the drivable area and the lanes of the frame's map ``priors``.

        Raises:
            ValueError: the frame carries no drivable area, no lane headings or no pose.
        """
        cfg = self.cfg
        step = "large_vehicle_join"
        priors.drivable(step)  # both needed, whatever the clusters
        priors.lanes(step)
        vox = clusters.xyz_m
        ground_z = ground_z_at(
            vox[:, :2], planes, cfg.ground, cfg.box_fit.bottom_on_accepted_ground, priors.ground
        )
        lane_cfg = cfg.classify.lane_heading
        return join_large_vehicles(
            clusters,
            vox[:, 2] - ground_z,
            lambda xyz: priors.on_drivable(xyz, step),
            lambda centre: priors.lane_yaw_rad(centre, lane_cfg, step),
            np.deg2rad(lane_cfg.max_yaw_offset_deg),
            np.deg2rad(cfg.box_fit.refine_step_deg),
            cfg.large_vehicle_join,
        )

    def _check_times(self, frame: SensorFrame, name: str, cloud: PointCloud) -> None:
        """Warn once when the cloud's time is more than one 10 Hz sweep period from the frame's
        (the boxes carry the cloud's time; the pose is taken as the pose at that time)."""
        offset_ns = cloud.timestamp_ns - frame.timestamp_ns
        if self._warned_time_offset or abs(offset_ns) <= _MAX_TIME_OFFSET_NS:
            return
        self._warned_time_offset = True
        warnings.warn(
            f"{frame.source or 'SensorFrame'}: lidars[{name!r}].timestamp_ns is "
            f"{offset_ns / 1e9:+.3f} s from the frame's timestamp_ns: the boxes carry the "
            "cloud's time and world_from_ego is used as the pose at that time",
            UserWarning,
            stacklevel=4,  # the caller of step / step_with_report / detect
        )

    def _lidar(self, frame: SensorFrame) -> tuple[str, PointCloud]:
        name = self.cfg.lidar_name
        if not frame.lidars:
            raise DataError(
                "frame has no LiDAR cloud; the LiDAR detector needs one (SensorFrame.lidars "
                "is empty)",
                path=frame.source or None,
                record=f"t={frame.timestamp_ns}",
                field="lidars",
            )
        if name is None:
            if len(frame.lidars) != 1:
                raise DataError(
                    f"frame has {len(frame.lidars)} LiDARs {sorted(frame.lidars)}; set lidar_name "
                    "in the LiDAR perception YAML (the file the stack YAML's `perception:` "
                    f"names) to the one to detect on, e.g. lidar_name: {sorted(frame.lidars)[0]}",
                    path=frame.source or None,
                    record=f"t={frame.timestamp_ns}",
                    field="lidars",
                )
            name = next(iter(frame.lidars))
        if name not in frame.lidars:
            raise DataError(
                f"no LiDAR {name!r}; has {sorted(frame.lidars)}",
                path=frame.source or None,
                record=f"t={frame.timestamp_ns}",
                field="lidars",
            )
        cloud = frame.lidars[name]
        _check_cloud_frame(frame, name, cloud)
        return name, cloud


def _in_stage_frame(
    frame: SensorFrame, name: str, cloud: PointCloud
) -> tuple[PointCloud, SE3 | None]:
    """The cloud in the frame the stage works in (:mod:`~drivestack.perception.lidar.mount`)
    and that frame's pose in the ego frame (None: a sensor-frame cloud without a mount, whose
    boxes stay in its frame).

    An ego-frame cloud is taken as seen from the mount ``ego_from_sensor[name]`` (the identity
    when absent, as the Argoverse 2 and PandaSet readers set it): with another mount it is
    moved back to the sensor (the config's heights and ranges are the sensor's). A cloud of a
    mount tilted past :data:`~drivestack.perception.lidar.mount.MAX_MOUNT_TILT_DEG` is
    levelled. Either way the boxes come out in the ego frame."""
    ego_from_sensor = frame.ego_from_sensor.get(name)
    if ego_from_sensor is None:
        return cloud, (SE3.identity() if cloud.frame == EGO else None)
    ego_from_stage = mount.ego_from_stage(ego_from_sensor)
    if cloud.frame == EGO:
        if ego_from_stage.allclose(SE3.identity()):
            return cloud, ego_from_stage
        return cloud.transformed(ego_from_stage.inverse(), f"{name}_stage"), ego_from_stage
    if ego_from_stage is ego_from_sensor:
        return cloud, ego_from_sensor
    levelled = cloud.transformed(ego_from_stage.inverse() @ ego_from_sensor, f"{name}_level")
    return levelled, ego_from_stage


def _check_cloud_frame(frame: SensorFrame, name: str, cloud: PointCloud) -> None:
    """Refuse a cloud in a frame that cannot be the LiDAR's own frame nor the ego frame.

    The readers give a LiDAR's cloud its sensor frame (``lidar``; a ROS bag's ``frame_id``,
    whatever its name, with ``ego_from_sensor`` from TF) or the ego frame (AV2, PandaSet
    sweeps), so the sensor frame is not always the key's name. The stage treats the cloud as
    seen from the sensor (``ego_from_sensor[name]``, ground below the sensor): a cloud in the
    world or map frame, a camera frame or another sensor's frame would be moved by the wrong
    transform and its boxes labelled ``ego``.

    Raises:
        DataError: naming ``lidars[<name>].frame``.
    """
    f = cloud.frame
    others = (set(frame.ego_from_sensor) | set(frame.cameras) | set(frame.lidars)) - {name}
    if f == EGO or not (f in (WORLD, MAP) or is_camera_frame(f) or f in others):
        return
    raise DataError(
        f"the cloud of LiDAR {name!r} is in frame {f!r}: the LiDAR detector needs it in the "
        f"LiDAR's own sensor frame (ego_from_sensor[{name!r}] maps it to the ego frame) or in "
        f"the ego frame {EGO!r}; transform it there first",
        path=frame.source or None,
        record=f"t={frame.timestamp_ns}",
        field=f"lidars[{name}].frame",
    )


def build_lidar_detector(cfg: LidarDetectorConfig | str | Path) -> LidarDetector:
    """A :class:`LidarDetector` from a config object or a YAML file path.

    Raises:
        TypeError: ``cfg`` is neither a ``LidarDetectorConfig`` nor a path.
        ConfigError: the YAML file is missing or invalid.
    """
    return LidarDetector(cfg)
