"""Euro NCAP style results of one run: avoidance, impact speeds, minimum TTC and distance.

Fields (``metrics.json`` ``ncap``):
  ``avoided``                    no contact with any agent during the run; ``null`` when the
                                 run was cut short (``--max-steps``) without a contact: not
                                 evaluated (see ``truncated``, ``not_evaluated``)
  ``initial_speed_kph``          the ego's (absolute) speed at the first tick
  ``impact_speed_kph``           the ego's own (absolute) speed at the first contact, at the
                                 instant the footprints first touched between the two ticks
                                 (interpolated, as the collision types are); ``null`` when
                                 avoided
  ``relative_impact_speed_kph``  the closing speed at the first contact: the absolute value of
                                 the ego's (signed) speed minus the speed of the agent it
                                 touches along the ego's heading, so never negative (being
                                 hit from behind by a faster car or reversing into one closes
                                 the gap too)
                                 (Euro NCAP's V_rel_impact, which CCRm / CCRb score by; equal
                                 to ``impact_speed_kph`` for a stationary target, and for a
                                 crossing pedestrian, whose motion is across the heading);
                                 the largest over the agents touched at that tick; ``null``
                                 when avoided
  ``speed_reduction_kph``        ``initial_speed_kph - impact_speed_kph``; when the collision
                                 is avoided the whole initial speed (avoidance counts as the
                                 full reduction). For a target that keeps its speed this equals
                                 Euro NCAP's V_rel_test - V_rel_impact. ``null`` when not
                                 evaluated (a cut-short run without a contact)
  ``min_ttc_s``                  nuPlan's minimum time to collision (constant-velocity
                                 projection, :func:`~drivestack.eval.driving.nuplan.
                                 min_time_to_collision_s`) over the run; ``null`` when no
                                 projection hits within ``ttc_horizon_s`` (not "no TTC": none
                                 at or below the horizon)
  ``ttc_horizon_s``              the projection horizon of ``min_ttc_s`` (3 s)
  ``min_distance_m``             the smallest footprint distance to any agent (0 on contact);
                                 ``null`` when the run has no agent
  ``truncated``                  the run stopped before the scenario's end (``--max-steps``)
  ``not_evaluated``              why ``avoided`` / ``speed_reduction_kph`` are ``null``
                                 (``"not evaluated: run cut at N of M steps"``), else ``null``
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import shapely

from drivestack.core.json_values import finite_json
from drivestack.eval.driving.history_checks import check_history
from drivestack.eval.driving.nuplan import TTC_HORIZON_S, first_contact_state
from drivestack.kernels import box_corners
from drivestack.sim.runner import SimHistory

KPH_PER_MPS = 3.6


@dataclass(frozen=True)
class NcapResult:
    avoided: bool | None  # None: the run was cut short without a contact (not evaluated)
    initial_speed_kph: float
    impact_speed_kph: float | None  # ego speed at the first contact
    # initial minus impact speed (the initial speed when avoided); None when not evaluated
    speed_reduction_kph: float | None
    min_ttc_s: float | None  # None: no projected hit within ttc_horizon_s
    min_distance_m: float  # inf when there is no agent (null in as_dict)
    # closing speed at the first contact (|ego minus target speed along the ego's heading|)
    relative_impact_speed_kph: float | None = None
    ttc_horizon_s: float = TTC_HORIZON_S
    truncated: bool = False  # the run stopped before the scenario's last step
    not_evaluated: str | None = None  # why avoided / speed_reduction_kph are None

    def as_dict(self) -> dict[str, object]:
        """The fields, every non-finite float (``min_distance_m`` without agents) as None, so
        the record is strict JSON."""
        return finite_json(asdict(self))


def min_distance_m(history: SimHistory) -> float:
    """Smallest footprint-to-footprint distance between the ego and any valid agent (0 on
    contact); ``inf`` without agents. An agent's box counts only where it is valid (an absent
    agent's box may be NaN)."""
    if history.agent_boxes.shape[1] == 0:
        return float("inf")
    ego = shapely.polygons(box_corners(history.ego_boxes)[:, :4, :2])
    valid = np.asarray(history.agent_valid, dtype=bool)
    boxes = np.where(valid[..., None], history.agent_boxes, 0.0)  # absent: any finite box
    agents = shapely.polygons(box_corners(boxes.reshape(-1, 7))[:, :4, :2]).reshape(
        history.agent_boxes.shape[:2]
    )
    dist = shapely.distance(ego[:, None], agents)
    return float(np.min(np.where(history.agent_valid, dist, np.inf)))


def impact_speeds_kph(history: SimHistory, tick: int) -> tuple[float, float]:
    """``(impact, relative)`` km/h at the first contact of ``tick`` (the run's first tick with
    a contact), each agent touched there at its own interpolated first-contact instant
    (:func:`~drivestack.eval.driving.nuplan.first_contact_state`, as the nuPlan collision
    types read it): ``impact`` the ego's |speed| at the earliest of those instants, ``relative``
    the largest ``|ego speed - agent velocity along the ego's heading|`` over the agents, each
    at its instant (the ego's speed signed, negative when reversing); never negative."""
    states = [
        first_contact_state(history, tick, int(j)) for j in np.flatnonzero(history.collisions[tick])
    ]
    first = min(states, key=lambda c: c.fraction)
    relative = max(
        abs(
            c.ego_speed_mps
            - float(c.agent_velocity_mps @ np.array([np.cos(c.ego_box[6]), np.sin(c.ego_box[6])]))
        )
        for c in states
    )
    return abs(first.ego_speed_mps) * KPH_PER_MPS, relative * KPH_PER_MPS


def ncap_result(
    history: SimHistory, min_ttc_s: float, scenario_steps: int | None = None
) -> NcapResult:
    """The NCAP result of ``history``. ``scenario_steps``: the steps of the whole scenario; when
    the run took fewer (cut short by ``max_steps``) and had no contact, whether the collision
    would have been avoided is unknown: ``avoided`` and ``speed_reduction_kph`` are then None
    and ``not_evaluated`` says why (a contact within the run is a result either way).

    Raises:
        ValueError: naming the argument (and field, tick): a history that cannot be scored
            (:func:`~drivestack.eval.driving.history_checks.check_history`; at least one
            tick), a NaN ``min_ttc_s`` (``inf``: no projected hit).
    """
    check_history(history, min_ticks=1)
    if not (isinstance(min_ttc_s, int | float | np.floating) and min_ttc_s == min_ttc_s):
        raise ValueError(f"min_ttc_s must be a number (inf: no projected hit), got {min_ttc_s!r}")
    run_steps = max(len(history) - 1, 0)
    truncated = scenario_steps is not None and run_steps < scenario_steps
    initial = abs(float(history.ego_speed_mps[0])) * KPH_PER_MPS
    hit_ticks = np.flatnonzero(np.any(history.collisions, axis=1))
    if len(hit_ticks):
        impact, relative = impact_speeds_kph(history, int(hit_ticks[0]))
        return NcapResult(
            False,
            initial,
            impact,
            initial - impact,
            _finite(min_ttc_s),
            0.0,
            relative,
            truncated=truncated,
        )
    if truncated:
        note = f"not evaluated: run cut at {run_steps} of {scenario_steps} steps"
        return NcapResult(
            None,
            initial,
            None,
            None,
            _finite(min_ttc_s),
            min_distance_m(history),
            truncated=True,
            not_evaluated=note,
        )
    return NcapResult(True, initial, None, initial, _finite(min_ttc_s), min_distance_m(history))


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
