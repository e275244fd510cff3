"""Whose tracking rows a report shows, which published table it sets beside them, and HOTA."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from drivestack.cli import main
from drivestack.report.tracking import Published, tracking_tables

PUBLISHED = """# Published tracking results

## A. AB3DMOT + PointRCNN on KITTI tracking "val" (current code, since Feb 2022)

### A1. 3D MOT, 3D IoU threshold 0.25
| Category | sAMOTA | AMOTA | AMOTP | MOTA | MOTP | IDS | FRAG | FP | FN | FPS |
|---|---|---|---|---|---|---|---|---|---|---|
| Car | 93.34 | 45.51 | 78.49 | 86.47 | 79.40 | 0 | 15 | 368 | 766 | 108.7 |

### A4. 2D MOT (3D tracks projected to the image), 2D IoU 0.5
| Category | sAMOTA | AMOTA | AMOTP | MOTA | MOTP | IDS | FRAG | FP | FN | FPS |
|---|---|---|---|---|---|---|---|---|---|---|
| Car | 93.08 | 45.30 | 84.58 | 85.98 | 86.95 | 2 | 25 | 394 | 779 | 108.7 |

## B. AB3DMOT + PointRCNN on KITTI "val", older code (Jul 2020 – Dec 2021)

### B1. 3D MOT
| Category | sAMOTA | AMOTA | AMOTP | MOTA | MOTP | IDS | FRAG | FP | FN | FPS |
|---|---|---|---|---|---|---|---|---|---|---|
| Car | 93.28 | 45.43 | 77.41 | 86.24 | 78.43 | 0 | 15 | 365 | 708 | 207.4 |

### B3. KITTI 2D MOT **test** leaderboard entry
| Category | MOTA (%) | MOTP (%) | IDS |
|---|---|---|---|
| Car | 83.84 | 85.24 | 9 |

## D. DeepFusionMOT (PointRCNN 3D + RRC 2D) on KITTI, Car, HOTA metrics (TrackEval)

