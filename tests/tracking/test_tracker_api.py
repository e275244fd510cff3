"""The tracker's API for new users: build from a YAML path, clear errors for wrong types."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import ConfigError
from drivestack.core.transforms import SE3
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.labels import ObjectClass
from drivestack.structures.tracks import Tracks
from drivestack.tracking import Tracker, build_tracker, load_tracker_config, single_class_tracker
from tests.tracking.result_rows import TRACKING_CONFIGS

LIDAR_STACK = TRACKING_CONFIGS / "lidar_stack.yaml"


def _car(t_ns: int) -> Boxes3D:
    return Boxes3D.from_array7(
        [[10.0, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]], "ego", t_ns, score=[5.0], label=[ObjectClass.CAR]
    )


@pytest.mark.parametrize("path", [str(LIDAR_STACK), LIDAR_STACK])
def test_build_tracker_takes_a_yaml_path(path: str | Path) -> None:
    from_path = build_tracker(path)
    assert isinstance(from_path, Tracker)
    assert from_path.cfg == load_tracker_config(LIDAR_STACK)
    # the same tracker as from the loaded config: same tracks on the same detections
    from_cfg = build_tracker(load_tracker_config(LIDAR_STACK))
    pose = SE3.identity()
    for k in range(3):
        a = from_path.step(_car(k * 100_000_000), pose)
        b = from_cfg.step(_car(k * 100_000_000), pose)
        assert len(a) == 1 and a.track_id.tolist() == b.track_id.tolist()
        np.testing.assert_array_equal(a.boxes.to_array7(), b.boxes.to_array7())


def test_build_tracker_bad_arguments() -> None:
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        build_tracker("missing.yaml")
    with pytest.raises(
        TypeError, match=r"Tracker expects a TrackerConfig or a YAML file path .* got dict"
    ):
        build_tracker({"classes": {}})  # type: ignore[arg-type]


def test_single_class_tracker_tracks_one_class_of_a_config() -> None:
    cfg = replace(load_tracker_config(LIDAR_STACK), ego_motion_compensation=True)
    name = next(iter(cfg.classes))
    for cls in (name, name.upper(), name.capitalize()):
        tracker = single_class_tracker(cfg, cls)
        assert tracker.cfg.classes == {cls: cfg.classes[name]}
        assert tracker.cfg.ego_motion_compensation
    assert not single_class_tracker(
        replace(cfg, ego_motion_compensation=False), name
    ).cfg.ego_motion_compensation
    with pytest.raises(KeyError, match="'no_such'"):
        single_class_tracker(replace(cfg, classes={}), "No_Such")


def test_the_tracker_class_takes_a_yaml_path_too() -> None:
    tracker = Tracker(LIDAR_STACK)
    assert tracker.cfg == load_tracker_config(LIDAR_STACK)
    assert Tracker(str(LIDAR_STACK)).cfg == tracker.cfg
    with pytest.raises(ConfigError, match=r"missing\.yaml"):
        Tracker("missing.yaml")


def test_step_says_what_it_got_and_what_it_expects() -> None:
    tracker = build_tracker(LIDAR_STACK)
    with pytest.raises(
        TypeError,
        match=r"Tracker\.step expects the detections as a Boxes3D, got ndarray; .*Boxes3D\.from_array7\(boxes",
    ):
        tracker.step(np.zeros((2, 7)))  # type: ignore[arg-type]
    tracks = Tracks(np.arange(1), _car(0))
    with pytest.raises(TypeError, match=r"got Tracks; pass the detections' boxes"):
        tracker.step(tracks)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"got list$"):
        tracker.step([])  # type: ignore[arg-type]


def test_a_missing_pose_says_where_to_get_one() -> None:
    tracker = Tracker(LIDAR_STACK)
    assert tracker.cfg.ego_motion_compensation
    with pytest.raises(ValueError, match=r"needs world_from_frame.*world_from_ego.*false"):
        tracker.step(_car(0))


def test_times_in_another_unit_than_nanoseconds_are_warned_about_once() -> None:
    # millisecond stamps 100 apart: a car moving 1 m a frame read 0.0024 m/s, without a word
    import warnings

    from drivestack.tracking.config import (
        AssociationConfig,
        ClassTrackerConfig,
        LifecycleConfig,
        TrackerConfig,
    )
    from drivestack.tracking.tracker import build_tracker

    cfg = ClassTrackerConfig(
        association=AssociationConfig(metric="distance_bev", threshold=-2.0),
        lifecycle=LifecycleConfig(min_hits=1),
    )

    def run(step_ns: int) -> list[warnings.WarningMessage]:
        tracker = build_tracker(TrackerConfig(classes={"car": cfg}))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for k in range(4):
                box = [[10.0 + k, 0.0, 0.0, 4.0, 2.0, 1.5, 0.0]]
                tracker.step(
                    Boxes3D.from_array7(box, "ego", (k + 1) * step_ns, score=[1.0], label=[1])
                )
        return [w for w in caught if "are the times in nanoseconds?" in str(w.message)]

    (warning,) = run(100)  # ms read as ns: once per tracker, not every step
    assert "advanced by 100 ns (1e-07 s)" in str(warning.message)
    assert not run(100_000_000)  # 10 Hz in ns
    assert len(run(2 * 86_400 * 1_000_000_000)) == 1  # two days a step
