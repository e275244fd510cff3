"""The report's scenario view draws a run's traffic lights: stop lines coloured by their
light's state, a mark where the ego ran a red (with the light's id), and a strip of each
light's state along the time plots. A run without lights is drawn exactly as before."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from drivestack.cli import main
from drivestack.report import build_report, plots, write_report
from drivestack.report.light_view import STATE_COLOURS, LightView, StopMark, light_view
from drivestack.report.scenario_view import MapCache, load_history

# Straight two-lane road: lane road_0 runs along +x at y = 1.75 m, station s at x = s - 100 m.
# The ego's rear axle starts at station 190 m (x = 90 m), its front bumper 4.15 m ahead
# (x = 94.15 m), at 50 km/h: L1 (red throughout) stops road_0 at station 200 m (x = 100 m),
# 5.85 m ahead, closer than the 10.7 m the ego needs to stop at 9 m/s^2: it runs the red.
# L2 (green throughout) stops road_0 at station 245 m (x = 145 m): in 3 s the front covers
# at most 41.7 m (x <= 135.8 m), so the ego is nearest to it at the end, at green.
LIT = """\
name: {name}
map: {{kind: straight, params: {{n_lanes: 2, speed_limit_mps: 13.89}}}}
ego: {{lane: road_0, station_m: 190.0, speed_kph: 50.0}}
duration_s: 3.0
traffic_lights:
  - id: L1
    stops: [{{lane: road_0, station_m: 200.0}}]
    phases: [[red, 60.0]]
  - id: L2
    stops: [{{lane: road_0, station_m: 245.0}}]
    phases: [[green, 60.0]]
