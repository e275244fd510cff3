"""PCD (Point Cloud Library) files: ``ascii``, ``binary`` and ``binary_compressed`` data.

The header names the fields (``FIELDS``), their byte size (``SIZE``), type (``TYPE``: ``F``
float, ``I`` signed, ``U`` unsigned) and element count (``COUNT``); ``POINTS`` says how many
points follow. A field with ``COUNT k > 1`` becomes columns ``name_0 .. name_{k-1}``; fields
named ``_`` (padding) are dropped. Bytes after the last point (some writers pad with zeros)
are ignored: the point count comes from the header, never from the file size (as PCL reads).

``read_pcd`` accepts plain ``.pcd`` and xz-compressed ``.pcd.xz`` files (Python's ``lzma``).
The PCD bytes of a ``.pcd.xz`` are read by the same rules as a plain ``.pcd`` (bytes after
the last point ignored), but the xz container is checked as ``xz -d`` does: concatenated
streams (and the null stream padding between them) are one file, and any other byte after
a stream is a ``DataError`` naming the file and its offset (``lzma.decompress`` would drop
it silently). ``ascii`` numbers are C spellings (``1_0`` is not 10).
``ascii`` values are checked against their field's ``TYPE`` / ``SIZE``: an integer field's value
that is fractional or out of range is a ``DataError`` naming the line and field (never wrapped
or truncated). Columns keep the file's dtype; only :func:`pcd_to_point_cloud` (via
:func:`pcd_xyz`) widens float16 (``TYPE F SIZE 2``) coordinates to float32, an exact
conversion, since a :class:`PointCloud` holds float32 or float64 coordinates.
"""

from __future__ import annotations

import lzma
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np

from drivestack.core.errors import DataError
from drivestack.core.numbers import FLOAT_RE, is_digits, parse_float, parse_int
from drivestack.ingest._points import check_integer_column, finite_cloud, line_record, read_bytes
from drivestack.structures.point_cloud import PointCloud

_TYPE_KIND = {"F": "f", "I": "i", "U": "u"}
_REQUIRED = ("FIELDS", "SIZE", "TYPE", "POINTS", "DATA")
# Header lines (comments and blank lines included) read before a file without a DATA line is
# refused as no PCD: a real header has about 11.
_MAX_HEADER_LINES = 64


@dataclass(frozen=True)
class PcdData:
    """The columns of one PCD file.

    Attributes:
        columns: name -> ``(N,)`` array in the file's dtype (read-only mapping, file order).
        width: ``WIDTH`` (points per row of an organised cloud).
        height: ``HEIGHT`` (1 for an unorganised cloud).
        viewpoint: ``(7,)`` ``tx ty tz qw qx qy qz`` acquisition viewpoint.
        data: ``ascii``, ``binary`` or ``binary_compressed``.
        path: where it was read from.
    """

    columns: Mapping[str, np.ndarray]
    width: int
    height: int
    viewpoint: np.ndarray
    data: str
    path: str

    @property
    def num_points(self) -> int:
        return self.width * self.height


def _parse_header(raw: bytes, path: str) -> tuple[dict[str, list[str]], int]:
    """Header keywords -> values, and the byte offset where the data start."""
    header: dict[str, list[str]] = {}
    offset = 0
    line_no = 0
    while "DATA" not in header:
        end = raw.find(b"\n", offset)
        if end < 0:
            raise DataError(
                "header ends before a DATA line", path=path, record=f"header line {line_no + 1}"
            )
        line_no += 1
        if line_no > _MAX_HEADER_LINES:
            raise DataError(
                f"no DATA line in the first {_MAX_HEADER_LINES} header lines (not a PCD file?)",
                path=path,
                record=f"header line {line_no}",
            )
        try:
            line = raw[offset:end].decode("ascii").strip()
        except UnicodeDecodeError:
            raise DataError(
                "non-ASCII bytes in the header (not a PCD file?)",
                path=path,
                record=f"header line {line_no}",
            ) from None
        offset = end + 1
        if not line or line.startswith("#"):
            continue
        key, *values = line.split()
        header[key.upper()] = values
    for key in _REQUIRED:
        if key not in header:
            raise DataError(f"header has no {key} line", path=path, field=key)
    return header, offset


