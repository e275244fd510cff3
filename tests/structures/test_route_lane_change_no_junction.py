"""``RoadMap.route(cost="junctions")``: only a successor step across a lane's
``exit_junction_id`` passes that junction; a lane change out of such a lane passes none, so it
can be the way round a junction."""

from __future__ import annotations

from drivestack.structures.road_map import RoadMap
from tests.structures._helpers import straight_lane


def _fork_before_a_junction() -> RoadMap:
    """``A`` (10 m) ends at junction J (its exit junction) and goes on into ``C`` (490 m, a
    lane of J), then ``G``; ``A``'s left neighbour ``B`` (500 m, no junction) also leads to
    ``G``."""
    return RoadMap(
        (
            straight_lane(
                "A", 0.0, 10.0, 0.0, successors=("C",), left_neighbor="B", exit_junction_id="J"
            ),
            straight_lane("C", 10.0, 500.0, 0.0, successors=("G",), junction_id="J"),
            straight_lane("B", 0.0, 500.0, 3.5, successors=("G",), right_neighbor="A"),
            straight_lane("G", 500.0, 600.0, 3.5),
        )
    )


def test_a_lane_change_out_of_a_lane_with_an_exit_junction_enters_no_junction() -> None:
    m = _fork_before_a_junction()
    # by length: A -> C -> G costs 10 + 490 = 500 m; A -> B -> G costs 50 (the lane change)
    # + 500 = 550 m
    assert m.route("A", "G") == ["A", "C", "G"]
    # by junctions: A -> C leaves A across J (and enters J's lane C): 1 junction, 500 m;
    # the lane change A -> B passes nothing and B -> G neither: 0 junctions, 550 m. Were the
    # lane change counted as passing A's exit junction, both ways would have 1 and the
    # shorter A -> C -> G would win.
    assert m.route("A", "G", cost="junctions") == ["A", "B", "G"]
