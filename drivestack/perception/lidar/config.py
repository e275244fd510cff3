"""Typed, frozen configuration of the LiDAR detector and its strict YAML loader.

Every tunable number of ``drivestack.perception.lidar`` lives here, one dataclass per step.
:func:`load_lidar_detector_config` maps a YAML file onto :class:`LidarDetectorConfig` with
:mod:`drivestack.config.strict`: unknown keys, missing keys and wrong types raise
:class:`~drivestack.core.errors.ConfigError` naming the file and the dotted key.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from drivestack.config import load_yaml_config
from drivestack.config.strict import ConfigValueError, check_config_numbers


@dataclass(frozen=True)
class RoiConfig:
    """Range / region-of-interest crop and ego-body removal (sensor frame, metres).

    Ranges are 3D distances from the sensor origin; the boxes are axis-aligned and inclusive.
    Points inside the ego-body box are removed.
    """

    min_range_m: float
    max_range_m: float
    min_xyz_m: tuple[float, float, float]
    max_xyz_m: tuple[float, float, float]
    ego_body_min_xyz_m: tuple[float, float, float]
    ego_body_max_xyz_m: tuple[float, float, float]

    def __post_init__(self) -> None:
        check_config_numbers(self, "min_range_m", at_least=0.0)
        check_config_numbers(self, "max_range_m", above=0.0)
        check_config_numbers(
            self, "min_xyz_m", "max_xyz_m", "ego_body_min_xyz_m", "ego_body_max_xyz_m"
        )
        if not 0.0 <= self.min_range_m <= self.max_range_m:
            raise ValueError(
                f"need 0 <= min_range_m <= max_range_m, got {self.min_range_m}, {self.max_range_m}"
            )
        for lo, hi in (
            (self.min_xyz_m, self.max_xyz_m),
            (self.ego_body_min_xyz_m, self.ego_body_max_xyz_m),
        ):
            if any(a > b for a, b in zip(lo, hi, strict=True)):
                raise ValueError(f"box minimum {list(lo)} exceeds maximum {list(hi)}")


@dataclass(frozen=True)
class AccumulateConfig:
    """Multi-sweep accumulation with ego-motion compensation."""

    num_sweeps: int
    max_sweep_age_s: float

    def __post_init__(self) -> None:
        if self.num_sweeps < 1:
            raise ValueError(f"num_sweeps must be >= 1, got {self.num_sweeps}")
        check_config_numbers(self, "max_sweep_age_s", at_least=0.0)


@dataclass(frozen=True)
class GroundConfig:
    """Ground segmentation.

    ``method`` ``"zones"`` is the concentric-zone local plane fit (Patchwork++-like);
    ``"ransac"`` is the single-plane baseline. Zone ``i`` spans ``zone_min_range_m[i]`` to
    ``zone_min_range_m[i+1]`` (the last to ``max_range_m``) with ``zone_rings[i]`` rings and
    ``zone_sectors[i]`` sectors. Planes are fitted to about one point in ``fit_stride``, chosen
    by a hash of each point's coordinates so the same points give the same planes in any
    order (the labels are computed for all points); ``num_lowest_points`` counts in that
    subsample. A bin's plane is ground when its normal is steeper than
    ``min_normal_z``, its thickness (smallest covariance eigenvalue) is at most
    ``max_flatness_m2`` and its mean lies at most ``max_elevation_m`` above the ground carried
    outwards from the ring inside it (the innermost ring: the plane ``z = -sensor_height_m``).
    ``min_spread_m`` (default 0: off) also asks its ground points to spread at least that much
    (standard deviation, m) along the plane's narrower in-plane direction: points along one or
    two close scan lines fix the plane's tilt only along the lines, and a tilt across them,
    carried out ring by ring, puts the ground metres off tens of metres away.
    ``prior_surface`` (default ``"off"``) combines the fit with a prior ground surface the
    frame carries (``SensorFrame.ground_surface``, e.g. an HD map's ground heights; needs the
    frame's pose): ``"override"`` measures every point where the prior is known above the
    prior, ``"fill"`` only points outside the bins whose own plane was accepted (and beyond
    the zones); box bottoms follow the same rule. A frame without a prior is then an error.
    """

    method: Literal["zones", "ransac"]
    sensor_height_m: float
    max_range_m: float
    zone_min_range_m: tuple[float, ...]
    zone_rings: tuple[int, ...]
    zone_sectors: tuple[int, ...]
    fit_stride: int
    num_lowest_points: int
    seed_height_m: float
    distance_threshold_m: float
    num_iterations: int
    min_points_per_bin: int
    min_normal_z: float
    max_flatness_m2: float
    max_elevation_m: float
    ransac_iterations: int
    ransac_sample_size: int
    ransac_seed: int
    min_spread_m: float = 0.0
    prior_surface: Literal["off", "override", "fill"] = "off"

    def __post_init__(self) -> None:
        # finite everywhere: a NaN sensor height or an infinite range turns the stage off
        # (every bin rejected, no boxes) instead of failing
        check_config_numbers(
            self, "sensor_height_m", "max_range_m", "distance_threshold_m", above=0.0
        )
        check_config_numbers(
            self,
            "zone_min_range_m",
            "seed_height_m",
            "max_flatness_m2",
            "min_spread_m",
            at_least=0.0,
        )
        check_config_numbers(self, "max_elevation_m")
        check_config_numbers(self, "min_normal_z", at_least=0.0, at_most=1.0)
        check_config_numbers(self, "num_iterations", "min_points_per_bin", integer=True, at_least=1)
        check_config_numbers(self, "ransac_seed", integer=True, at_least=0)
        n = len(self.zone_min_range_m)
        if n == 0 or len(self.zone_rings) != n or len(self.zone_sectors) != n:
            raise ValueError(
                "zone_min_range_m, zone_rings and zone_sectors need the same, non-zero length"
            )
        edges = [*self.zone_min_range_m, self.max_range_m]
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(f"zone ranges must increase up to max_range_m, got {edges}")
        if min(self.zone_rings) < 1 or min(self.zone_sectors) < 1:
            raise ValueError("zone_rings and zone_sectors must be >= 1")
        # the zone grid is allocated whole: a billion rings was a MemoryError deep in a step
        if max(self.zone_rings) > MAX_ZONE_BINS or max(self.zone_sectors) > MAX_ZONE_BINS:
            raise ValueError(f"zone_rings and zone_sectors must be <= {MAX_ZONE_BINS}")
        if (
            self.fit_stride < 1
            or self.num_lowest_points < 1
            or self.ransac_iterations < 1
            or self.ransac_sample_size < 1
        ):
            raise ValueError(
                "fit_stride, num_lowest_points, ransac_iterations and ransac_sample_size must be >= 1"
            )


@dataclass(frozen=True)
class ClusterConfig:
    """Euclidean clustering of non-ground voxels with a distance that grows with range.

    ``vertical_link_scale`` (default 1: plain Euclidean) multiplies height differences in the
    link distance: below 1, voxels one above the other link over a larger gap than voxels side
    by side (a car's windows return no points, leaving its roof line apart from its body).
    ``oversize_link_scale`` (default 0: off) re-clusters the voxels of a component larger than
    ``max_points`` (no road user is that large: a wall or hedge joined to the cars and people
    beside it through thin bridges) with its link distances times that factor, once.
    ``split_unknown_max_length_m`` (default 0: off): a cluster whose box fits no class and is
    at most that long (a person joined to the pole beside them at range, where the link
    distance has grown to ``max_distance_m``) is re-clustered once at ``base_distance_m``;
    each part with at least ``min_points`` voxels is boxed and classified on its own
    (:func:`~drivestack.perception.lidar.cluster.split_clusters`), smaller parts dropped, and a
    cluster that gives fewer than two such parts is kept as it was.
    """

    voxel_size_m: float
    base_distance_m: float
    distance_per_range: float
    max_distance_m: float
    min_points: int
    max_points: int
    min_height_above_ground_m: float
    max_height_above_ground_m: float
    vertical_link_scale: float = 1.0
    oversize_link_scale: float = 0.0
    split_unknown_max_length_m: float = 0.0

    def __post_init__(self) -> None:
        check_config_numbers(self, "voxel_size_m", "base_distance_m", "max_distance_m", above=0.0)
        check_config_numbers(self, "distance_per_range", at_least=0.0)
        check_config_numbers(self, "min_points", "max_points", integer=True, at_least=1)
        check_config_numbers(self, "min_height_above_ground_m", "max_height_above_ground_m")
        # a band or a size range that is empty keeps no cluster: the stage is off
        if self.max_points < self.min_points:
            raise ConfigValueError(
                f"need min_points <= max_points, got {self.min_points}, {self.max_points}",
                key="max_points",
            )
        if not self.min_height_above_ground_m < self.max_height_above_ground_m:
            raise ConfigValueError(
                "need min_height_above_ground_m < max_height_above_ground_m, got "
                f"{self.min_height_above_ground_m}, {self.max_height_above_ground_m}",
                key="max_height_above_ground_m",
            )
        if not 0 <= self.oversize_link_scale < 1:
            raise ValueError(f"need 0 <= oversize_link_scale < 1, got {self.oversize_link_scale}")
        check_config_numbers(self, "split_unknown_max_length_m", at_least=0.0)
        if not 0 < self.vertical_link_scale <= 1:
            raise ValueError(f"need 0 < vertical_link_scale <= 1, got {self.vertical_link_scale}")
        if not (
            self.voxel_size_m > 0
            and self.base_distance_m > 0
            and self.max_distance_m >= self.base_distance_m
        ):
            raise ValueError("need voxel_size_m > 0 and 0 < base_distance_m <= max_distance_m")


@dataclass(frozen=True)
class BoxFitConfig:
    """Oriented box fitting by a yaw search (L-shape closeness criterion).

    ``end_face_across_sight`` (default False) turns a short car box into an end face only when
    its length runs across the line of sight
    (:func:`~drivestack.perception.lidar.box_fit.complete_far_side`).
    ``bottom_on_accepted_ground`` (default False) puts box bottoms on the ground of accepted
    bins only, else on the fallback plane, never on a plane carried out from an inner ring
    (:func:`~drivestack.perception.lidar.ground.ground_z_at` with ``accepted_only``).
    ``row_split_length_m`` (default 0: off) cuts a box no taller than ``row_split_max_height_m``
    and at least 1.5 times that long (a row of parked cars in one cluster) into car-length
    pieces, each refitted (:func:`~drivestack.perception.lidar.box_fit.split_rows`).
    """

    yaw_step_deg: float
    refine_step_deg: float
    closeness_min_distance_m: float
    voxel_pad_m: float
    car_min_length_m: float
    car_min_width_m: float
    car_end_face_max_m: float
    end_face_across_sight: bool = False
    bottom_on_accepted_ground: bool = False
    row_split_length_m: float = 0.0
    row_split_max_height_m: float = 2.0

    def __post_init__(self) -> None:
        check_config_numbers(
            self, "closeness_min_distance_m", "car_min_length_m", "car_min_width_m", above=0.0
        )
        check_config_numbers(
            self, "voxel_pad_m", "car_end_face_max_m", "row_split_length_m", at_least=0.0
        )
        check_config_numbers(self, "row_split_max_height_m", above=0.0)
        if not (0 < self.refine_step_deg <= self.yaw_step_deg < 90):
            raise ValueError("need 0 < refine_step_deg <= yaw_step_deg < 90")


@dataclass(frozen=True)
class ClassPrior:
    """Size prior of one class, on (length, width, height) of the fitted box.

    A dimension inside ``[min_lwh_m, mean_lwh_m]`` costs nothing (the far side or the bottom may
    be unseen; ``min_lwh_m`` above ``mean_lwh_m`` in any dimension is refused); outside, the deviation is counted in units of ``std_lwh_m`` and the likelihood
    is ``exp(-0.5 * sum(dev^2))``. Fewer than ``min_points`` cluster voxels rule the class out.
    The score of a box of this class is ``sigmoid(w . (1, log(likelihood), log(num_points),
    log(range_m), observed_length_m))`` with ``w = score_weights`` (a logistic / Platt
    calibration fitted on labelled scans).

    ``end_face_max_depth_m`` > 0 also reads a box at most that wide (one visible face, no
    visible depth) as the vehicle's front or rear face: its length is then the vehicle's width
    and its unseen length is taken as ``min_lwh_m[0]`` (no cost); the likelihood is the better
    of the two readings, and a box classified by the end-face reading is completed away from
    the sensor to ``min_lwh_m`` (length, width). The default 0 reads no end faces: a config
    without the key behaves as before.

    ``choice_weight`` in (0, 1] multiplies the class's likelihood when the class is chosen (the
    likelihood itself, and so the score, is unchanged): below 1 for the car, whose prior fits
    any smaller box at no cost (a partly seen car), a box that a smaller class explains about
    as well goes to that class. The default 1 leaves the choice to the likelihoods.
    """

    mean_lwh_m: tuple[float, float, float]
    std_lwh_m: tuple[float, float, float]
    min_lwh_m: tuple[float, float, float]
    min_points: int
    score_weights: tuple[float, float, float, float, float]
    end_face_max_depth_m: float = 0.0
    choice_weight: float = 1.0

    def __post_init__(self) -> None:
        check_config_numbers(self, "mean_lwh_m", "std_lwh_m", above=0.0)
        check_config_numbers(self, "min_lwh_m", "end_face_max_depth_m", at_least=0.0)
        check_config_numbers(self, "score_weights")
        check_config_numbers(self, "min_points", integer=True, at_least=0)
        # min above mean leaves no size at no cost: every box pays the gap, the class is lost
        if any(lo > mean for lo, mean in zip(self.min_lwh_m, self.mean_lwh_m, strict=True)):
            raise ConfigValueError(
                f"need min_lwh_m <= mean_lwh_m in each of length, width, height, got "
                f"{list(self.min_lwh_m)} and mean_lwh_m {list(self.mean_lwh_m)}",
                key="min_lwh_m",
            )
        if not 0 < self.choice_weight <= 1:
            raise ValueError(f"need 0 < choice_weight <= 1, got {self.choice_weight}")


@dataclass(frozen=True)
class ThinStructureConfig:
    """Veto of Pedestrian / Cyclist for thin vertical structures (poles, posts, trunks).

    A pole seen from close by is as tall as a person in the cluster height band, but its
    cross-section is small and constant over its whole height, while a person's torso (and a
    rider's shoulders) is 0.4-0.9 m across. The cluster's points are cut into horizontal slices
    ``slice_height_m`` thick (from its lowest point); its *width* is the largest horizontal
    diameter (greatest xy distance between two points of one slice) over the slices, its
    *height* the vertical spread of its points. A cluster whose width is under
    ``min_width_m`` or under ``min_width_to_height`` times its height cannot be a Pedestrian or
    a Cyclist (the likelihoods of those classes are set to 0). The defaults (0, 0) veto
    nothing: a config without this section behaves as before.
    """

    slice_height_m: float = 0.2
    min_width_m: float = 0.0
    min_width_to_height: float = 0.0

    def __post_init__(self) -> None:
        check_config_numbers(self, "slice_height_m", "min_width_m", "min_width_to_height")
        if self.slice_height_m <= 0 or self.min_width_m < 0 or self.min_width_to_height < 0:
            raise ValueError(
                "need slice_height_m > 0, min_width_m >= 0 and min_width_to_height >= 0, got "
                f"{self.slice_height_m}, {self.min_width_m}, {self.min_width_to_height}"
            )

    @property
    def enabled(self) -> bool:
        """Whether any cluster can be vetoed."""
        return self.min_width_m > 0 or self.min_width_to_height > 0


@dataclass(frozen=True)
class WideTopConfig:
    """Veto of Pedestrian / Cyclist for clusters whose top is as wide as a vehicle.

    A van or car seen only by its rear (or front) face, without roof returns, is a box about
    as long as a cyclist seen side-on (1.5-2 m), a few decimetres deep and 1.5-2.1 m tall: its
    size fits the cyclist prior better than the car prior (whose likelihood counts
    ``choice_weight``) or, for a van taller than a car, only the cyclist prior. Its top is
    not like a rider's, though: the roof edge, the pillars and the tailgate span the
    vehicle's width (1.5-2 m) up to the highest returns, while a rider's or a walker's head and
    shoulders are under 0.8 m across. A cluster whose box runs across the line of sight (an end
    face faces the sensor; a wall or hedge seen obliquely runs along it) and whose points
    within ``band_m`` of its highest point are at least ``min_width_m`` across (largest
    horizontal diameter) cannot be a Pedestrian or a Cyclist. The default ``min_width_m`` 0 vetoes nothing: a config without
    this section behaves as before.
    """

    band_m: float = 0.4
    min_width_m: float = 0.0

    def __post_init__(self) -> None:
        check_config_numbers(self, "band_m", above=0.0)
        check_config_numbers(self, "min_width_m", at_least=0.0)

    @property
    def enabled(self) -> bool:
        """Whether any cluster can be vetoed."""
        return self.min_width_m > 0


@dataclass(frozen=True)
class OverhangConfig:
    """Veto of every class for clusters with something just above the cluster height band.

    Clustering only sees points up to ``cluster.max_height_above_ground_m``; the lower part of
    a tree, a bush under a canopy, a sign gantry's legs or a wall become clusters of plausible
    vehicle size. A cluster whose fitted footprint holds non-ground points in the band
    ``band_m`` thick just above that limit is the lower part of something taller than any
    class: it is UNKNOWN. The band's top (limit + ``band_m``) must stay below the clearance of
    the bridges and gantries vehicles pass under (a vehicle under a lower structure is lost).
    The default 0 vetoes nothing: a config without this section behaves as before.
    """

    band_m: float = 0.0

    def __post_init__(self) -> None:
        check_config_numbers(self, "band_m")
        if self.band_m < 0:
            raise ValueError(f"need band_m >= 0, got {self.band_m}")

    @property
    def enabled(self) -> bool:
        """Whether any cluster can be vetoed."""
        return self.band_m > 0


@dataclass(frozen=True)
class OffroadConfig:
    """Demotion of vehicle boxes off the drivable area (an HD map prior the frame carries,
    ``SensorFrame.drivable_area``; needs the frame's pose).

    A Car or Truck box whose centre lies more than ``max_distance_m`` (planar) from the
    drivable area gets its score multiplied by ``score_factor``; boxes then under ``min_score``
    are dropped (a factor 0 with ``min_score`` 0 keeps them with score 0, ranked last). The
    default factor 1 changes nothing: a config without this section behaves as before. On, a
    frame without a drivable area is an error.
    """

    max_distance_m: float = 1.0
    score_factor: float = 1.0

    def __post_init__(self) -> None:
        check_config_numbers(self, "max_distance_m", "score_factor")
        if self.max_distance_m < 0 or not 0 <= self.score_factor <= 1:
            raise ValueError(
                "need max_distance_m >= 0 and 0 <= score_factor <= 1, got "
                f"{self.max_distance_m}, {self.score_factor}"
            )

    @property
    def enabled(self) -> bool:
        """Whether any box can be demoted."""
        return self.score_factor < 1


@dataclass(frozen=True)
class FarVehicleConfig:
    """Sparse far clusters on the drivable area taken for cars
    (:mod:`~drivestack.perception.lidar.far_vehicle`; needs the frame's drivable area and pose).

    An UNKNOWN cluster (and a Cyclist one with ``include_cyclist``) at least ``min_range_m``
    away, no larger than a car (the car prior's mean plus two standard deviations in length
    and width), whose top is between ``min_top_m`` and the car prior's mean plus two standard
    deviations above the ground and whose box, completed along the line of sight to the car
    prior's mean size, has its centre within ``max_offroad_m`` of the drivable area, becomes a
    Car scored ``score``. The default ``min_range_m`` 0 is off: a config without this section
    behaves as before.
    """

    min_range_m: float = 0.0
    min_top_m: float = 0.5
    max_offroad_m: float = 1.0
    score: float = 0.001
    include_cyclist: bool = False

    def __post_init__(self) -> None:
        check_config_numbers(self, "min_range_m", "min_top_m", "max_offroad_m", "score")
        if self.min_range_m < 0 or self.max_offroad_m < 0 or not 0 <= self.score <= 1:
            raise ValueError(
                "need min_range_m >= 0, max_offroad_m >= 0 and 0 <= score <= 1, got "
                f"{self.min_range_m}, {self.max_offroad_m}, {self.score}"
            )

    @property
    def enabled(self) -> bool:
        """Whether any cluster can be promoted."""
        return self.min_range_m > 0


@dataclass(frozen=True)
class LaneHeadingConfig:
    """Headings of partly seen cars from the map's lanes
    (:mod:`~drivestack.perception.lidar.lane_heading`; needs the frame's lane headings and pose).

    A Car box shorter than a car (``BoxFitConfig.car_min_length_m``: only a face or a piece of
    it seen, its heading a guess) whose centre lies within ``max_lane_distance_m`` of a lane
    takes the lane's direction: its fitted rectangle is kept when its axes are within
    ``max_yaw_offset_deg`` of the lane's (modulo 90 degrees: a piece shorter than a car does
    not tell length from width), else the box is refitted at the lane's heading; either way it
    is completed with its length along the lane. Lanes within reach that differ by more than
    ``max_lane_spread_deg`` (modulo 180 degrees: intersections, merges) give no heading.
    With ``misaligned_score_factor`` below 1, every Car or Truck box (completed) whose centre
    has a lane heading and whose axes are more than ``max_yaw_offset_deg`` off it (modulo 180
    degrees, or 90 for a box shorter than a car) gets its score multiplied by that factor.
    With ``orient_along_lanes``, a Car or Truck box whose length axis is within
    ``max_yaw_offset_deg`` of the lane heading (modulo 180 degrees) is turned to face the
    lane's direction of travel (its yaw flipped by 180 degrees where it faced against it).
    Off by default (``enabled`` false): a config without this section behaves as before.
    """

    enabled: bool = False
    max_lane_distance_m: float = 1.0
    max_lane_spread_deg: float = 10.0
    max_yaw_offset_deg: float = 10.0
    misaligned_score_factor: float = 1.0
    orient_along_lanes: bool = False

    def __post_init__(self) -> None:
        check_config_numbers(self, "max_lane_distance_m")
        if (
            self.max_lane_distance_m < 0
            or not 0 <= self.max_lane_spread_deg <= 90
            or not 0 <= self.max_yaw_offset_deg <= 45
            or not 0 <= self.misaligned_score_factor <= 1
        ):
            raise ValueError(
                "need max_lane_distance_m >= 0, 0 <= max_lane_spread_deg <= 90, "
                "0 <= max_yaw_offset_deg <= 45 and 0 <= misaligned_score_factor <= 1, got "
                f"{self.max_lane_distance_m}, {self.max_lane_spread_deg}, "
                f"{self.max_yaw_offset_deg}, {self.misaligned_score_factor}"
            )


@dataclass(frozen=True)
class ClassifyConfig:
    """Shape classifier: class size priors with their score calibrations.

    ``truck`` (optional, None: no such class) is a prior for large vehicles (vans, trucks,
    buses), labelled ``ObjectClass.TRUCK``; its boxes are not far-side completed, except
    the end faces its prior reads (``ClassPrior.end_face_max_depth_m``).
    ``thin_structure`` (optional, off by default) rejects poles and trunks as Pedestrian /
    Cyclist from the cluster's points (:class:`ThinStructureConfig`), ``wide_top`` (optional,
    off by default) rejects vehicle end faces as Pedestrian / Cyclist (:class:`WideTopConfig`);
    ``overhang`` (optional,
    off by default) rejects clusters with points just above the height band
    (:class:`OverhangConfig`); ``offroad`` (optional, off by default) demotes vehicle boxes off
    the map's drivable area (:class:`OffroadConfig`); ``far_vehicle`` (optional, off by
    default) takes sparse far on-road clusters for low-scored cars (:class:`FarVehicleConfig`);
    ``lane_heading`` (optional, off by default) heads partly seen cars along the map's lanes
    (:class:`LaneHeadingConfig`).

    ``min_likelihood`` (a class is possible when its size likelihood reaches it) and
    ``min_score`` (boxes scored below it are dropped) are in [0, 1]: the likelihoods and the
    calibrated scores are probabilities.
    """

    car: ClassPrior
    pedestrian: ClassPrior
    cyclist: ClassPrior
    min_likelihood: float
    keep_unknown: bool
    min_score: float
    truck: ClassPrior | None = None
    thin_structure: ThinStructureConfig = ThinStructureConfig()
    wide_top: WideTopConfig = WideTopConfig()
    overhang: OverhangConfig = OverhangConfig()
    offroad: OffroadConfig = OffroadConfig()
    far_vehicle: FarVehicleConfig = FarVehicleConfig()
    lane_heading: LaneHeadingConfig = LaneHeadingConfig()

    def __post_init__(self) -> None:
        # scores are calibrated probabilities and likelihoods lie in (0, 1]: a threshold
        # outside [0, 1] keeps every box or none
        for name in ("min_score", "min_likelihood"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"{name} must be in [0, 1] (scores and likelihoods are probabilities), "
                    f"got {value}"
                )


@dataclass(frozen=True)
class DedupConfig:
    """Final de-duplication of overlapping boxes of one class (a car split into two clusters).

    With ``enabled``, boxes of one known class whose completed BEV footprints overlap by at
    least ``min_overlap`` of the smaller footprint are joined (transitively); with
    ``merge_clusters`` their clusters are pooled and re-fitted into one box (kept when it is
    still of that class), and of any remaining such pair the lower-scored box is suppressed.
    Off by default (a config without this section behaves as before).
    """

    enabled: bool = False
    min_overlap: float = 0.2
    merge_clusters: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.min_overlap <= 1.0:
            raise ValueError(f"need 0 < min_overlap <= 1, got {self.min_overlap}")


@dataclass(frozen=True)
class LargeVehicleJoinConfig:
    """Pieces of one truck or bus joined into one cluster before the box fit
    (:mod:`~drivestack.perception.lidar.large_vehicle`; needs the frame's drivable area, lane
    headings and pose, and ``classify.lane_heading`` for the lanes' reach and tolerance).

    With ``enabled``, the on-road parts of clusters (voxels on the drivable area) that reach
    ``min_height_m`` above the ground the boxes stand on (``ground_z_at``: the map's surface
    with ``ground.prior_surface``) and whose centres have a lane heading are joined along one
    lane direction while their voxels fit a ``max_length_m`` x ``max_width_m`` rectangle whose
    length is within ``classify.lane_heading.max_yaw_offset_deg`` of the lane (tried every
    ``box_fit.refine_step_deg``). Off by default (a config without this section behaves as
    before).
    """

    enabled: bool = False
    min_height_m: float = 2.3
    max_length_m: float = 12.2
    max_width_m: float = 2.6

    def __post_init__(self) -> None:
        check_config_numbers(self, "min_height_m", "max_length_m", "max_width_m")
        if not (self.min_height_m > 0 and self.max_length_m > 0 and self.max_width_m > 0):
            raise ValueError(
                "need min_height_m, max_length_m and max_width_m > 0, got "
                f"{self.min_height_m}, {self.max_length_m}, {self.max_width_m}"
            )


@dataclass(frozen=True)
class LidarDetectorConfig:
    """The whole detector; ``lidar_name`` None takes the frame's only LiDAR; ``dedup`` and
    ``large_vehicle_join`` may be left out of the YAML (off). ``datasets``: what the config
    was made for, as ``drivestack eval detection --dataset`` names them (``sim``: drivestack's
    simulated LiDAR); the eval and bench commands warn when run on another dataset. Empty
    (the key left out, as in a user's config): made for any."""

    lidar_name: str | None
    roi: RoiConfig
    accumulate: AccumulateConfig
    ground: GroundConfig
    cluster: ClusterConfig
    box_fit: BoxFitConfig
    classify: ClassifyConfig
    dedup: DedupConfig = DedupConfig()
    large_vehicle_join: LargeVehicleJoinConfig = LargeVehicleJoinConfig()
    datasets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # a misspelt name (kitti_tracking) never matches: a warning on every run
        unknown = [d for d in self.datasets if d not in KNOWN_DATASETS]
        if unknown:
            close = difflib.get_close_matches(unknown[0], KNOWN_DATASETS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigValueError(
                f"unknown dataset {unknown[0]!r}{hint}; known: {', '.join(KNOWN_DATASETS)}",
                key="datasets",
            )


#: The names ``datasets`` takes: ``drivestack eval detection --dataset``'s and ``sim``.
KNOWN_DATASETS = ("kitti", "kitti-tracking", "nuscenes", "av2", "aimotive", "pandaset", "sim")
#: The most rings or sectors a ground zone may have (its grid is allocated whole).
MAX_ZONE_BINS = 4096


def load_lidar_detector_config(path: str | Path) -> LidarDetectorConfig:
    """Read a YAML file strictly into :class:`LidarDetectorConfig`.

    Raises:
        ConfigError: unreadable YAML, unknown or missing key, wrong type (file and key named).
    """
    return load_yaml_config(LidarDetectorConfig, path)
