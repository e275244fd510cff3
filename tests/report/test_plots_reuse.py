"""Reused report figures draw exactly what fresh ones do; long signals are decimated with
their extremes kept."""

from __future__ import annotations

import numpy as np

from drivestack.report import plots
from drivestack.sim.evaluate import run_scenario
from drivestack.sim.scenario import load_suite


def _history(name: str, steps: int):  # type: ignore[no-untyped-def]
    cfg = next(c for c in load_suite("configs/suites/regression.yaml")[1] if c.name == name)
    return run_scenario(cfg, "pdm", max_steps=steps).history


def test_decimate_keeps_extremes_and_short_series() -> None:
    t = np.arange(10.0)
    y = np.array([0.0, 5, 1, 1, -3, 2, 2, np.nan, 4, 0])
    same_t, same_y = plots.decimate_minmax(t, y, 10)
    assert same_t is t and same_y is y
    dt, dy = plots.decimate_minmax(t, y, 4)  # 2 buckets: [0..4], [5..9]
    # bucket 1: min -3 at 4, max 5 at 1; bucket 2: min 0 at 9, max 4 at 8, NaN at 7
    np.testing.assert_array_equal(dt, [1.0, 4.0, 7.0, 8.0, 9.0])
    np.testing.assert_array_equal(dy, [5.0, -3.0, np.nan, 4.0, 0.0])


def test_reused_figures_match_fresh_ones() -> None:
    a, b = _history("cut_in", 40), _history("ccrs[50kph]", 30)
    bev, signals = plots.BevFigure(), plots.SignalsFigure()
    bev.draw(a, None, "a")
    signals.draw(a, np.full(len(a), np.inf), 0.95)
    reused_bev = bev.draw(b, None, "b")
    reused_sig = signals.draw(b, np.linspace(3.0, 0.5, len(b)), 0.95)
    fresh_bev = plots.bev_figure(b, None, "b")
    fresh_sig = plots.signals_figure(b, np.linspace(3.0, 0.5, len(b)), 0.95)
    for reused, fresh in ((reused_bev, fresh_bev), (reused_sig, fresh_sig)):
        for ra, fa in zip(reused.axes, fresh.axes, strict=True):
            assert len(ra.lines) == len(fa.lines)
            assert len(ra.collections) == len(fa.collections)
            np.testing.assert_allclose(ra.get_xlim(), fa.get_xlim())
            np.testing.assert_allclose(ra.get_ylim(), fa.get_ylim())
            for la, lf in zip(ra.lines, fa.lines, strict=True):
                np.testing.assert_array_equal(la.get_xydata(), lf.get_xydata())
    assert reused_bev.axes[0].get_title() == "b"
    assert plots.to_data_uri(reused_bev) == plots.to_data_uri(fresh_bev)
