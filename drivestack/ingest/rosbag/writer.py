"""Write ROS 1 ``.bag``, ROS 2 ``.db3`` and ROS 2 ``.mcap`` bags with ``rosbags``.

Used to turn drivestack data (KITTI scans, simulated drives) into the bags engineers record,
so that tests and tools read them back through the same code path as a recorded bag.
``BagWriter`` picks the storage from ``storage``: ``"ros1"`` (a ``.bag`` file), ``"sqlite3"``
or ``"mcap"`` (a rosbag2 directory, format version 9).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import numpy as np

from drivestack.core.transforms import SE3
from drivestack.ingest.rosbag.pointcloud2 import NUMPY_TO_ROS

Storage = Literal["ros1", "sqlite3", "mcap"]


def _typestore(storage: Storage) -> Any:
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    store = get_typestore(Stores.ROS1_NOETIC if storage == "ros1" else Stores.ROS2_HUMBLE)
    if "tf2_msgs/msg/TFMessage" not in store.types:  # not in rosbags' ROS 1 store
        store.register(
            get_types_from_msg(
                "geometry_msgs/TransformStamped[] transforms", "tf2_msgs/msg/TFMessage"
            )
        )
    return store


def _stamp(typestore: Any, stamp_ns: int) -> Any:
    time_type = typestore.types["builtin_interfaces/msg/Time"]
    return time_type(sec=int(stamp_ns // 1_000_000_000), nanosec=int(stamp_ns % 1_000_000_000))


def header(typestore: Any, stamp_ns: int, frame_id: str) -> Any:
    """A ``std_msgs/Header`` (ROS 1 headers get ``seq = 0``)."""
    header_type = typestore.types["std_msgs/msg/Header"]
    kwargs: dict[str, Any] = {"stamp": _stamp(typestore, stamp_ns), "frame_id": frame_id}
    if "seq" in header_type.__dataclass_fields__:
        kwargs["seq"] = 0
    return header_type(**kwargs)


def pointcloud2_message(
    typestore: Any,
    xyz: np.ndarray,
    attributes: Mapping[str, np.ndarray],
    *,
    frame_id: str,
    stamp_ns: int,
    big_endian: bool = False,
    padding_bytes: int = 0,
    height: int = 1,
) -> Any:
    """A ``sensor_msgs/PointCloud2`` holding ``xyz (N, 3)`` and ``(N,)`` attributes.

    Fields are packed in order ``x, y, z, *attributes`` with ``padding_bytes`` of zeros after
    each field (and at the end of the point), in the requested byte order; ``height`` rows of
    ``N / height`` points (an organised cloud when > 1).
    """
    xyz = np.asarray(xyz)
    columns = {"x": xyz[:, 0], "y": xyz[:, 1], "z": xyz[:, 2], **dict(attributes)}
    n = xyz.shape[0]
    if n % height:
        raise ValueError(f"{n} points do not split into {height} rows")
    order: Literal["<", ">"] = ">" if big_endian else "<"
    names, formats, offsets = [], [], []
    offset = 0
    field_type = typestore.types["sensor_msgs/msg/PointField"]
    fields = []
    for name, values in columns.items():
        dt = np.dtype(values.dtype).newbyteorder(order)
        names.append(name)
        formats.append(dt)
        offsets.append(offset)
        code = NUMPY_TO_ROS[dt.kind + str(dt.itemsize)]
        fields.append(field_type(name=name, offset=offset, datatype=code, count=1))
        offset += dt.itemsize + padding_bytes
    point_step = offset
    packed = np.zeros(
        n,
        dtype=np.dtype(
            {"names": names, "formats": formats, "offsets": offsets, "itemsize": point_step}
        ),
    )
    for name, values in columns.items():
        packed[name] = values
    width = n // height
    return typestore.types["sensor_msgs/msg/PointCloud2"](
        header=header(typestore, stamp_ns, frame_id),
        height=height,
        width=width,
        fields=fields,
        is_bigendian=big_endian,
        point_step=point_step,
        row_step=point_step * width,
        data=packed.view(np.uint8),
        is_dense=bool(np.isfinite(xyz).all()),
    )


def transform_stamped(
    typestore: Any, stamp_ns: int, parent: str, child: str, parent_from_child: SE3
) -> Any:
    """A ``geometry_msgs/TransformStamped`` (``parent_from_child``: child-frame points -> parent)."""
    t = typestore.types
    w, x, y, z = parent_from_child.as_quaternion()
    tx, ty, tz = parent_from_child.translation
    return t["geometry_msgs/msg/TransformStamped"](
        header=header(typestore, stamp_ns, parent),
        child_frame_id=child,
        transform=t["geometry_msgs/msg/Transform"](
            translation=t["geometry_msgs/msg/Vector3"](x=float(tx), y=float(ty), z=float(tz)),
            rotation=t["geometry_msgs/msg/Quaternion"](
                x=float(x), y=float(y), z=float(z), w=float(w)
            ),
        ),
    )


def tf_message(typestore: Any, transforms: list[Any]) -> Any:
    """A ``tf2_msgs/TFMessage`` of ``TransformStamped`` messages."""
    return typestore.types["tf2_msgs/msg/TFMessage"](transforms=transforms)


class BagWriter:
    """Context manager writing messages to one bag: ``write(topic, msgtype, stamp_ns, msg)``.

    ROS 1 bags take a chunk compression (``none``, ``bz2``, ``lz4``) and chunk size.

    ``msgtype`` is the ROS 2 style name (``sensor_msgs/msg/PointCloud2``); ROS 1 bags store
    the same types. Connections are added on first use of a topic.
    """

    def __init__(
        self,
        path: str | Path,
        storage: Storage,
        *,
        ros1_compression: Literal["none", "bz2", "lz4"] = "none",
        ros1_chunk_bytes: int = 1 << 20,
    ) -> None:
        self.path = Path(path)
        self.storage = storage
        self.typestore = _typestore(storage)
        self._connections: dict[str, Any] = {}
        self._writer: Any
        if storage == "ros1":
            from rosbags.rosbag1 import Writer as Ros1Writer

            self._writer = Ros1Writer(self.path)
            self._writer.chunk_threshold = int(ros1_chunk_bytes)
            if ros1_compression != "none":
                self._writer.set_compression(Ros1Writer.CompressionFormat[ros1_compression.upper()])
        else:
            from rosbags.rosbag2 import StoragePlugin
            from rosbags.rosbag2 import Writer as Ros2Writer

            plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
            self._writer = Ros2Writer(self.path, version=9, storage_plugin=plugin)

    def __enter__(self) -> BagWriter:
        self._writer.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._writer.close()

    def write(self, topic: str, msgtype: str, stamp_ns: int, msg: Any) -> None:
        if self.storage == "ros1":
            raw = self.typestore.serialize_ros1(msg, msgtype)
        else:
            raw = self.typestore.serialize_cdr(msg, msgtype)
        self.write_raw(topic, msgtype, stamp_ns, bytes(raw))

    def write_raw(self, topic: str, msgtype: str, stamp_ns: int, raw: bytes) -> None:
        """Already serialised bytes (e.g. to record a corrupt message in a test)."""
        conn = self._connections.get(topic)
        if conn is None:
            conn = self._writer.add_connection(topic, msgtype, typestore=self.typestore)
            self._connections[topic] = conn
        self._writer.write(conn, int(stamp_ns), raw)
