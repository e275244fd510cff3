"""Strict YAML loading: a repeated key and an empty file are errors naming file, line and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from drivestack.config import load_yaml, load_yaml_config
from drivestack.core.errors import ConfigError


@dataclass(frozen=True)
class Lifecycle:
    max_age: int = 3
    min_hits: int = 2


@dataclass(frozen=True)
class Cfg:
    ego_motion_compensation: bool = True
    classes: dict[str, Lifecycle] = field(default_factory=dict)


def _write(tmp_path, text):
    f = tmp_path / "c.yaml"
    f.write_text(text)
    return f


def test_duplicate_top_level_key_names_file_line_and_key(tmp_path):
    f = _write(
        tmp_path, "ego_motion_compensation: true\nclasses: {}\nego_motion_compensation: false\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"c\.yaml: line 3: field ego_motion_compensation: duplicate key \(first set on line 1",
    ):
        load_yaml_config(Cfg, f)


def test_duplicate_nested_flow_key_names_dotted_key(tmp_path):
    f = _write(tmp_path, "classes:\n  car: {max_age: 3, max_age: 9}\n")
    with pytest.raises(ConfigError, match=r"line 2: field classes\.car\.max_age: duplicate key"):
        load_yaml_config(Cfg, f)


def test_duplicate_key_inside_a_list_item_names_the_index(tmp_path):
    f = _write(tmp_path, "agents:\n  - {speed: 1}\n  - {speed: 2, speed: 3}\n")
    with pytest.raises(ConfigError, match=r"field agents\.1\.speed: duplicate key"):
        load_yaml(f)


def test_same_key_in_sibling_mappings_and_merge_keys_are_fine(tmp_path):
    f = _write(
        tmp_path,
        "base: &b {max_age: 3, min_hits: 2}\nclasses:\n  car: {<<: *b, max_age: 5}\n  van: *b\n",
    )
    data = load_yaml(f)
    assert data["classes"]["car"] == {"max_age": 5, "min_hits": 2}
    assert data["classes"]["van"] == {"max_age": 3, "min_hits": 2}


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_config_file_is_rejected(tmp_path, text):
    f = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=r"c\.yaml: empty config"):
        load_yaml_config(Cfg, f)


def test_explicit_empty_mapping_takes_every_default(tmp_path):
    assert load_yaml_config(Cfg, _write(tmp_path, "{}\n")) == Cfg()


def test_a_post_init_error_below_the_dataclass_names_its_own_key(tmp_path: Path) -> None:
    from drivestack.tracking.config import load_tracker_config

    bad = tmp_path / "t.yaml"
    bad.write_text("classes: {car: {}, cyclst: {}}\n")
    with pytest.raises(ConfigError) as err:
        load_tracker_config(bad)
    assert err.value.field == "classes.cyclst"
    assert str(err.value).count("classes.cyclst") == 1
