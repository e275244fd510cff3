"""The checks the closed-loop metrics run on a :class:`~drivestack.sim.runner.SimHistory`
before scoring it: what a history made by hand (or by a planner of one's own) may get wrong
and the metrics would otherwise crash on deep inside NumPy / shapely, or score silently wrong
(a NaN pose turns the driving-direction multiplier to 0, a NaN speed the comfort to
"uncomfortable", a NaN agent box is never hit)."""

from __future__ import annotations

from drivestack.sim.history_arrays import HISTORY_SHAPES, HistoryArrayError, check_history_arrays
from drivestack.sim.runner import SimHistory
from drivestack.structures._checks import check_number

#: The arrays the metrics read (:data:`HISTORY_SHAPES` less the planner's and simulator's
#: wall times).
METRIC_ARRAYS = tuple(n for n in HISTORY_SHAPES if n not in ("planner_step_s", "sim_step_s"))


def check_history(history: SimHistory, min_ticks: int = 0) -> None:
    """Refuse ``history`` unless it has a finite ``dt_s > 0``, arrays of the shapes
    :class:`SimHistory` documents (``T`` the ticks of ``timestamp_ns``, ``A`` the agents of
    ``agent_ids``) holding numbers, finite ego values, agent boxes and velocities (an agent's
    only at the ticks it is valid: an absent agent's box may be NaN), timestamps that strictly
    increase (:func:`~drivestack.sim.history_arrays.check_history_arrays`) and at least
    ``min_ticks`` ticks.

    Raises:
        ValueError: naming ``history.<field>`` (and the first bad tick, and agent).
    """
    check_number("history.dt_s", history.dt_s, above=0.0)
    n_a = len(history.agent_ids)
    arrays = {name: getattr(history, name) for name in METRIC_ARRAYS}
    try:
        check_history_arrays(arrays, n_agents=n_a, agents_of="agent_ids", names=METRIC_ARRAYS)
    except HistoryArrayError as err:
        field = f"history.{err.field}"
        if err.kind == "shape":
            message = (
                f"{field} must have shape {err.expected} (T = {err.sizes['T']} ticks of "
                f"timestamp_ns, A = {n_a} agent_ids), got {err.shape}"
            )
        elif err.kind == "dtype":
            message = f"{field} must hold numbers"
        elif err.kind == "order":
            message = f"{field} does not increase at tick {err.tick}"
        else:
            agent = "" if err.agent is None else f", agent {history.agent_ids[err.agent]!r}"
            message = f"{field} is NaN or infinite at tick {err.tick}{agent}"
        raise ValueError(message) from None
    if len(history) < min_ticks:
        raise ValueError(f"history has {len(history)} ticks, the metrics need at least {min_ticks}")
