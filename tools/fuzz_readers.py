#!/usr/bin/env python3
"""Seeded bad-input campaign on drivestack's public readers: mutate small real inputs, read
them back, and call every outcome ok, accepted or a defect.

For each reader family it copies a real input from the shared data (``--data-root``, default
``$DRIVESTACK_SHARED_DATA`` or ``../shared/data`` as for the commands; the drivestack log from this checkout's ``data/demo``) into a temporary
folder, mutates the copy and calls the reader that the README and ``drivestack.ingest`` name:

- ``kitti``: ``label_02`` (``read_tracking_labels``), PointRCNN detections
  (``read_ab3dmot_detections``), calib (``read_kitti_calib``), ORB-SLAM3 ego poses
  (``read_ego_poses``), a velodyne ``.bin`` (``read_velodyne_bin``);
- ``datasets``: nuScenes info JSON and ``.pcd.bin`` (``read_nuscenes_info``,
  ``read_lidar_pcd_bin``), Argoverse 2 sweep / annotations / poses feathers
  (``read_av2_sweep``, ``read_av2_cuboids``, ``read_av2_poses``), aiMotive LAZ and box JSON
  (``read_aimotive_laz``, ``read_aimotive_boxes``), PandaSet ``poses.json`` /
  ``timestamps.json`` (``read_pandaset_frame``, their only public reader);
- ``maps``: CommonRoad XML, Lanelet2 OSM, OpenDRIVE ``.xodr`` (``read_commonroad``,
  ``read_lanelet2``, ``read_opendrive``);
- ``logs``: the drivestack demo log and the shared ROS bags (an Ouster ROS 1 bag, a nebula
  VLP-32 rosbag2 folder), read as ``drivestack replay`` reads them
  (``drivestack.replay.runner.open_frames``: ``LogReader`` or ``RosbagLog``), every frame.

Mutations, drawn from ``random.Random`` seeded with ``--seed``, the family and the target
(the same seed gives the same cases): an empty file; a truncation at a random offset; 1 to 8
random bit flips; for text records a field replaced by ``nan`` / ``inf`` / ``-inf`` / text
or removed, a line duplicated or cut short; for JSON a key removed or set to a wrong type, a
number set to NaN / infinity; for XML an attribute removed or set to ``nan`` / ``inf`` /
text / empty, an element's text likewise, an element removed; for feather tables a column
removed or of a wrong type, a value null / NaN / infinite; for float32 scans a value NaN /
infinite; for LAZ a point's ``gps_time`` NaN / infinite. Each target's first case is the
empty file; the kinds then take turns in a seeded order. ``--cases`` counts the mutated cases
of a family (split over its targets); each target also reads its unmutated copy once
(mutation ``none``), which must be accepted.

Outcomes:

- ``ok``: a ``DataError`` (the readers' documented error type) whose message names the
  mutated file's path (for a rosbag2 bag: its folder), or a documented empty result;
- ``accepted``: no error, and no NaN / infinity anywhere in the output's numbers except in
  fields the structure allows them in (the score of KITTI tracking labels);
- ``defect``: any other exception, a ``DataError`` that does not name the path, a NaN /
  infinity in the output, or no answer within the per-case alarm (5 s).

Prints ok / accepted / defect per family, then each defect (its file, mutation and message:
a repro). ``--json FILE`` writes every case (family, target, file, mutation, outcome,
message; temporary paths written as ``<tmp>``). Exit status 1 when any case is a defect, 0
otherwise, 2 for a bad option or a missing ``--data-root`` (one ``error:`` line)::

    .venv/bin/python tools/fuzz_readers.py [--family all] [--cases 60] [--seed 0] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import io
import json
import random
import re
import shutil
import signal
import tempfile
import time
import traceback
import warnings
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from drivestack.cli import report_user_errors
from drivestack.commands._paths import (
    add_quiet_option,
    check_out_file,
    default_shared_data,
    int_at_least,
    seed_int,
)
from drivestack.core.errors import DataError, in_chain
from drivestack.core.json_values import strict_dumps
from drivestack.core.progress import progress as progress_bar

REPO = Path(__file__).resolve().parents[1]
FAMILIES = ("kitti", "datasets", "maps", "logs")
OK, ACCEPTED, DEFECT = "ok", "accepted", "defect"
#: a reader that has not answered after this long is a defect (a hang)
CASE_TIMEOUT_S = 5.0
#: the most mutated cases per family (each reads a real file; more would run for hours)
MAX_CASES = 100_000
#: the mutation of a target's baseline case: its unmutated copy
UNMUTATED = "none"


# -- outcomes ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """``outcome``: :data:`OK`, :data:`ACCEPTED` or :data:`DEFECT`; ``message``: the error's
    one line, the defect's reason or what the reader returned."""

    outcome: str
    message: str


