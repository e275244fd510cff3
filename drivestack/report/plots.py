"""Report figures, returned inline as ``data:image/png;base64`` URIs.

Matplotlib's object API (``Figure``, no pyplot): no global figure state, no GUI backend.
"""

from __future__ import annotations

import base64
import io
import itertools
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from drivestack.eval.driving import comfort
from drivestack.report.lead import LeadTrace
from drivestack.report.light_view import STATE_COLOURS, LightView
from drivestack.sim.runner import SimHistory
from drivestack.structures.road_map import RoadMap
from drivestack.structures.traffic_light import SIGNAL_STATES

DPI = 72


def to_data_uri(fig: Figure) -> str:
    """PNG of ``fig`` as a data URI; closes the figure."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def collision_point(history: SimHistory) -> tuple[float, float] | None:
    """Centroid of the first ego-agent footprint overlap, or None without a collision: the
    boxes at the first-contact instant
    (:func:`~drivestack.sim.swept_collision.history_first_contact`; between two ticks for a
    contact caught there, where the tick's own boxes may already be apart)."""
    import shapely

    from drivestack.kernels import box_corners
    from drivestack.sim.swept_collision import history_first_contact

    ticks = np.flatnonzero(np.any(history.collisions, axis=1))
    if not len(ticks):
        return None
    t = int(ticks[0])
    a = int(np.flatnonzero(history.collisions[t])[0])
    boxes = np.stack(history_first_contact(history, t, a)[1:])
    ego, agent = shapely.polygons(box_corners(boxes)[:, :4, :2])
    point = ego.intersection(agent).centroid
    if point.is_empty:
        return float(boxes[0, 0]), float(boxes[0, 1])
    return float(point.x), float(point.y)


class BevFigure:
    """A reusable bird's-eye figure: :meth:`draw` clears the previous run's artists and draws
    the next one on the same axes (building a matplotlib figure and its ticks costs more than
    drawing a run, and a report draws up to ``--max-detail`` of them)."""

    def __init__(self) -> None:
        self.figure = Figure(figsize=(7.5, 4.5))
        self.ax = self.figure.subplots()
        self.figure.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.92)
        self.ax.set_xlabel("x [m]")
        self.ax.set_ylabel("y [m]")

    def draw(
        self,
        history: SimHistory,
        road_map: RoadMap | None,
        title: str,
        lights: LightView | None = None,
    ) -> Figure:
        """Lanes, ego path with footprints every 2 s, agent paths, collision point; with
        ``lights``, the stop lines in their light's state and the red lights run
        (:mod:`~drivestack.report.light_view`)."""
        from matplotlib.collections import LineCollection, PolyCollection

        from drivestack.kernels import box_corners

        ax = self.ax
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts]:
            artist.remove()
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        xy = np.column_stack([history.ego_x_m, history.ego_y_m])
        pts = [xy]
        for a in range(history.agent_boxes.shape[1]):
            valid = history.agent_valid[:, a]
            if np.any(valid):
                pts.append(history.agent_boxes[valid, a, :2])
        allpts = np.concatenate(pts)
        lo, hi = allpts.min(axis=0) - 15.0, allpts.max(axis=0) + 15.0
        # widen the shorter side so that equal axes fill the figure's 5:3 box
        span = hi - lo
        want = np.array([max(span[0], span[1] * 5 / 3), max(span[1], span[0] * 3 / 5)])
        lo, hi = lo - (want - span) / 2, hi + (want - span) / 2
        if road_map is not None:
            bounds: list[np.ndarray] = []
            centers: list[np.ndarray] = []
            for lane in road_map.lanes:
                c = lane.centerline_m
                if np.any(np.all((c >= lo) & (c <= hi), axis=1)):
                    bounds += [lane.left_boundary_m[:, :2], lane.right_boundary_m[:, :2]]
                    centers.append(c[:, :2])
            # one artist per kind of line (not three per lane): same picture, far fewer artists
            ax.add_collection(LineCollection(bounds, colors="0.6", linewidths=0.8), autolim=False)
            ax.add_collection(
                LineCollection(centers, colors="0.8", linewidths=0.6, linestyles="--"),
                autolim=False,
            )
        step = max(1, round(2.0 / history.dt_s))
        ego_boxes = box_corners(history.ego_boxes[::step])[:, :4, :2]
        ax.add_collection(
            PolyCollection(list(ego_boxes), facecolors="tab:blue", alpha=0.3, lw=0, zorder=4),
            autolim=False,
        )
        ax.plot(xy[:, 0], xy[:, 1], color="tab:blue", lw=2, label="ego", zorder=5)
        for a in range(history.agent_boxes.shape[1]):
            valid = history.agent_valid[:, a]
            if not np.any(valid):
                continue
            path = history.agent_boxes[valid, a, :2]
            hit = bool(np.any(history.collisions[:, a]))
            color = "tab:red" if hit else "tab:orange"
            ax.plot(path[:, 0], path[:, 1], color=color, lw=1.2)
            ticks = np.flatnonzero(valid)[::step]
            corners = box_corners(history.agent_boxes[ticks, a])[:, :4, :2]
            ax.add_collection(
                PolyCollection(list(corners), facecolors="none", edgecolors=color, lw=0.8),
                autolim=False,
            )
        point = collision_point(history)
        if point is not None:
            ax.plot(
                *point, marker="X", color="red", ms=14, mec="black", label="collision", zorder=6
            )
        if lights is not None:
            _draw_lights(ax, lights, lo, hi)
        ax.plot([], [], color="tab:orange", label="agents")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal", adjustable="box")
        ax.set_title(title, fontsize=10)
        ax.legend(loc="upper right", fontsize=8)
        return self.figure


