"""Config files sent by others: a few hundred bytes of nested aliases ("billion laughs"), an
integer of 5000 digits and 20,000 levels of nesting are one-line ConfigErrors naming the file
(they filled memory, or ended in a MemoryError, ValueError or RecursionError traceback), and
error messages show untrusted values cut short."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from drivestack.config import load_yaml
from drivestack.config.strict import MAX_YAML_VALUES
from drivestack.core.errors import ConfigError, DataError, brief_repr


def _bomb_text(levels: int) -> str:
    parts = ["&a0 [x, x, x, x, x, x, x, x, x, x]"]
    parts += [f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "name: [" + ", ".join(parts) + "]\n"


def test_nested_aliases_past_the_limit_are_refused_before_they_expand(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_bomb_text(9))  # 432 bytes, 1.2e9 values
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value) == (
        f"{path}: its aliases expand to 1,234,567,902 values, more than a config may hold "
        f"({MAX_YAML_VALUES:,}): write the values out, or use fewer nested aliases"
    )
    path.write_text(_bomb_text(4))  # 12,346 values: an ordinary use of anchors still loads
    assert len(load_yaml(path)["name"]) == 4
    path.write_text("a: &x [1, *x]\n")  # a recursive anchor counts once (a later check names it)
    assert load_yaml(path)["a"][0] == 1


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("duration_s: " + "9" * 5000 + "\n", "malformed YAML: Exceeds the limit (4300 digits)"),
        ("name: " + "[" * 20000 + "]" * 20000 + "\n", "malformed YAML: nested too deeply"),
    ],
)
def test_unreadable_numbers_and_nesting_are_config_errors(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    assert str(err.value).startswith(f"{path}: {reason}")
    assert "set_int_max_str_digits" not in str(err.value)


def test_messages_show_untrusted_values_cut_short(tmp_path: Path) -> None:
    shared: list[object] = ["x"]
    for _ in range(8):
        shared = [shared] * 10  # 10**8 elements behind 9 small lists
    assert len(brief_repr(shared)) == 200 and brief_repr([1, 2]) == "[1, 2]"
    assert brief_repr([10**5000]) == "[<an integer of about 5000 digits>]"  # repr() raises
    assert brief_repr("y" * 500).startswith("'yyy") and len(brief_repr("y" * 500)) < 100
    from drivestack.prediction.learned import load_forecaster

    ckpt = tmp_path / "bomb.pt"
    torch.save({"format": shared}, ckpt)  # 1.4 kB
    with pytest.raises(DataError, match=r"field format: not a drivestack motion-forecaster") as e:
        load_forecaster(ckpt)
    assert len(e.value.reason) < 400  # 200 of them the value (the path before it varies)