def _header_int(
    header: dict[str, list[str]], key: str, path: str, default: int | None = None
) -> int:
    if key not in header:
        if default is None:
            raise DataError(f"header has no {key} line", path=path, field=key)
        return default
    try:
        value = parse_int(header[key][0])
    except (ValueError, IndexError):
        raise DataError(
            f"expected one integer, got {' '.join(header[key])!r}",
            path=path,
            record="header",
            field=key,
        ) from None
    if value < 0:
        raise DataError(f"must be non-negative, got {value}", path=path, record="header", field=key)
    return value


#: The largest point a PCD header may describe (bytes): PCL's widest descriptors (SHOT,
#: 352 floats) take 1.4 kB; a COUNT of millions is a corrupt header, refused before anything
#: is built for it.
MAX_PCD_POINT_BYTES = 1 << 16
#: The most a ``.pcd.xz`` may decompress to: a few hundred bytes of xz can claim gigabytes of
#: padding; a LiDAR scan of 10**7 points of 32 bytes takes 320 MB.
MAX_PCD_XZ_BYTES = 1 << 29


def _field_dtype(header: dict[str, list[str]], path: str) -> tuple[list[str], np.dtype]:
    """Column names and the packed structured dtype of one point."""
    names = header["FIELDS"]
    sizes, types = header["SIZE"], header["TYPE"]
    counts = header.get("COUNT", ["1"] * len(names))
    for key, vals in (("SIZE", sizes), ("TYPE", types), ("COUNT", counts)):
        if len(vals) != len(names):
            raise DataError(
                f"{len(vals)} entries for {len(names)} FIELDS",
                path=path,
                record="header",
                field=key,
            )
    fields: list[tuple[str, str, tuple[int, ...]]] = []
    seen: set[str] = set()
    point_bytes = 0
    for i, (name, size, typ, count) in enumerate(zip(names, sizes, types, counts, strict=True)):
        kind = _TYPE_KIND.get(typ.upper())
        if kind is None or size not in ("1", "2", "4", "8") or (kind == "f" and size == "1"):
            raise DataError(
                f"unsupported TYPE {typ} with SIZE {size}", path=path, record="header", field=name
            )
        if not is_digits(count) or int(count) < 1:
            raise DataError(
                f"COUNT must be a positive integer, got {count!r}",
                path=path,
                record="header",
                field=name,
            )
        point_bytes += int(size) * int(count) if is_digits(size) else 0
        if point_bytes > MAX_PCD_POINT_BYTES:
            raise DataError(
                f"COUNT {count}: a point of more than {MAX_PCD_POINT_BYTES} bytes (descriptors "
                "such as SHOT take 1.4 kB): a corrupt header",
                path=path,
                record="header",
                field=name,
            )
        unique = name if name != "_" else f"__pad{i}"
        if unique in seen:
            raise DataError("field appears twice", path=path, record="header", field=name)
        seen.add(unique)
        shape = (int(count),) if int(count) > 1 else ()
        fields.append((unique, f"<{kind}{size}", shape))
    return [f[0] for f in fields], np.dtype(fields)