#: Stop lines within this distance of the ego's front (where it passed or stopped) get their
#: lights' ids in the bird's-eye view (and the nearest line when none is that near).
LABEL_NEAR_M = 3.0
LABEL_FONT_PT = 8.0

Box = tuple[float, float, float, float]  # x0, y0 (lower left), width, height


def _text_size_pt(text: str) -> tuple[float, float]:
    """Width and height (points) of ``text`` at :data:`LABEL_FONT_PT` as a label box: the
    glyphs' advance, and 1.4 font sizes high (a text's box and some room between labels)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    width, _, _ = TextToPath().get_text_width_height_descent(
        text, FontProperties(size=LABEL_FONT_PT), ismath=False
    )
    return float(width), 1.4 * LABEL_FONT_PT


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def place_labels(
    anchors: list[tuple[float, float]],
    sizes: list[tuple[float, float]],
    taken: list[Box] | None = None,
) -> list[tuple[float, float] | None]:
    """The lower-left corner of each label (``sizes``: width, height) at its anchor, in one
    unit (pixels), in order: above right of the anchor, else below right, above left, below
    left, the first that overlaps no label placed before it nor a box of ``taken``; None (left
    out) when each would. So no two placed label boxes overlap; the earlier labels win."""
    boxes: list[Box] = list(taken or [])
    out: list[tuple[float, float] | None] = []
    for (x, y), (w, h) in zip(anchors, sizes, strict=True):
        corner = None
        for cx, cy in ((x, y), (x, y - h), (x - w, y), (x - w, y - h)):
            if not any(_overlap((cx, cy, w, h), b) for b in boxes):
                corner = (cx, cy)
                boxes.append((cx, cy, w, h))
                break
        out.append(corner)
    return out


def _draw_lights(ax: Any, lights: LightView, lo: np.ndarray, hi: np.ndarray) -> None:
    """The stop lines (coloured by their light's state when the ego was nearest), the ids of
    the lights at the lines near the ego's path (:data:`LABEL_NEAR_M`; else at the nearest
    line; a label that would overlap another is moved or left out: :func:`place_labels`)
    and a star where the ego's front crossed a line at red. ``lo``, ``hi``: the view's
    corners (the labels are placed in the figure's pixels)."""
    from matplotlib.collections import LineCollection

    placed = [(r, r.point_m) for r in lights.red_runs if r.point_m is not None]
    run_texts = [f"ran {r.light_id} at red, {r.time_s:.1f} s" for r, _ in placed]
    if lights.stops:
        ax.add_collection(
            LineCollection(
                [s.ends_m for s in lights.stops],
                colors=[STATE_COLOURS[s.state] for s in lights.stops],
                linewidths=3.5,
                zorder=3,
                gid="stop-lines",
            ),
            autolim=False,
        )
        nearest = min(s.distance_m for s in lights.stops)
        near = [s for s in lights.stops if s.distance_m <= max(LABEL_NEAR_M, nearest)]
        labelled: dict[str, Any] = {}
        for s in sorted(near, key=lambda s: s.distance_m):
            labelled.setdefault(s.light_id, s)  # each light once, at its line nearest the ego
        spots: list[tuple[np.ndarray, list[str]]] = []  # lights labelled at one spot share it
        for s in labelled.values():
            spot = next((p for p in spots if np.hypot(*(p[0] - s.ends_m[1])) < 3.0), None)
            if spot is None:
                spots.append((s.ends_m[1], [s.light_id]))
            else:
                spot[1].append(s.light_id)
        # the view's limits and aspect as drawn, to place the labels in pixels
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal", adjustable="box")
        ax.apply_aspect()
        to_px = ax.transData
        scale = ax.figure.dpi / 72.0  # points to pixels
        texts = [" " + "/".join(ids) for _, ids in spots]
        # the red-run labels (drawn below, their baseline 6, -12 points from their star)
        # stay clear too
        taken = [
            (*(to_px.transform(p) + np.array([6.0, -12.0 - 0.3 * LABEL_FONT_PT]) * scale),
             *(np.array(_text_size_pt(text)) * scale))
            for (_, p), text in zip(placed, run_texts, strict=True)
        ]  # fmt: skip
        corners = place_labels(
            [tuple(to_px.transform(xy)) for xy, _ in spots],
            [tuple(np.array(_text_size_pt(t)) * scale) for t in texts],
            taken,
        )
        back = to_px.inverted()
        for text, corner in zip(texts, corners, strict=True):
            if corner is None:
                continue
            x, y = back.transform(corner)
            ax.text(x, y, text, fontsize=LABEL_FONT_PT, ha="left", va="bottom", clip_on=True,
                    zorder=7, gid="light-label")  # fmt: skip
    if placed:
        xs = [p[0] for _, p in placed]
        ys = [p[1] for _, p in placed]
        ax.plot(xs, ys, ls="none", marker="*", ms=12, color="red", mec="black", alpha=0.85,
                label="red light run", zorder=7, gid="red-light-run")  # fmt: skip
        for text, x, y in zip(run_texts, xs, ys, strict=True):
            ax.annotate(
                text,
                (x, y),
                xytext=(6, -12),
                textcoords="offset points",
                fontsize=LABEL_FONT_PT,
                color="darkred",
                clip_on=True,
                zorder=7,
                gid="red-light-run-label",
            )


def bev_figure(
    history: SimHistory, road_map: RoadMap | None, title: str, lights: LightView | None = None
) -> Figure:
    """Bird's-eye view: lanes, ego path with footprints every 2 s, agent paths, collision point
    (and with ``lights`` the stop lines and red lights run)."""
    return BevFigure().draw(history, road_map, title, lights)


#: Longest signal drawn point for point; longer ones are decimated (min/max per bucket).
MAX_SIGNAL_POINTS = 2000


def decimate_minmax(t: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """``(t, y)`` ``(N,)`` thinned to at most ~``max_points`` points keeping each bucket's
    minimum and maximum (in time order), so that peaks (a jerk spike, the lowest TTC) stay
    visible; NaN gaps are kept as gaps. Returned unchanged when ``N <= max_points``."""
    n = len(t)
    if n <= max_points:
        return t, y
    buckets = max(1, max_points // 2)
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    keep: list[int] = []
    for lo, hi in itertools.pairwise(edges.tolist()):
        if hi <= lo:
            continue
        seg = y[lo:hi]
        if np.all(np.isnan(seg)):
            keep.append(int(lo))
            continue
        i, j = int(np.nanargmin(seg)) + lo, int(np.nanargmax(seg)) + lo
        keep += sorted({i, j})
        if np.any(np.isnan(seg)):  # keep one NaN so the gap is still drawn as a gap
            keep.append(int(np.flatnonzero(np.isnan(seg))[0]) + lo)
    idx = np.unique(np.asarray(keep, dtype=np.int64))
    return t[idx], y[idx]


class SignalsFigure:
    """A reusable speed / acceleration / jerk / TTC figure (see :class:`BevFigure`):
    :meth:`draw` replaces the curves' data and rescales the axes. The speed plot also has the
    nearest agent ahead (:mod:`~drivestack.report.lead`): its speed (orange, gid
    ``lead-speed``) and, on a right-hand axis, its gap (green dashes, gid ``lead-gap``),
    the axis hidden for a run with no agent ever ahead."""

    def __init__(self, lights: bool = False) -> None:
        # lights: a strip of each traffic light's state over time above the four plots
        self.light_ax: Any = None
        self._light_marks: list[Any] = []
        if lights:
            self.figure = Figure(figsize=(7.5, 7.0))
            every = self.figure.subplots(
                5, 1, sharex=True, gridspec_kw={"height_ratios": [0.7, 1, 1, 1, 1]}
            )
            self.light_ax, axes = every[0], every[1:]
            self.figure.subplots_adjust(left=0.12, right=0.9, bottom=0.07, top=0.98, hspace=0.12)
        else:
            self.figure = Figure(figsize=(7.5, 6.0))
            axes = self.figure.subplots(4, 1, sharex=True)
            self.figure.subplots_adjust(left=0.12, right=0.9, bottom=0.08, top=0.98, hspace=0.12)
        self.axes = axes
        (self.speed,) = axes[0].plot([], [], color="tab:blue", label="ego speed")
        (self.lead_speed,) = axes[0].plot(
            [], [], color="tab:orange", lw=1.0, label="speed of agent ahead", gid="lead-speed"
        )
        axes[0].set_ylabel("speed [m/s]")
        self.gap_ax = axes[0].twinx()
        (self.lead_gap,) = self.gap_ax.plot(
            [],
            [],
            color="tab:green",
            ls="--",
            lw=1.0,
            label="gap to it [m] (right)",
            gid="lead-gap",
        )
        self.gap_ax.set_ylabel("gap ahead [m]", color="tab:green", fontsize=8)
        self.gap_ax.tick_params(axis="y", labelsize=7, colors="tab:green")
        self._legend = axes[0].legend(
            handles=[self.speed, self.lead_speed, self.lead_gap], fontsize=6, loc="upper right"
        )
        (self.accel,) = axes[1].plot([], [], color="tab:blue")
        for limit in (comfort.MIN_LON_ACCEL_MPS2, comfort.MAX_LON_ACCEL_MPS2):
            axes[1].axhline(limit, color="tab:red", ls="--", lw=0.8)
        axes[1].set_ylabel("accel [m/s²]")
        (self.jerk,) = axes[2].plot([], [], color="tab:blue")
        for limit in (-comfort.MAX_ABS_LON_JERK_MPS3, comfort.MAX_ABS_LON_JERK_MPS3):
            axes[2].axhline(limit, color="tab:red", ls="--", lw=0.8)
        axes[2].set_ylabel("jerk [m/s³]")
        (self.ttc,) = axes[3].plot([], [], color="tab:blue", marker=".", ms=2, lw=0.8)
        self.ttc_bound = axes[3].axhline(0.0, color="tab:red", ls="--", lw=0.8)
        axes[3].set_ylabel("TTC [s]")
        axes[3].set_xlabel("time [s]")
        for ax in axes:
            ax.grid(alpha=0.3)
            # aligned labels at a fixed offset (``align_ylabels`` measures every sibling's tick
            # labels on every draw)
            ax.yaxis.set_label_coords(-0.085, 0.5)

    def draw(
        self,
        history: SimHistory,
        ttc_s: np.ndarray,
        ttc_bound_s: float,
        lights: LightView | None = None,
        lead: LeadTrace | None = None,
    ) -> Figure:
        """Speed, acceleration, jerk and TTC over time, with nuPlan's comfort and TTC limits;
        the nearest agent ahead's speed and gap from ``lead`` (none drawn without it); on a
        figure made with ``lights=True``, each light's state strip from ``lights`` (and a
        dotted line on the speed plot at each red light run)."""
        t = history.time_s - history.time_s[0]
        accel = history.ego_accel_mps2
        jerk = comfort.derivative(accel, history.dt_s) if len(accel) > 1 else np.zeros_like(accel)
        finite = np.where(np.isfinite(ttc_s), ttc_s, np.nan)
        for line, y in (
            (self.speed, history.ego_speed_mps),
            (self.accel, accel),
            (self.jerk, jerk),
            (self.ttc, finite),
        ):
            line.set_data(*decimate_minmax(t, np.asarray(y, dtype=np.float64), MAX_SIGNAL_POINTS))
        shown = lead is not None and lead.any
        none = np.zeros(0)
        for line, values in (
            (self.lead_speed, lead.speed_mps if lead is not None and shown else none),
            (self.lead_gap, lead.gap_m if lead is not None and shown else none),
        ):
            times = t if len(values) else none
            line.set_data(
                *decimate_minmax(times, np.asarray(values, np.float64), MAX_SIGNAL_POINTS)
            )
        self.gap_ax.set_visible(shown)
        self._legend.set_visible(shown)
        self.ttc_bound.set_ydata([ttc_bound_s, ttc_bound_s])
        if self.light_ax is not None:
            self._draw_lights(t, lights, history.dt_s)
        for ax in self.axes:
            ax.relim()
            ax.autoscale_view()
        self.gap_ax.relim()
        self.gap_ax.autoscale_view()
        if not shown:
            self.gap_ax.set_ylim(0.0, 1.0)  # as a fresh figure's
        return self.figure

    def _draw_lights(self, t: np.ndarray, lights: LightView | None, dt_s: float) -> None:
        """The state strips (a row per light, top first; added without widening the shared
        time axis) and each red light run as ✕ on its light's row."""
        from matplotlib.collections import PolyCollection

        ax = self.light_ax
        for artist in [*ax.lines, *ax.collections, *ax.texts, *self._light_marks]:
            artist.remove()
        self._light_marks = []
        rows = lights.rows if lights is not None else ()
        polys, colours = [], []
        if lights is not None and len(t):
            ends = np.append(t[1:], t[-1] + dt_s)
            for i in range(len(rows)):
                y = len(rows) - 1 - i
                codes = lights.codes[:, i]
                starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
                stops = np.r_[starts[1:], len(codes)] - 1
                for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
                    x0, x1 = t[a], ends[b]
                    polys.append([(x0, y - 0.4), (x1, y - 0.4), (x1, y + 0.4), (x0, y + 0.4)])
                    colours.append(STATE_COLOURS[SIGNAL_STATES[int(codes[a])]])
        ax.add_collection(
            PolyCollection(polys, facecolors=colours, linewidths=0, gid="light-states"),
            autolim=False,
        )
        ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
        ax.set_yticks(range(len(rows)), list(reversed(rows)), fontsize=7)
        label = "lights" if lights is None or not lights.hidden else f"lights (+{lights.hidden})"
        ax.set_ylabel(label)
        ax.yaxis.set_label_coords(-0.085, 0.5)
        runs = [r for r in (lights.red_runs if lights is not None else ()) if r.light_id in rows]
        if runs:
            xs = [r.time_s for r in runs]
            ys = [len(rows) - 1 - rows.index(r.light_id) for r in runs]
            ax.plot(xs, ys, ls="none", marker="X", ms=9, color="black", mec="white",
                    zorder=5, gid="red-light-run")  # fmt: skip
            for x in xs:
                self._light_marks.append(
                    self.axes[0].axvline(x, color="darkred", ls=":", lw=1.0, gid="red-light-run")
                )


def signals_figure(
    history: SimHistory,
    ttc_s: np.ndarray,
    ttc_bound_s: float,
    lights: LightView | None = None,
    lead: LeadTrace | None = None,
) -> Figure:
    """Speed, acceleration, jerk and TTC over time, with nuPlan's comfort and TTC limits (with
    ``lead``, the nearest agent ahead's speed and gap; with ``lights`` having strips, the
    lights' states over time above them)."""
    if lights is not None and lights.rows:
        return SignalsFigure(lights=True).draw(history, ttc_s, ttc_bound_s, lights, lead)
    return SignalsFigure().draw(history, ttc_s, ttc_bound_s, lead=lead)


def pass_rate_figure(by_param: dict[str, list[dict[str, Any]]]) -> Figure:
    """One bar chart of pass rate per bin for each swept parameter, a bar per planner."""
    n = len(by_param)
    fig = Figure(figsize=(4.0 * n, 3.2))
    axes = fig.subplots(1, n, squeeze=False)
    fig.subplots_adjust(left=0.6 / (4.0 * n), right=0.98, bottom=0.3, top=0.9, wspace=0.35)
    planners = sorted({b.get("planner", "") for bins in by_param.values() for b in bins})
    width = 0.8 / max(len(planners), 1)
    for ax, (key, bins) in zip(axes[0], by_param.items(), strict=True):
        labels = list(dict.fromkeys(b["bin"] for b in bins))
        for k, planner in enumerate(planners):
            mine = [b for b in bins if b.get("planner", "") == planner]
            x = [labels.index(b["bin"]) + (k - (len(planners) - 1) / 2) * width for b in mine]
            ax.bar(x, [b["pass_rate"] * 100 for b in mine], width=width, color=f"C{k}",
                   label=planner or None)  # fmt: skip
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_ylim(0, 105)
        ax.set_title(key, fontsize=9)
        ax.set_ylabel("pass rate [%]")
        if len(planners) > 1:
            ax.legend(fontsize=7)
    return fig


def heatmap_figure(hm: dict[str, Any], title: str = "") -> Figure:
    """Pass rate over two swept parameters, with the variant count in each cell."""
    rate = np.asarray(hm["pass_rate"], dtype=np.float64)
    fig = Figure(figsize=(1.2 * len(hm["x_labels"]) + 3.5, 0.6 * len(hm["y_labels"]) + 2.5))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.2, right=0.95, bottom=0.3, top=0.95)
    im = ax.imshow(rate * 100, cmap="RdYlGn", vmin=0, vmax=100, origin="lower", aspect="auto")
    for (i, j), n in np.ndenumerate(np.asarray(hm["n"])):
        if n:
            ax.text(j, i, f"{rate[i, j] * 100:.0f}%\nn={n}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(hm["x_labels"])), hm["x_labels"], rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(len(hm["y_labels"])), hm["y_labels"], fontsize=7)
    ax.set_xlabel(hm["x_key"])
    ax.set_ylabel(hm["y_key"])
    fig.colorbar(im, ax=ax, label="pass rate [%]")
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def tracking_curves_figure(curves: dict[str, dict[str, list[float]]], title: str) -> Figure:
    """sMOTA and MOTA (percent, as the tables) against the recall threshold, one colour per
    class."""
    fig = Figure(figsize=(6.5, 3.5))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.12, right=0.98, bottom=0.15, top=0.9)
    for k, (cls, c) in enumerate(curves.items()):
        color = f"C{k}"
        smota = [100.0 * v for v in c["sMOTA"]]  # in percent, as the tables print them
        mota = [100.0 * v for v in c["MOTA"]]
        ax.plot(c["recall"], smota, color=color, label=f"{cls} sMOTA")
        ax.plot(c["recall"], mota, color=color, ls="--", label=f"{cls} MOTA")
    ax.set_xlabel("recall threshold")
    ax.set_ylabel("sMOTA / MOTA (%)")
    ax.set_ylim(-5.0, 105.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title, fontsize=10)
    return fig


#: Detection kinds drawn in the precision-recall figure (the JSON keeps every kind).
PR_KINDS = ("BEV", "3D")
_DIFFICULTIES = ("easy", "moderate", "hard")


def detection_pr_figure(pr_curves: dict[str, Any], ap40: dict[str, float], title: str) -> Figure:
    """Precision against recall, one panel per class (rows) and difficulty (columns).

    ``pr_curves`` as :func:`drivestack.report.build.pr_curves` returns it; BEV and 3D in one
    colour each, strict overlaps solid and loose dashed; ``ap40`` (``"Car BEV moderate"`` ->
    percent) labels the strict curves.
    """
    recall = np.asarray(pr_curves["recall_positions"], dtype=np.float64)
    classes = list(pr_curves["curves"])
    diffs = [
        d
        for d in _DIFFICULTIES
        if any(
            d in sets
            for kinds in pr_curves["curves"].values()
            for per_set in kinds.values()
            for sets in per_set.values()
        )
    ] or list(_DIFFICULTIES)
    n_rows, n_cols = max(len(classes), 1), len(diffs)
    fig = Figure(figsize=(3.3 * n_cols, 2.6 * n_rows + 0.5))
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=True, sharey=True)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.1, top=0.92, wspace=0.08, hspace=0.3)
    fig.suptitle(f"{title}: precision-recall (KITTI, 40 recall positions)", fontsize=10)
    for i, cls in enumerate(classes):
        kinds = pr_curves["curves"][cls]
        for j, diff in enumerate(diffs):
            ax = axes[i, j]
            for k, kind in enumerate(PR_KINDS):
                for strictness, style in (("strict", "-"), ("loose", "--")):
                    prec = kinds.get(kind, {}).get(strictness, {}).get(diff)
                    if prec is None:
                        continue
                    label = f"{kind} {strictness}"
                    ap = ap40.get(f"{cls} {kind} {diff}")
                    if strictness == "strict" and ap is not None:
                        label += f" (AP40 {ap:.1f})"
                    ax.plot(recall, prec, color=f"C{k}", ls=style, lw=1.3, label=label)
            ax.set_xlim(0, 1)
            ax.set_ylim(-0.02, 1.02)
            ax.grid(alpha=0.3)
            ax.set_title(f"{cls}, {diff}", fontsize=9)
            if ax.lines:
                ax.legend(fontsize=6, loc="lower left")
            if i == n_rows - 1:
                ax.set_xlabel("recall")
            if j == 0:
                ax.set_ylabel("precision")
    return fig


