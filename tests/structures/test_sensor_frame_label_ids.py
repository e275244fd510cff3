"""``SensorFrame.label_ids`` validation: one str id per label box, stored as a tuple."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from drivestack.structures.boxes import Boxes3D
from drivestack.structures.sensor_frame import SensorFrame


def _boxes(n: int) -> Boxes3D:
    arr = np.zeros((n, 7))
    arr[:, 0] = np.arange(n)
    arr[:, 3:6] = 1.0
    return Boxes3D.from_array7(arr, "ego", 5)


def test_default_is_none() -> None:
    assert SensorFrame(5, labels=_boxes(2)).label_ids is None
    assert SensorFrame(5).label_ids is None


@pytest.mark.parametrize(
    "ids",
    [("7", "a-b"), ["7", "a-b"], np.array(["7", "a-b"]), np.array(["7", "a-b"], dtype=object)],
)
def test_sequences_of_str_become_a_tuple(ids: object) -> None:
    frame = SensorFrame(5, labels=_boxes(2), label_ids=ids)  # type: ignore[arg-type]
    assert frame.label_ids == ("7", "a-b")
    assert type(frame.label_ids) is tuple
    assert all(type(i) is str for i in frame.label_ids)


def test_empty_labels_take_empty_ids() -> None:
    assert SensorFrame(5, labels=_boxes(0), label_ids=()).label_ids == ()


def test_ids_without_labels() -> None:
    with pytest.raises(
        ValueError, match=r"label_ids given \(1 ids\) but SensorFrame.labels is None"
    ):
        SensorFrame(5, label_ids=("1",))


@pytest.mark.parametrize("n_ids", [1, 3])
def test_length_mismatch(n_ids: int) -> None:
    with pytest.raises(ValueError, match=rf"has {n_ids} ids but SensorFrame.labels has 2 boxes"):
        SensorFrame(5, labels=_boxes(2), label_ids=tuple(str(i) for i in range(n_ids)))


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        ("ab", r"must be a tuple of str .* got str"),
        (b"ab", r"got bytes"),
        ({"a", "b"}, r"got set"),
        ({"a": 1, "b": 2}, r"got dict"),
        (7, r"got int"),
        ((1, 2), r"label_ids\[0\] must be a str, got int 1; convert ids with str\(track_id\)"),
        (np.array([1, 2]), r"label_ids\[0\] must be a str, got int64"),
        (("a", None), r"label_ids\[1\] must be a str, got NoneType"),
        (np.array([["a", "b"]]), r"got ndarray"),
    ],
)
def test_wrong_types(ids: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        SensorFrame(5, labels=_boxes(2), label_ids=ids)  # type: ignore[arg-type]


def test_type_checked_before_labels() -> None:
    """A wrong type is a TypeError even when labels are missing too."""
    with pytest.raises(TypeError):
        SensorFrame(5, label_ids=(1,))  # type: ignore[arg-type]


def test_replace_keeps_ids_checked() -> None:
    frame = SensorFrame(5, labels=_boxes(2), label_ids=("a", "b"))
    assert dataclasses.replace(frame, cameras={}).label_ids == ("a", "b")
    assert dataclasses.replace(frame, labels=None, label_ids=None).label_ids is None
    with pytest.raises(ValueError, match=r"has 2 ids but SensorFrame\.labels has 3 boxes"):
        dataclasses.replace(frame, labels=_boxes(3))
    with pytest.raises(ValueError, match="labels is None"):
        dataclasses.replace(frame, labels=None)


def test_repr_mentions_ids() -> None:
    assert "labels=2 boxes with ids" in repr(SensorFrame(5, labels=_boxes(2), label_ids=("a", "b")))
    assert repr(SensorFrame(5, labels=_boxes(2))).endswith("labels=2 boxes)")