def lzf_decompress(data: bytes, expected_size: int) -> bytes:
    """Decompress an LZF block (the codec of PCD ``binary_compressed``)."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        ctrl = data[i]
        i += 1
        if ctrl < 32:  # literal run of ctrl + 1 bytes
            run = ctrl + 1
            if i + run > n:
                raise ValueError("literal run past the end of the compressed block")
            out += data[i : i + run]
            i += run
            continue
        length = ctrl >> 5
        if length == 7:
            if i >= n:
                raise ValueError("truncated back-reference")
            length += data[i]
            i += 1
        if i >= n:
            raise ValueError("truncated back-reference")
        ref = len(out) - ((ctrl & 0x1F) << 8) - data[i] - 1
        i += 1
        if ref < 0:
            raise ValueError("back-reference before the start of the output")
        for _ in range(length + 2):  # byte by byte: the source may overlap the destination
            out.append(out[ref])
            ref += 1
    if len(out) != expected_size:
        raise ValueError(f"decompressed {len(out)} bytes, header says {expected_size}")
    return bytes(out)


def parse_pcd(raw: bytes, path: str = "<bytes>") -> PcdData:
    """Parse the bytes of a PCD file.

    Raises:
        DataError: bad or missing header lines, unsupported types, fewer data bytes or
            ascii rows than ``POINTS`` says, corrupt compressed data.
    """
    header, offset = _parse_header(raw, path)
    names, dtype = _field_dtype(header, path)
    num_points = _header_int(header, "POINTS", path)
    width = _header_int(header, "WIDTH", path, default=num_points)
    height = _header_int(header, "HEIGHT", path, default=1)
    if width * height != num_points:
        raise DataError(
            f"WIDTH x HEIGHT = {width * height} but POINTS = {num_points}",
            path=path,
            record="header",
            field="POINTS",
        )
    viewpoint = np.array([0, 0, 0, 1, 0, 0, 0], dtype=np.float64)
    if "VIEWPOINT" in header:
        try:
            viewpoint = np.array(
                [parse_float(v) for v in header["VIEWPOINT"]], dtype=np.float64
            ).reshape(7)
        except ValueError:
            raise DataError(
                "expected 7 numbers", path=path, record="header", field="VIEWPOINT"
            ) from None
    mode = header["DATA"][0].lower() if header["DATA"] else ""
    body = raw[offset:]
    if mode == "binary":
        need = num_points * dtype.itemsize
        if len(body) < need:
            raise DataError(
                f"truncated: {len(body)} data bytes for {num_points} points of {dtype.itemsize} bytes ({need} needed)",
                path=path,
                record=f"point {len(body) // max(dtype.itemsize, 1)}",
            )
        table = np.frombuffer(body, dtype=dtype, count=num_points)
        columns = {name: table[name] for name in names}
    elif mode == "binary_compressed":
        columns = _binary_compressed(body, names, dtype, num_points, path)
    elif mode == "ascii":
        first_line = raw[:offset].count(b"\n") + 1
        columns = _ascii(body, names, dtype, num_points, path, first_line)
    else:
        raise DataError(
            f"unknown DATA mode {mode!r} (ascii, binary, binary_compressed)",
            path=path,
            record="header",
            field="DATA",
        )
    flat: dict[str, np.ndarray] = {}
    for name in names:
        if name.startswith("__pad"):
            continue
        col = np.ascontiguousarray(columns[name])
        if col.ndim == 2:
            for k in range(col.shape[1]):
                flat[f"{name}_{k}"] = np.ascontiguousarray(col[:, k])
        else:
            flat[name] = col
    return PcdData(MappingProxyType(flat), width, height, viewpoint, mode, path)


def _binary_compressed(
    body: bytes, names: list[str], dtype: np.dtype, num_points: int, path: str
) -> dict[str, np.ndarray]:
    if len(body) < 8:
        raise DataError(
            "truncated: no compressed-size words after the header", path=path, record="data"
        )
    compressed_size, raw_size = np.frombuffer(body[:8], dtype="<u4")
    if raw_size != num_points * dtype.itemsize:
        raise DataError(
            f"uncompressed size {raw_size} != POINTS x point size {num_points * dtype.itemsize}",
            path=path,
            record="data",
        )
    if len(body) < 8 + int(compressed_size):
        raise DataError(
            f"truncated: {len(body) - 8} of {int(compressed_size)} compressed bytes",
            path=path,
            record="data",
        )
    try:
        plain = lzf_decompress(body[8 : 8 + int(compressed_size)], int(raw_size))
    except ValueError as exc:
        raise DataError(f"corrupt LZF data: {exc}", path=path, record="data") from None
    columns: dict[str, np.ndarray] = {}
    pos = 0
    for name in names:  # column-major: all values of a field, then the next field
        sub = dtype.fields[name][0] if dtype.fields else dtype
        nbytes = sub.itemsize * num_points
        columns[name] = np.frombuffer(
            plain, dtype=sub.base, count=num_points * max(1, int(np.prod(sub.shape))), offset=pos
        ).reshape(num_points, *sub.shape)
        pos += nbytes
    return columns


def _ascii(
    body: bytes, names: list[str], dtype: np.dtype, num_points: int, path: str, first_line: int
) -> dict[str, np.ndarray]:
    """The columns of ``ascii`` data whose first line is line ``first_line`` of the file;
    ``DataError`` naming the file, line and field for a short file or row, a non-number, or a
    value an integer field's ``TYPE`` / ``SIZE`` cannot hold (fractional, out of range)."""
    numbered = [
        (line_no, line)
        for line_no, line in enumerate(body.decode("ascii", errors="replace").splitlines(), start=first_line)
        if line.strip()
    ]  # fmt: skip
    if len(numbered) < num_points:
        raise DataError(
            f"truncated: {len(numbered)} data rows, POINTS says {num_points}",
            path=path,
            record=f"row {len(numbered)}",
        )
    fields = [  # one per value of a row, as the file names it ("_" for padding)
        "_" if name.startswith("__pad") else (name if k == 1 else f"{name}_{j}")
        for name in names
        for k in [max(1, int(np.prod(dtype.fields[name][0].shape))) if dtype.fields else 1]
        for j in range(k)
    ]
    width = len(fields)
    values = np.empty((num_points, width), dtype=np.float64)
    line_numbers = [line_no for line_no, _ in numbered[:num_points]]
    for row, (line_no, line) in enumerate(numbered[:num_points]):
        parts = line.split()
        if len(parts) != width:
            raise DataError(
                f"expected {width} values, got {len(parts)}", path=path, record=f"line {line_no}"
            )
        try:
            values[row] = [parse_float(v) for v in parts]
        except ValueError:
            col = next(j for j, v in enumerate(parts) if FLOAT_RE.fullmatch(v) is None)
            raise DataError(
                f"non-numeric value {parts[col]!r} in {line.strip()!r}",
                path=path,
                record=f"line {line_no}",
                field=fields[col],
            ) from None
    columns: dict[str, np.ndarray] = {}
    col = 0
    for name in names:
        sub = dtype.fields[name][0] if dtype.fields else dtype
        k = max(1, int(np.prod(sub.shape)))
        if sub.base.kind in "iu" and sub.base.itemsize == 8:
            # float64 holds 64-bit integers (ns timestamps ~1.6e18) exactly only to 2**53:
            # these columns are read from their text
            rows = [line.split()[col : col + k] for _, line in numbered[:num_points]]
            block = _exact_integers(rows, sub.base, fields[col : col + k], path, line_numbers)
        else:
            text_values = values[:, col : col + k]
            if sub.base.kind in "iu":
                _check_integers(text_values, sub.base, name, path=path, line_numbers=line_numbers)
            block = text_values.astype(sub.base)
        columns[name] = block[:, 0] if not sub.shape else block
        col += k
    return columns


