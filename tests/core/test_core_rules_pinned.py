"""Pinned rules of the core helpers and the strict config loader, each with a hand-derived
expected value: array checks, timestamps, number tokens, strict JSON, atomic writes, value
equality, plain progress lines, error messages, checkpoint failure reasons, YAML configs."""

from __future__ import annotations

import enum
import io
import math
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest

from drivestack.config import strict
from drivestack.config.strict import from_mapping, load_yaml
from drivestack.core import atomic, checkpoints
from drivestack.core.arrays import check_array, check_same_dtype, read_only
from drivestack.core.errors import ConfigError, DataError, brief_repr, in_chain
from drivestack.core.json_values import finite_json, is_finite_number, is_number, strict_dumps
from drivestack.core.numbers import parse_float, parse_int
from drivestack.core.progress import PlainProgress, progress
from drivestack.core.time import (
    INT64_MAX,
    INT64_MIN,
    check_monotonic_ns,
    check_timestamp_ns,
    first_not_increasing,
    ns_to_seconds,
    seconds_to_ns,
)
from drivestack.core.value_equality import ArrayValueEquality, value_hash_key, values_equal

# ---------------------------------------------------------------- arrays


def test_read_only_copies_a_writeable_view_of_the_callers_array() -> None:
    """A view of the caller's writeable memory (``arr.base`` set) is copied before freezing:
    the result must not alias the caller's array, which stays writeable."""
    given = np.arange(4.0)
    view = given.reshape(2, 2)  # a view: view.base is given, view is not given
    out = read_only(view, given)
    assert not np.shares_memory(out, given)
    assert not out.flags.writeable and given.flags.writeable


def test_check_array_refuses_extra_dimensions() -> None:
    """Rank must match exactly: a (2, 3, 1) array is not an (N, 3) one, even though its first
    two sizes fit."""
    with pytest.raises(ValueError, match=r"boxes must have shape \(N, 3\), got \(2, 3, 1\)"):
        check_array(np.zeros((2, 3, 1)), "boxes", (None, 3))


def test_check_array_refuses_infinity_not_only_nan() -> None:
    """``finite=True`` rejects NaN *and* inf: [1, inf] is refused."""
    with pytest.raises(ValueError, match="x contains NaN or infinite values"):
        check_array(np.array([1.0, np.inf]), "x", (None,))


def test_check_array_named_size_matches_any_size() -> None:
    """A ``str`` entry of ``shape`` is any size (only named in messages): (2, 5) fits
    (None, "D")."""
    arr = np.zeros((2, 5))
    assert check_array(arr, "feat", (None, "D")) is arr


def test_check_same_dtype_refuses_two_dtypes() -> None:
    """Two arrays of float32 and float64 do not share one dtype: refused."""
    with pytest.raises(ValueError, match="a: float32, b: float64"):
        check_same_dtype(("a", np.zeros(1, np.float32)), ("b", np.zeros(1, np.float64)))


# ---------------------------------------------------------------- time


def test_seconds_to_ns_rounds_to_nearest_not_truncates() -> None:
    """1.6 ns rounds to 2 ns (truncation would give 1); -1.6 ns to -2."""
    assert seconds_to_ns(1.6e-9) == 2
    assert seconds_to_ns(-1.6e-9) == -2


def test_seconds_to_ns_accepts_the_int64_minimum() -> None:
    """The range is inclusive: -2**63 ns (exactly representable as a float) is in range."""
    seconds = -(2.0**63) / 1e9
    assert seconds * 1e9 == -(2.0**63)  # precondition: the product lands on the bound
    assert seconds_to_ns(seconds) == INT64_MIN


def test_check_timestamp_ns_bounds_and_bool() -> None:
    """int64 bounds are inclusive (2**63 - 1 kept, 2**63 refused); a bool is not an integer."""
    assert check_timestamp_ns(2**63 - 1) == INT64_MAX
    assert check_timestamp_ns(np.int64(-(2**63))) == INT64_MIN
    with pytest.raises(ValueError):
        check_timestamp_ns(2**63)
    with pytest.raises(TypeError):
        check_timestamp_ns(True)


def test_first_not_increasing_strict_and_lenient() -> None:
    """[0, 5, 5, 9]: index 2 repeats index 1, so strict -> 2 (the index of the repeat, not of
    the step); non-strict accepts the repeat (None) but [0, 5, 4] -> 2."""
    series = np.array([0, 5, 5, 9], dtype=np.int64)
    assert first_not_increasing(series) == 2
    assert first_not_increasing(series, strict=False) is None
    assert first_not_increasing(np.array([0, 5, 4]), strict=False) == 2


