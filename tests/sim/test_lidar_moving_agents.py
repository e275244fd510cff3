"""Moving agents during a LiDAR sweep: each column sees an agent where it is when it fires."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.core.transforms import SE3
from drivestack.sim.sensors import LidarModel, SensorScene
from drivestack.sim.sensors.lidar import LidarPreset
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass

SPEED_MPS = 20.0
SWEEP_S = 0.1


def _moving_wall(speed_mps: float) -> Boxes3D:
    """A 1 m thick, 40 m wide, 6 m tall box; near face at x = 9.5 m, moving along +x."""
    return Boxes3D.from_array7(
        [[10.0, 0.0, 3.0, 1.0, 40.0, 6.0, 0.0]],
        "world",
        label=[ObjectClass.UNKNOWN],
        velocity_mps=[[speed_mps, 0.0]],
    )


def _scan(speed_mps: float, tolerance_m: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """x of the wall's returns and their firing times (s), one beam at the sensor's height."""
    scene = SensorScene(ground=False)
    scene.set_agents(_moving_wall(speed_mps))
    model = LidarModel(
        LidarPreset("flat", (0.0,), 360, 100.0),
        SE3.identity(),
        range_noise_std_m=0.0,
        sweep_duration_s=SWEEP_S,
        agent_motion_tolerance_m=tolerance_m,
    )
    cloud = model.scan(scene, SE3.identity(), 0)
    on_wall = cloud.attributes["instance"] == 1
    return (
        cloud.xyz_m[on_wall, 0].astype(np.float64),
        cloud.attributes["time_offset_ns"][on_wall] / 1e9,
    )


def test_column_sees_the_agent_where_it_is_when_the_column_fires():
    x, t = _scan(SPEED_MPS)
    # columns from -60 to +60 deg hit the face; column at azimuth a fires at a / 360 deg * 0.1 s
    assert t.min() < -0.01 and t.max() > 0.01
    # 30 deg left fires 8.33 ms after the timestamp: the face is 20 m/s * 8.33 ms further
    at_30 = np.argmin(np.abs(t - SWEEP_S * 30 / 360))
    assert x[at_30] == pytest.approx(9.5 + SPEED_MPS * SWEEP_S * 30 / 360, abs=0.02)
    # every return within the tolerance of where the face is at its column's time
    np.testing.assert_array_less(np.abs(x - (9.5 + SPEED_MPS * t)), 0.02 + 1e-5)


def test_tight_tolerance_is_exact_per_column_and_still_agents_stay_put():
    x, t = _scan(SPEED_MPS, tolerance_m=1e-6)  # one slab per column
    np.testing.assert_allclose(x, 9.5 + SPEED_MPS * t, atol=1e-4)
    x0, _ = _scan(0.0)
    np.testing.assert_allclose(x0, 9.5, atol=1e-4)


def test_scan_leaves_the_scene_agents_at_their_time():
    scene = SensorScene(ground=False)
    scene.set_agents(_moving_wall(SPEED_MPS))
    LidarModel(LidarPreset("flat", (0.0,), 360, 100.0), SE3.identity()).scan(
        scene, SE3.identity(), 0
    )
    hits = scene.cast(np.zeros((1, 3)), np.array([[1.0, 0.0, 0.0]]), 100.0)
    assert hits.range_m[0] == pytest.approx(9.5, abs=1e-4)  # what a camera then renders


def test_tolerance_must_be_positive():
    with pytest.raises(ValueError, match="agent_motion_tolerance_m"):
        LidarModel(
            LidarPreset("flat", (0.0,), 360, 100.0), SE3.identity(), agent_motion_tolerance_m=0
        )