def _exact_integers(
    rows: list[list[str]], dtype: np.dtype, fields: list[str], path: str, line_numbers: list[int]
) -> np.ndarray:
    """``(N, k)`` ``dtype`` (a 64-bit integer type) of the ascii tokens ``rows``, each read as
    an exact integer; ``DataError`` naming the line and field of one that is not an integer
    (``1.5``, ``1e3``) or out of the type's range."""
    info = np.iinfo(dtype)
    out = np.empty((len(rows), len(fields)), dtype=dtype)
    for r, tokens in enumerate(rows):
        for c, token in enumerate(tokens):
            try:
                value = int(token)
            except ValueError:
                value = None
            if value is None or not info.min <= value <= info.max:
                raise DataError(
                    f"{token} is not an integer in {info.min}..{info.max} "
                    f"(TYPE {'U' if dtype.kind == 'u' else 'I'} SIZE 8)",
                    path=path,
                    record=f"line {line_numbers[r]}",
                    field=fields[c],
                )
            out[r, c] = value
    return out


def _check_integers(
    values: np.ndarray, dtype: np.dtype, name: str, *, path: str, line_numbers: list[int]
) -> None:
    """``DataError`` naming the line and field of the first of ``(N, k)`` ascii ``values`` of
    field ``name`` that integer ``dtype`` cannot hold: fractional, NaN or out of its range
    (instead of wrapping -1 to 255 or truncating 1.7 to 1)."""
    info = np.iinfo(dtype)
    check_integer_column(
        values,
        info.min,
        maximum=info.max,
        path=path,
        record=line_record(line_numbers),
        field=name if values.shape[1] == 1 else [f"{name}_{k}" for k in range(values.shape[1])],
        reason=f"{{value:g}} is not an integer in {info.min}..{info.max} "
        f"(TYPE {'U' if dtype.kind == 'u' else 'I'} SIZE {dtype.itemsize})",
    )