def test_check_monotonic_ns_uint64_up_to_int64_max_is_kept() -> None:
    """uint64 values are refused only beyond INT64_MAX; INT64_MAX itself converts."""
    arr = np.array([1, 2**63 - 1], dtype=np.uint64)
    out = check_monotonic_ns(arr)
    assert out.dtype == np.int64 and out.tolist() == [1, 2**63 - 1]


def test_check_monotonic_ns_refuses_booleans() -> None:
    """A bool array is not integer nanoseconds (dtype kind 'b' is neither 'i' nor 'u')."""
    with pytest.raises(ValueError, match="must hold integer nanoseconds"):
        check_monotonic_ns(np.array([False, True]))


def test_ns_to_seconds_keeps_the_fraction() -> None:
    """1_500_000_000 ns is 1.5 s (true division, not floor)."""
    assert ns_to_seconds(1_500_000_000) == 1.5


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("token", "value"),
    [("infinity", math.inf), ("-Infinity", -math.inf), ("1.", 1.0), ("1e-3", 0.001)],
)
def test_parse_float_takes_c_spellings(token: str, value: float) -> None:
    """strtod takes ``infinity`` (any case), a trailing dot and a negative exponent."""
    assert parse_float(token) == value


def test_parse_float_nan_in_any_case() -> None:
    """``NaN`` is strtod's nan in any case."""
    assert math.isnan(parse_float("NaN"))


def test_parse_int_takes_a_plus_sign() -> None:
    """strtol takes an optional sign, + included: "+7" is 7."""
    assert parse_int("+7") == 7


# ---------------------------------------------------------------- JSON values


def test_strict_dumps_numpy_keys_and_tuples() -> None:
    """np.int64(7) as a key becomes "7"; a NaN inside a tuple becomes null."""
    assert strict_dumps({np.int64(7): (1.0, math.nan)}, indent=None) == '{"7": [1.0, null]}'


def test_strict_dumps_default_indent_is_one_space() -> None:
    """indent=1 by default: [1] is written '[\\n 1\\n]'."""
    assert strict_dumps([1]) == "[\n 1\n]"


def test_finite_json_numpy_integer_scalar_becomes_int() -> None:
    """Every NumPy scalar (not only floats) becomes a Python value: np.int64(3) -> int 3."""
    out = finite_json({"n": np.int64(3)})
    assert type(out["n"]) is int and out["n"] == 3


def test_is_number_and_finite_number_edge_cases() -> None:
    """True is a bool, not a number; 10**400 overflows a float, so it is not finite."""
    assert not is_number(True)
    assert not is_finite_number(10**400)


# ---------------------------------------------------------------- atomic


def test_partial_path_name() -> None:
    """The temporary name is the final one plus ``.partial``."""
    assert atomic.partial_path(Path("out/a.json")) == Path("out/a.json.partial")


def test_write_atomic_returns_and_interrupt_leaves_no_partial(tmp_path: Path) -> None:
    """write_atomic returns write's value; a KeyboardInterrupt mid-write (BaseException, not
    Exception) removes the temporary and keeps the old file."""
    target = tmp_path / "r.json"
    assert atomic.write_atomic(target, lambda tmp: tmp.write_text("old")) == 3

    def interrupted(tmp: Path) -> None:
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomic(target, interrupted)
    assert target.read_text() == "old"
    assert not (tmp_path / "r.json.partial").exists()


# ---------------------------------------------------------------- value equality