#: The class groups drawn in the prediction figure (moving agents), one panel each.
PREDICTION_PANELS = (("vehicle", "moving"), ("pedestrian", "moving"))


def prediction_ade_figure(
    checkpoints_s: list[float], models: dict[str, dict[str, dict[str, Any]]], title: str
) -> Figure:
    """ADE against the forecast horizon, one line per model, one panel per class group of
    :data:`PREDICTION_PANELS` (moving agents).

    ``models``: one traffic kind's ``{model: {group: {motion: row}}}`` with ``row["ADE@<t>s"]``
    at each of ``checkpoints_s`` and ``row["cases"]``; a panel without cases says so.
    """
    n = len(PREDICTION_PANELS)
    fig = Figure(figsize=(4.2 * n, 3.4))
    axes = fig.subplots(1, n, squeeze=False, sharey=True)[0]
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.84, wspace=0.08)
    fig.suptitle(f"{title}: ADE against horizon (moving agents)", fontsize=10)
    for ax, (group, motion) in zip(axes, PREDICTION_PANELS, strict=True):
        cases = 0
        for k, (model, groups) in enumerate(models.items()):
            row = groups.get(group, {}).get(motion)
            if not row or not row["cases"]:
                continue
            cases = row["cases"]
            y = [row.get(f"ADE@{c:g}s") for c in checkpoints_s]
            y_plot = [np.nan if v is None else v for v in y]
            ax.plot(checkpoints_s, y_plot, marker="o", ms=4, color=f"C{k}", label=model)
        ax.set_title(f"{group}, {motion} ({cases} cases)", fontsize=9)
        ax.set_xlabel("horizon [s]")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "no cases", ha="center", va="center", transform=ax.transAxes)
    axes[0].set_ylabel("ADE [m]")
    return fig


