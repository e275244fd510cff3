"""Offline refinement's smoothed heading (drivestack.tracking.refine): headings are averaged as
doubled angles (``cos 2 yaw``, ``sin 2 yaw``), so the fitted doubled angle must be halved back.

A track that holds one heading in every frame must keep exactly that heading: undoubling with
``arctan2`` alone would return twice the heading (0.3 -> 0.6).
"""

from __future__ import annotations

import numpy as np
import pytest

from drivestack.tracking.config import OfflineRefineConfig
from drivestack.tracking.refine import refine_track_boxes
from tests.tracking.result_rows import detections_of, track_rows

SMOOTH_YAW = OfflineRefineConfig(smooth_half_window_frames=2, smooth_degree=0, smooth_yaw=True)


def test_a_constant_heading_is_kept_by_yaw_smoothing() -> None:
    rows = track_rows(list(range(5)), [1] * 5, [0.0] * 5, [10.0] * 5, [0.3] * 5)
    det = detections_of(rows, [True] * 5)
    out = refine_track_boxes(rows, det, np.ones(5), SMOOTH_YAW)
    np.testing.assert_allclose(out.rotation_y_rad, 0.3, rtol=0.0, atol=1e-9)
    # the centres of a parked car stay put too
    np.testing.assert_allclose(out.location_m, rows.location_m, rtol=0.0, atol=1e-9)


@pytest.mark.parametrize("yaw", [0.5 * np.pi - 0.05, -0.5 * np.pi + 0.1])
def test_a_constant_heading_near_the_pi_half_branch_is_kept_modulo_pi(yaw: float) -> None:
    rows = track_rows(list(range(5)), [1] * 5, [0.0] * 5, [10.0] * 5, [yaw] * 5)
    det = detections_of(rows, [True] * 5)
    out = refine_track_boxes(rows, det, np.ones(5), SMOOTH_YAW)
    # distance to the input heading modulo pi (the same 3D box)
    off = np.angle(np.exp(2j * (out.rotation_y_rad - yaw))) / 2.0
    np.testing.assert_allclose(off, 0.0, rtol=0.0, atol=1e-9)
    # and each row keeps its own direction (the branch nearest its yaw)
    np.testing.assert_allclose(out.rotation_y_rad, yaw, rtol=0.0, atol=1e-9)
