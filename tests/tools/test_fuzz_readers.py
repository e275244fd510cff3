"""``tools/fuzz_readers.py``: the seeded bad-input campaign finds no defect in the public
readers on a small budget of every family, and its classifier calls planted defects defects
(an exception of another type, a NaN in the output, a DataError without the path, a hang)."""

from __future__ import annotations

import ast
import json
import random
import re
import runpy
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack.core.errors import DataError

REPO = Path(__file__).resolve().parents[2]
#: mutated cases per family: seed 0, about 5 s for all four on one core
BUDGET = {"kitti": 60, "datasets": 60, "maps": 24, "logs": 15}


@pytest.fixture(scope="module")
def fuzz() -> dict[str, Any]:
    """The tool's module globals (``tools/`` is not a package)."""
    return runpy.run_path(str(REPO / "tools" / "fuzz_readers.py"), run_name="fuzz_readers")


# -- the campaign on the real files -----------------------------------------------------------
@pytest.mark.data
@pytest.mark.parametrize("family", sorted(BUDGET))
def test_campaign_finds_no_defect(fuzz: dict[str, Any], shared_data: Path, family: str) -> None:
    campaign = fuzz["run_campaign"](shared_data, [family], BUDGET[family], 0)
    defects = "\n".join(fuzz["defect_lines"](campaign))
    assert not campaign.defects, f"reader defects (repro: mutation -> message):\n{defects}"
    targets = [t.name for t in fuzz["TARGETS"] if t.family == family]
    ran = {c.target for c in campaign.cases}
    # a target is left out only when its reader needs a package missing here (ouster-sdk)
    assert all("MissingDependencyError" in note for note in campaign.skipped), campaign.skipped
    assert len(ran) + len(campaign.skipped) == len(targets)
    if not campaign.skipped:  # the budget, and one unmutated read per target
        assert len(campaign.cases) == BUDGET[family] + len(targets)
    for target in ran:  # the real file reads; the first mutated case is the empty file
        rows = [c for c in campaign.cases if c.target == target]
        assert (rows[0].mutation, rows[0].outcome) == ("none", "accepted")
        assert rows[1].mutation == "empty file"
    # the mutations reach the readers' checks: most cases are refused with a DataError
    assert sum(c.outcome == "ok" for c in campaign.cases) > len(campaign.cases) / 3


