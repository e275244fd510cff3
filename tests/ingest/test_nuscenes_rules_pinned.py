"""nuScenes reading rules a mutation review found unguarded: every test here fails under a
plausible one-token change of the code that no other test noticed.

- a multi-sweep cloud with a negative time lag, however small, is refused naming the point
  and field (read_multisweep_fp16);
- a speed of exactly ``MOVING_SPEED_MPS`` is not moving, as in mmdet3d's ``speed > 0.2``
  (attribute_from_speed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.nuscenes import (
    MOVING_SPEED_MPS,
    attribute_from_speed,
    read_multisweep_fp16,
)


@pytest.mark.parametrize(
    "lag_s",
    [
        -0.05,  # an older sweep's lag with its sign flipped
        -(2.0**-12),  # -0.000244 s, exact in float16: negative however small
    ],
)
def test_a_negative_time_lag_is_refused_naming_its_point_and_field(
    tmp_path: Path, lag_s: float
) -> None:
    # two points (x, y, z, intensity, time_lag_s) all zero but point 1's lag
    pts = np.zeros((2, 5), "<f2")
    pts[1, 4] = lag_s
    path = tmp_path / "sweeps.bin"
    path.write_bytes(pts.tobytes())
    with pytest.raises(DataError, match="negative time lag") as caught:
        read_multisweep_fp16(path)
    assert caught.value.record == "point 1"
    assert caught.value.field == "time_lag_s"


def test_a_zero_time_lag_and_a_positive_one_read_as_offsets(tmp_path: Path) -> None:
    # lags 0 s and 0.5 s (exact in float16) -> time_offset_ns = -lag: 0 and -500 ms
    pts = np.zeros((2, 5), "<f2")
    pts[1, 4] = 0.5
    path = tmp_path / "sweeps.bin"
    path.write_bytes(pts.tobytes())
    cloud = read_multisweep_fp16(path)
    assert cloud.attributes["time_offset_ns"].tolist() == [0, -500_000_000]


def test_exactly_the_moving_speed_is_not_moving() -> None:
    # mmdet3d: `if speed > 0.2` moving; so at 0.2 m/s a car is parked (its default), a bus
    # stopped, a pedestrian standing, a bicycle without rider (its default)
    assert MOVING_SPEED_MPS == 0.2
    got = [attribute_from_speed(n, 0.2) for n in ("car", "bus", "pedestrian", "bicycle")]
    assert got == [
        "vehicle.parked",
        "vehicle.stopped",
        "pedestrian.standing",
        "cycle.without_rider",
    ]
    # just above it: moving
    above = [attribute_from_speed(n, 0.2001) for n in ("car", "bus", "bicycle")]
    assert above == ["vehicle.moving", "vehicle.moving", "cycle.with_rider"]