"""
PLAIN = """\
name: {name}
map: {{kind: straight, params: {{n_lanes: 2, speed_limit_mps: 13.89}}}}
ego: {{lane: road_0, station_m: 190.0, speed_kph: 50.0}}
duration_s: 3.0
"""


def _sim(tmp_path: Path, *scenarios: tuple[str, str]) -> Path:
    """``drivestack sim`` (idm) of a suite of each ``(name, template)`` into
    ``tmp_path / "run"`` (status 1: the run that ran a red fails its pass criteria)."""
    for name, template in scenarios:
        (tmp_path / f"{name}.yaml").write_text(template.format(name=name))
    suite = tmp_path / "suite.yaml"
    files = ", ".join(f"{{file: {name}.yaml}}" for name, _ in scenarios)
    suite.write_text(f"name: lights\nscenarios: [{files}]\n")
    out = tmp_path / "run"
    argv = ["sim", "--suite", str(suite), "--planner", "idm", "--out", str(out), "--quiet"]
    assert main(argv) in (0, 1)
    return out


def _png(uri: str) -> np.ndarray:
    from matplotlib.image import imread

    return imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])), format="png")


def _by_gid(fig: Any, gid: str) -> list[Any]:
    return [a for a in fig.findobj() if a.get_gid() == gid]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sim(tmp_path_factory.mktemp("sims"), ("lit", LIT), ("plain", PLAIN))


def _loaded(run: Path, name: str) -> tuple[Any, Any, dict[str, Any]]:
    folder = run / "idm" / name
    metrics = json.loads((folder / "metrics.json").read_text())
    history = load_history(folder / "history.npz")
    return history, MapCache(None).road_map(metrics["config"]), metrics


def test_light_view_of_a_run_that_ran_a_red(runs: Path) -> None:
    history, road_map, metrics = _loaded(runs, "lit")
    (event,) = metrics["red_light"]["events"]
    assert event["light_id"] == "L1"
    view = light_view(history, road_map, metrics["red_light"]["events"])
    assert view is not None
    # the stop lines across road_0 (y 0 to 3.5 m) at x = 100 m and 145 m
    l1, l2 = view.stops
    np.testing.assert_allclose(l1.ends_m, [[100.0, 0.0], [100.0, 3.5]], atol=1e-9)
    np.testing.assert_allclose(l2.ends_m, [[145.0, 0.0], [145.0, 3.5]], atol=1e-9)
    assert (l1.state, l2.state) == ("red", "green")
    assert l2.time_s == pytest.approx(history.time_s[-1] - history.time_s[0])  # nearest at the end
    assert view.rows == ("L1", "L2")  # the light run first
    assert np.all(view.codes[:, 0] == 4) and np.all(view.codes[:, 1] == 2)  # red, green
    (red,) = view.red_runs
    assert (red.light_id, red.lane_id) == ("L1", "road_0")
    assert red.time_s == pytest.approx(event["time_s"] - history.time_s[0])
    assert red.point_m == pytest.approx((100.0, 1.75))  # the front crosses on the centreline
    assert red.speed_mps == pytest.approx(event["speed_mps"])


def test_the_figures_draw_the_lights(runs: Path) -> None:
    history, road_map, metrics = _loaded(runs, "lit")
    view = light_view(history, road_map, metrics["red_light"]["events"])
    assert view is not None
    bev = plots.bev_figure(history, road_map, "lit", view)
    (stops,) = _by_gid(bev, "stop-lines")
    np.testing.assert_allclose(
        stops.get_colors(), [to_rgba(STATE_COLOURS["red"]), to_rgba(STATE_COLOURS["green"])]
    )
    (star,) = _by_gid(bev, "red-light-run")
    np.testing.assert_allclose(star.get_xydata(), [[100.0, 1.75]])
    (label,) = _by_gid(bev, "red-light-run-label")
    assert label.get_text().startswith("ran L1 at red")
    # only the line the ego's front crossed is labelled: L2's is 9 m and more ahead of it
    assert [t.get_text().strip() for t in _by_gid(bev, "light-label")] == ["L1"]

    signals = plots.signals_figure(history, np.full(len(history), np.inf), 0.95, view)
    assert len(signals.axes) == 6  # the strip, the four plots and the speed plot's gap axis
    strip = signals.axes[0]
    assert [t.get_text() for t in strip.get_yticklabels()] == ["L2", "L1"]  # L1 on top
    (states,) = _by_gid(strip, "light-states")
    np.testing.assert_allclose(  # one run of one state per light: L1 (top row) red, L2 green
        states.get_facecolors(), [to_rgba(STATE_COLOURS["red"]), to_rgba(STATE_COLOURS["green"])]
    )
    marks = _by_gid(signals, "red-light-run")
    (cross,) = [m for m in marks if m.axes is strip]
    np.testing.assert_allclose(cross.get_xydata(), [[view.red_runs[0].time_s, 1.0]])


def test_report_marks_the_red_run_and_leaves_a_plain_run_as_before(
    runs: Path, tmp_path: Path
) -> None:
    report = build_report(runs)
    lights = report.data["detail_lights"]
    assert set(lights) == {"idm/lit"}  # the run without lights has none
    (red,) = lights["idm/lit"]["red_runs"]
    assert red["light_id"] == "L1" and red["x_m"] == pytest.approx(100.0)
    assert [s["state"] for s in lights["idm/lit"]["stop_lines"]] == ["red", "green"]
    assert lights["idm/lit"]["state_strips"] == ["L1", "L2"]
    html = write_report(report, tmp_path / "r.html")[0].read_text()
    lit = html[html.index('id="s-idm/lit"') :]
    lit = lit[: lit.index("</div>")]
    assert '<p class="lights">red lights run: <b>L1</b> on lane road_0' in lit
    plain = html[html.index('id="s-idm/plain"') :]
    plain = plain[: plain.index("</div>")]
    assert 'class="lights"' not in plain
    assert "Traffic lights: each stop line" in html
    assert "The nuPlan score ignores traffic lights" in html
    assert 'title="The nuPlan score ignores traffic lights' in html  # the column's tooltip

    # the plain run's figures are the ones drawn without any light (after the lit run's on
    # the same reused canvases)
    history, road_map, _ = _loaded(runs, "plain")
    from drivestack.eval.driving.nuplan import TTC_BOUND_S, min_time_to_collision_s

    ttc = min_time_to_collision_s(history, road_map=road_map)
    fresh_bev = plots.to_data_uri(plots.BevFigure().draw(history, road_map, "idm/plain"))
    fresh_sig = plots.to_data_uri(plots.SignalsFigure().draw(history, ttc, TTC_BOUND_S))
    np.testing.assert_array_equal(_png(report.figures["bev:idm/plain"]), _png(fresh_bev))
    np.testing.assert_array_equal(_png(report.figures["signals:idm/plain"]), _png(fresh_sig))


def test_a_report_without_lights_has_no_light_elements(tmp_path: Path) -> None:
    run = _sim(tmp_path, ("plain", PLAIN))
    report = build_report(run)
    assert "detail_lights" not in report.data
    history, road_map, metrics = _loaded(run, "plain")
    assert light_view(history, road_map, metrics["red_light"]["events"]) is None
    bev = plots.bev_figure(history, road_map, "plain", None)
    assert not any(_by_gid(bev, g) for g in ("stop-lines", "red-light-run", "light-label"))
    # the four plots and the speed plot's gap axis: no strip
    assert len(plots.signals_figure(history, np.full(len(history), np.inf), 0.95).axes) == 5
    html = write_report(report, tmp_path / "r.html")[0].read_text()
    for text in ('class="lights"', "Traffic lights:", "nuPlan score ignores", "red lights run"):
        assert text not in html


def test_the_lit_canvas_reused_draws_what_a_fresh_one_does(runs: Path) -> None:
    history, road_map, metrics = _loaded(runs, "lit")
    view = light_view(history, road_map, metrics["red_light"]["events"])
    assert view is not None
    inf = np.full(len(history), np.inf)
    short = light_view(history, road_map, [])  # no red run: no marks left over
    assert short is not None
    canvas = plots.SignalsFigure(lights=True)
    canvas.draw(history, inf, 0.95, view)
    reused = plots.to_data_uri(canvas.draw(history, inf, 0.95, short))
    fresh = plots.to_data_uri(plots.signals_figure(history, inf, 0.95, short))
    assert reused == fresh
    bev = plots.BevFigure()
    bev.draw(history, road_map, "x", view)
    assert plots.to_data_uri(bev.draw(history, road_map, "x")) == plots.to_data_uri(
        plots.bev_figure(history, road_map, "x")
    )


def test_maps_with_other_scenario_lights_are_built_apart(runs: Path) -> None:
    """Two runs on the same map config whose scenarios place their lights elsewhere each get
    their own stop lines (the map cache keys the scenario's lights too)."""
    _, _, metrics = _loaded(runs, "lit")
    moved = json.loads(json.dumps(metrics["config"]))
    moved["traffic_lights"][0]["stops"][0]["station_m"] = 220.0
    maps = MapCache(None)
    first, second = maps.road_map(metrics["config"]), maps.road_map(moved)
    assert first is not None and second is not None
    assert first.traffic_light("L1").stops[0].station_m == 200.0
    assert second.traffic_light("L1").stops[0].station_m == 220.0


def test_light_labels_near_the_path_do_not_overlap(runs: Path) -> None:
    """Lines near the ego's path 4 m apart (their labels would overlap at this scale) are
    labelled without overlapping (moved or left out); a line far from the path is not."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    history, road_map, _ = _loaded(runs, "lit")
    stops = [
        StopMark(f"light_N{k}", "road_0", np.array([[x, 0.0], [x, 3.5]]), "red", 0.0, 0.1 * k)
        for k, x in enumerate(100.0 + 4.0 * np.arange(6))
    ]
    far = StopMark("FAR", "road_1", np.array([[110.0, 3.5], [110.0, 7.0]]), "green", 0.0, 5.0)
    view = LightView((*stops, far), (), np.zeros((len(history), 0), np.int8), (), 0)
    bev = plots.bev_figure(history, road_map, "lit", view)
    labels = _by_gid(bev, "light-label")
    names = [t.get_text().strip() for t in labels]
    assert names[0] == "light_N0" and "FAR" not in names and len(names) >= 2
    renderer = FigureCanvasAgg(bev).get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), names