@pytest.mark.data
def test_command_line_writes_every_case(
    fuzz: dict[str, Any], shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cases.json"
    argv = ["--family", "kitti", "--cases", "7", "--seed", "3", "--quiet"]
    assert fuzz["main"]([*argv, "--data-root", str(shared_data), "--json", str(out)]) == 0
    table = capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert len(doc["cases"]) == 7 + 5  # and one unmutated read per KITTI target
    assert f"| kitti | {len(doc['cases'])} | " in table
    for case in doc["cases"]:
        assert set(case) == {"family", "target", "file", "mutation", "outcome", "message"}
        assert case["outcome"] in ("ok", "accepted")
        assert str(tmp_path) not in case["message"] and "fuzz_readers_" not in case["message"]
    # the same seed gives the same cases, word for word
    assert fuzz["main"]([*argv, "--data-root", str(shared_data), "--json", str(out) + "2"]) == 0
    assert Path(str(out) + "2").read_text() == out.read_text()


def test_missing_data_root_is_one_line_and_exit_2(
    fuzz: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"
    assert fuzz["main"](["--data-root", str(missing), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {missing}: field --data-root: no such folder\n"


# -- the classifier ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rows:
    xyz_m: np.ndarray
    score: np.ndarray
    nested: tuple[Any, ...] = ()


def _raise(exc: BaseException) -> Any:
    raise exc


def _slow(_: Path) -> Any:
    try:
        time.sleep(10.0)
    except Exception as exc:  # a reader that turns everything into its own error
        raise DataError("interrupted", path="x") from exc


_FINITE = np.zeros((2, 3))
_NAN = np.array([[0.0, 1.0, 2.0], [3.0, np.nan, 5.0]])


@pytest.mark.parametrize(
    ("read", "outcome", "message"),
    [
        (
            lambda p: _raise(IndexError("list index out of range")),
            "defect",
            "IndexError: list index",
        ),
        (lambda p: _raise(ValueError("could not convert")), "defect", "ValueError: could not"),
        (
            lambda p: _raise(DataError("bad value", path="/elsewhere/a.txt")),
            "defect",
            "without the path",
        ),
        (lambda p: _Rows(_NAN, np.zeros(2)), "defect", "output.xyz_m[1, 1]"),
        (
            lambda p: _Rows(_FINITE, np.zeros(2), ({"k": [1.0, float("inf")]},)),
            "defect",
            "output.nested[0]['k'][1]",
        ),
        (lambda p: [{"a": np.float32("nan")}], "defect", "output[0]['a']"),
        (_slow, "defect", "hang: no answer within 0.3 s"),
        (
            lambda p: _raise(DataError("bad value", path=str(p), record="line 3")),
            "ok",
            "line 3: bad value",
        ),
        (lambda p: _Rows(_FINITE, np.full(2, np.nan)), "accepted", "_Rows"),  # score may be NaN
        (lambda p: _Rows(_FINITE[:0], np.zeros(0)), "ok", "documented empty result"),
    ],
)
def test_classifier(
    fuzz: dict[str, Any], tmp_path: Path, read: Any, outcome: str, message: str
) -> None:
    path = tmp_path / "scan.bin"
    got = fuzz["classify"](
        read,
        path,
        allowed_nonfinite=frozenset({"score"}),
        is_empty=lambda out: len(out.xyz_m) == 0,
        timeout_s=0.3,
    )
    assert got.outcome == outcome, got
    assert message in got.message
    if outcome == "ok" and "empty" not in message:
        assert str(path) in got.message


def test_a_nan_in_a_field_not_allowed_is_found_anywhere(fuzz: dict[str, Any]) -> None:
    nonfinite_at = fuzz["nonfinite_at"]
    rows = _Rows(_FINITE, np.array([0.5, np.inf]))
    assert nonfinite_at(rows) == "output.score[1]"
    assert nonfinite_at(rows, frozenset({"score"})) is None
    table = np.zeros(3, dtype=[("x", "f4"), ("n", "i4")])
    table["x"][2] = np.nan
    assert nonfinite_at({"t": table}) == "output['t']['x'][2]"
    assert nonfinite_at(np.array([1.0, [2.0, np.nan]], dtype=object)) == "output[1][1]"


# -- the mutations ----------------------------------------------------------------------------
_TEXT = b"Car 0 1.5 2.5\nVan 1 3.5 4.5\n\nPedestrian 2 5.5 6.5\n"


def test_mutations_are_seeded_and_take_turns(fuzz: dict[str, Any]) -> None:
    mutator = fuzz["TextMutator"](_TEXT)
    n = len(mutator.kinds()) + 1
    first = list(fuzz["case_mutations"](mutator, 3 * n, random.Random("0:kitti:label_02")))
    again = list(fuzz["case_mutations"](mutator, 3 * n, random.Random("0:kitti:label_02")))
    other = list(fuzz["case_mutations"](mutator, 3 * n, random.Random("1:kitti:label_02")))
    assert first == again and first != other
    assert first[0] == ("empty file", b"")
    words = {
        "field value": " = ",
        "field removed": "removed",
        "line duplicated": "duplicated",
        "line cut": "cut after",
        "truncate": "truncated",
        "flip": "bits flipped",
    }
    assert sorted(words) == sorted(mutator.kinds())
    kinds = [[k for k, word in words.items() if word in name] for name, _ in first[1:]]
    assert all(len(k) == 1 for k in kinds), first
    assert sorted(k[0] for k in kinds[: n - 1]) == sorted(words)  # each kind once a round
    assert kinds[: n - 1] == kinds[n - 1 : 2 * n - 2]


@pytest.mark.parametrize("seed", range(20))
def test_text_field_mutations_change_one_field(fuzz: dict[str, Any], seed: int) -> None:
    mutator = fuzz["TextMutator"](_TEXT)
    name, data = mutator.field_value(random.Random(seed))
    line, field = (int(w) for w in name.split()[1:4:2])  # "line L field F = v"
    value = name.split(" = ")[1]
    before, after = _TEXT.decode().split("\n"), data.decode().split("\n")
    assert before[line - 1].strip() and len(after) == len(before)
    want = before[line - 1].split()
    want[field - 1] = value
    assert after[line - 1].split() == want
    assert [a for i, a in enumerate(after) if i != line - 1] == [
        b for i, b in enumerate(before) if i != line - 1
    ]
    name, data = mutator.field_removed(random.Random(seed))
    line, field = (int(w) for w in name.split()[1:4:2])
    want = _TEXT.decode().split("\n")[line - 1].split()
    del want[field - 1]
    assert data.decode().split("\n")[line - 1].split() == want


def test_json_and_xml_mutations_name_what_they_changed(fuzz: dict[str, Any]) -> None:
    doc = {"a": [1, 2, 3], "b": {"c": "x", "d": 0.5}}
    mutator = fuzz["JsonMutator"](json.dumps(doc).encode())
    for seed in range(10):
        name, data = mutator.key_removed(random.Random(seed))
        pointer = name.split()[1]  # "JSON /b/d removed"
        keys = [int(k) if k.isdigit() else k for k in pointer.strip("/").split("/")]
        want = json.loads(json.dumps(doc))
        parent = want
        for key in keys[:-1]:
            parent = parent[key]
        del parent[keys[-1]]
        assert json.loads(data) == want
        name, data = mutator.number_nonfinite(random.Random(seed))
        assert name.endswith(("= NaN", "= Infinity", "= -Infinity"))
    xml = fuzz["XmlMutator"](b'<r><pt x="1" y="2"/><pt x="3"/><q>4.5</q></r>')
    for seed in range(10):
        name, data = xml.attribute_removed(random.Random(seed))
        found = re.fullmatch(r"<(\w+)> #(\d+) attribute (\w+) removed", name)
        assert found is not None, name
        tag, k, attribute = found[1], int(found[2]), found[3]
        assert attribute not in list(ET.fromstring(data).iter(tag))[k].attrib
        assert len(list(ET.fromstring(data).iter())) == 4
        name, data = xml.text_value(random.Random(seed))
        assert name.startswith("<q> #0 text = ")
        text = ET.fromstring(data).findtext("q")
        assert text == ast.literal_eval(name.split(" = ")[1])
