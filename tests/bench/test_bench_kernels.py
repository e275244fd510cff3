"""The kernel benchmark runs end to end and reports exact agreement with its peers."""

from __future__ import annotations

import json

import pytest

from drivestack.cli import main


@pytest.mark.slow
def test_bench_kernels_quick_writes_json_with_checks(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert (
        main(
            [
                "bench",
                "kernels",
                "--quick",
                "--repeats",
                "1",
                "--json",
                str(out),
                "--kitti-object",
                str(tmp_path),
            ]
        )
        == 0
    )
    report = json.loads(out.read_text())
    cases = {c["case"]: c for c in report["cases"]}
    sparse = cases["box_iou_bev sparse scene"]
    assert sparse["checks"]["max_abs_diff_vs_shapely"] < 1e-9
    assert sparse["checks"]["pairs_with_overlap"] > 0
    implementations = {t["implementation"] for t in sparse["timings"]}
    assert {"drivestack numba (default)", "shapely STRtree"} <= implementations
    assert cases["nms_bev"]["checks"]["same_keep_set_as_reference"] is True
    assert all(c["checks"].get("same_as_broadcasting", True) for c in report["cases"])
    assert "vs default" in capsys.readouterr().out


def test_table_columns_fit_long_case_names() -> None:
    from drivestack.bench.kernels import CaseResult, format_table
    from drivestack.bench.timing import Timing

    long_case = "points in boxes, real KITTI object scan 000123 with its labelled boxes"
    result = CaseResult(
        long_case, "16710 pts x 12 boxes", [Timing("drivestack (numba)", 2.0, 1.9, 5)]
    )
    table = format_table([result])
    assert f"{long_case} [16710 pts x 12 boxes]" in table  # nothing cut off
    header, rule, row = table.splitlines()
    assert len(rule) == len(header) and row.index("drivestack") == header.index("implementation")