class _Hang(BaseException):
    """The per-case alarm (a BaseException: a reader's ``except Exception`` cannot take it)."""


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Raise :class:`_Hang` in the block after ``seconds``; an alarm already set (pytest's
    timeout) is put back afterwards with the time it had left."""

    def ring(signum: int, frame: object) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, ring)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_delay > 0:
            left = max(old_delay - (time.monotonic() - start), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


def _from_hang(exc: BaseException) -> bool:
    """Whether ``exc`` came out of the alarm (a C extension wraps what it was interrupted by
    in its own error, with the :class:`_Hang` as cause or context)."""
    return in_chain(exc, _Hang)


def classify(
    read: Callable[[Path], Any],
    path: Path,
    *,
    named: Sequence[Path] = (),
    allowed_nonfinite: frozenset[str] = frozenset(),
    is_empty: Callable[[Any], bool] | None = None,
    timeout_s: float = CASE_TIMEOUT_S,
) -> Outcome:
    """Call ``read(path)`` and classify what happened (see the module docstring).

    ``named``: other paths a DataError may name instead of ``path`` (a rosbag2 folder);
    ``allowed_nonfinite``: field, attribute or key names whose numbers may be NaN / infinite;
    ``is_empty``: tells a documented empty result (``ok``) from an accepted one.
    """
    names = [str(path), *(str(p) for p in named)]
    try:
        with warnings.catch_warnings(), _alarm(timeout_s):
            warnings.simplefilter("ignore")
            out = read(path)
    except _Hang:
        return Outcome(DEFECT, f"hang: no answer within {timeout_s:g} s")
    except DataError as exc:
        text = _one_line(exc)
        if any(name in str(exc) for name in names):
            return Outcome(OK, text)
        return Outcome(DEFECT, f"{type(exc).__name__} without the path {path}: {text}")
    except Exception as exc:
        if _from_hang(exc):
            return Outcome(DEFECT, f"hang: no answer within {timeout_s:g} s")
        return Outcome(DEFECT, f"{type(exc).__name__}: {_one_line(exc)} ({_raised_at(exc)})")
    where = nonfinite_at(out, allowed_nonfinite)
    if where is not None:
        return Outcome(DEFECT, f"NaN or infinity in the output at {where}")
    if is_empty is not None and is_empty(out):
        return Outcome(OK, f"documented empty result ({_describe(out)})")
    return Outcome(ACCEPTED, _describe(out))


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:400] + (" ..." if len(text) > 400 else "")


def _raised_at(exc: BaseException) -> str:
    """``file:line`` of the innermost frame that raised ``exc`` (repository-relative)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "no traceback"
    last = Path(frames[-1].filename)
    with contextlib.suppress(ValueError):
        last = last.relative_to(REPO)
    return f"{last}:{frames[-1].lineno}"