def read_pcd(path: str | Path) -> PcdData:
    """Read a ``.pcd`` or xz-compressed ``.pcd.xz`` file."""
    p = str(path)
    raw = read_bytes(path)
    if not raw:
        raise DataError("empty file (0 bytes)", path=p)
    if p.endswith(".xz"):
        raw = decompress_xz(raw, p)
    return parse_pcd(raw, p)


_XZ_TRUNCATED = "Compressed data ended before the end-of-stream marker was reached"


def decompress_xz(raw: bytes, path: str) -> bytes:
    """The data of the xz (or legacy ``.lzma``) streams that ``raw`` holds one after another,
    as ``xz -d`` reads them: stream padding (null bytes, a multiple of 4) may follow a stream;
    ``DataError`` naming the file (and the byte offset, after the first stream) for a corrupt
    or truncated stream and for trailing bytes that are not another stream."""
    parts: list[bytes] = []
    offset = 0
    while True:
        rest = raw[offset:]
        decompressor = lzma.LZMADecompressor()
        room = MAX_PCD_XZ_BYTES - sum(len(part) for part in parts)
        try:
            parts.append(decompressor.decompress(rest, max_length=room + 1))
            error = "" if decompressor.eof else _XZ_TRUNCATED
        except lzma.LZMAError as exc:
            error = str(exc)
        if parts and len(parts[-1]) > room:
            raise DataError(
                f"decompresses to more than {MAX_PCD_XZ_BYTES} bytes: refused (a LiDAR scan "
                "takes a small part of that; xz padding can claim any size)",
                path=path,
            )
        if error and offset == 0:  # the first stream
            raise DataError(f"corrupt or truncated xz stream: {error}", path=path)
        if error:
            raise DataError(
                f"{len(rest)} byte(s) after the end of the xz stream that are not an xz "
                f"stream ({error})",
                path=path,
                record=f"byte {offset}",
            )
        offset += len(rest) - len(decompressor.unused_data)
        padding = len(decompressor.unused_data) - len(decompressor.unused_data.lstrip(b"\0"))
        if padding % 4 == 0:
            offset += padding
        if offset == len(raw):
            return parts[0] if len(parts) == 1 else b"".join(parts)


def pcd_xyz(pcd: PcdData) -> np.ndarray:
    """``(N, 3)`` coordinates from the ``x y z`` columns: float32 or float64 as stored, float16
    widened to float32 (exact; :class:`PointCloud` holds float32 / float64), integer types
    converted to float64.

    Raises ``DataError`` naming the file and ``FIELDS`` when a coordinate column is missing.
    """
    for axis in "xyz":
        if axis not in pcd.columns:
            raise DataError(
                f"no {axis!r} field; fields are {list(pcd.columns)}",
                path=pcd.path,
                record="header",
                field="FIELDS",
            )
    xyz = np.stack([pcd.columns[a] for a in "xyz"], axis=1)
    if xyz.dtype.kind != "f":
        return xyz.astype(np.float64)
    return xyz.astype(np.float32) if xyz.dtype.itemsize < 4 else xyz


def pcd_to_point_cloud(
    pcd: PcdData,
    *,
    frame: str,
    timestamp_ns: int = 0,
    drop_nonfinite: bool = False,
) -> PointCloud:
    """``x y z`` as coordinates (:func:`pcd_xyz`: float32 / float64 kept, float16 widened to
    float32), every other column as an attribute in the file's dtype.

    Raises ``DataError`` when a coordinate column is missing or (unless ``drop_nonfinite``)
    a point has NaN/inf coordinates.
    """
    xyz = pcd_xyz(pcd)
    attrs = {k: v for k, v in pcd.columns.items() if k not in ("x", "y", "z")}
    return finite_cloud(
        xyz,
        attrs,
        frame=frame,
        timestamp_ns=timestamp_ns,
        path=pcd.path,
        drop_nonfinite=drop_nonfinite,
    )
