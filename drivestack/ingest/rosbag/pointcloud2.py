"""``sensor_msgs/PointCloud2`` -> :class:`PointCloud`, zero-copy where the layout allows.

A PointCloud2 is ``height x width`` points of ``point_step`` bytes each (rows ``row_step``
bytes apart), every point holding the named fields at byte ``offset`` with ROS datatype codes
(``INT8=1 UINT8=2 INT16=3 UINT16=4 INT32=5 UINT32=6 FLOAT32=7 FLOAT64=8``), ``count``
elements each, little- or big-endian (``is_bigendian``). Padding between fields and at the end
of a point is skipped by the structured dtype's offsets and ``itemsize``.

Decoding builds one NumPy structured dtype over the message buffer (no copy). ``xyz_m`` is a
strided ``(N, 3)`` view of it when ``x, y, z`` are consecutive fields of one native float type
(the usual layout) and every point is finite; otherwise the columns are gathered (one copy).
Copies also happen, and only then, for big-endian data (converted to native byte order), for
rows padded beyond ``width * point_step`` and for dropping non-finite points.

Points with a NaN or infinite coordinate (``is_dense = false`` clouds mark missing returns
this way, but the flag is not trusted) are dropped and counted in
:attr:`DecodedPointCloud2.num_nonfinite`; :attr:`DecodedPointCloud2.is_dense` keeps the flag,
so that a reader can tell such points from those of a cloud that claims to have none. A field with ``count k > 1`` becomes attributes
``name_0 .. name_{k-1}``. A per-point time field (see :data:`POINT_TIME_FIELDS`) becomes the
``time_offset_ns`` attribute (int64 ns relative to the header stamp).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Protocol

import numpy as np
from numpy.lib.stride_tricks import as_strided

from drivestack.core.errors import DataError
from drivestack.ingest.rosbag._finite import finite_rows
from drivestack.ingest.rosbag.messages import normalise_frame_id
from drivestack.structures.point_cloud import TIME_OFFSET_NS, PointCloud

# ROS sensor_msgs/PointField datatype code -> NumPy scalar type code (byte order added later).
ROS_DATATYPES: dict[int, str] = {
    1: "i1",
    2: "u1",
    3: "i2",
    4: "u2",
    5: "i4",
    6: "u4",
    7: "f4",
    8: "f8",
}
NUMPY_TO_ROS: dict[str, int] = {v: k for k, v in ROS_DATATYPES.items()}

# Per-point time fields written by common drivers, and their unit:
# ``t`` (Ouster, uint32 ns from the scan start), ``time`` (velodyne_pointcloud, float32 s
# relative), ``time_stamp`` (nebula, uint32 ns relative), ``timestamp`` (Hesai, float64 s
# absolute), ``offset_time`` (Livox, uint32 ns relative). Float values are seconds, integer
# values nanoseconds; values above ~31 years are absolute (epoch) times and the header stamp
# is subtracted from them (value by value: a 0 beside them stays 0, the header's time).
POINT_TIME_FIELDS: tuple[str, ...] = ("t", "time", "time_stamp", "timestamp", "offset_time")
_ABSOLUTE_TIME_NS = 10**18
#: the largest float per-point time (s) whose nanoseconds fit an int64
_MAX_SECONDS = 9.2e9


class PointFieldLike(Protocol):
    name: str
    offset: int
    datatype: int
    count: int


@dataclass(frozen=True)
class DecodedPointCloud2:
    """One decoded message: the cloud, how many non-finite points were dropped and whether the
    message claimed to have none (``is_dense``; a message without the flag does not)."""

    cloud: PointCloud
    num_nonfinite: int
    is_dense: bool


def pointcloud2_dtype(
    fields: Sequence[PointFieldLike],
    point_step: int,
    *,
    is_bigendian: bool,
    path: str = "<message>",
    record: str | int | None = None,
) -> np.dtype:
    """The structured dtype of one point: named fields at their offsets, ``itemsize = point_step``.

    Raises ``DataError`` for an unknown datatype, a field past the point's end, duplicate
    names, x / y / z that are not FLOAT32 / FLOAT64 or that share bytes with another field
    (other fields may overlap: drivers declare unions such as ``rgb`` / ``rgba``).
    """
    order = ">" if is_bigendian else "<"
    names: list[str] = []
    formats: list[Any] = []
    offsets: list[int] = []
    for i, f in enumerate(fields):
        code = ROS_DATATYPES.get(int(f.datatype))
        where = f"fields[{i}] ({f.name!r})"
        if code is None:
            raise DataError(
                f"unknown PointField datatype {f.datatype} (known: 1..8)",
                path=path,
                record=record,
                field=where,
            )
        count = max(int(f.count), 1)
        size = int(code[1]) * count
        if f.offset < 0 or f.offset + size > point_step:
            raise DataError(
                f"field of {size} bytes at offset {f.offset} does not fit in point_step {point_step}",
                path=path,
                record=record,
                field=where,
            )
        if f.name in names:
            raise DataError("duplicate field name", path=path, record=record, field=where)
        if f.name in ("x", "y", "z") and (code[0] != "f" or count != 1):
            raise DataError(
                f"a coordinate must be one FLOAT32 or FLOAT64 (datatype 7 or 8), got datatype "
                f"{f.datatype} x {count}",
                path=path,
                record=record,
                field=where,
            )
        names.append(str(f.name))
        formats.append(order + code if count == 1 else (order + code, (count,)))
        offsets.append(int(f.offset))
    _check_coordinates_alone(fields, names, offsets, formats, path=path, record=record)
    try:
        return np.dtype(
            {"names": names, "formats": formats, "offsets": offsets, "itemsize": int(point_step)}
        )
    except ValueError as exc:  # overlapping fields
        raise DataError(
            f"invalid field layout: {exc}", path=path, record=record, field="fields"
        ) from None


def _check_coordinates_alone(
    fields: Sequence[PointFieldLike],
    names: list[str],
    offsets: list[int],
    formats: list[Any],
    *,
    path: str,
    record: str | int | None,
) -> None:
    """``DataError`` when a coordinate field's bytes overlap another field's (NumPy reads
    overlapping fields without a word: a FLOAT64 x over y's bytes decoded as 0.0078)."""
    spans = [(off, off + np.dtype(fmt).itemsize) for off, fmt in zip(offsets, formats, strict=True)]
    for i, name in enumerate(names):
        if name not in ("x", "y", "z"):
            continue
        for j, (start, stop) in enumerate(spans):
            if j != i and start < spans[i][1] and spans[i][0] < stop:
                raise DataError(
                    f"bytes {spans[i][0]}..{spans[i][1] - 1} overlap fields[{j}] "
                    f"({names[j]!r}, bytes {start}..{stop - 1})",
                    path=path,
                    record=record,
                    field=f"fields[{i}] ({fields[i].name!r})",
                )


def _native(arr: np.ndarray) -> np.ndarray:
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _xyz_view(points: np.ndarray, dtype: np.dtype) -> np.ndarray | None:
    """``(N, 3)`` strided view of consecutive native ``x, y, z`` fields, else None."""
    fx, fy, fz = (dtype.fields[a] for a in "xyz")  # type: ignore[index]
    t = fx[0]
    if not (t == fy[0] == fz[0] and t.kind == "f" and t.isnative and t.shape == ()):
        return None
    if fy[1] != fx[1] + t.itemsize or fz[1] != fx[1] + 2 * t.itemsize:
        return None
    return as_strided(
        points["x"],
        shape=(points.shape[0], 3),
        strides=(points.strides[0], t.itemsize),
        writeable=False,
    )


def _time_offset_ns(
    values: np.ndarray, stamp_ns: int, *, name: str, path: str, record: str | int | None
) -> np.ndarray:
    """Per-point times (see :data:`POINT_TIME_FIELDS`) -> int64 ns relative to ``stamp_ns``;
    DataError naming field ``name`` for a float time that is not finite or not an int64 of ns."""
    if values.dtype.kind == "f":
        seconds = values.astype(np.float64)
        bad = ~(np.abs(seconds) < _MAX_SECONDS)  # NaN, inf, or past int64 nanoseconds
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"{int(bad.sum())} per-point times are not finite or out of range "
                f"(first: {float(seconds[i])!r} s)",
                path=path,
                record=record,
                field=name,
            )
        ns = np.rint(seconds * 1e9).astype(np.int64)
    else:
        ns = values.astype(np.int64)
    # value by value: a 0 beside epoch stamps (a point without a time) stays at the header
    # stamp instead of landing 50 years before it when the whole field was shifted
    absolute = ns > _ABSOLUTE_TIME_NS
    if absolute.any():
        ns = np.where(absolute, ns - np.int64(stamp_ns), ns)
    return ns