| Split | HOTA | DetA | AssA | IDSW | MOTP | MOTA | FPS |
|---|---|---|---|---|---|---|---|
| Training dataset | 77.45% | 75.35% | 79.85% | 83 | 86.60% | 87.28% | 104 |
| Testing dataset | 75.46% | 71.54% | 80.05% | 84 | 85.02% | 84.63% | 110 |
"""

HOTA = {"HOTA": 0.6318, "DetA": 0.5694, "AssA": 0.7097, "LocA": 0.8155}


def _car(samota: float, hota: dict[str, float] | None = HOTA) -> dict[str, Any]:
    best = {"MOTA": 0.86, "MOTP": 0.78, "IDS": 0, "FRAG": 15, "FP": 365, "FN": 788}
    per = [{"recall_threshold": r, "sMOTA": samota, "MOTA": 0.8 * r} for r in (0.5, 1.0)]
    clear = {"sAMOTA": samota, "AMOTA": 0.45, "AMOTP": 0.77, "best": best, "per_threshold": per}
    return {"class": "Car", "clear": clear, **({"hota": hota} if hota is not None else {})}


def _result(similarity: str = "iou_3d", iou: float = 0.25, **top: Any) -> dict[str, Any]:
    protocol = {"min_overlap": iou, "similarity": similarity}
    block = {"protocol": protocol, "classes": {"Car": _car(0.9328)}}
    return {"split": "val", **top, "metrics": {f"iou_{iou:g}": block}}


@pytest.fixture
def published(tmp_path: Path) -> Path:
    path = tmp_path / "PUBLISHED_RESULTS.md"
    path.write_text(PUBLISHED)
    return path


def _report(tmp_path: Path, result: dict[str, Any], published: Path) -> tuple[dict, str]:
    run = tmp_path / "run"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps(result))
    out = tmp_path / "r.html"
    assert main(["report", str(run), "--published", str(published), "--out", str(out)]) == 0
    return json.loads(out.with_suffix(".json").read_text()), out.read_text()


def test_results_from_ab3dmot_2020_files_are_named_by_path_beside_their_own_table(
    tmp_path: Path, published: Path
) -> None:
    # AB3DMOT's 2020 outputs, whose README names its table (section B1), as in the shared data
    files = tmp_path / "reference_outputs" / "ab3dmot_2020"
    files.mkdir(parents=True)
    (files / "README.md").write_text(
        "# AB3DMOT (2020 code) tracker outputs\nthe version whose README table is "
        "section B1 of `../../../PUBLISHED_RESULTS.md`.\n"
    )
    data, html = _report(tmp_path, _result(results=str(files)), published)
    (table,) = data["tracking"][0]["tables"]
    assert table["source"] == str(files) and data["tracking"][0]["source"] == str(files)
    assert table["published_name"] == "AB3DMOT 2020 code (published, B1)"
    assert table["published"]["Car"]["sAMOTA"] == 93.28  # B1, not A1's 93.34
    assert "different code version" in table["published_note"]
    assert f"<td class=l>{files}</td>" in html
    assert "<td class=l>drivestack</td>" not in html
    assert "93.34" not in html and "AB3DMOT 2020 code (published, B1)" in html
    (headline,) = [h for h in data["headline"] if "sAMOTA" in h["name"]]
    assert headline["anchor"] == 93.28 and "B1" in headline["anchor_name"]


def test_the_folder_name_year_picks_the_section_when_there_is_no_readme(
    tmp_path: Path, published: Path
) -> None:
    pub = Published.read(published)
    (table,) = tracking_tables(_result(results="/nowhere/ab3dmot_2020"), {}, pub)
    assert table["published_name"] == "AB3DMOT 2020 code (published, B1)"
    # files of unknown origin: section A stays, the note says they were not drivestack's
    anchors = {("iou_3d", 0.25): pub.anchors("A")[("iou_3d", 0.25)]["rows"]}
    (other,) = tracking_tables(_result(results="/x/my_tracker"), anchors, pub)
    assert other["source"] == "/x/my_tracker"
    assert other["published_name"] == "AB3DMOT 2022 code (published, A1)"
    assert "not made by drivestack's tracker" in other["published_note"]
    # a 2D table of the 2020 code: B has none there (B3 is a leaderboard): no published rows
    (two_d,) = tracking_tables(_result("iou_2d", 0.5, results="/x/ab3dmot_2020"), anchors, pub)
    assert two_d["published"] == {} and "not shown" in two_d["published_note"]


def test_drivestack_tracker_rows_keep_the_current_code_table(
    tmp_path: Path, published: Path
) -> None:
    data, html = _report(tmp_path, _result(config_file="configs/tracking/x.yaml"), published)
    (table,) = data["tracking"][0]["tables"]
    assert table["source"] == "drivestack" and table["published_note"] == ""
    assert table["published"]["Car"]["sAMOTA"] == 93.34
    assert "<td class=l>drivestack</td>" in html and "AB3DMOT 2022 code (published, A1)" in html


def test_a_run_on_some_sequences_of_the_split_gets_no_published_rows(
    tmp_path: Path, published: Path
) -> None:
    result = _result(config_file="x.yaml", sequences=["0001"], whole_split=False)
    data, _html = _report(tmp_path, result, published)
    (table,) = data["tracking"][0]["tables"]
    assert table["published"] == {}
    assert "covers only sequences 0001 of the val split" in table["published_note"]


def test_hota_columns_and_the_published_hota_anchor(tmp_path: Path, published: Path) -> None:
    data, html = _report(tmp_path, _result(), published)
    (table,) = data["tracking"][0]["tables"]
    car = table["rows"]["Car"]
    assert car["HOTA"] == pytest.approx(63.18) and car["LocA"] == pytest.approx(81.55)
    for column in ("HOTA", "DetA", "AssA", "LocA"):
        assert f"<th>{column}</th>" in html
    assert ">63.18<" in html
    assert table["hota_anchor"] is None and "training split" in table["hota_note"]
    hota_line = [h for h in data["headline"] if "HOTA" in h["name"]]
    assert hota_line[0]["value"] == pytest.approx(63.18) and hota_line[0]["anchor"] is None
    # a 2D table of a run on the whole training split: DeepFusionMOT's HOTA beside it
    pub = Published.read(published)
    train = {**_result("iou_2d", 0.5), "split": "training"}
    (t2,) = tracking_tables(train, {}, pub)
    assert t2["hota_anchor"]["name"] == "DeepFusionMOT (published, D, training)"
    assert t2["hota_anchor"]["rows"]["Car"]["HOTA"] == 77.45
    assert t2["published"] == {} and "val split" in t2["published_note"]  # A and B are on val
    # an older result without hota: the columns are empty, nothing breaks
    old = _result()
    old["metrics"]["iou_0.25"]["classes"]["Car"] = _car(0.9, hota=None)
    (t3,) = tracking_tables(old, {}, pub)
    assert t3["rows"]["Car"]["HOTA"] is None


def test_the_real_published_file_identifies_the_2020_outputs(shared_data: Path) -> None:
    pub = Published.read(shared_data / "PUBLISHED_RESULTS.md")
    files = shared_data / "kitti_tracking" / "reference_outputs" / "ab3dmot_2020"
    (table,) = tracking_tables(_result(results=str(files)), {}, pub)
    assert table["published_name"] == "AB3DMOT 2020 code (published, B1)"
    assert table["published"]["Car"]["FN"] == 708
    assert pub.hota is not None and pub.hota["rows"]["training"]["HOTA"] == 77.45


def test_the_summary_shows_the_commit_and_version_an_eval_run_recorded(
    tmp_path: Path, published: Path
) -> None:
    recorded = {"git_commit": "abc1234-dirty", "drivestack_version": "9.9.9",
                "command": "drivestack eval tracking --split val --out runs/trk"}  # fmt: skip
    data, html = _report(tmp_path, _result(**recorded), published)
    assert data["git_commit"] == "abc1234-dirty" and data["drivestack_version"] == "9.9.9"
    assert data["eval_commands"] == [recorded["command"]]
    assert "9.9.9 (git abc1234-dirty)" in html and "not recorded" not in html
    assert "drivestack eval tracking --split val --out runs/trk" in html
    # an eval run that recorded none: said so, not passed off as the run's
    older, _ = _report(tmp_path / "old", _result(), published)
    assert older["git_commit"] is None and older["drivestack_version_recorded"] is False


def test_the_console_says_what_an_eval_folder_holds(
    tmp_path: Path, published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(tmp_path, _result(config_file="x.yaml"), published)
    out = capsys.readouterr().out
    assert "eval run: tracking results of val" in out and "0 runs" not in out


def test_a_headline_without_a_published_anchor_has_no_anchor_name(
    tmp_path: Path, published: Path
) -> None:
    # a val run's 3D table: AB3DMOT's sAMOTA beside it, but no published HOTA (training only)
    data, _ = _report(tmp_path, _result(), published)
    (samota,) = [h for h in data["headline"] if "sAMOTA" in h["name"]]
    (hota,) = [h for h in data["headline"] if "HOTA" in h["name"]]
    assert samota["anchor"] == 93.34
    assert samota["anchor_name"] == "AB3DMOT 2022 code (published, A1), PUBLISHED_RESULTS.md"
    assert hota["value"] == pytest.approx(63.18)
    assert hota["anchor"] is None and hota["anchor_name"] is None  # not ", PUBLISHED_RESULTS.md"
