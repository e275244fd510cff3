"""AV2 ``--detections`` rows of a log with no labelled sweep under ``--root`` (a misspelt or
foreign log id) are not scored: said on stderr and kept in metrics.json's warnings, as the
nuScenes submission's unknown sample tokens are (found by a bad-input campaign: they were
dropped silently)."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.eval.detection.run import evaluate_dataset


@pytest.mark.data
def test_rows_of_an_unknown_log_are_warned(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pyarrow as pa
    import pyarrow.feather as feather

    root = shared_data / "argoverse2/sensor/val"
    logs = sorted(p.name for p in root.iterdir() if (p / "annotations.feather").exists())
    table = feather.read_table(str(root / logs[0] / "annotations.feather"))
    ids = [logs[0]] * (table.num_rows - 3) + ["nolog"] * 3
    table = table.append_column("log_id", pa.array(ids))
    table = table.append_column("score", pa.array([0.9] * table.num_rows))
    feather.write_feather(table, str(tmp_path / "d.feather"))
    res = evaluate_dataset("av2", root, detections=tmp_path / "d.feather", max_frames=1)
    expected = (
        f"{tmp_path / 'd.feather'}: 3 row(s) of 1 log(s) with no labelled sweep under {root} "
        f"(first 'nolog', row {table.num_rows - 3}): not scored"
    )
    assert expected in res["loader_warnings"]
    assert f"warning: {expected}" in capsys.readouterr().err
    feather.write_feather(
        table.set_column(
            table.schema.get_field_index("log_id"), "log_id", pa.array([logs[0]] * table.num_rows)
        ),
        str(tmp_path / "ok.feather"),
    )
    res = evaluate_dataset("av2", root, detections=tmp_path / "ok.feather", max_frames=1)
    assert "loader_warnings" not in res
