"""The one test helper the scenario-check tests share: the error a scenario YAML raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import ConfigError
from drivestack.sim.build import build_scenario
from drivestack.sim.scenario import load_scenarios


def scenario_error(tmp_path: Path, text: str, *, build: bool = True) -> str:
    """The message of the ConfigError that loading the scenario YAML ``text`` (written to
    ``tmp_path / "s.yaml"``) and, with ``build``, building its scenarios raises; asserted to
    be one line that starts with the file's path."""
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        for cfg in load_scenarios(path):
            if build:
                build_scenario(cfg)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message
