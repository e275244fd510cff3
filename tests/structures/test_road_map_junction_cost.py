"""``RoadMap.route(cost="junctions")`` (OpenSCENARIO's ``leastIntersections``): as few
junctions entered as possible (lanes of one junction, :attr:`Lane.junction_id`, count once),
ties broken by length; a map that marks no junction gives the length route; the lowest
(junctions, length) over every lane sequence of small random maps; a successor step across
a lane's ``exit_junction_id`` (a junction without lanes) counts one; ``with_junctions`` and
``junction_id`` checks."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivestack.ingest.maps.synthetic import four_way_intersection
from drivestack.structures.road_map import RoadMap
from tests.structures._helpers import straight_lane


def _two_ways(short_junctions: tuple[str, str] = ("J1", "J2")) -> RoadMap:
    """``start`` (10 m) forks: the short way ``a1`` (10 m) -> ``a2`` (10 m) -> ``a3`` (10 m)
    enters junction ``short_junctions[0]`` at ``a1`` and ``short_junctions[1]`` at ``a3``;
    the long way ``b1`` (50 m) -> ``b2`` (10 m) enters junction ``J3`` at ``b1`` only. Both
    end on ``goal``."""
    j1, j2 = short_junctions
    return RoadMap(
        (
            straight_lane("start", 0.0, 10.0, 0.0, successors=("a1", "b1")),
            straight_lane("a1", 10.0, 20.0, 0.0, successors=("a2",), junction_id=j1),
            straight_lane("a2", 20.0, 30.0, 0.0, successors=("a3",)),
            straight_lane("a3", 30.0, 40.0, 0.0, successors=("goal",), junction_id=j2),
            straight_lane("b1", 10.0, 60.0, 20.0, successors=("b2",), junction_id="J3"),
            straight_lane("b2", 60.0, 70.0, 20.0, successors=("goal",)),
            straight_lane("goal", 70.0, 80.0, 0.0),
        )
    )


def test_fewer_junctions_win_over_a_shorter_way() -> None:
    m = _two_ways()
    # by length: 10 + 10 + 10 + 10 = 40 m over a1..a3 against 10 + 50 + 10 = 70 m over b
    assert m.route("start", "goal") == ["start", "a1", "a2", "a3", "goal"]
    # by junctions: 2 (J1, J2) over a1..a3 against 1 (J3) over b
    assert m.route("start", "goal", cost="junctions") == ["start", "b1", "b2", "goal"]


def test_equal_junction_counts_take_the_shorter_way() -> None:
    # a1 and a3 in the same junction J1 (a2 between them outside it) still enter it twice
    m = _two_ways(("J1", "J1"))
    assert m.route("start", "goal", cost="junctions") == ["start", "b1", "b2", "goal"]
    # with a2 in J1 too, a1..a3 are one junction: 1 junction each way, so the 40 m way wins
    one = m.with_junctions({"a2": "J1"})
    assert one.route("start", "goal", cost="junctions") == ["start", "a1", "a2", "a3", "goal"]


def _beside(junction_lane: str) -> RoadMap:
    """``a`` -> ``a2`` (100 m each) beside ``b`` -> ``b2``, lane changes both ways between
    them; ``junction_lane`` lies in junction J."""
    return RoadMap(
        (
            straight_lane("a", 0.0, 100.0, 0.0, left_neighbor="b", successors=("a2",)),
            straight_lane("a2", 100.0, 200.0, 0.0, left_neighbor="b2"),
            straight_lane("b", 0.0, 100.0, 3.5, right_neighbor="a", successors=("b2",)),
            straight_lane("b2", 100.0, 200.0, 3.5, right_neighbor="a2"),
        )
    ).with_junctions({junction_lane: "J"})


def test_a_lane_change_into_a_junction_lane_enters_it() -> None:
    # a -> b2 is 150 m either way (50 m lane change + 100 m); the way that keeps out of J wins
    assert _beside("b").route("a", "b2", cost="junctions") == ["a", "a2", "b2"]
    assert _beside("a2").route("a", "b2", cost="junctions") == ["a", "b", "b2"]


def test_without_junctions_it_is_the_length_route() -> None:
    marked = four_way_intersection()  # its connectors are one junction: cleared here
    m = RoadMap(tuple(dataclasses.replace(lane, junction_id=None) for lane in marked.lanes))
    assert all(lane.junction_id is None for lane in m.lanes)
    for start, goal in itertools.permutations([lane.lane_id for lane in m.lanes], 2):
        try:
            by_length = m.route(start, goal)
        except LookupError:
            with pytest.raises(LookupError):
                m.route(start, goal, cost="junctions")
            continue
        assert m.route(start, goal, cost="junctions") == by_length
        # every way across the marked junction enters it once: the route is the same there
        assert marked.route(start, goal, cost="junctions") == by_length


def test_leaving_a_lane_across_its_exit_junction_passes_a_junction() -> None:
    # start -> a (10 m) -> goal crosses a junction without lanes (a's exit junction D);
    # start -> b (50 m) -> goal passes none: 1 junction against 0
    m = RoadMap(
        (
            straight_lane("start", 0.0, 10.0, 0.0, successors=("a", "b")),
            straight_lane("a", 10.0, 20.0, 0.0, successors=("goal",), exit_junction_id="D"),
            straight_lane("b", 10.0, 60.0, 20.0, successors=("goal",)),
            straight_lane("goal", 70.0, 80.0, 0.0),
        )
    )
    assert m.route("start", "goal") == ["start", "a", "goal"]
    assert m.route("start", "goal", cost="junctions") == ["start", "b", "goal"]
    # a lane change out of a lane with an exit junction passes none: only successor steps do
    beside = RoadMap(
        (
            straight_lane("x", 0.0, 100.0, 0.0, left_neighbor="y", exit_junction_id="D"),
            straight_lane("y", 0.0, 100.0, 3.5, right_neighbor="x"),
        )
    )
    assert beside.route("x", "y", cost="junctions") == ["x", "y"]


def _key(m: RoadMap, path: list[str]) -> tuple[int, float]:
    """(junctions entered, length) of a successor-only lane sequence, counted by hand: a step
    into a lane of another junction, or out of a lane across its exit junction, counts one."""
    entered = sum(
        1
        for a, b in itertools.pairwise(path)
        if (m.lane(b).junction_id is not None and m.lane(b).junction_id != m.lane(a).junction_id)
        or m.lane(a).exit_junction_id is not None
    )
    return entered, sum(m.lane(a).length_m for a in path[:-1])


@settings(max_examples=200, deadline=None)
@given(
    st.integers(3, 7).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.booleans(), min_size=n * n, max_size=n * n),
            st.lists(st.integers(1, 40), min_size=n, max_size=n),
            st.lists(st.sampled_from([None, "A", "B", "C"]), min_size=n, max_size=n),
            st.lists(st.sampled_from([None, None, "D"]), min_size=n, max_size=n),
        )
    )
)
def test_the_route_has_the_least_junctions_then_length_of_all_sequences(
    case: tuple[int, list[bool], list[int], list[str | None], list[str | None]],
) -> None:
    """Lanes ``0 .. n-1`` of random lengths, junctions and exit junctions, each linked to the
    next and by random forward links ``i -> j`` (``i < j``): the route from 0 to ``n-1`` has
    the lowest (junctions, length) of every lane sequence between them (enumerated)."""
    n, links, lengths, junctions, exits = case
    successors = {
        i: [j for j in range(i + 1, n) if links[i * n + j] or j == i + 1] for i in range(n)
    }
    m = RoadMap(
        tuple(
            straight_lane(
                str(i),
                0.0,
                float(lengths[i]),
                4.0 * i,
                successors=tuple(str(j) for j in successors[i]),
                junction_id=junctions[i],
                exit_junction_id=exits[i],
            )
            for i in range(n)
        )
    )

    def sequences(i: int) -> list[list[str]]:
        if i == n - 1:
            return [[str(i)]]
        return [[str(i), *rest] for j in successors[i] for rest in sequences(j)]

    every = sequences(0)
    best = min(_key(m, p) for p in every)
    got = _key(m, m.route("0", str(n - 1), cost="junctions"))
    assert got[0] == best[0]
    assert got[1] == pytest.approx(best[1])


def test_with_junctions_marks_the_named_lanes_only() -> None:
    m = _two_ways()
    marked = m.with_junctions({"a2": "J1", "goal": "K"})
    assert [lane.junction_id for lane in marked.lanes] == [None, "J1", "J1", "J2", "J3", None, "K"]
    assert m.lane("a2").junction_id is None  # the map itself is unchanged
    with pytest.raises(KeyError, match="no lane 'nope'"):
        m.with_junctions({"nope": "J"})


@pytest.mark.parametrize("bad", ["", 7])
def test_a_junction_id_must_be_a_non_empty_string(bad: object) -> None:
    with pytest.raises(ValueError, match=r"Lane 'x'\.junction_id must be a non-empty string"):
        straight_lane("x", 0.0, 1.0, 0.0, junction_id=bad)
    with pytest.raises(ValueError, match=r"Lane 'x'\.exit_junction_id must be a non-empty"):
        straight_lane("x", 0.0, 1.0, 0.0, exit_junction_id=bad)
    with pytest.raises(ValueError, match="junction_id"):
        _two_ways().with_junctions({"a1": bad})  # type: ignore[dict-item]