def test_values_equal_nan_dtype_and_sequence_type() -> None:
    """NaN == NaN in float arrays; equal values of float32 vs float64 differ (dtype);
    a list is not a tuple."""
    assert values_equal(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
    assert not values_equal(np.zeros(2, np.float32), np.zeros(2, np.float64))
    assert not values_equal([1, 2], (1, 2))


def test_hash_key_of_minus_zero_equals_zero() -> None:
    """-0.0 == 0.0, so their arrays' hash keys must agree."""
    assert value_hash_key(np.array([-0.0])) == value_hash_key(np.array([0.0]))


@dataclass(frozen=True, eq=False)
class _Holder(ArrayValueEquality):
    arrays: Any
    names: Any = field(default_factory=lambda: MappingProxyType({}))


def test_unpickled_dict_arrays_are_read_only_and_mappings_stay_proxies() -> None:
    """Pickling restores read-only arrays inside a dict field and MappingProxyType fields."""
    a = np.arange(3.0)
    a.setflags(write=False)
    held = _Holder({"a": a}, MappingProxyType({"k": 1}))
    back = pickle.loads(pickle.dumps(held))
    assert not back.arrays["a"].flags.writeable
    assert isinstance(back.names, MappingProxyType) and dict(back.names) == {"k": 1}
    assert back == held


# ---------------------------------------------------------------- progress


def test_plain_progress_every_ceil_tenth_and_the_total() -> None:
    """total=15: a line every ceil(15/10) = 2 items, plus the total itself (15) even without
    close(): counts 2, 4, ..., 14, 15."""
    buf = io.StringIO()
    bar = PlainProgress(total=15, desc="d", unit="frame", file=buf)
    for _ in range(15):
        bar.update()
    counts = [int(line.split(": ")[1].split("/")[0]) for line in buf.getvalue().splitlines()]
    assert counts == [2, 4, 6, 8, 10, 12, 14, 15]


def test_plain_progress_never_repeats_a_count() -> None:
    """After the total is said, update(0) and close() print nothing more (one line)."""
    buf = io.StringIO()
    bar = PlainProgress(total=4, desc="d", file=buf)
    bar.update(4)
    bar.update(0)
    bar.close()
    assert len(buf.getvalue().splitlines()) == 1


def test_plain_progress_unit_already_plural() -> None:
    """A unit ending in s is kept: 'logs', not 'logss'."""
    buf = io.StringIO()
    bar = PlainProgress(total=1, desc="d", unit="logs", file=buf)
    bar.update()
    assert buf.getvalue().startswith("d: 1/1 logs, ")


def test_progress_passes_initial_to_plain_lines() -> None:
    """progress(..., initial=8) without a terminal starts the plain count at 8."""
    bar = progress(total=10, desc="d", initial=8)
    assert isinstance(bar, PlainProgress) and bar.n == 8


# ---------------------------------------------------------------- errors


def test_data_error_text_and_with_reason_keeps_record() -> None:
    """'path: record: field f: message'; with_reason keeps path, record and field."""
    err = DataError("bad", path="a.bin", record="point 7", field="x")
    assert str(err) == "a.bin: point 7: field x: bad"
    assert str(err.with_reason("worse")) == "a.bin: point 7: field x: worse"


def test_in_chain_follows_context() -> None:
    """An error raised while handling a KeyError has it as __context__ (no __cause__)."""
    try:
        try:
            raise KeyError("k")
        except KeyError:
            raise RuntimeError("while handling")  # noqa: B904
    except RuntimeError as exc:
        caught = exc
    assert caught.__cause__ is None and isinstance(caught.__context__, KeyError)
    assert in_chain(caught, KeyError)


def test_brief_repr_cuts() -> None:
    """5 items a level then '...'; text over 200 characters cut to 197 + '...' = 200."""
    assert brief_repr(list(range(6))) == "[0, 1, 2, 3, 4, ...]"
    long = brief_repr(["x" * 78] * 5)  # 5 * (78 + 2 quotes) + 4 * 2 (", ") + 2 ([]) = 410
    assert len(long) == 200 and long.endswith("...")


def test_brief_repr_of_a_huge_integer_names_its_size() -> None:
    """2**14500 has bit_length 14501 (> 14000): about int(14501 * 0.30103) = 4365 digits."""
    assert brief_repr(2**14500) == "<an integer of about 4365 digits>"


def test_config_error_is_a_data_error() -> None:
    """ConfigError is a DataError (and so a ValueError)."""
    assert issubclass(ConfigError, DataError) and issubclass(ConfigError, ValueError)


# ---------------------------------------------------------------- checkpoints


def test_load_failure_oserror_is_truncation_only_for_a_zip_start() -> None:
    """An OSError means a cut archive only when the file starts as a zip; otherwise the
    error is named: first sentence only."""
    exc = OSError("[Errno 22] Invalid argument. more")
    assert checkpoints.load_failure(exc, starts_as_zip=True) == (
        "not a torch checkpoint (empty or truncated file)"
    )
    assert checkpoints.load_failure(exc, starts_as_zip=False) == (
        "not a torch checkpoint (OSError: [Errno 22] Invalid argument)"
    )


def test_load_failure_cuts_long_reasons() -> None:
    """The named object is cut to 80 characters, the first line to 160."""
    obj = "o" * 100
    text = checkpoints.load_failure(RuntimeError(f"Can only create new object but got {obj}"))
    assert text.endswith(f"({'o' * 80})")
    long = checkpoints.load_failure(RuntimeError("w" * 200))
    assert long == f"not a torch checkpoint (RuntimeError: {'w' * 160})"


def test_starts_as_zip_needs_all_four_magic_bytes(tmp_path: Path) -> None:
    """PK\\x05\\x06 (a zip end record) is not the local file header PK\\x03\\x04."""
    path = tmp_path / "c.pt"
    path.write_bytes(b"PK\x05\x06" + bytes(18))
    assert not checkpoints._starts_as_zip(path)
    path.write_bytes(b"PK\x03\x04" + bytes(18))
    assert checkpoints._starts_as_zip(path)


def test_check_state_dict_rules() -> None:
    """4 missing names: the message counts 4 and shows the first 3; an int tensor where the
    network has float weights and an inf weight are refused at their field."""
    torch = pytest.importorskip("torch")
    own = {k: torch.zeros(2) for k in "abcd"}
    with pytest.raises(DataError, match=r"4 missing \(e\.g\. \['a', 'b', 'c'\]\)"):
        checkpoints.check_state_dict({}, own, "w.pt")
    state = {k: torch.zeros(2) for k in "abcd"}
    state["b"] = torch.zeros(2, dtype=torch.int64)
    with pytest.raises(DataError, match=r"field state_dict\.b: torch\.int64 tensor"):
        checkpoints.check_state_dict(state, own, "w.pt")
    state["b"] = torch.tensor([0.0, math.inf])
    with pytest.raises(DataError, match=r"field state_dict\.b: NaN or infinite"):
        checkpoints.check_state_dict(state, own, "w.pt")


# ---------------------------------------------------------------- strict config


class _Mode(enum.Enum):
    FAST = "f"


@dataclass(frozen=True)
class _A:
    a: int = 0


@dataclass(frozen=True)
class _B:
    b: int = 0


@dataclass(frozen=True)
class _Cfg:
    mode: _Mode = _Mode.FAST
    pair: tuple[int, int] = (0, 0)
    speeds: tuple[float, ...] = ()
    either: _A | _B | None = None
    derived: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if any(s < 0 for s in self.speeds):
            i = next(i for i, s in enumerate(self.speeds) if s < 0)
            raise ValueError(f"_Cfg.speeds[{i}] must be >= 0")


@dataclass(frozen=True)
class _SubCfg(_Cfg):
    pass


def _field(cls: type, mapping: Any) -> str | None:
    with pytest.raises(ConfigError) as info:
        from_mapping(cls, mapping, path="c.yaml")
    return info.value.field


def test_from_mapping_rules() -> None:
    """Enum by lower-case name; a fixed pair refuses 3 items; a union of two dataclasses picks
    the one whose keys fit; an init=False field is no key; a non-mapping is at <top level>;
    a post_init message '_Cfg.speeds[1]' (base class name too) is at 'speeds.1'."""
    cfg = from_mapping(_Cfg, {"mode": "fast", "either": {"b": 2}})
    assert cfg.mode is _Mode.FAST and cfg.either == _B(2)
    with pytest.raises(ConfigError, match="expected 2 items, got 3"):
        from_mapping(_Cfg, {"pair": [1, 2, 3]})
    assert _field(_Cfg, {"derived": 1}) == "derived"
    assert _field(_Cfg, [1]) == "<top level>"
    assert _field(_SubCfg, {"speeds": [1.0, -1.0]}) == "speeds.1"


def test_unknown_key_suggestion_cutoff() -> None:
    """'pare' vs 'pair': matching 'pa' and 'r', ratio 2*3/8 = 0.75 >= the 0.6 cutoff:
    suggested."""
    with pytest.raises(ConfigError, match="did you mean 'pair'"):
        from_mapping(_Cfg, {"pare": 1})


def test_alias_limit_counts_every_value_inclusively(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[1, 2, 3] is 4 values (the list and 3 scalars): at a limit of 4 it loads;
    [1, 2, 3, 4] is 5: refused, naming 5."""
    monkeypatch.setattr(strict, "MAX_YAML_VALUES", 4)
    path = tmp_path / "c.yaml"
    path.write_text("[1, 2, 3]\n")
    assert load_yaml(path) == [1, 2, 3]
    path.write_text("[1, 2, 3, 4]\n")
    with pytest.raises(ConfigError, match="expand to 5 values"):
        load_yaml(path)


def test_duplicate_key_lines_and_merge_keys(tmp_path: Path) -> None:
    """a repeated on line 3 after line 1; a '<<' merge key is no duplicate."""
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\nb: 2\na: 3\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert info.value.record == "line 3" and "first set on line 1" in info.value.reason
    path.write_text("base: &b {x: 1, y: 1}\nother:\n  <<: *b\n  <<: *b\n  x: 2\n")
    assert load_yaml(path)["other"] == {"x": 2, "y": 1}


def test_malformed_yaml_column_is_one_based(tmp_path: Path) -> None:
    """'a: 1\\n b: 2': the ':' after b (line 2, 0-based column 2) is not allowed: column 3."""
    path = tmp_path / "c.yaml"
    path.write_text("a: 1\n b: 2\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert info.value.record == "line 2, column 3"


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("5e-2", " (YAML reads 5e-2 as text: write 5.0e-2 or 0.05)"),
        ("1.5e3", " (YAML reads 1.5e3 as text: write 1.5e+3 or 1500.0)"),
        ("inf", ""),
    ],
)
def test_text_number_hint(text: str, hint: str) -> None:
    """YAML 1.1 floats need a dot in the mantissa and a signed exponent; a quoted non-finite
    value gets no hint."""
    assert strict._text_number_hint(text) == hint
