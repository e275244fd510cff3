"""The one check of a history's arrays that the metrics (``check_history``) and the report
(``load_history``) share: each problem found once, naming the field, tick and agent."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.eval.driving.history_checks import check_history
from drivestack.report.scenario_view import load_history
from drivestack.sim import runner
from drivestack.sim.history_arrays import (
    EGO_ARRAYS,
    HISTORY_ARRAYS,
    HISTORY_SHAPES,
    HistoryArrayError,
    check_history_arrays,
)
from drivestack.sim.vehicle import VehicleParams

T, A = 4, 2


def arrays(**changes: object) -> dict[str, object]:
    """A valid history of 4 ticks and 2 agents (agent 1 absent at tick 0, its box NaN)."""
    boxes = np.tile([20.0, 0.0, 0.8, 4.5, 1.9, 1.6, 0.0], (T, A, 1))
    valid = np.ones((T, A), bool)
    boxes[0, 1], valid[0, 1] = np.nan, False
    out: dict[str, object] = {
        "timestamp_ns": np.arange(T, dtype=np.int64) * 100_000_000,
        **{name: np.zeros(T) for name in EGO_ARRAYS},
        "ego_boxes": np.tile([0.0, 0.0, 0.8, 4.5, 1.9, 1.6, 0.0], (T, 1)),
        "agent_labels": np.array([1, 1]),
        "agent_boxes": boxes,
        "agent_velocity_mps": np.zeros((T, A, 2)),
        "agent_valid": valid,
        "collisions": np.zeros((T, A), bool),
        "planner_step_s": np.full(T - 1, 1e-3),
        "sim_step_s": np.full(T - 1, 1e-3),
    }
    return {**out, **changes}


def error(**changes: object) -> HistoryArrayError:
    with pytest.raises(HistoryArrayError) as err:
        check_history_arrays(arrays(**changes))
    return err.value


def nan_at(name: str, index: tuple[int, ...]) -> np.ndarray:
    values = np.array(arrays()[name], dtype=np.float64)
    values[index] = np.nan
    return values


def test_the_table_is_the_saved_arrays() -> None:
    assert runner.HISTORY_ARRAYS is HISTORY_ARRAYS  # one list, the runner's is this one
    assert " ".join(HISTORY_ARRAYS) == (  # as before, in the order history.npz holds them
        "timestamp_ns ego_x_m ego_y_m ego_yaw_rad ego_speed_mps ego_accel_mps2 "
        "ego_steering_rad ego_boxes agent_labels agent_boxes agent_velocity_mps agent_valid "
        "collisions planner_step_s sim_step_s traffic_light_ids traffic_light_state "
        "planner_stop_reason planner_emergency"
    )
    assert set(HISTORY_SHAPES) == set(arrays())


def test_a_valid_history_passes() -> None:
    check_history_arrays(arrays())  # an absent agent's NaN box does not count
    check_history_arrays(arrays(timestamp_ns=np.zeros(0, np.int64), **{
        k: np.asarray(v)[:0] for k, v in arrays().items() if k not in ("timestamp_ns", "agent_labels")
    }))  # fmt: skip


def test_each_problem_names_field_tick_and_agent() -> None:
    err = error(ego_x_m=np.zeros(2))
    assert (err.field, err.kind, err.shape, err.expected) == ("ego_x_m", "shape", (2,), (4,))
    assert err.reason.startswith("shape (2,), expected (T=4; T: the ticks of timestamp_ns")
    err = error(agent_velocity_mps=np.zeros((T, 3, 2)))
    assert (err.field, err.expected) == ("agent_velocity_mps", (4, 2, 2))
    assert "expected (T=4, A=2, 2;" in err.reason
    assert error(sim_step_s=np.zeros(T)).expected == (3,)  # T-1
    err = error(ego_boxes=np.full((T, 7), "a"))
    assert (err.field, err.kind, err.reason) == (
        "ego_boxes",
        "dtype",
        "dtype <U1, expected numbers",
    )
    assert error(ego_speed_mps=np.ones(T, bool)).kind == "dtype"  # a flag is not a speed
    check_history_arrays(arrays(collisions=np.zeros((T, A), np.int8)))  # flags: any number
    err = error(agent_boxes=nan_at("agent_boxes", (2, 1, 4)))
    assert (err.field, err.kind, err.tick, err.agent) == ("agent_boxes", "value", 2, 1)
    err = error(ego_boxes=nan_at("ego_boxes", (3, 6)))
    assert (err.field, err.tick, err.agent) == ("ego_boxes", 3, None)  # column 6 is no agent
    err = error(collisions=nan_at("collisions", (1, 0)))  # NaN would read as a collision
    assert (err.field, err.kind, err.tick, err.agent) == ("collisions", "value", 1, 0)
    err = error(agent_valid=nan_at("agent_valid", (2, 1)))
    assert (err.field, err.kind, err.tick, err.agent) == ("agent_valid", "value", 2, 1)
    check_history_arrays(arrays(collisions=np.zeros((T, A))))  # a float flag of 0 / 1 is one
    err = error(timestamp_ns=np.array([0, 2, 1, 3]))
    assert (err.field, err.kind, err.tick) == ("timestamp_ns", "order", 2)
    assert str(err) == "history array timestamp_ns at tick 2: timestamps do not increase"


def test_given_agents_and_names() -> None:
    check_history_arrays(arrays(agent_labels=np.zeros(0)), n_agents=2, names=["agent_boxes"])
    with pytest.raises(HistoryArrayError) as raised:
        check_history_arrays(arrays(), n_agents=3, agents_of="agent_ids")
    err = raised.value
    assert (err.field, err.expected) == ("agent_labels", (3,))
    assert err.reason.endswith("A: the agents of agent_ids)")


def _history(**changes: object) -> runner.SimHistory:
    return runner.SimHistory(
        dt_s=0.1, agent_ids=("lead", "cut_in"), vehicle=VehicleParams(), **arrays(**changes)
    )


@pytest.mark.parametrize(
    ("changes", "metrics_message", "report_message"),
    [
        (
            {"agent_boxes": nan_at("agent_boxes", (2, 1, 4))},
            "history.agent_boxes is NaN or infinite at tick 2, agent 'cut_in'",
            "tick 2: field agent_boxes: NaN or infinite value",
        ),
        (
            {"collisions": np.zeros((T, 3), bool)},
            "history.collisions must have shape (4, 2) (T = 4 ticks of timestamp_ns, "
            "A = 2 agent_ids), got (4, 3)",
            "field collisions: shape (4, 3), expected (T=4, A=2; T: the ticks of "
            "timestamp_ns, A: the agents of agent_labels)",
        ),
        (
            {"timestamp_ns": np.array([0, 2, 2, 3])},
            "history.timestamp_ns does not increase at tick 2",
            "tick 2: field timestamp_ns: timestamps do not increase",
        ),
        (
            {"ego_yaw_rad": np.full(T, "x")},
            "history.ego_yaw_rad must hold numbers",
            "field ego_yaw_rad: dtype <U1, expected numbers",
        ),
    ],
)
def test_metrics_and_report_say_the_same(
    tmp_path: Path, changes: dict, metrics_message: str, report_message: str
) -> None:
    with pytest.raises(ValueError) as err:
        check_history(_history(**changes))
    assert str(err.value) == metrics_message
    path = tmp_path / "history.npz"
    np.savez(path, **arrays(**changes))
    with pytest.raises(DataError) as data_err:
        load_history(path)
    assert str(data_err.value) == f"{path}: {report_message}"


def test_metrics_do_not_read_the_wall_times() -> None:
    h = _history()
    check_history(dataclasses.replace(h, planner_step_s=np.zeros(0)), min_ticks=4)
    with pytest.raises(ValueError, match="history has 4 ticks, the metrics need at least 5"):
        check_history(h, min_ticks=5)
