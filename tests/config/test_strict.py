"""Strict YAML config loading: unknown keys, wrong types and malformed YAML name file and key."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from drivestack.config import from_mapping, load_yaml_config
from drivestack.core.errors import ConfigError


class Mode(enum.Enum):
    FAST = "fast"
    EXACT = "exact"


@dataclass(frozen=True)
class Inner:
    gain: float = 1.0
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.gain < 0:
            raise ValueError("gain must be >= 0")


@dataclass(frozen=True)
class Outer:
    steps: int
    mode: Mode = Mode.FAST
    kind: Literal["a", "b"] = "a"
    limit: float | None = None
    inner: Inner = field(default_factory=Inner)
    per_class: dict[str, Inner] = field(default_factory=dict)
    offsets: tuple[float, float] = (0.0, 0.0)
    out: Path | None = None


def test_builds_nested_typed_config(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text(
        "steps: 3\nmode: exact\nkind: b\nlimit: 2\ninner: {gain: 0.5, names: [x, y]}\n"
        "per_class: {Car: {gain: 2}}\noffsets: [1, 2.5]\nout: runs/x\n"
    )
    cfg = load_yaml_config(Outer, f)
    assert cfg.steps == 3 and cfg.mode is Mode.EXACT and cfg.kind == "b" and cfg.limit == 2.0
    assert cfg.inner == Inner(0.5, ("x", "y")) and cfg.per_class["Car"].gain == 2.0
    assert cfg.offsets == (1.0, 2.5) and cfg.out == Path("runs/x")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps: 1\nstep_size: 2\n", r"c\.yaml: field step_size: unknown key"),
        ("steps: one\n", r"field steps: expected an integer, got 'one'"),
        ("steps: true\n", r"field steps: expected an integer"),
        ("mode: fast\n", r"field steps: missing required key"),
        ("steps: 1\ninner: {gain: -1}\n", r"field inner: gain must be >= 0"),
        ("steps: 1\nper_class: {Car: {gian: 1}}\n", r"field per_class\.Car\.gian: unknown key"),
        ("steps: 1\nkind: c\n", r"field kind: expected one of \['a', 'b'\]"),
        ("steps: 1\noffsets: [1]\n", r"field offsets: expected 2 items"),
        ("steps: [1\n", r"c\.yaml: line \d+, column \d+: malformed YAML"),
        ("- 1\n- 2\n", r"expected a mapping for Outer"),
    ],
)
def test_bad_configs_name_file_and_key(tmp_path, text, message):
    f = tmp_path / "c.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_yaml_config(Outer, f)


def test_missing_file_and_unsafe_tags(tmp_path):
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_yaml_config(Outer, tmp_path / "absent.yaml")
    f = tmp_path / "evil.yaml"
    f.write_text("steps: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_yaml_config(Outer, f)


def test_from_mapping_requires_dataclass():
    with pytest.raises(TypeError):
        from_mapping(dict, {})  # type: ignore[type-var]


@dataclass(frozen=True)
class WithOptionalNested:
    inner: Inner | None = None


def test_optional_nested_dataclass_reports_the_inner_key(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("inner: {gian: 1}\n")
    with pytest.raises(ConfigError, match=r"field inner\.gian: unknown key"):
        load_yaml_config(WithOptionalNested, f)
    f.write_text("inner: null\n")
    assert load_yaml_config(WithOptionalNested, f).inner is None


def test_a_misspelt_key_names_the_closest_known_one(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("inner: {gian: 1}\n")
    with pytest.raises(
        ConfigError, match=r"field inner\.gian: unknown key \(did you mean 'gain'\? known: "
    ):
        load_yaml_config(WithOptionalNested, f)
    f.write_text("inner: {zzz: 1}\n")  # nothing close: the known keys only
    with pytest.raises(ConfigError, match=r"field inner\.zzz: unknown key \(known: "):
        load_yaml_config(WithOptionalNested, f)
