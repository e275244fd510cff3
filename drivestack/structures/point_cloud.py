"""PointCloud: xyz plus named per-point attributes, in one frame, at one time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from drivestack.core.arrays import dtype_message, is_kernel_float, read_only
from drivestack.core.time import INT64_MAX, INT64_MIN
from drivestack.core.transforms import SE3, require_single_se3
from drivestack.core.value_equality import ArrayValueEquality
from drivestack.structures._checks import (
    as_array,
    as_index,
    check_frame_and_time,
    check_shape,
    frozen_array,
    parts_of,
)

# Well-known attribute names (others are allowed): reflectance/intensity, beam ring,
# per-point time offset from ``timestamp_ns`` in ns, return index, semantic label.
INTENSITY = "intensity"
RING = "ring"
TIME_OFFSET_NS = "time_offset_ns"


@dataclass(frozen=True, eq=False)
class PointCloud(ArrayValueEquality):
    """A LiDAR sweep (or any point set).

    Attributes:
        xyz_m: ``(N, 3)`` float32 or float64 coordinates in ``frame``; finite. Other dtypes
            (float16, integers) are refused, not cast: cast them explicitly. An empty input
            of a non-floating dtype, or a list or tuple (e.g. ``[]``), becomes float32.
        frame: frame id of the coordinates.
        timestamp_ns: reference time of the sweep (per-point times are offsets from it).
        attributes: name -> ``(N,)`` array (any numeric dtype), e.g. ``intensity``, ``ring``,
            ``time_offset_ns`` (int64). Read-only mapping. ``intensity`` is in the sensor's /
            dataset's own units and dtype, not normalised (KITTI float32 reflectance 0..1,
            nuScenes float32 0..255, Argoverse 2 / PandaSet uint8, aiMotive uint16 0..254):
            see the per-dataset table in :mod:`drivestack.ingest`.
    """

    xyz_m: np.ndarray
    frame: str
    timestamp_ns: int
    attributes: Mapping[str, np.ndarray] = field(default_factory=dict)
    # set only by from_finite_xyz for one construction; reset at once, so replace() re-checks
    _xyz_known_finite: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_frame_and_time(self)
        value = self.xyz_m
        if type(value) is not np.ndarray:
            value = as_array(value, "PointCloud.xyz_m", (None, 3))
            if value.size == 0 and isinstance(self.xyz_m, list | tuple):
                value = value.astype(np.float32)  # ``[]`` carries no dtype: float32, as empty()
            object.__setattr__(self, "xyz_m", value)
        dtype = value.dtype
        if not is_kernel_float(dtype) and (value.size or dtype.kind == "f"):
            raise ValueError(
                dtype_message("PointCloud.xyz_m", dtype) + ": nothing is cast silently"
            )
        xyz = frozen_array(
            self,
            "xyz_m",
            (None, 3),
            kinds="f",
            default_dtype=np.float32,
            finite=not self._xyz_known_finite,
        )
        object.__setattr__(self, "_xyz_known_finite", False)
        n = xyz.shape[0]
        if not isinstance(self.attributes, Mapping):
            raise TypeError(
                "PointCloud.attributes must be a mapping of name -> (N,) array, "
                f"got {type(self.attributes).__name__}"
            )
        frozen: dict[str, np.ndarray] = {}
        for name, values in self.attributes.items():
            where = f"PointCloud.attributes[{name!r}]"
            arr = check_shape(as_array(values, where, (n,)), where, (n,))
            if arr.dtype.kind not in "biuf":
                raise ValueError(
                    f"PointCloud.attributes[{name!r}] must be numeric, got {arr.dtype}"
                )
            if name == TIME_OFFSET_NS and arr.dtype.kind not in "iu":
                raise ValueError(
                    f"PointCloud.attributes[{name!r}] must hold whole nanoseconds (an integer "
                    f"dtype), got {arr.dtype}: convert seconds with np.round(t * 1e9)"
                    ".astype(np.int64) (a float offset was truncated when clouds were joined)"
                )
            too_late = name == TIME_OFFSET_NS and arr.dtype == np.uint64 and arr.size
            if too_late and int(arr.max()) > INT64_MAX:
                raise ValueError(
                    f"PointCloud.attributes[{name!r}] holds {int(arr.max())} ns, past "
                    "int64 nanoseconds"
                )
            frozen[name] = read_only(arr, values)
        object.__setattr__(self, "attributes", MappingProxyType(frozen))

    @classmethod
    def from_finite_xyz(
        cls,
        xyz_m: np.ndarray,
        frame: str,
        timestamp_ns: int,
        attributes: Mapping[str, np.ndarray] | None = None,
    ) -> PointCloud:
        """For decoders that have just dropped non-finite points: skips the O(N) finite check
        (shapes, dtypes and read-only freezing are still done)."""
        return cls(xyz_m, frame, timestamp_ns, attributes or {}, _xyz_known_finite=True)

    @classmethod
    def empty(
        cls,
        frame: str,
        timestamp_ns: int = 0,
        attribute_dtypes: Mapping[str, npt.DTypeLike] | None = None,
    ) -> PointCloud:
        attrs = {k: np.zeros(0, dtype=v) for k, v in (attribute_dtypes or {}).items()}
        return cls(np.zeros((0, 3), dtype=np.float32), frame, timestamp_ns, attrs)

    def __len__(self) -> int:
        return int(self.xyz_m.shape[0])

    @property
    def num_points(self) -> int:
        return len(self)

    def attribute(self, name: str) -> np.ndarray:
        """One attribute; ``KeyError`` listing the available names when missing."""
        try:
            return self.attributes[name]
        except KeyError:
            raise KeyError(
                f"point cloud has no attribute {name!r}; has {sorted(self.attributes)}"
            ) from None

    def select(self, selection: npt.ArrayLike | slice) -> PointCloud:
        """Subset by boolean mask, integer indices or a slice (attributes follow)."""
        idx = as_index(selection, len(self), "PointCloud.select")
        return replace(
            self, xyz_m=self.xyz_m[idx], attributes={k: v[idx] for k, v in self.attributes.items()}
        )

    def with_attributes(self, **attributes: npt.ArrayLike) -> PointCloud:
        """A copy with attributes added or replaced."""
        merged = dict(self.attributes)
        merged.update({k: np.asarray(v) for k, v in attributes.items()})
        return replace(self, attributes=merged)

    def transformed(self, dst_from_src: SE3, dst_frame: str) -> PointCloud:
        """Coordinates mapped by ``dst_from_src`` (one :class:`SE3`, else ``TypeError``) into
        ``dst_frame``; dtype kept (a float32 cloud moved to map coordinates 4.5e6 m from the
        origin keeps only ~0.5 m of resolution: move it in float64, or keep it local)."""
        require_single_se3(dst_from_src, "PointCloud.transformed dst_from_src")
        # (a move into a frame of the same name is allowed, unlike Boxes3D.transformed: a
        # sensor's frame at another time has its name, and past sweeps are moved into it)
        xyz = dst_from_src.apply(self.xyz_m).astype(self.xyz_m.dtype, copy=False)
        return replace(self, xyz_m=xyz, frame=dst_frame)

    @staticmethod
    def concatenate(
        clouds: Iterable[PointCloud], *, common_attributes: bool = False, point_times: bool = True
    ) -> PointCloud:
        """Join clouds of one frame with the same attribute names and dtypes; time of the
        first, and every point keeps its own time: the others' ``time_offset_ns`` are shifted
        to it, and clouds of different times without per-point offsets get a
        ``time_offset_ns`` column (int64 ns, their own time from the first's).

        ``common_attributes=True`` keeps only the attributes every cloud has instead (an
        explicit choice to drop the others; point times are kept as above).
        ``point_times=False`` makes no ``time_offset_ns`` column for clouds without one (a
        caller that records each point's time otherwise, as the sweep accumulator's
        ``sweep_age_s``); offsets the clouds have are still shifted.

        Raises:
            ValueError: no clouds, clouds in different frames or of different coordinate
                dtypes, or (unless ``common_attributes``) clouds whose attribute names differ,
                or an attribute of different dtypes (uint8 intensity beside float32
                reflectance), named: drop, add or cast them first (:meth:`with_attributes`);
                nothing is dropped or cast silently.
            TypeError: an item that is not a ``PointCloud`` (naming its index).
            OverflowError: a point's time from the first cloud's is past int64 nanoseconds.
        """
        clouds = parts_of(clouds, PointCloud, "PointCloud.concatenate")
        dtypes = sorted({str(c.xyz_m.dtype) for c in clouds})
        if len(dtypes) != 1:
            raise ValueError(
                f"PointCloud.concatenate: clouds of different coordinate dtypes {dtypes}: "
                "cast them to one first (nothing is cast silently)"
            )
        frames = {c.frame for c in clouds}
        if len(frames) != 1:
            raise ValueError(
                f"PointCloud.concatenate: clouds are in different frames {sorted(frames)}"
            )
        common = set(clouds[0].attributes)
        for i, c in enumerate(clouds[1:], start=1):
            if common_attributes:
                common &= set(c.attributes)
            elif set(c.attributes) != common:
                missing = sorted(common - set(c.attributes))
                extra = sorted(set(c.attributes) - common)
                differences = ([f"lacks {missing}"] if missing else []) + (
                    [f"has {extra} too"] if extra else []
                )
                raise ValueError(
                    f"PointCloud.concatenate: clouds have different attributes: cloud {i} "
                    f"{' and '.join(differences)}, compared with cloud 0's {sorted(common)}; "
                    "give every cloud the same attributes, or pass common_attributes=True "
                    "to keep only the shared ones"
                )
        for name in sorted(common - {TIME_OFFSET_NS}):
            kinds = sorted({str(c.attributes[name].dtype) for c in clouds})
            if len(kinds) != 1:
                raise ValueError(
                    f"PointCloud.concatenate: attribute {name!r} has different dtypes {kinds} "
                    "in these clouds (e.g. raw 0..255 intensity beside 0..1 reflectance): cast "
                    "or rescale it to one first (nothing is cast silently)"
                )
        t0 = clouds[0].timestamp_ns
        times_differ = any(c.timestamp_ns != t0 for c in clouds)

        def time_offsets(c: PointCloud) -> np.ndarray:
            """``(N,)`` int64 each point's time from ``t0``: its own offset (0 without one)
            plus its cloud's time from ``t0``."""
            own = c.attributes.get(TIME_OFFSET_NS)
            base = np.zeros(len(c), np.int64) if own is None else own.astype(np.int64)
            shift = c.timestamp_ns - t0
            if shift == 0:  # int64 already: nothing can overflow
                return base
            lo, hi = (int(base.min()), int(base.max())) if len(base) else (0, 0)
            if lo + shift < INT64_MIN or hi + shift > INT64_MAX:
                raise OverflowError(
                    f"PointCloud.concatenate: points of the cloud at {c.timestamp_ns} ns lie "
                    f"{lo + shift}..{hi + shift} ns from the first cloud's time {t0} ns, past "
                    "int64 nanoseconds"
                )
            return base + np.int64(shift)

        columns = {
            k: np.concatenate([c.attributes[k] for c in clouds])
            for k in sorted(common - {TIME_OFFSET_NS})  # (made below, shifted to t0)
        }
        has_offsets = any(TIME_OFFSET_NS in c.attributes for c in clouds)
        if has_offsets or (times_differ and point_times):
            columns[TIME_OFFSET_NS] = np.concatenate([time_offsets(c) for c in clouds])
        return PointCloud(np.concatenate([c.xyz_m for c in clouds]), clouds[0].frame, t0, columns)
