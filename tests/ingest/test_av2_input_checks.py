"""Argoverse 2 inputs: float nanosecond columns are refused (they have lost digits), and a
sweep time a log does not have is reported with the times it does have."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.argoverse2 import read_av2_cuboids, read_av2_frame, read_av2_poses

TS = 315_966_253_660_357_000


def _table(ts: np.ndarray, **extra: np.ndarray) -> object:
    import pyarrow as pa

    n = len(ts)
    cols = {"timestamp_ns": ts, "category": ["REGULAR_VEHICLE"] * n}
    cols |= {k: np.full(n, 2.0) for k in ("length_m", "width_m", "height_m")}
    cols |= {k: np.full(n, float(k == "qw")) for k in ("qw", "qx", "qy", "qz")}
    cols |= {k: np.zeros(n) for k in ("tx_m", "ty_m", "tz_m")}
    return pa.table(cols | extra)


def test_float_timestamp_columns_are_refused(tmp_path: Path) -> None:
    import pyarrow.feather as feather

    ok = tmp_path / "ok.feather"
    feather.write_feather(_table(np.array([TS, TS], np.int64)), str(ok))
    assert read_av2_cuboids(ok).timestamp_ns.tolist() == [TS, TS]
    for name, table in (
        ("ts.feather", _table(np.array([TS, TS], np.float64))),
        ("pts.feather", _table(np.array([TS, TS]), num_interior_pts=np.array([1.0, 2.0]))),
    ):
        feather.write_feather(table, str(tmp_path / name))
        with pytest.raises(DataError, match="must be an integer column, got double") as err:
            read_av2_cuboids(tmp_path / name)
        assert err.value.path == str(tmp_path / name)
        assert err.value.field == ("timestamp_ns" if name == "ts.feather" else "num_interior_pts")
    feather.write_feather(_table(np.array([TS], np.float64)), str(tmp_path / "poses.feather"))
    with pytest.raises(DataError, match="integer") as err:
        read_av2_poses(tmp_path / "poses.feather")
    assert err.value.field == "timestamp_ns"


def test_missing_sweep_names_the_log_and_its_sweep_times(tmp_path: Path) -> None:
    lidar = tmp_path / "log-a" / "sensors" / "lidar"
    lidar.mkdir(parents=True)
    for ts in (TS + 100_000_000, TS, TS + 200_000_000):
        (lidar / f"{ts}.feather").write_bytes(b"")
    with pytest.raises(DataError) as err:
        read_av2_frame(tmp_path / "log-a", 12345)
    assert err.value.path == str(tmp_path / "log-a")
    assert "no sweep at timestamp 12345" in str(err.value)
    assert f"first/last sweep timestamps {TS} / {TS + 200_000_000} (3 sweeps)" in str(err.value)
    with pytest.raises(DataError, match=r"no sweep at timestamp 12345.*has no sensors/lidar"):
        read_av2_frame(tmp_path / "no-such-log", 12345)
