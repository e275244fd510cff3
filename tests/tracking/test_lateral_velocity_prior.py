"""A new vehicle track's velocity prior across its box's axis (``motion.
initial_lateral_velocity_std_mps``): vehicles drive along their long axis, so a new track's
second box moving sideways is mostly box noise, not speed - while a move along the axis is
taken as speed as before."""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.config.strict import ConfigError
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.tracking.config import (
    AssociationConfig,
    ClassTrackerConfig,
    LifecycleConfig,
    MotionConfig,
    TrackerConfig,
    load_tracker_config,
)
from drivestack.tracking.motion import ConstantVelocityModel
from drivestack.tracking.tracker import build_tracker


def _second_frame_velocity(lateral_std_mps: float | None, second_xy_m: list[float]) -> np.ndarray:
    """Velocity of a car track after its second box: first box at (20, 0) with yaw 30 deg,
    the second at ``second_xy_m`` 0.1 s later."""
    cfg = ClassTrackerConfig(
        motion=MotionConfig(
            process_position_std_m=1.0,
            process_velocity_std_mps=6.0,
            measurement_position_std_m=0.3,
            initial_lateral_velocity_std_mps=lateral_std_mps,
        ),
        association=AssociationConfig(metric="distance_bev", threshold=-3.0),
        lifecycle=LifecycleConfig(min_hits=1),
    )
    tracker = build_tracker(TrackerConfig(classes={"car": cfg}))
    yaw = np.radians(30.0)
    for k, (x, y) in enumerate([(20.0, 0.0), tuple(second_xy_m)]):
        out = tracker.step(
            Boxes3D.from_array7(
                [[x, y, 0.8, 4.5, 1.8, 1.5, yaw]],
                "ego",
                int(k * 1e8),
                score=[0.9],
                label=[int(ObjectClass.CAR)],
            )
        )
    return out.boxes.velocity_mps[0]


def test_a_sideways_jump_of_a_new_track_is_mostly_not_speed() -> None:
    # 0.7 m across the box's axis (yaw 30 deg) in 0.1 s
    across = 0.7 * np.array([-np.sin(np.radians(30.0)), np.cos(np.radians(30.0))])
    plain = _second_frame_velocity(None, [20.0 + across[0], across[1]])
    prior = _second_frame_velocity(2.0, [20.0 + across[0], across[1]])
    assert np.hypot(*plain) > 6.0  # the raw difference: 7 m/s sideways
    assert np.hypot(*prior) < 2.0


def test_a_move_along_the_axis_is_speed_as_before() -> None:
    # 1 m along the axis in 0.1 s: 10 m/s whether the prior is set or not
    along = np.array([np.cos(np.radians(30.0)), np.sin(np.radians(30.0))])
    plain = _second_frame_velocity(None, [20.0 + along[0], along[1]])
    prior = _second_frame_velocity(2.0, [20.0 + along[0], along[1]])
    np.testing.assert_allclose(prior, plain, atol=0.05)
    assert np.hypot(*prior) > 9.0


def test_the_prior_covariance_is_the_box_axis_rotated() -> None:
    model = ConstantVelocityModel(
        MotionConfig(initial_velocity_std_mps=10.0, initial_lateral_velocity_std_mps=1.0)
    )
    boxes = np.array([[0, 0, 0, 4.5, 1.8, 1.5, 0.0], [0, 0, 0, 4.5, 1.8, 1.5, np.pi / 2]])
    _, P = model.initiate(boxes)
    np.testing.assert_allclose(P[0, 7:9, 7:9], [[100.0, 0.0], [0.0, 1.0]], atol=1e-9)
    np.testing.assert_allclose(P[1, 7:9, 7:9], [[1.0, 0.0], [0.0, 100.0]], atol=1e-9)


def test_the_prior_must_be_positive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.yaml"
    path.write_text("classes:\n  car:\n    motion: {initial_lateral_velocity_std_mps: 0.0}\n")
    with pytest.raises(ConfigError, match="initial_lateral_velocity_std_mps"):
        load_tracker_config(path)
