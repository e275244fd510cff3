"""3D IoU of a thin box far from z = 0 with itself, on every CPU route.

Far from 0 the box's bottom and top ``z -+ h / 2`` round to multiples of ``ulp(z)``: their
difference can exceed the height ``h``, and an unclamped z-overlap made the IoU of the box
with itself exceed 1 (1.0023 for a 1e-8 m box at z = 1e6 m; 1.000015 for a float32 1e-6 m box
at z = 1e5 m). Both routes clamp the overlap to the lower box's height
(``_numba_kernels._z_overlap``, ``iou._z_overlap``); the IoU is then at most 1, and below 1
only by the rounding of the box's z-extent: at least ``(h - 2 u) / (h + 2 u)``, ``u =
ulp(z)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from drivestack.kernels import box_giou_3d, box_iou_3d
from drivestack.kernels._common import CPU_ROUTE_ENV
from drivestack.kernels._numba_available import AVAILABLE as NUMBA_AVAILABLE

torch = pytest.importorskip("torch")

THIN_FAR_BOXES = [
    # (z, height, dtype): the rounded extent exceeds the height by 0.12 % / 7.6e-6
    pytest.param(1e6, 1e-8, np.float64, id="float64-1e-8m-at-1e6m"),
    pytest.param(1e5, 1e-6, np.float32, id="float32-1e-6m-at-1e5m"),
    # here the extent rounds short (0.93e-9 m): IoU well below 1, never above
    pytest.param(1e6, 1e-9, np.float64, id="float64-1e-9m-at-1e6m"),
]


def _routes(
    fn: Callable[..., Any], box: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> dict[str, float]:
    """``fn(box, box)[0, 0]`` on each available CPU route."""
    impls = ["auto", "reference"] + (["numba"] if NUMBA_AVAILABLE else [])
    out = {impl: float(fn(box, box, impl=impl)[0, 0]) for impl in impls}
    with monkeypatch.context() as m:
        m.setenv(CPU_ROUTE_ENV, "reference")
        out["auto-env-reference"] = float(fn(box, box)[0, 0])
    t = torch.from_numpy(box)
    out["torch"] = float(fn(t, t)[0, 0])
    return out


@pytest.mark.parametrize("fn", [box_iou_3d, box_giou_3d])
@pytest.mark.parametrize(("z", "height", "dtype"), THIN_FAR_BOXES)
def test_thin_far_box_with_itself_has_iou_at_most_one(
    fn: Callable[..., Any],
    z: float,
    height: float,
    dtype: type,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = np.array([[0.0, 0.0, z, 4.0, 2.0, height, 0.0]], dtype=dtype)
    h = float(box[0, 5])  # the height as stored (float32: rounded)
    u = float(np.spacing(np.float64(z)))  # every route computes in float64
    floor = (h - 2.0 * u) / (h + 2.0 * u)
    values = _routes(fn, box, monkeypatch)
    for route, value in values.items():
        assert floor <= value <= 1.0, (route, value)
    # the routes agree
    assert max(values.values()) - min(values.values()) <= 1e-6, values
