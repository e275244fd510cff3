"""Light-id labels in the bird's-eye view never overlap: :func:`plots.place_labels` moves a
label that would overlap one placed before it to another corner of its anchor, or leaves it
out when every corner would."""

from __future__ import annotations

import itertools

import numpy as np

from drivestack.report.plots import place_labels


def _boxes(corners: list[tuple[float, float] | None], sizes: list[tuple[float, float]]) -> list:
    return [(*c, *s) for c, s in zip(corners, sizes, strict=True) if c is not None]


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def test_apart_labels_stay_above_right_of_their_anchor() -> None:
    corners = place_labels([(0.0, 0.0), (100.0, 0.0)], [(40.0, 10.0), (40.0, 10.0)])
    assert corners == [(0.0, 0.0), (100.0, 0.0)]


def test_neighbouring_labels_are_moved_then_left_out() -> None:
    # "294/295" and "287/288" 10 px apart, as on the OpenDRIVE signal map: 40 x 10 px boxes
    size = (40.0, 10.0)
    corners = place_labels([(0.0, 0.0), (10.0, 0.0)], [size, size])
    assert corners == [(0.0, 0.0), (10.0, -10.0)]  # the second goes below right
    # one that overlaps the first at every corner is left out
    assert place_labels([(0.0, 0.0), (10.0, 2.0)], [size, size]) == [(0.0, 0.0), None]
    # five labels at one anchor: the four corners around it, then none left
    corners = place_labels([(0.0, 0.0)] * 5, [size] * 5)
    assert corners == [(0.0, 0.0), (0.0, -10.0), (-40.0, 0.0), (-40.0, -10.0), None]


def test_taken_boxes_are_kept_clear() -> None:
    corners = place_labels([(0.0, 0.0)], [(40.0, 10.0)], taken=[(5.0, 5.0, 10.0, 10.0)])
    assert corners == [(0.0, -10.0)]


def test_no_two_placed_boxes_overlap() -> None:
    rng = np.random.default_rng(0)
    anchors = [tuple(p) for p in rng.uniform(0.0, 100.0, (60, 2))]
    sizes = [tuple(s) for s in rng.uniform([10.0, 8.0], [60.0, 12.0], (60, 2))]
    corners = place_labels(anchors, sizes)
    assert corners[0] == anchors[0]  # the first (nearest the ego) always at its place
    placed = _boxes(corners, sizes)
    assert 5 < len(placed) < 60
    assert not any(_overlap(a, b) for a, b in itertools.combinations(placed, 2))
    # each placed box has a corner at its anchor
    for c, (x, y), (w, h) in zip(corners, anchors, sizes, strict=True):
        if c is not None:
            assert c[0] in (x, x - w) and c[1] in (y, y - h)
