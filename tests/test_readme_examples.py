"""The README's Python examples run as written (from the repository root, with the shared data
beside the checkout, as the README says)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests._shared_data import missing_shared_data

REPO = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.data
@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(code: str) -> None:
    if not (REPO.parent / "shared" / "data").is_dir():
        missing_shared_data("the README's examples read ../shared/data beside the checkout")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _readme_table_packages() -> set[str]:
    text = (REPO / "README.md").read_text()
    table = text.split("## What is here", 1)[1].split("\n\n", 2)[1]
    return {m for row in table.splitlines() for m in re.findall(r"`drivestack/(\w+)", row)} | {
        m for row in table.splitlines() for m in re.findall(r"^\| `drivestack/\w+`, `(\w+)`", row)
    }


def test_the_what_is_here_table_has_a_row_for_every_package() -> None:
    packages = {p.parent.name for p in (REPO / "drivestack").glob("*/__init__.py")}
    assert packages - {"commands"} <= _readme_table_packages()


def test_the_readme_sections_the_configs_refer_to_exist() -> None:
    headings = set(re.findall(r"^## (.+)$", (REPO / "README.md").read_text(), flags=re.M))
    refs = {
        name
        for path in (REPO / "configs").rglob("*.yaml")
        for name in re.findall(r'README, "([^"]+)"', " ".join(path.read_text().split()))
    }
    assert "Log replay" in refs and refs <= headings, refs - headings


def test_the_table_rows_say_what_the_packages_do() -> None:
    text = (REPO / "README.md").read_text()
    rows = {
        row.split("|")[1].strip(): row
        for row in text.split("## What is here", 1)[1].split("\n\n", 2)[1].splitlines()[2:]
    }
    assert "`eval/prediction`" in rows["`drivestack/eval`"]
    assert "open-loop planner score" in rows["`drivestack/eval`"]
    assert "reactive" in rows["`drivestack/sim`"]
    prediction = rows["`drivestack/prediction`, `planning`"]
    assert "run as a stack stage in log replay" not in prediction
    assert "constant velocity and CTRV also run as the stack's prediction stage" in prediction