def planning_ade_figure(
    curves: dict[str, tuple[list[float], list[float | None]]],
    recorded: dict[str, dict[float, float | None]],
    title: str,
) -> Figure:
    """Average L2 error against the horizon, one line per planner over every compared
    sample (``curves``: planner -> (times, ADE)), nuPlan's horizons marked with the ADE the
    metrics.json records (``recorded``: planner -> {horizon: ADE})."""
    fig = Figure(figsize=(6.5, 3.6))
    ax = fig.subplots()
    fig.subplots_adjust(left=0.11, right=0.98, bottom=0.14, top=0.9)
    for k, (planner, (t, y)) in enumerate(curves.items()):
        ax.plot(t, [np.nan if v is None else v for v in y], color=f"C{k}", lw=1.5, label=planner)
        marks = recorded.get(planner, {})
        xs = [h for h, v in marks.items() if v is not None]
        ys = [float(v) for v in marks.values() if v is not None]
        ax.plot(xs, ys, ls="none", marker="s", ms=6, color=f"C{k}")
    ax.plot([], [], ls="none", marker="s", color="0.4", label="nuPlan horizons (recorded)")
    ax.set_xlabel("horizon [s]")
    ax.set_ylabel("average L2 error [m]")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title(title, fontsize=10)
    return fig


