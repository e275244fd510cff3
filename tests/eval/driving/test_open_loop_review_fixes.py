"""Open-loop evaluation fixes: the planner's recorded ego state from backward differences
(nothing after the instant), plans and recordings ending just short of a compared sample
(nuPlan's rule), the miss-rate bound, and `drivestack eval planning` on logs too short to
score (counted, exit 1 when none is scored), the baseline named in --planner, null pooled
scores in metrics.json and the report's count of scored logs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow.feather as feather
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.cli import main as cli_main
from drivestack.eval.driving.open_loop import (
    OpenLoopParams,
    end_tolerance_ns,
    instant_errors,
    open_loop_result,
    scored_drives,
)
from drivestack.eval.driving.open_loop_logs import (
    RecordedMotion,
    backward_difference,
    instant_times_s,
)
from drivestack.report.planning import headline, read_planning
from drivestack.structures.trajectory import Trajectory

PARAMS = OpenLoopParams()
ADCF = "argoverse2/sensor/val/adcf7d18-0510-35b0-a2fa-b4cea13a6d76"


def line(start_s: float, end_s: float, speed_mps: float, dt_s: float = 0.1) -> Trajectory:
    """A drive along +x from x = speed * start at ``speed_mps``, samples every ``dt_s`` from
    ``start_s`` to ``end_s`` (the last one at ``end_s`` exactly)."""
    t = np.arange(start_s, end_s - 1e-9, dt_s)
    t = np.append(t, end_s)
    n = len(t)
    return Trajectory(
        np.round(t * 1e9).astype(np.int64),
        speed_mps * t,
        np.zeros(n),
        np.zeros(n),
        np.full(n, speed_mps),
        np.zeros(n),
        np.zeros(n),
        "world",
    )


def test_backward_differences_by_hand() -> None:
    t = np.array([0.0, 0.1, 0.3, 0.4])
    v = np.array([0.0, 1.0, 1.0, 3.0])
    np.testing.assert_allclose(backward_difference(v, t), [10.0, 10.0, 0.0, 20.0])
    np.testing.assert_allclose(backward_difference(v, t, first=2), [0.0, 0.0, 0.0, 20.0])
    np.testing.assert_allclose(backward_difference(v[:1], t[:1]), [0.0])


def test_the_planner_state_does_not_read_the_pose_after_the_instant() -> None:
    # 10 m/s until 2.0 s, then standing: a central difference at 2.0 s reads the pose at
    # 2.1 s and halves the speed; the backward one is the 10 m/s driven up to then
    t = np.round(np.arange(41) * 0.1, 9)
    x = 10.0 * np.minimum(t, 2.0)
    xy = np.stack([x, np.zeros_like(x)], axis=1)
    central = np.gradient(x, t)
    motion = RecordedMotion(t, xy, np.zeros_like(t), central, np.gradient(central, t), 0 * t)
    _, _, _, speed, accel, _ = motion.at(2.0)
    assert speed == pytest.approx(10.0) and accel == pytest.approx(0.0)
    assert motion.speed_mps[20] == pytest.approx(5.0)  # the expert's keeps the central one
    assert motion.at(2.1)[3] == pytest.approx(0.0)
    assert motion.at(2.1)[4] == pytest.approx(-100.0)  # stopped dead in one sweep


@settings(max_examples=40, deadline=None)
@given(
    xy=st.lists(
        st.tuples(st.floats(-50, 50), st.floats(-50, 50)), min_size=8, max_size=8, unique=True
    ),
    yaw=st.lists(st.floats(-3, 3), min_size=8, max_size=8),
    k=st.integers(3, 6),
    shift=st.floats(-20, 20).filter(lambda v: abs(v) > 1e-3),
)
def test_the_state_at_a_sweep_is_the_same_whatever_comes_after(
    xy: list[tuple[float, float]], yaw: list[float], k: int, shift: float
) -> None:
    t = np.arange(8) * 0.1
    a, b = np.array(xy), np.array(yaw)
    later_xy, later_yaw = a.copy(), b.copy()
    later_xy[k + 1 :] += shift  # another future after sweep k
    later_yaw[k + 1 :] += shift / 10
    zeros = np.zeros(8)
    now = RecordedMotion(t, a, b, zeros, zeros, zeros).at(float(t[k]))
    other = RecordedMotion(t, later_xy, later_yaw, zeros, zeros, zeros).at(float(t[k]))
    assert now == pytest.approx(other, abs=1e-9)


def test_a_plan_slightly_shorter_than_the_horizon_is_compared_at_its_end() -> None:
    expert = line(0.0, 20.0, 10.0)
    plan = line(0.0, 7.95, 9.0)  # 1 m/s slower, 50 ms short of 8 s
    errors = instant_errors(plan, expert, 0.0, PARAMS, center_offset_m=1.4)
    # k m behind at k s, and at the plan's end 7.95 m (nuPlan: its last state, the expert then)
    np.testing.assert_allclose(errors.displacement_m, [1, 2, 3, 4, 5, 6, 7, 7.95], atol=1e-9)
    with pytest.raises(ValueError, match=r"covers 6.95 s; the comparison needs 8.00 s"):
        instant_errors(line(0.0, 6.95, 9.0), expert, 0.0, PARAMS, 1.4)  # two samples short
    with pytest.raises(ValueError, match=r"covers 7.00 s"):
        instant_errors(line(0.0, 7.0, 9.0), expert, 0.0, PARAMS, 1.4)  # ends on the 7 s one


def test_a_recording_ending_within_half_a_sample_of_the_horizon_covers_it() -> None:
    plan = line(0.0, 8.0, 9.0)
    assert end_tolerance_ns(line(0.0, 7.98, 10.0)) == 50_000_000
    covered = instant_errors(plan, line(0.0, 7.98, 10.0), 0.0, PARAMS, 1.4)
    # the 8 s sample compared at the recording's end, 7.98 s: 7.98 m apart
    np.testing.assert_allclose(covered.displacement_m[-1], 7.98, atol=1e-9)
    assert [h.instants for h in open_loop_result([covered], PARAMS).horizons] == [1, 1, 1]
    short = instant_errors(plan, line(0.0, 7.9, 10.0), 0.0, PARAMS, 1.4)
    assert len(short.displacement_m) == 7  # 100 ms short: the 8 s sample is not covered
    # a 14.96 s recording: 12 s + 3 s is covered to within 50 ms, so 12 s is an instant
    assert instant_times_s(14.96, PARAMS, 0.05) == [float(k) for k in range(13)]
    assert instant_times_s(14.96, PARAMS) == [float(k) for k in range(12)]
    assert instant_times_s(2.96, PARAMS, 0.05) == [0.0]


@pytest.mark.parametrize("rate", [7.0, -0.1, math.nan])
def test_the_miss_rate_bound_is_a_share(rate: float) -> None:
    with pytest.raises(ValueError, match=r"max_miss_rate must be a finite number >= 0 and <= 1"):
        OpenLoopParams(max_miss_rate=rate)
    assert OpenLoopParams(max_miss_rate=1.0).max_miss_rate == 1.0


def _short_log(shared_data: Path, folder: Path, seconds: float) -> Path:
    """The shared adcf7d18 log cut to its first ``seconds`` of annotations (poses and map
    linked, not copied)."""
    source = shared_data / ADCF
    folder.mkdir(parents=True)
    table = feather.read_table(source / "annotations.feather")
    t = table.column("timestamp_ns").to_numpy()
    keep = t <= t.min() + round(seconds * 1e9)
    feather.write_feather(table.filter(keep), folder / "annotations.feather")
    for name in ("city_SE3_egovehicle.feather", "map"):
        (folder / name).symlink_to(source / name)
    return folder


@pytest.mark.data
def test_logs_too_short_to_score_are_counted_and_none_scored_exits_1(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    short = tmp_path / "short"
    _short_log(shared_data, short / "short5", 5.0)
    base = ["eval", "planning", "--dataset", "av2", "--planner", "constant_velocity", "--quiet"]
    rc = cli_main([*base, "--root", str(short), "--out", str(tmp_path / "o1")])
    out, err = capsys.readouterr()
    assert rc == 1
    assert "OLS over 0 of 1 logs (1 too short for the 8 s horizon)" in out
    assert err.strip().startswith("no log was scored") and len(err.strip().splitlines()) == 1
    assert (tmp_path / "o1" / "metrics.json").is_file()  # still written

    mixed = tmp_path / "mixed"
    _short_log(shared_data, mixed / "short5", 5.0)
    (mixed / "adcf7d18").symlink_to(shared_data / ADCF)
    rc = cli_main([*base, "--root", str(mixed), "--out", str(tmp_path / "o2")])
    out = capsys.readouterr().out
    assert rc == 0 and "OLS over 1 of 2 logs (1 too short for the 8 s horizon)" in out
    data = json.loads((tmp_path / "o2" / "metrics.json").read_text())
    overall = data["overall"]["constant_velocity"]
    assert (overall["logs"], overall["logs_scored"]) == (2, 1)
    scores = [log["planners"]["constant_velocity"]["score"] for log in data["logs"]]
    assert scores.count(None) == 1 and overall["score"] == next(s for s in scores if s is not None)
    # pooled instants have no OLS: no score contradicting overall.score
    pooled = overall["pooled_instants"]
    assert [pooled[k] for k in ("scores", "weighted_score", "miss_rate_within_bound", "score")] == [
        None
    ] * 4
    assert pooled["horizons"][0]["instants"] == 13 + 3  # the errors are still pooled
    lines = headline({"metrics.json": read_planning(data)}, [])
    assert lines[0]["name"] == "open-loop constant_velocity: OLS over 1 of 2 logs"


def test_scored_drives_counts_the_drives_with_an_ols() -> None:
    full = open_loop_result(
        [instant_errors(line(0.0, 8.0, 10.0), line(0.0, 9.0, 10.0), 0.0, PARAMS, 1.0)], PARAMS
    )
    short = open_loop_result(
        [instant_errors(line(0.0, 8.0, 10.0), line(0.0, 4.0, 10.0), 0.0, PARAMS, 1.0)], PARAMS
    )
    assert full.score == 1.0 and short.score is None
    assert scored_drives([full, short, full]) == 2


def test_the_baseline_may_be_named_in_planner(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    # accepted: the run goes on to the root, which holds no log
    args = ["eval", "planning", "--dataset", "av2", "--root", str(empty), "--quiet"]
    rc = cli_main([*args, "--planner", "constant_velocity,pdm", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "no <log_id>/annotations.feather" in err
    rc = cli_main([*args, "--planner", "constant_velocity,rrt", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "unknown planner 'rrt'" in err
    assert "(constant_velocity, the baseline, is always scored)" in err