def decode_pointcloud2(
    msg: Any,
    *,
    frame: str | None = None,
    timestamp_ns: int | None = None,
    path: str = "<message>",
    record: str | int | None = None,
) -> DecodedPointCloud2:
    """Decode a ``sensor_msgs/PointCloud2`` message object (ROS 1 or ROS 2, as ``rosbags``
    deserialises it) into a :class:`PointCloud`.

    Args:
        msg: the message (``header``, ``height``, ``width``, ``fields``, ``is_bigendian``,
            ``point_step``, ``row_step``, ``data`` as ``(B,)`` uint8 array or bytes).
        frame: frame id of the cloud; default the header's ``frame_id`` without ROS 1's
            leading ``/`` (:func:`~drivestack.ingest.rosbag.messages.normalise_frame_id`).
        timestamp_ns: reference time; default the header stamp.
        path, record: where the message came from, for error messages.

    Returns:
        the cloud (``xyz_m`` float32/float64 as stored; other fields as attributes in native
        byte order; ``time_offset_ns`` when a per-point time field exists), the number of
        dropped non-finite points and the message's ``is_dense`` flag.

    Raises:
        DataError naming ``path``, ``record`` and the field when the layout is inconsistent
        (no ``x/y/z``, fields past ``point_step``, ``data`` shorter than the points).
    """
    stamp_ns = int(msg.header.stamp.sec) * 1_000_000_000 + int(msg.header.stamp.nanosec)
    frame = frame or normalise_frame_id(msg.header.frame_id) or "lidar"
    timestamp_ns = stamp_ns if timestamp_ns is None else timestamp_ns
    height, width = int(msg.height), int(msg.width)
    point_step, row_step = int(msg.point_step), int(msg.row_step)
    dtype = pointcloud2_dtype(
        msg.fields, point_step, is_bigendian=bool(msg.is_bigendian), path=path, record=record
    )
    for axis in "xyz":
        if axis not in dtype.names:  # type: ignore[operator]
            raise DataError(
                f"no {axis!r} field; fields are {list(dtype.names or ())}",
                path=path,
                record=record,
                field="fields",
            )
    data = msg.data
    buf = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    n = height * width
    if row_step < width * point_step and height > 1:
        raise DataError(
            f"row_step {row_step} < width {width} x point_step {point_step}",
            path=path,
            record=record,
            field="row_step",
        )
    needed = (height - 1) * row_step + width * point_step if n else 0
    if buf.size < needed:
        raise DataError(
            f"data has {buf.size} bytes, {height}x{width} points of {point_step} bytes "
            f"(row_step {row_step}) need {needed}",
            path=path,
            record=record,
            field="data",
        )
    if height <= 1 or row_step == width * point_step:
        points = np.ndarray((n,), dtype=dtype, buffer=buf, offset=0)
    else:  # padded rows: one copy, row by row
        rows = np.ndarray((height, width), dtype=dtype, buffer=buf, strides=(row_step, point_step))
        points = np.ascontiguousarray(rows).reshape(n)
    points.setflags(write=False)  # views of it are read-only, so PointCloud keeps them as-is
    xyz = _xyz_view(points, dtype)
    if xyz is None:
        columns = [_native(points[a]) for a in "xyz"]
        common = np.result_type(*columns, np.float32)
        xyz = np.stack([c.astype(common, copy=False) for c in columns], axis=1)
    if xyz.flags.writeable:
        xyz.setflags(write=False)
    # one compiled pass over the (strided) view instead of three NumPy passes and a reduction
    finite, num_nonfinite = finite_rows(xyz)
    if num_nonfinite:
        xyz = xyz[finite]
    attributes: dict[str, np.ndarray] = {}
    for name in dtype.names or ():
        if name in ("x", "y", "z"):
            continue
        column = points[name]
        if num_nonfinite:
            column = column[finite]
        sub = dtype.fields[name][0]  # type: ignore[index]
        if sub.shape:
            for k in range(sub.shape[0]):
                attributes[f"{name}_{k}"] = _native(column[:, k])
        elif name in POINT_TIME_FIELDS and TIME_OFFSET_NS not in attributes:
            attributes[TIME_OFFSET_NS] = _time_offset_ns(
                column, timestamp_ns, name=name, path=path, record=record
            )
            attributes[name] = _native(column)
        else:
            attributes[name] = _native(column)
    # non-finite points were just dropped: skip the cloud's second O(N) finite check
    return DecodedPointCloud2(
        PointCloud.from_finite_xyz(xyz, frame, timestamp_ns, attributes),
        num_nonfinite,
        bool(getattr(msg, "is_dense", False)),
    )