def planning_instants_figure(
    panels: dict[str, dict[float, dict[str, tuple[list[float], list[float]]]]],
    planners: list[str],
    title: str,
) -> Figure:
    """Each instant's average L2 error along its log: a row per log, a column per horizon
    (``panels``: log -> {horizon: {planner: (instant times, ADE)}}), a colour per planner
    (the order of ``planners``)."""
    logs = list(panels)
    horizons = sorted({h for by_h in panels.values() for h in by_h})
    n_rows, n_cols = max(len(logs), 1), max(len(horizons), 1)
    height = 2.3 * n_rows + 0.6
    fig = Figure(figsize=(3.3 * n_cols, height))
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex="row")
    fig.subplots_adjust(
        left=0.07,
        right=0.98,
        bottom=0.45 / height,
        top=1 - 0.5 / height,
        wspace=0.25,
        hspace=0.45,
    )
    fig.suptitle(f"{title}: each instant's average L2 error", fontsize=10)
    for i, log in enumerate(logs):
        for j, h in enumerate(horizons):
            ax = axes[i, j]
            for planner, (t, y) in panels[log].get(h, {}).items():
                k = planners.index(planner) if planner in planners else len(planners)
                ax.plot(t, y, marker=".", ms=4, lw=1.0, color=f"C{k}", label=planner)
            ax.set_title(f"{log}, up to {h:g} s", fontsize=8)
            ax.set_ylim(bottom=0.0)
            ax.grid(alpha=0.3)
            if i == n_rows - 1:
                ax.set_xlabel("instant [s]")
            if j == 0:
                ax.set_ylabel("ADE [m]")
            if i == 0 and j == 0 and ax.lines:
                ax.legend(fontsize=6)
    return fig