def _describe(out: Any) -> str:
    """What a reader returned, in a few words."""
    name = type(out).__name__
    if isinstance(out, Replayed):
        return str(out)
    if isinstance(out, list | tuple):
        kinds = Counter(type(item).__name__ for item in out)
        return f"{name}: " + (", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "empty")
    with contextlib.suppress(TypeError):
        return f"{name} of {len(out)}"
    return name


#: how deep :func:`nonfinite_at` follows containers and dataclasses
_MAX_DEPTH = 16


def nonfinite_at(value: Any, allowed: frozenset[str] = frozenset()) -> str | None:
    """Where the first NaN / infinity in ``value`` is (``output.lidars['lidar'].xyz_m[3, 0]``),
    or None: floats, NumPy arrays (structured and object ones too), mappings, lists, tuples,
    dataclasses, drivestack objects and shapely geometries, followed to a depth of 16; the
    fields, attributes and keys named in ``allowed`` are not looked at."""
    return _nonfinite(value, "output", allowed, set(), 0)


def _nonfinite(
    value: Any, where: str, allowed: frozenset[str], seen: set[int], depth: int
) -> str | None:
    if depth > _MAX_DEPTH or value is None or isinstance(value, bool | int | str | bytes):
        return None
    if isinstance(value, float | complex | np.floating | np.complexfloating):
        return None if np.isfinite(value) else where
    if isinstance(value, np.ndarray):
        return _nonfinite_array(value, where, allowed, seen, depth)
    if id(value) in seen:
        return None
    seen.add(id(value))
    items: Iterator[tuple[str, Any]]
    if isinstance(value, Mapping):
        items = ((f"{where}[{k!r}]", v) for k, v in value.items() if str(k) not in allowed)
    elif isinstance(value, list | tuple):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [f.name for f in dataclasses.fields(value) if f.name not in allowed]
        items = ((f"{where}.{n}", getattr(value, n, None)) for n in names)
    elif type(value).__module__.startswith("shapely"):
        import shapely

        coords = shapely.get_coordinates(value, include_z=bool(shapely.has_z(value)))
        return None if np.isfinite(coords).all() else where
    elif type(value).__module__.startswith("drivestack") and hasattr(value, "__dict__"):
        items = ((f"{where}.{k}", v) for k, v in vars(value).items() if k not in allowed)
    else:
        return None
    for child_where, child in items:
        found = _nonfinite(child, child_where, allowed, seen, depth + 1)
        if found is not None:
            return found
    return None


def _nonfinite_array(
    arr: np.ndarray, where: str, allowed: frozenset[str], seen: set[int], depth: int
) -> str | None:
    if arr.dtype.names:  # a structured array: each field
        for name in arr.dtype.names:
            if name not in allowed:
                found = _nonfinite_array(arr[name], f"{where}[{name!r}]", allowed, seen, depth)
                if found is not None:
                    return found
        return None
    if arr.dtype.kind in "fc":
        bad = np.argwhere(~np.isfinite(arr))
        return None if not len(bad) else f"{where}[{', '.join(str(int(i)) for i in bad[0])}]"
    if arr.dtype.kind == "O":
        for index, item in np.ndenumerate(arr):
            found = _nonfinite(
                item, f"{where}[{', '.join(map(str, index))}]", allowed, seen, depth + 1
            )
            if found is not None:
                return found
    return None


# -- mutations --------------------------------------------------------------------------------
#: one mutation: ``rng`` -> (what was done, in words that reproduce it; the mutated bytes)
Mutation = Callable[[random.Random], tuple[str, bytes]]


class Mutator:
    """The seeded mutations of one file's bytes, by kind (:meth:`kinds`): here the ones any
    file gets, truncation and bit flips; subclasses add their format's."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def kinds(self) -> dict[str, Mutation]:
        kinds: dict[str, Mutation] = {}
        if len(self.data) > 1:
            kinds["truncate"] = self.truncate
        if self.data:
            kinds["flip"] = self.flip
        return kinds

    def truncate(self, rng: random.Random) -> tuple[str, bytes]:
        n = len(self.data)
        offset = rng.randrange(1, n)
        return f"truncated to {offset} of {n} bytes", self.data[:offset]

    def flip(self, rng: random.Random) -> tuple[str, bytes]:
        out = bytearray(self.data)
        count = min(rng.choice((1, 2, 4, 8)), len(out))
        flips = sorted((pos, rng.randrange(8)) for pos in rng.sample(range(len(out)), count))
        for pos, bit in flips:
            out[pos] ^= 1 << bit
        return "bits flipped (byte.bit): " + ", ".join(f"{p}.{b}" for p, b in flips), bytes(out)


class TextMutator(Mutator):
    """Line records of whitespace- or comma-separated fields (KITTI labels, calib, poses)."""

    _SEPARATORS = re.compile(rb"([ \t,]+)")
    VALUES = (b"nan", b"inf", b"-inf", b"abc")

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.lines = data.splitlines(keepends=True)
        self.records = [i for i, line in enumerate(self.lines) if line.strip()]

    def kinds(self) -> dict[str, Mutation]:
        kinds = super().kinds()
        if self.records:
            kinds |= {
                "field value": self.field_value,
                "field removed": self.field_removed,
                "line duplicated": self.line_duplicated,
                "line cut": self.line_cut,
            }
        return kinds

    def _line(self, rng: random.Random) -> tuple[int, bytes, bytes]:
        """A random record line: its index, its text without and its line ending."""
        i = rng.choice(self.records)
        line = self.lines[i]
        text = line.rstrip(b"\r\n")
        return i, text, line[len(text) :]

    def _joined(self, i: int, new_line: bytes) -> bytes:
        return b"".join([*self.lines[:i], new_line, *self.lines[i + 1 :]])

    def _fields(self, text: bytes, rng: random.Random) -> tuple[list[bytes], int, int]:
        """``text`` split into fields and separators, a random field's index among the parts
        and its number (1-based) among the fields."""
        parts = self._SEPARATORS.split(text)
        fields = [k for k in range(0, len(parts), 2) if parts[k]]
        chosen = rng.randrange(len(fields))
        return parts, fields[chosen], chosen + 1

    def field_value(self, rng: random.Random) -> tuple[str, bytes]:
        i, text, end = self._line(rng)
        parts, k, number = self._fields(text, rng)
        value = rng.choice(self.VALUES)
        parts[k] = value
        data = self._joined(i, b"".join(parts) + end)
        return f"line {i + 1} field {number} = {value.decode()}", data

    def field_removed(self, rng: random.Random) -> tuple[str, bytes]:
        i, text, end = self._line(rng)
        parts, k, number = self._fields(text, rng)
        first = k if k == 0 else k - 1  # the field and the separator before (after) it
        del parts[first : first + 2]
        return f"line {i + 1} field {number} removed", self._joined(i, b"".join(parts) + end)

    def line_duplicated(self, rng: random.Random) -> tuple[str, bytes]:
        i = rng.choice(self.records)
        line = self.lines[i] if self.lines[i].endswith(b"\n") else self.lines[i] + b"\n"
        return f"line {i + 1} duplicated", self._joined(i, line + self.lines[i])

    def line_cut(self, rng: random.Random) -> tuple[str, bytes]:
        i, text, end = self._line(rng)
        keep = rng.randrange(1, len(text)) if len(text) > 1 else 0
        return f"line {i + 1} cut after {keep} characters", self._joined(i, text[:keep] + end)


class FloatRecordsMutator(Mutator):
    """Flat little-endian float32 records of ``width`` values (KITTI ``.bin``: 4, nuScenes
    ``.pcd.bin``: 5): a value set to NaN or an infinity."""

    width = 4

    def kinds(self) -> dict[str, Mutation]:
        kinds = super().kinds()
        if len(self.data) >= 4 * self.width:
            kinds["value nonfinite"] = self.value_nonfinite
        return kinds

    def value_nonfinite(self, rng: random.Random) -> tuple[str, bytes]:
        values = np.frombuffer(self.data, dtype="<f4", count=len(self.data) // 4).copy()
        values = values[: len(values) // self.width * self.width].reshape(-1, self.width)
        row, col = rng.randrange(len(values)), rng.randrange(self.width)
        value = rng.choice((float("nan"), float("inf"), float("-inf")))
        values[row, col] = value
        head = values.tobytes()
        return f"point {row} column {col} = {value}", head + self.data[len(head) :]


class Float5RecordsMutator(FloatRecordsMutator):
    width = 5


def _pointer(path: Sequence[str | int]) -> str:
    """A JSON pointer (``/data_list/0/timestamp``; ``/`` for the document)."""
    return "/" + "/".join(str(k) for k in path)


class JsonMutator(Mutator):
    """JSON: a key (or list item) removed, a value of a wrong type, a number NaN / infinite.
    The value is drawn by shape first (list indices as ``*``: ``/data_list/*/timestamp``),
    then among that shape's values, so that long lists do not crowd out the other keys."""

    WRONG: tuple[Any, ...] = ("abc", None, [], {}, True, 1.5)

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        try:
            self.doc: Any = json.loads(data)
        except ValueError:
            self.doc = None
        self.shapes: dict[tuple[str | int, ...], list[tuple[str | int, ...]]] = {}
        self.numbers: dict[tuple[str | int, ...], list[tuple[str | int, ...]]] = {}
        self._walk(self.doc, ())

    def _walk(self, value: Any, path: tuple[str | int, ...]) -> None:
        shape = tuple("*" if isinstance(k, int) else k for k in path)
        self.shapes.setdefault(shape, []).append(path)
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.numbers.setdefault(shape, []).append(path)
        if isinstance(value, dict):
            for key, child in value.items():
                self._walk(child, (*path, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                self._walk(child, (*path, index))

    def kinds(self) -> dict[str, Mutation]:
        kinds = super().kinds()
        if len(self.shapes) > 1:
            kinds["key removed"] = self.key_removed
        if self.doc is not None:
            kinds["wrong type"] = self.wrong_type
        if self.numbers:
            kinds["number nonfinite"] = self.number_nonfinite
        return kinds

    def _pick(
        self,
        table: Mapping[tuple[Any, ...], list[tuple[Any, ...]]],
        rng: random.Random,
        root: bool = True,
    ) -> tuple[Any, ...]:
        shapes = sorted((s for s in table if root or s), key=repr)
        return rng.choice(table[rng.choice(shapes)])

    def _edited(self, path: tuple[Any, ...], value: Any, remove: bool = False) -> bytes:
        doc = copy.deepcopy(self.doc)
        if not path:
            return json.dumps(value).encode()
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if remove:
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
        return json.dumps(doc).encode()

    def key_removed(self, rng: random.Random) -> tuple[str, bytes]:
        path = self._pick(self.shapes, rng, root=False)
        return f"JSON {_pointer(path)} removed", self._edited(path, None, remove=True)

    def wrong_type(self, rng: random.Random) -> tuple[str, bytes]:
        path = self._pick(self.shapes, rng)
        old = self.doc
        for key in path:
            old = old[key]
        choices = [v for v in self.WRONG if _json_kind(v) != _json_kind(old)]
        value = rng.choice(choices)
        return f"JSON {_pointer(path)} = {json.dumps(value)}", self._edited(path, value)

    def number_nonfinite(self, rng: random.Random) -> tuple[str, bytes]:
        path = self._pick(self.numbers, rng)
        value = rng.choice((float("nan"), float("inf"), float("-inf")))
        return f"JSON {_pointer(path)} = {json.dumps(value)}", self._edited(path, value)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


class XmlMutator(Mutator):
    """XML: an attribute removed or set to ``nan`` / ``inf`` / text / empty, a leaf
    element's text likewise, an element removed. Elements are named ``<tag> #k`` (the k-th
    ``<tag>`` in document order); the attribute (or tag) is drawn first, then the element."""

    VALUES = ("nan", "inf", "abc", "")

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.attributes: dict[tuple[str, str], list[int]] = {}
        self.texts: dict[str, list[int]] = {}
        self.elements: dict[str, int] = {}
        try:
            root = ET.fromstring(data)
        except ET.ParseError:
            return
        counts: Counter[str] = Counter()
        for element in root.iter():
            k = counts[element.tag]
            counts[element.tag] += 1
            if element is root:
                continue
            self.elements[element.tag] = counts[element.tag]
            for name in element.attrib:
                self.attributes.setdefault((element.tag, name), []).append(k)
            if len(element) == 0 and element.text and element.text.strip():
                self.texts.setdefault(element.tag, []).append(k)

    def kinds(self) -> dict[str, Mutation]:
        kinds = super().kinds()
        if self.attributes:
            kinds |= {
                "attribute removed": self.attribute_removed,
                "attribute value": self.attribute_value,
            }
        if self.texts:
            kinds["text value"] = self.text_value
        if self.elements:
            kinds["element removed"] = self.element_removed
        return kinds

    def _edit(self, tag: str, k: int, edit: Callable[[ET.Element, ET.Element], None]) -> bytes:
        """The document with ``edit(element, its parent)`` applied to ``<tag> #k``."""
        root = ET.fromstring(self.data)
        parents = {child: parent for parent in root.iter() for child in parent}
        element = list(root.iter(tag))[k]
        edit(element, parents[element])
        return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))

    def _attribute(self, rng: random.Random) -> tuple[str, str, int]:
        tag, name = rng.choice(sorted(self.attributes))
        return tag, name, rng.choice(self.attributes[(tag, name)])

    def attribute_removed(self, rng: random.Random) -> tuple[str, bytes]:
        tag, name, k = self._attribute(rng)

        def edit(element: ET.Element, _: ET.Element) -> None:
            del element.attrib[name]

        return f"<{tag}> #{k} attribute {name} removed", self._edit(tag, k, edit)

    def attribute_value(self, rng: random.Random) -> tuple[str, bytes]:
        tag, name, k = self._attribute(rng)
        value = rng.choice(self.VALUES)
        return f"<{tag}> #{k} {name}={value!r}", self._edit(tag, k, lambda e, _: e.set(name, value))

    def text_value(self, rng: random.Random) -> tuple[str, bytes]:
        tag = rng.choice(sorted(self.texts))
        k = rng.choice(self.texts[tag])
        value = rng.choice(self.VALUES)

        def edit(element: ET.Element, _: ET.Element) -> None:
            element.text = value

        return f"<{tag}> #{k} text = {value!r}", self._edit(tag, k, edit)

    def element_removed(self, rng: random.Random) -> tuple[str, bytes]:
        tag = rng.choice(sorted(self.elements))
        k = rng.randrange(self.elements[tag])
        return f"<{tag}> #{k} removed", self._edit(tag, k, lambda e, parent: parent.remove(e))


class FeatherMutator(Mutator):
    """Feather tables (Argoverse 2): a column removed or of a wrong type, a value null, NaN
    or infinite."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        import pyarrow.feather as feather

        self.table: Any = None
        with contextlib.suppress(Exception):
            self.table = feather.read_table(io.BytesIO(data))

    def kinds(self) -> dict[str, Mutation]:
        kinds = super().kinds()
        if self.table is None or not self.table.num_columns:
            return kinds
        kinds |= {"column removed": self.column_removed, "column type": self.column_type}
        if self.table.num_rows:
            kinds["value null"] = self.value_null
            if self._float_columns():
                kinds["value nonfinite"] = self.value_nonfinite
        return kinds

    def _float_columns(self) -> list[str]:
        import pyarrow as pa

        return [f.name for f in self.table.schema if pa.types.is_floating(f.type)]

    def _bytes(self, table: Any) -> bytes:
        import pyarrow.feather as feather

        sink = io.BytesIO()
        feather.write_feather(table, sink)
        return sink.getvalue()

    def _replaced(self, name: str, column: Any) -> bytes:
        i = self.table.column_names.index(name)
        return self._bytes(self.table.set_column(i, name, column))

    def column_removed(self, rng: random.Random) -> tuple[str, bytes]:
        name = rng.choice(self.table.column_names)
        i = self.table.column_names.index(name)
        return f"column {name} removed", self._bytes(self.table.remove_column(i))

    def column_type(self, rng: random.Random) -> tuple[str, bytes]:
        import pyarrow as pa

        name = rng.choice(self.table.column_names)
        column = self.table.column(name).combine_chunks()
        kind = column.type
        if (
            pa.types.is_string(kind)
            or pa.types.is_large_string(kind)
            or pa.types.is_dictionary(kind)
        ):
            new = pa.array(np.zeros(len(column), dtype=np.int64))
        else:
            options = [pa.string(), pa.float64() if pa.types.is_integer(kind) else pa.int64()]
            target = rng.choice(options)
            wide = column.cast(pa.float64()) if pa.types.is_floating(kind) else column
            if target == pa.string():
                new = pa.array(
                    [None if v is None else str(v) for v in wide.to_pylist()], pa.string()
                )
            else:
                new = wide.cast(target, safe=False)
        return f"column {name} as {new.type}", self._replaced(name, new)

    def _with_value(self, name: str, row: int, value: Any, null: bool) -> Any:
        import pyarrow as pa

        column = self.table.column(name).combine_chunks()
        encoded = pa.types.is_dictionary(column.type)
        if encoded:
            column = column.dictionary_decode()
        values = column.to_numpy(zero_copy_only=False).copy()
        mask = np.zeros(len(values), dtype=bool)
        if null:
            mask[row] = True
        else:
            values[row] = value
        new = pa.array(
            values, type=column.type, mask=mask | column.is_null().to_numpy(zero_copy_only=False)
        )
        return new.dictionary_encode() if encoded else new

    def value_null(self, rng: random.Random) -> tuple[str, bytes]:
        name = rng.choice(self.table.column_names)
        row = rng.randrange(self.table.num_rows)
        new = self._with_value(name, row, None, True)
        return f"column {name} row {row} = null", self._replaced(name, new)

    def value_nonfinite(self, rng: random.Random) -> tuple[str, bytes]:
        name = rng.choice(self._float_columns())
        row = rng.randrange(self.table.num_rows)
        value = rng.choice((float("nan"), float("inf"), float("-inf")))
        new = self._with_value(name, row, value, False)
        return f"column {name} row {row} = {value}", self._replaced(name, new)


class LazMutator(Mutator):
    """LAZ scans (aiMotive): a point's ``gps_time`` NaN or infinite (rewritten with laspy)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        import laspy

        self.points = 0  # (none when the file does not decode)
        with contextlib.suppress(Exception):
            self.points = len(laspy.read(io.BytesIO(data)).points)

    def kinds(self) -> dict[str, Mutation]:
        kinds = super().kinds()
        if self.points:
            kinds["gps_time nonfinite"] = self.gps_time_nonfinite
        return kinds

    def gps_time_nonfinite(self, rng: random.Random) -> tuple[str, bytes]:
        import laspy

        las = laspy.read(io.BytesIO(self.data))  # (a LasData does not deep-copy)
        times = np.array(las.gps_time, dtype=np.float64)
        row = rng.randrange(len(times))
        value = rng.choice((float("nan"), float("inf")))
        times[row] = value
        las.gps_time = times
        sink = io.BytesIO()
        las.write(sink, do_compress=True)
        return f"point {row} gps_time = {value}", sink.getvalue()


# -- targets ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One reader on one real input. ``root``: the folder copied from (relative to the data
    root, or to the checkout when ``in_repo``); ``files``: what is copied from it, the
    mutated file first; ``read``: the reader, called with the mutated copy's path.
    ``names_folder``: a DataError naming the copy's folder names the input (a rosbag2 bag)."""

    family: str
    name: str
    root: str
    files: tuple[str, ...]
    mutator: type[Mutator]
    read: Callable[[Path], Any]
    allowed_nonfinite: frozenset[str] = frozenset()
    is_empty: Callable[[Any], bool] | None = None
    names_folder: bool = False
    in_repo: bool = False

    @property
    def source(self) -> str:
        """The real file mutated, as written in the results."""
        return f"{self.root}/{self.files[0]}"

    def source_root(self, data_root: Path) -> Path:
        return (REPO if self.in_repo else data_root) / self.root


def _ingest(name: str, **kwargs: Any) -> Callable[[Path], Any]:
    """``drivestack.ingest.<name>(path, **kwargs)`` (imported on first use)."""

    def read(path: Path) -> Any:
        import drivestack.ingest

        return getattr(drivestack.ingest, name)(path, **kwargs)

    return read


def _pandaset_frame(path: Path) -> Any:
    """Frame 0 of the copied sequence (``<seq>/lidar/<file>``)."""
    from drivestack.ingest import read_pandaset_frame

    return read_pandaset_frame(path.parents[1], 0)


@dataclass(frozen=True)
class Replayed:
    """What ``drivestack replay`` reads from a log or bag: its items (frames, and a drivestack
    log's bad frames as ``InputProblem`` s) and a ROS bag's ingest report counts per kind."""

    items: list[Any]
    report: dict[str, int]

    def __str__(self) -> str:
        kinds = Counter(type(item).__name__ for item in self.items)
        read = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no frame"
        report = ", ".join(f"{k} {n}" for k, n in sorted(self.report.items()))
        return read + (f"; report: {report}" if report else "")


def _replayed(input_of: Callable[[Path], Path], **config: Any) -> Callable[[Path], Replayed]:
    """A reader of the log or bag ``input_of(path)`` as ``drivestack replay`` reads it
    (``open_frames``), every item; a ROS bag with ``RosbagConfig(**config)`` (no config: a
    drivestack log)."""

    def read(path: Path) -> Replayed:
        from drivestack.ingest import RosbagConfig
        from drivestack.replay.runner import open_frames

        frames, report = open_frames(
            input_of(path), RosbagConfig(**config) if config else None, announce=lambda _: None
        )
        items = list(frames)
        return Replayed(items, dict(report.counts()) if report is not None else {})

    return read


def _no_rows(out: Any) -> bool:
    return len(out) == 0


def _no_points(out: Any) -> bool:
    return bool(out.num_points == 0)


_AV2_LOG = "argoverse2/sensor/val/7fab2350-7eaf-3b7e-a39d-6937a4c1bede"
_AIMOTIVE = "aimotive/train/nighttime/20210901-194123-00.37.12-00.37.27@Yoda"
_NEBULA = "ros_bags/nebula_velodyne_ros2/vlp32/1713492677464078412"

#: every target, by family; the documented empty results: an empty label or detection file
#: (zero rows), a 0-byte scan (0 points), a feather sweep of 0 rows and a LAZ scan of 0
#: points (0 points)
TARGETS: tuple[Target, ...] = (
    Target("kitti", "label_02", "kitti_tracking/training/label_02", ("0000.txt",), TextMutator,
           _ingest("read_tracking_labels"), frozenset({"score"}), _no_rows),
    Target("kitti", "pointrcnn detections",
           "kitti_tracking/detections/ab3dmot_pointrcnn/pointrcnn_Car_val", ("0000.txt",),
           TextMutator, _ingest("read_ab3dmot_detections"), is_empty=_no_rows),
    Target("kitti", "calib", "kitti_tracking/training/calib", ("0000.txt",), TextMutator,
           _ingest("read_kitti_calib")),
    Target("kitti", "ego poses", "kitti_tracking/training/ego_poses_orbslam3_stereo",
           ("0000.txt",), TextMutator, _ingest("read_ego_poses")),
    Target("kitti", "velodyne bin", "kitti_object/training/velodyne", ("000000.bin",),
           FloatRecordsMutator, _ingest("read_velodyne_bin"), is_empty=_no_points),
    Target("datasets", "nuscenes info", "nuscenes_samples/mmdet3d_demo",
           ("n015-2018-07-24-11-22-45+0800_info.json",), JsonMutator,
           _ingest("read_nuscenes_info")),
    Target("datasets", "nuscenes pcd.bin", "nuscenes_samples/mmdet3d_demo/samples/LIDAR_TOP",
           ("n015-2018-07-24-11-22-45+0800__LIDAR_TOP__1532402927647951.pcd.bin",),
           Float5RecordsMutator, _ingest("read_lidar_pcd_bin"), is_empty=_no_points),
    Target("datasets", "av2 sweep", f"{_AV2_LOG}/sensors/lidar", ("315966265259836000.feather",),
           FeatherMutator, _ingest("read_av2_sweep"), is_empty=_no_points),
    Target("datasets", "av2 annotations", _AV2_LOG, ("annotations.feather",), FeatherMutator,
           _ingest("read_av2_cuboids")),
    Target("datasets", "av2 poses", _AV2_LOG, ("city_SE3_egovehicle.feather",), FeatherMutator,
           _ingest("read_av2_poses")),
    Target("datasets", "aimotive laz", f"{_AIMOTIVE}/dynamic/raw-revolutions",
           ("frame_0033643.laz",), LazMutator, _ingest("read_aimotive_laz"),
           is_empty=_no_points),
    Target("datasets", "aimotive boxes", f"{_AIMOTIVE}/dynamic/box/3d_body",
           ("frame_0033643.json",), JsonMutator, _ingest("read_aimotive_boxes")),
    Target("datasets", "pandaset poses", "pandaset/002",
           ("lidar/poses.json", "lidar/timestamps.json", "lidar/00.npz"), JsonMutator,
           _pandaset_frame),
    Target("datasets", "pandaset timestamps", "pandaset/002",
           ("lidar/timestamps.json", "lidar/poses.json", "lidar/00.npz"), JsonMutator,
           _pandaset_frame),
    Target("maps", "commonroad", "commonroad", ("USA_Peach-4_8_T-1.xml",), XmlMutator,
           _ingest("read_commonroad")),
    Target("maps", "lanelet2", "lanelet2", ("mapping_example.osm",), XmlMutator,
           _ingest("read_lanelet2")),
    Target("maps", "opendrive", "opendrive_esmini", ("fabriksgatan.xodr",), XmlMutator,
           _ingest("read_opendrive")),
    Target("logs", "drivestack log", "data/demo", ("drive.mcap",), Mutator,
           _replayed(lambda p: p), in_repo=True),
    Target("logs", "ouster ros1 bag", "ros_bags/ouster_ros1", ("512x10_raw.bag",), Mutator,
           _replayed(lambda p: p, ego_frame="os_sensor")),
    Target("logs", "nebula rosbag2", _NEBULA, ("1713492677464078412_0.db3", "metadata.yaml"),
           Mutator, _replayed(lambda p: p.parent, ego_frame="velodyne_front"),
           names_folder=True),
)  # fmt: skip


def case_mutations(mutator: Mutator, n: int, rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """``n`` mutations: the empty file, then the mutator's kinds in turn, in an order drawn
    from ``rng`` (which also draws each mutation's offsets, lines, keys and values)."""
    kinds = mutator.kinds()
    order = sorted(kinds)
    rng.shuffle(order)
    for i in range(n):
        yield ("empty file", b"") if i == 0 else kinds[order[(i - 1) % len(order)]](rng)


# -- the campaign -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CaseResult:
    family: str
    target: str
    file: str
    mutation: str
    outcome: str
    message: str


@dataclass
class Campaign:
    """Every case, the targets left out (``"<target>: <why>"``) and seconds per family."""

    cases: list[CaseResult] = dataclasses.field(default_factory=list)
    skipped: list[str] = dataclasses.field(default_factory=list)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def defects(self) -> list[CaseResult]:
        return [c for c in self.cases if c.outcome == DEFECT]


def split_cases(cases: int, targets: int) -> list[int]:
    """``cases`` split over ``targets`` as evenly as can be, the first ones taking the rest."""
    return [cases // targets + (i < cases % targets) for i in range(targets)]


def run_campaign(
    data_root: Path,
    families: Sequence[str] = FAMILIES,
    cases: int = 60,
    seed: int = 0,
    *,
    timeout_s: float = CASE_TIMEOUT_S,
    progress: bool = False,
) -> Campaign:
    """The campaign over ``families`` (see the module docstring): ``cases`` mutated cases per
    family, split over its targets, each target's first read being its unmutated copy; a
    target whose input is missing under ``data_root``, or whose reader needs a package that
    is not installed, is left out and listed in ``skipped``."""
    result = Campaign()
    plan = [(t, n) for f in families for t, n in _family_plan(f, cases)]
    with progress_bar(total=sum(n + 1 for _, n in plan), unit="case", disable=not progress) as bar:
        for family in families:
            start = time.perf_counter()
            for target, n in _family_plan(family, cases):
                bar.set_description(f"{family}: {target.name}")
                result.cases += _run_target(
                    target, data_root, n, seed, timeout_s, result.skipped, bar.update
                )
            result.seconds[family] = time.perf_counter() - start
    return result


def _family_plan(family: str, cases: int) -> list[tuple[Target, int]]:
    targets = [t for t in TARGETS if t.family == family]
    return list(zip(targets, split_cases(cases, len(targets)), strict=True))


def _run_target(
    target: Target,
    data_root: Path,
    n: int,
    seed: int,
    timeout_s: float,
    skipped: list[str],
    advance: Callable[[int], Any],
) -> list[CaseResult]:
    """The unmutated read and ``n`` mutated cases of one target, each in a fresh copy."""
    source = target.source_root(data_root)
    missing = [f for f in target.files if not (source / f).is_file()]
    if missing:
        skipped.append(f"{target.name}: not found: {source / missing[0]}")
        advance(n + 1)
        return []
    original = (source / target.files[0]).read_bytes()
    mutations = case_mutations(
        target.mutator(original), n, random.Random(f"{seed}:{target.family}:{target.name}")
    )
    out: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="fuzz_readers_") as tmp:
        for i, (mutation, data) in enumerate(chain([(UNMUTATED, original)], mutations)):
            folder = Path(tmp) / str(i) / Path(target.root).name
            for name in target.files[1:]:
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source / name, folder / name)
            path = folder / target.files[0]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            outcome = classify(
                target.read,
                path,
                named=[path.parent] if target.names_folder else [],
                allowed_nonfinite=target.allowed_nonfinite,
                is_empty=target.is_empty,
                timeout_s=timeout_s,
            )
            shutil.rmtree(Path(tmp) / str(i))
            advance(1)
            if mutation == UNMUTATED:
                if outcome.message.startswith("MissingDependencyError"):
                    skipped.append(f"{target.name}: {outcome.message}")
                    advance(n)
                    return []
                if outcome.outcome != ACCEPTED:  # the real file must read
                    outcome = Outcome(DEFECT, f"the unmutated copy: {outcome.message}")
            message = outcome.message.replace(tmp, "<tmp>")
            out.append(
                CaseResult(
                    target.family, target.name, target.source, mutation, outcome.outcome, message
                )
            )
    return out


# -- report -----------------------------------------------------------------------------------
def summary_table(campaign: Campaign, families: Sequence[str]) -> list[str]:
    """ok / accepted / defect per family (a Markdown table)."""
    lines = [
        "| family | cases | ok | accepted | defect | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for family in families:
        counts = Counter(c.outcome for c in campaign.cases if c.family == family)
        lines.append(
            f"| {family} | {sum(counts.values())} | {counts[OK]} | {counts[ACCEPTED]} | "
            f"{counts[DEFECT]} | {campaign.seconds.get(family, 0.0):.1f} |"
        )
    return lines


def defect_lines(campaign: Campaign) -> list[str]:
    """One line per defect: where, the mutation (a repro) and what happened."""
    return [
        f"{c.family} / {c.target} ({c.file}): {c.mutation} -> {c.message}" for c in campaign.defects
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the campaign; exit status 1 when any case is a defect, 2 for bad input."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument(
        "--family",
        choices=(*FAMILIES, "all"),
        default="all",
        help="reader family to mutate (default all)",
    )
    ap.add_argument(
        "--cases",
        type=int_at_least(1, MAX_CASES),
        default=60,
        help="mutated cases per family, split over its readers (default 60)",
    )
    ap.add_argument("--seed", type=seed_int, default=0, help="campaign seed (default 0)")
    ap.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="the shared real-data folder (default $DRIVESTACK_SHARED_DATA or ../shared/data)",
    )
    ap.add_argument(
        "--json", type=Path, default=None, help="write every case (and its outcome) to this file"
    )
    add_quiet_option(ap)
    args = ap.parse_args(argv)
    return report_user_errors(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    data_root = args.data_root or default_shared_data()  # the commands' default
    if data_root is None or not data_root.is_dir():
        raise DataError(
            "no such folder", path=str(data_root or "../shared/data"), field="--data-root"
        )
    if args.json is not None:
        check_out_file(args.json, "--json")
    families = FAMILIES if args.family == "all" else (args.family,)
    campaign = run_campaign(data_root, families, args.cases, args.seed, progress=not args.quiet)
    print("\n".join(summary_table(campaign, families)))
    for note in campaign.skipped:
        print(f"skipped {note}")
    if campaign.defects:
        print(f"\n{len(campaign.defects)} defects (seed {args.seed}, --cases {args.cases}):")
        print("\n".join(defect_lines(campaign)))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        doc = {
            "seed": args.seed,
            "cases_per_family": args.cases,
            "families": list(families),
            "skipped": campaign.skipped,
            "cases": [dataclasses.asdict(c) for c in campaign.cases],
        }
        args.json.write_text(strict_dumps(doc) + "\n")
    return 1 if campaign.defects else 0


if __name__ == "__main__":
    raise SystemExit(main())