def parse_pointcloud2_cdr(raw: bytes | memoryview) -> SimpleNamespace:
    """A ROS 2 ``sensor_msgs/msg/PointCloud2`` from its CDR bytes, without a generic deserialiser.

    Reads the little-endian CDR layout field by field (4-byte alignment relative to the
    encapsulation header) and leaves ``data`` as a zero-copy uint8 view of ``raw``. Returns an
    object with the attributes :func:`decode_pointcloud2` reads. ``ValueError`` when the bytes
    are not a little-endian CDR PointCloud2 (callers fall back to the generic route).
    """
    buf = memoryview(raw).cast("B") if not isinstance(raw, bytes) else raw
    if len(buf) < 8 or bytes(buf[0:2]) != b"\x00\x01":
        raise ValueError("not little-endian CDR")
    pos = 4

    def align(n: int) -> None:
        nonlocal pos
        pos = 4 + ((pos - 4 + n - 1) // n) * n

    def u32() -> int:
        nonlocal pos
        align(4)
        (value,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        return int(value)

    def string() -> str:
        nonlocal pos
        length = u32()
        text = bytes(buf[pos : pos + length]).rstrip(b"\x00").decode("utf-8")
        pos += length
        return text

    def u8() -> int:
        nonlocal pos
        value = buf[pos]
        pos += 1
        return int(value)

    sec = struct.unpack_from("<i", buf, pos)[0]
    pos += 4
    nanosec = u32()
    frame_id = string()
    height, width = u32(), u32()
    fields = []
    for _ in range(u32()):
        name = string()
        offset = u32()
        datatype = u8()
        count = u32()
        fields.append(SimpleNamespace(name=name, offset=offset, datatype=datatype, count=count))
    is_bigendian = bool(u8())
    point_step, row_step = u32(), u32()
    size = u32()
    if pos + size > len(buf):
        raise ValueError(f"data of {size} bytes runs past the message ({len(buf)} bytes)")
    data = np.frombuffer(buf, dtype=np.uint8, count=size, offset=pos)
    pos += size
    # bytes ending before the flag claim nothing, as a message without the attribute
    is_dense = bool(u8()) if pos < len(buf) else False
    return SimpleNamespace(
        header=SimpleNamespace(stamp=SimpleNamespace(sec=sec, nanosec=nanosec), frame_id=frame_id),
        height=height,
        width=width,
        fields=fields,
        is_bigendian=is_bigendian,
        point_step=point_step,
        row_step=row_step,
        data=data,
        is_dense=is_dense,
    )
