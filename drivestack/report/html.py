"""Render a :class:`~drivestack.report.build.Report` as one self-contained HTML page.

Inline CSS, inline PNG figures and a small inline script that sorts any ``table.sortable`` by
a clicked column (cells carry their sort value in ``data-v``). Nothing is fetched.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING, Any

from drivestack.core.json_values import strict_dumps
from drivestack.eval.driving.nuplan import WEIGHTS
from drivestack.exec.task import NOT_EVALUATED_LABEL
from drivestack.report import detection2d, html_motion, html_stack
from drivestack.report.collect import ending_of
from drivestack.report.html_cells import comparison_of
from drivestack.report.html_cells import fmt as _fmt
from drivestack.report.html_cells import img as _img
from drivestack.report.html_cells import not_compared as _not_compared
from drivestack.report.html_cells import td as _td
from drivestack.report.score_terms import MULTIPLIERS, WEIGHTED
from drivestack.report.sweep import MAX_BINS

if TYPE_CHECKING:
    from drivestack.report.build import Report

#: The summary cards shown only for a suite that lists known failures (older report.json: none).
_LISTED_COUNTS = ("known_failure", "unexpected_pass", "known_failure_not_evaluated")
#: Said where the red lights run are shown: the score does not count them.
NUPLAN_IGNORES_LIGHTS = (
    "The nuPlan score ignores traffic lights: a run can score 100 and still fail "
    "no_red_light_violation."
)

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em auto;max-width:1300px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f1f1f1;cursor:pointer;user-select:none}
td.l,th.l{text-align:left}
tr.regression td{background:#ffd6d6}tr.regression td:first-child{border-left:4px solid #c00}
tr.improvement td{background:#e0f5e0}
.pass{color:#197a19;font-weight:600}.fail,.crashed,.corrupt,.missing{color:#c00;font-weight:600}.known{color:#a15c00;font-weight:600}
.badge{display:inline-block;padding:1px 6px;border-radius:8px;background:#c00;color:#fff;font-size:11px}
.kv td:first-child{text-align:left;color:#555}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}
.card b{font-size:1.5em;display:block}
.scenario{border:1px solid #ddd;border-radius:6px;padding:.5em 1em;margin:1em 0}
.scenario img{max-width:49%;vertical-align:top}
.problems li,.warning{color:#a40}
.worse{color:#c00}.better{color:#197a19}
pre{white-space:pre-wrap;font-size:12px;background:#f7f7f7;padding:.5em}
"""

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('thead th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute('data-dir') !== 'asc';
      th.setAttribute('data-dir', asc ? 'asc' : 'desc');
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
        var nx = parseFloat(x), ny = parseFloat(y), c;
        if (!isNaN(nx) && !isNaN(ny)) { c = nx - ny; } else { c = String(x).localeCompare(String(y)); }
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
      table.setAttribute('data-sorted-by', th.textContent);
    });
  });
  table.setAttribute('data-sortable', 'ready');
});
"""


def short_keys(keys: Iterable[str]) -> dict[str, str]:
    """Each dotted parameter key -> its shortest suffix that no other of ``keys`` ends with
    and that starts with a name, not a list index (``agents.0.path_m.1.0`` -> ``path_m.1.0``
    beside ``agents.0.path_m.0.0``; ``agents.0.speed_kph`` and ``ego.speed_kph`` stay whole)."""
    distinct = list(dict.fromkeys(keys))
    parts = {k: k.split(".") for k in distinct}
    out: dict[str, str] = {}
    for key, mine in parts.items():
        label = key
        for n in range(1, len(mine) + 1):
            tail = mine[-n:]
            if tail[0].isdigit():
                continue
            if not any(other != key and p[-n:] == tail for other, p in parts.items()):
                label = ".".join(tail)
                break
        out[key] = label
    return out


def _light_facts(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """With camera lights (``drivestack sim`` or a fleet): the camera's preset and, per
    planner, the pooled light perception of its summary (held reads and inferences, then the
    raw reads' accuracy; a planner whose summary holds none says so); none with the lights'
    true states."""
    from drivestack.sim.perception_metrics import light_perception_line

    if manifest.get("lights") != "camera":
        return []
    camera = manifest.get("light_camera")
    preset = camera.get("preset") if isinstance(camera, dict) else None
    facts = [("lights", f"camera ({preset or 'ideal'})")]
    summary = manifest.get("summary")
    for planner, entry in summary.items() if isinstance(summary, dict) else ():
        held = entry.get("light_perception") if isinstance(entry, dict) else None
        if not isinstance(held, dict):
            facts.append((f"light perception ({planner})", "not recorded in its summary"))
            continue
        line = light_perception_line(held)
        raw = entry.get("light_perception_raw")
        if isinstance(raw, dict) and raw.get("accuracy") is not None:
            line += f"; raw reads accuracy {100 * raw['accuracy']:.1f}%"
        facts.append((f"light perception ({planner})", line))
    return facts


def _summary(d: dict[str, Any]) -> str:
    run, base, counts = d["run"], d["baseline"], d["counts"]
    manifest = run["manifest"]
    version = d["drivestack_version"]
    if d.get("drivestack_version_recorded") is False:
        version = f"{version} (the report's; the run did not record one)"
    facts = [
        ("run folder", run["path"]),
        ("kind", run["kind"]),
        ("baseline", base["path"] if base else "none"),
        ("drivestack", f"{version} (git {d['git_commit'] or 'not recorded'})"),
        *([("report made at git", d["report_git_commit"])] if d.get("report_git_commit") else []),
        *[("eval command", c) for c in d.get("eval_commands", [])],
        ("generated", d["generated_at"]),
    ]
    for key in ("suite", "planners", "executor", "workers", "max_steps", "command"):
        if key in manifest:
            facts.append((key, manifest[key]))
    facts += _light_facts(manifest)
    html = ['<h2 id="summary">Summary</h2><table class="kv">']
    html += [f"<tr><td>{escape(k)}</td><td class=l>{_fmt(v)}</td></tr>" for k, v in facts]
    html.append("</table>")
    if "sweep" in manifest:
        html.append(
            "<details><summary>fleet config</summary><pre>"
            f"{escape(strict_dumps({k: v for k, v in manifest.items() if k != 'summary'}))}"
            "</pre></details>"
        )
    html.append('<div class="cards">')
    sim_cards = counts.get("total") or d["run"]["kind"] in ("sim", "fleet")
    for label, key in (
        ("runs", "total"),
        ("passed", "pass"),
        ("failed", "fail"),
        ("known failures (the suite lists them)", "known_failure"),
        ("passed unexpectedly (listed as known failures)", "unexpected_pass"),
        (
            "known failures not evaluated (run cut short; among passed)",
            "known_failure_not_evaluated",
        ),
        ("crashed", "crashed"),
        ("corrupt metrics", "corrupt"),
        ("missing metrics", "missing"),
    ):
        if key in _LISTED_COUNTS and not counts.get(key):
            continue  # only for a suite that lists known failures (older report.json: none)
        if not sim_cards:
            continue  # an eval or replay folder: "0 failed" would read as a clean result
        html.append(f'<div class="card"><b>{counts[key]}</b>{label}</div>')
    cmp_ = d["comparison"]
    if cmp_ is not None:
        html.append(
            f'<div class="card"><b>{len(cmp_["regressions"])}</b>scenario regressions vs baseline</div>'
        )
    if d["tracking_regressions"] is not None and d["tracking"]:
        html.append(
            f'<div class="card"><b>{len(d["tracking_regressions"])}</b>tracking metrics '
            "dropped vs baseline</div>"
        )
    if d.get("detection_regressions") is not None and d.get("detection_comparison"):
        html.append(
            f'<div class="card"><b>{len(d["detection_regressions"])}</b>detection APs '
            "dropped vs baseline</div>"
        )
    for kind, what in (("prediction", "forecast errors"), ("planning", "open-loop figures")):
        if d.get(f"{kind}_regressions") is not None and any(
            c["comparable"] for c in d.get(f"{kind}_comparison") or []
        ):
            html.append(
                f'<div class="card"><b>{len(d[f"{kind}_regressions"])}</b>{what} worse '
                "vs baseline</div>"
            )
    html.append("</div>")
    html += [f'<p class="warning">warning: {escape(w)}</p>' for w in d.get("warnings", [])]
    if d["headline"]:
        html.append(
            "<h3>Headline scores</h3><table><thead><tr><th class=l>metric</th><th>this run</th>"
            "<th>baseline</th><th>Δ</th><th>published anchor</th><th>Δ to anchor</th></tr></thead><tbody>"
        )
        for h in d["headline"]:
            v, b, a = h["value"], h["baseline"], h["anchor"]
            delta = v - b if isinstance(v, float) and isinstance(b, float) else None
            to_anchor = v - a if isinstance(v, float) and isinstance(a, float) else None
            gain = -delta if delta is not None and h.get("lower_is_better") else delta
            css = "worse" if gain is not None and gain < 0 else "better" if gain else ""
            anchor = f"{a:.2f} ({h.get('anchor_name', '')})" if a is not None else "–"
            html.append(
                f"<tr><td class=l>{escape(h['name'])}{_note(h)}</td>{_td(v)}{_td(b)}"
                f"{_td(delta, css=css)}"
                f"<td>{escape(anchor)}</td>{_td(to_anchor)}</tr>"
            )
        html.append("</tbody></table>")
    return "".join(html)


def _note(headline: dict[str, Any]) -> str:
    """A headline figure's note (``of the 9 scored runs; 1 crashed or unreadable``), if any."""
    note = headline.get("note")
    return f" <small>({escape(note)})</small>" if note else ""


def _tracking_regressions(d: dict[str, Any]) -> str:
    changes = d["tracking_regressions"]
    if not changes:
        return (
            "<p>Tracking: no sAMOTA / MOTA drops.</p>"
            if changes is not None and d["tracking"]
            else ""
        )
    html = [
        "<h3>Tracking metrics that dropped</h3>"
        '<table class="regressions"><thead><tr><th class=l>file</th><th class=l>IoU</th>'
        "<th class=l>class</th><th class=l>metric</th><th>baseline</th><th>now</th><th>Δ</th>"
        "</tr></thead><tbody>"
    ]
    for c in changes:
        html.append(
            f'<tr class="regression">{_td(c["file"], css="l")}{_td(c["table"], css="l")}'
            f"{_td(c['class'], css='l')}{_td(c['metric'], css='l')}{_td(c['baseline'])}"
            f"{_td(c['value'])}{_td(c['delta'], css='worse')}</tr>"
        )
    html.append("</tbody></table>")
    return "".join(html)


def _detection_regressions(d: dict[str, Any]) -> str:
    """The APs that dropped by more than the score tolerance (of the comparable detection
    results; nothing when none was compared)."""
    changes = d.get("detection_regressions")
    compared = [c for c in d.get("detection_comparison") or [] if c["comparable"]]
    if not compared:
        return ""
    if not changes:
        return (
            f"<p>Detection: no AP drops of more than {d['score_tolerance']:g} points "
            f"({sum(len(c['rows']) for c in compared)} figures compared).</p>"
        )
    html = [
        f"<h3>Detection APs that dropped</h3><p>By more than {d['score_tolerance']:g} points "
        "(percent; nuScenes and AV2 fractions scaled to percent).</p>"
        '<table class="sortable regressions"><thead><tr><th class=l>file</th>'
        "<th class=l>class</th><th class=l>difficulty / distance</th><th class=l>metric</th>"
        "<th>baseline</th><th>now</th><th>Δ</th></tr></thead><tbody>"
    ]
    for c in changes:
        html.append(
            f'<tr class="regression">{_td(c["file"], css="l")}{_td(c["class"], css="l")}'
            f"{_td(c['setting'], css='l')}{_td(c['metric'], css='l')}{_td(c['baseline'])}"
            f"{_td(c['value'])}{_td(c['delta'], css='worse')}</tr>"
        )
    html.append("</tbody></table>")
    return "".join(html)


def _regressions(d: dict[str, Any]) -> str:
    cmp_ = d["comparison"]
    if cmp_ is None:
        return ""
    other_params = cmp_.get("not_comparable") or []
    other_agents = cmp_.get("other_agents") or []
    if not (
        cmp_["common"]
        or cmp_["only_in_run"]
        or cmp_["only_in_baseline"]
        or other_params
        or other_agents
    ):
        evals = _tracking_regressions(d) + _detection_regressions(d) + html_motion.regressions(d)
        return f'<h2 id="regressions">Against the baseline</h2>{evals}' if evals else ""
    html = [
        f'<h2 id="regressions">Against the baseline</h2><p>{cmp_["common"]} runs in common '
        f"(score tolerance {d['score_tolerance']:g} points); passed {cmp_['passed']} now, "
        f"{cmp_['baseline_passed']} in the baseline.</p>"
    ]
    if cmp_["regressions"]:
        html.append(
            '<table class="sortable regressions"><thead><tr><th class=l>run</th><th class=l>change</th>'
            "<th class=l>baseline</th><th class=l>now</th><th>baseline score</th><th>score</th><th>Δ</th>"
            "</tr></thead><tbody>"
        )
        for c in cmp_["regressions"]:
            html.append(
                f'<tr class="regression"><td class=l><a href="#s-{escape(c["key"], quote=True)}">'
                f"{escape(c['key'])}</a></td>{_td(c['kind'].replace('_', ' '), css='l')}"
                f"{_td(c['baseline_status'], css='l')}{_td(c['status'], css='l ' + c['status'])}"
                f"{_td(c['baseline_score'])}{_td(c['score'])}{_td(c['delta'], css='worse')}</tr>"
            )
        html.append("</tbody></table>")
    else:
        html.append("<p>No regressions.</p>")
    if cmp_["improvements"]:
        html.append(f"<p>Improved: {', '.join(escape(c['key']) for c in cmp_['improvements'])}</p>")
    html.append(
        _not_compared(cmp_["only_in_run"], cmp_["only_in_baseline"], other_params, other_agents)
    )
    html.append(_tracking_regressions(d))
    html.append(_detection_regressions(d))
    html.append(html_motion.regressions(d))
    return "".join(html)


def _scenario_table(d: dict[str, Any]) -> str:
    from drivestack.eval.driving.nuplan import ttc_note  # kept out of this module's import

    if not d["rows"]:
        return ""
    show_params = any(r["params"] for r in d["rows"])
    labels = short_keys([k for r in d["rows"] for k in r["params"]])
    rank = {"crashed": 0, "corrupt": 1, "missing": 2, "fail": 3, "pass": 4}
    horizon = float(d["ttc_horizon_s"])
    ttc_head = f"min TTC s (≤ {horizon:g} s horizon)"
    # shown when some run says it ran recorded traffic ("unknown": an old record that cannot say)
    show_agents = any(r.get("recorded_agents") not in (None, "unknown") for r in d["rows"])
    # shown when some run's map has traffic lights (a run without them: –)
    show_lights = any(r.get("red_light_violations") is not None for r in d["rows"])
    # likewise when some run's map has stop signs that stop traffic
    show_signs = any(r.get("stop_sign_violations") is not None for r in d["rows"])
    head = ["run", "planner", "status", "score", "collision", ttc_head, "impact km/h"]
    if show_lights:
        head.append("red lights run")
    if show_signs:
        head.append("stop signs run")
    if show_agents:
        head.append("recorded agents")
    if show_params:
        head.append("params")
    head.append("why")
    html = [
        '<h2 id="scenarios">Scenarios</h2><p>Failures first; click a column to sort. '
        f"{ttc_note('–', horizon)} impact: the ego's own speed at the first contact."
        + (
            " red lights run: how often the ego's front passed a stop line at red (– for a "
            f"run on a map without traffic lights). {NUPLAN_IGNORES_LIGHTS}"
            if show_lights
            else ""
        )
        + (
            " stop signs run: how often the ego's front passed a stop sign's line without a "
            "full stop within 3 m before it (– for a run on a map without stop signs)."
            if show_signs
            else ""
        )
        + "</p>",
        '<table id="scenario-table" class="sortable"><thead><tr>',
    ]
    html += [
        f'<th class="{"l" if h in ("run", "planner", "status", "recorded agents", "params", "why") else ""}"'
        + (f' title="{escape(NUPLAN_IGNORES_LIGHTS, quote=True)}"' if h == "red lights run" else "")
        + f">{h}</th>"
        for h in head
    ]
    html.append("</tr></thead><tbody>")
    details = set(d["details"])
    for r in d["rows"]:
        cls = "regression" if r["regression"] else "improvement" if r["improvement"] else ""
        name = escape(r["key"])
        link = (
            f'<a href="#s-{escape(r["key"], quote=True)}">{name}</a>'
            if r["key"] in details
            else name
        )
        badge = (
            f' <span class="badge">{escape(r["regression"].replace("_", " "))}</span>'
            if r["regression"]
            else ""
        )
        why = _why(r)
        cells = [
            f'<td class=l data-v="{escape(r["key"], quote=True)}">{link}{badge}</td>',
            _td(r["planner"], css="l"),
            _td(_status_text(r), css="l " + _status_css(r), sort=rank[r["status"]]),
            _td(r["score"], sort=r["score"] if r["score"] is not None else -1),
            # the kind and fault when the record says them (why a contact may not zero a score)
            _td(r.get("collision_summary") or r["collision"], css="l", sort=r["collision"]),
            _td(r["min_ttc_s"]),
            _td(r["impact_speed_kph"], digits=1),
        ]
        if show_lights:
            cells.append(_td(r.get("red_light_violations")))
        if show_signs:
            cells.append(_td(r.get("stop_sign_violations")))
        if show_agents:
            cells.append(_td(r.get("recorded_agents"), css="l"))
        if show_params:
            params = ", ".join(f"{labels[k]}={v}" for k, v in r["params"].items())
            cells.append(_td(params, css="l"))
        cells.append(_td(why[:MAX_WHY_CHARS], css="l"))
        html.append(f'<tr class="{cls}">{"".join(cells)}</tr>')
    html.append("</tbody></table>")
    return "".join(html)


#: A listed run's status cell by its ending (:func:`~drivestack.report.collect.ending_of`).
_ENDING_TEXT = {
    "known_failure": "known failure",
    "unexpected_pass": "passed unexpectedly",
    "known_failure_not_evaluated": NOT_EVALUATED_LABEL,
}


def _ending(row: dict[str, Any]) -> str:
    """A report.json row's ending (:func:`~drivestack.report.collect.ending_of`)."""
    return ending_of(row["status"], row.get("known_failure"), row.get("not_evaluated") or ())


def _status_text(row: dict[str, Any]) -> str:
    """A run's status cell: its status, or for a run its suite lists as a known failure
    (``known_failure``, the reason) ``known failure`` when it failed, ``passed
    unexpectedly`` when it passed, and ``known failure, not evaluated (run cut short)`` when
    it passed what a run cut short could judge (``not_evaluated``; older report.json rows
    lack it)."""
    return _ENDING_TEXT.get(_ending(row), str(row["status"]))


def _status_css(row: dict[str, Any]) -> str:
    """A run's status cell class: its status, ``known`` for a known failure (not the red of a
    failure: the suite expects it)."""
    return "known" if _ending(row) == "known_failure" else str(row["status"])


def _why(row: dict[str, Any]) -> str:
    """A run's why cell: its missed criteria or error, after the reason its suite lists it
    as a known failure (and, when it passed, that the listing is stale, or what a run cut
    short did not judge); then, passed or not, what its score lost points for (``score:
    TTC 0.50 s < 0.95 s (-31.2 points); ...``: its ``score_terms``, older report.json rows
    lack them; terms under 0.05 points left out); then, for a run that ended at rest braking
    for a stop reason (``ended_stopped_reason``; older rows lack it), ``ended stopped:
    REASON``."""
    why = _why_ending(row)
    # a weighted term that cost less than 0.05 points (compliance 0.9996) reads "-0.0": noise
    terms = row.get("score_terms") or []
    shown = [t for t in terms if t.get("points") is None or t["points"] >= 0.05]
    lost = "; ".join(t["text"] for t in shown)
    stopped = row.get("ended_stopped_reason")
    parts = (why, f"score: {lost}" if lost else "", f"ended stopped: {stopped}" if stopped else "")
    return "; ".join(p for p in parts if p)


def _why_ending(row: dict[str, Any]) -> str:
    """The part of :func:`_why` that its ending decides."""
    why = "; ".join(row["failures"]) or row["error"]
    reason, ending = row.get("known_failure"), _ending(row)
    if ending == "known_failure_not_evaluated":
        return f"listed as a known failure ({reason}): {'; '.join(row['not_evaluated'])}"
    if ending == "unexpected_pass":
        return f"listed as a known failure ({reason}): remove it from known_failures"
    if ending == "known_failure":
        return f"known failure ({reason}): {why}"
    return why


def _details(d: dict[str, Any], figures: dict[str, str]) -> str:
    if not d["details"]:
        return ""
    rows = {r["key"]: r for r in d["rows"]}
    html = [
        f'<h2 id="details">Scenario views</h2><p>{len(d["details"])} runs (regressions and failures first): '
        "bird's-eye view (lanes, ego in blue with its footprint every 2 s, agents in orange, "
        "the one hit in red, ✕ the first contact) and speed, acceleration, jerk and TTC with "
        "nuPlan's comfort limits and TTC bound (red dashes); on the speed plot the nearest "
        "agent ahead along the ego's driven path (within half the two widths plus 0.3 m of "
        "it): its speed along the path (orange; negative: coming toward the ego) and its "
        "bumper-to-bumper gap (green dashes, right axis). "
        "Each run's nuPlan sub-scores: multipliers scale the score (x0, x0.5), weighted ones "
        "below 1 cost the points shown.</p>"
    ]
    lights = d.get("detail_lights") or {}
    if lights:
        html.append(
            "<p>Traffic lights: each stop line in its light's state when the ego's front was "
            "nearest to it (green, yellow, red, orange red-yellow, dark grey off, light grey "
            "unknown), the lights' ids at the lines near the ego's path, a red star where the "
            "ego's front crossed a line at "
            "red (light and time); above the time plots a strip per light (those run first, then "
            "the nearest; lights (+N): N more not drawn) with its state over time and ✕ at "
            f"each red light run (dotted on the speed plot). {NUPLAN_IGNORES_LIGHTS}</p>"
        )
    for key in d["details"]:
        r = rows[key]
        html.append(
            f'<div class="scenario" id="s-{escape(key, quote=True)}"><h3>{escape(key)} '
            f'<span class="{_status_css(r)}">{escape(_status_text(r))}</span> score '
            f"{_fmt(r['score'])}</h3>"
        )
        if key in lights:
            html.append(_red_runs(lights[key]))
        html.append(_score_terms(r))
        leads = d.get("detail_lead") or {}
        if key in leads:  # its history read (older report.json: not there)
            html.append(_lead_line(leads[key]))
        for name in ("bev", "signals"):
            uri = figures.get(f"{name}:{key}")
            if uri:
                html.append(_img(uri, f"{name} {key}"))
        config = d["detail_configs"].get(key)
        if config:
            html.append(
                "<details><summary>scenario config</summary>"
                f"<pre>{escape(strict_dumps(config))}</pre></details>"
            )
        html.append("</div>")
    return "".join(html)


#: The why cell's length at most (characters).
MAX_WHY_CHARS = 400
#: The nuPlan sub-scores of a run's detail section, in order (the multipliers, then the
#: weighted ones: :mod:`~drivestack.report.score_terms`), as they are named there.
_SUBSCORE_WORDS = {
    "no_at_fault_collisions": "no at-fault collision",
    "drivable_area_compliance": "drivable area compliance",
    "driving_direction_compliance": "driving direction compliance",
    "making_progress": "making progress",
    "progress": "progress against the expert",
    "ttc_within_bound": "TTC within bound",
    "speed_limit_compliance": "speed limit compliance",
    "comfort": "comfort",
}
_SUBSCORE_NAMES = tuple(
    [(name, f"{_SUBSCORE_WORDS[name]} (multiplier)") for name in MULTIPLIERS]
    + [
        (name, f"{_SUBSCORE_WORDS[name]} (weight {WEIGHTS[key]:g})")
        for name, key in WEIGHTED.items()
    ]
)


def _score_terms(row: dict[str, Any]) -> str:
    """A run's nuPlan sub-scores (those recorded; older rows: none) and, beside each one
    below 1, what it cost in words (:func:`~drivestack.report.score_terms.score_terms`)."""
    nuplan = row.get("nuplan") or {}
    if not any(name in nuplan for name, _ in _SUBSCORE_NAMES):
        return ""
    lost = {  # a term under 0.05 points (compliance 0.99999) is noise, as in the why cell
        t["metric"]: t["text"]
        for t in row.get("score_terms") or []
        if t.get("points") is None or t["points"] >= 0.05
    }
    cells = "".join(
        f"<tr><td>{escape(label)} <code>{name}</code></td>{_td(nuplan[name])}"
        f"<td class=l>{escape(lost.get(name, ''))}</td></tr>"
        for name, label in _SUBSCORE_NAMES
        if name in nuplan
    )
    return (
        '<table class="kv subscores"><thead><tr><th class=l>nuPlan sub-score</th><th>value</th>'
        f"<th class=l>lost</th></tr></thead><tbody>{cells}</tbody></table>"
    )


def _lead_line(lead: dict[str, Any] | None) -> str:
    """One line under a run's title: the closest the nearest agent ahead came."""
    if not lead:
        return '<p class="lead">agent ahead: none at any time</p>'
    return (
        f'<p class="lead">agent ahead: closest gap {_fmt(lead["gap_m"], 1)} m at '
        f"{_fmt(lead['time_s'], 1)} s, its speed then {_fmt(lead['speed_mps'], 1)} m/s</p>"
    )


def _red_runs(lights: dict[str, Any]) -> str:
    """One line under a run's title: the red lights it ran (light, lane, time, speed, where)."""
    runs = lights["red_runs"]
    if not runs:
        return '<p class="lights">red lights run: none</p>'
    parts = []
    for r in runs:
        where = f" at ({r['x_m']:.1f}, {r['y_m']:.1f}) m" if r["x_m"] is not None else ""
        speed = f", {r['speed_mps']:.1f} m/s" if r["speed_mps"] is not None else ""
        parts.append(
            f"<b>{escape(r['light_id'])}</b> on lane {escape(r['lane_id'])} at "
            f"{_fmt(r['time_s'], 1)} s{speed}{where}"
        )
    return f'<p class="lights">red lights run: {"; ".join(parts)}</p>'


def _sweep(d: dict[str, Any], figures: dict[str, str]) -> str:
    s = d["sweep"]
    if s is None:
        return ""
    keys = ", ".join(s.get("keys", []))
    html = [
        f'<h2 id="sweep">Sweep: {s["variants"]} variants</h2>'
        f"<p>Swept ({escape(s.get('source', '--sweep'))}): {escape(keys)}; pass rates per "
        f"planner. A key drawn from a range (or with more than {MAX_BINS} values) is cut into "
        "equal-width bins, each named by its edges ([low, high)).</p>"
    ]
    if "sweep_pass_rate" in figures:
        html.append(
            "<h3>Pass rate per parameter bin</h3>"
            + _img(figures["sweep_pass_rate"], "pass rate per bin")
        )
    for key, bins in s["by_param"].items():
        # a red-light column only when the sweep's maps have lights (sweep.pass_rate_by_param)
        lights = any("red_light_runs" in b for b in bins)
        red_th = '<th title="runs that ran at least one red light">ran a red</th>'
        html.append(
            f"<table><thead><tr><th class=l>{escape(key)}</th><th class=l>planner</th>"
            "<th>n</th><th>passed</th><th>pass rate %</th><th>mean score</th>"
            f"{red_th if lights else ''}</tr></thead><tbody>"
        )
        for b in bins:
            red = _td(b.get("red_light_runs")) if lights else ""
            html.append(
                f"<tr>{_td(b['bin'], css='l')}{_td(b.get('planner', ''), css='l')}{_td(b['n'])}"
                f"{_td(b['passed'])}{_td(100 * b['pass_rate'], digits=1)}"
                f"{_td(b['mean_score'])}{red}</tr>"
            )
        html.append("</tbody></table>")
    for hm in s.get("heatmaps", []):
        uri = figures.get(f"sweep_heatmap:{hm['planner']}")
        if uri:
            html.append(
                f"<h3>Pass rate over {escape(hm['x_key'])} × {escape(hm['y_key'])}: "
                f"{escape(hm['planner'])}</h3>" + _img(uri, f"heat map {hm['planner']}")
            )
    html.append(
        '<h3>Pass rate per scenario (worst first)</h3><table class="sortable"><thead><tr>'
        "<th class=l>planner</th><th class=l>scenario</th><th>variants</th><th>passed</th>"
        "<th>pass rate %</th><th>worst score</th></tr></thead><tbody>"
    )
    for g in s["by_scenario"]:
        html.append(
            f"<tr>{_td(g['planner'], css='l')}{_td(g['scenario'], css='l')}{_td(g['n'])}"
            f"{_td(g['passed'])}{_td(100 * g['pass_rate'], digits=1)}{_td(g['min_score'])}</tr>"
        )
    html.append("</tbody></table>")
    html.append(
        "<h3>Worst variants</h3><table><thead><tr><th class=l>run</th><th class=l>status</th>"
        "<th>score</th><th class=l>params</th></tr></thead><tbody>"
    )
    for r in s["worst"]:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        html.append(
            f"<tr>{_td(r['key'], css='l')}{_td(r['status'], css='l ' + r['status'])}"
            f"{_td(r['score'])}{_td(params, css='l')}</tr>"
        )
    html.append("</tbody></table>")
    return "".join(html)


#: The row name and the note of a tracking class's figures without the devkit's per-pass
#: score re-averaging (:func:`~drivestack.report.tracking.no_remean_rows`).
NO_REMEAN_ROW = "no-remean"
NO_REMEAN_NOTE = (
    "no-remean rows: the same tracks scored without the AB3DMOT/KITTI devkit's per-pass "
    "re-averaging of the track scores, shown where sAMOTA, AMOTA or MOTA differ by more than "
    "{points:g} points: the devkit's figure (the class's own row, as published results are) then "
    "hangs on ties between track scores and recall thresholds, and can move by points when "
    "the scores are rounded or jittered by 1e-9 (drivestack eval tracking --help)"
)


def _tracking(d: dict[str, Any], figures: dict[str, str]) -> str:
    if not d["tracking"]:
        return ""
    from drivestack.eval.tracking.protocol import REMEAN_SHOWN_ABOVE_POINTS
    from drivestack.report.tracking import COLUMNS, RATE_COLUMNS, mode_label

    def row_cells(cls: str, source: str, row: dict[str, Any]) -> str:
        cells = "".join(_td(row.get(c), digits=2 if c in RATE_COLUMNS else 0) for c in COLUMNS)
        return f"<tr><td class=l>{escape(cls)}</td><td class=l>{escape(source)}</td>{cells}</tr>"

    html = ['<h2 id="tracking">Tracking</h2>']
    if not d["published_results"]:
        html.append(
            "<p>Published anchors (AB3DMOT, PUBLISHED_RESULTS.md) not shown: "
            "no published results file.</p>"
        )
    for t in d["tracking"]:
        # one table per threshold: the rows of each mode (LiDAR only, fused) class by class
        by_threshold: dict[tuple[str, float], list[int]] = {}
        for k, tb in enumerate(t["tables"]):
            by_threshold.setdefault((tb["similarity"], tb["iou"]), []).append(k)
        for (similarity, iou), ks in by_threshold.items():
            html.append(
                f"<h3>{escape(t['file'])}: {escape(similarity)} IoU {iou:g} "
                f"({escape(str(t['split']))})</h3><table><thead><tr><th class=l>class</th><th class=l>row</th>"
            )
            html += [f"<th>{c}</th>" for c in COLUMNS]
            html.append("</tr></thead><tbody>")
            classes = dict.fromkeys(cls for k in ks for cls in t["tables"][k]["rows"])
            for cls in classes:
                for k in ks:
                    tb = t["tables"][k]
                    mode = mode_label(tb)
                    if cls in tb["rows"]:
                        who = tb.get("source") or "drivestack"
                        source = f"{who} ({mode})" if mode else who
                        label = f"{cls} (no labels)" if cls in tb.get("no_labels", ()) else cls
                        html.append(row_cells(label, source, tb["rows"][cls]))
                    if cls in tb.get("no_remean", {}):
                        html.append(
                            row_cells(cls, f"{NO_REMEAN_ROW} ({who})", tb["no_remean"][cls])
                        )
                first = t["tables"][ks[0]]
                pub = first["published"].get(cls)
                if pub:
                    name = first.get("published_name") or "AB3DMOT (published)"
                    html.append(row_cells(cls, name, pub))
                hota = first.get("hota_anchor") or {}
                if cls in hota.get("rows", {}):
                    html.append(row_cells(cls, hota["name"], hota["rows"][cls]))
            html.append("</tbody></table>")
            first = t["tables"][ks[0]]
            notes = [first.get("published_note"), first.get("hota_note")]
            no_labels = list(
                dict.fromkeys(c for k in ks for c in t["tables"][k].get("no_labels", ()))
            )
            if no_labels:
                notes.append(
                    f"{', '.join(no_labels)}: no labelled objects in the sequences scored, so "
                    "the rates (sAMOTA .. MOTP, HOTA ..) are n/a, not a measurement; the counts "
                    "are shown (FP: its tracks)"
                    + ("; the Overall rates average the other classes" if len(classes) > 1 else "")
                )
            if any(t["tables"][k].get("no_remean") for k in ks):
                notes.append(NO_REMEAN_NOTE.format(points=REMEAN_SHOWN_ABOVE_POINTS))
            html += [f'<p class="note">{escape(n)}.</p>' for n in notes if n]
            for k in ks:
                uri = figures.get(f"tracking:{t['file']}:{k}")
                mode = mode_label(t["tables"][k])
                if uri:
                    html.append(
                        _img(uri, f"sMOTA and MOTA against recall{', ' + mode if mode else ''}")
                    )
    return "".join(html)


def _detection(d: dict[str, Any], figures: dict[str, str]) -> str:
    if not d["detection"]:
        return ""
    html = ['<h2 id="detection">Detection</h2>']
    for det in d["detection"]:
        html.append(
            f"<h3>{escape(det['file'])}: {escape(str(det['dataset']))}, protocol "
            f"{escape(str(det['protocol']))}, {_fmt(det['num_frames'])} frames</h3>"
        )
        if det["kitti_ap"]:
            html.append(
                "<table><thead><tr><th class=l>class, kind</th><th>easy</th><th>moderate</th>"
                "<th>hard</th></tr></thead><tbody>"
            )
            for name, diffs in det["kitti_ap"].items():
                html.append(
                    f"<tr>{_td(name, css='l')}"
                    + "".join(_td(diffs.get(x)) for x in ("easy", "moderate", "hard"))
                    + "</tr>"
                )
            html.append("</tbody></table>")
        av2 = det.get("av2_summary") or {}
        if av2:
            columns = list(dict.fromkeys(k for row in av2.values() for k in row))
            html.append(
                "<table><thead><tr><th class=l>category</th>"
                + "".join(f"<th>{escape(c)}</th>" for c in columns)
                + "</tr></thead><tbody>"
            )
            for cat, row in av2.items():
                html.append(
                    f"<tr>{_td(cat, css='l')}"
                    + "".join(_td(row.get(c), digits=3) for c in columns)
                    + "</tr>"
                )
            html.append(
                '</tbody></table><p class="note">AP and CDS in [0, 1]; ATE m, ASE 1-IoU, '
                "AOE rad.</p>"
            )
        if det["scalars"]:
            html.append(
                "<table><tbody>"
                + "".join(
                    f"<tr>{_td(k, css='l')}{_td(v, digits=4)}</tr>"
                    for k, v in det["scalars"].items()
                )
                + "</tbody></table>"
            )
        html += [f'<p class="note">{escape(n)}.</p>' for n in det.get("notes", [])]
        html.append(_detection_against_baseline(d, det["file"]))
        uri = figures.get(f"detection_pr:{det['file']}")
        if uri:
            html.append(
                f'<div class="pr-curves" data-file="{escape(det["file"])}">'
                "<h4>Precision–recall curves per class and difficulty</h4>"
                + _img(uri, "precision-recall curves")
                + "</div>"
            )
        elif det["pr_curves"] is None:
            html.append("<p>Precision–recall curves: not in this metrics.json.</p>")
    return "".join(html)


def _detection_against_baseline(d: dict[str, Any], file: str) -> str:
    """The full table of one detection result against the baseline's (when compared): every
    figure both hold, drops beyond the score tolerance marked as regressions."""
    compared = comparison_of(d, "detection_comparison", file)
    if compared is None:
        return ""
    c, where = compared
    if not c["comparable"]:
        return (
            f'<p class="warning">Not compared with the baseline ({where}: '
            f"{escape(str(c['baseline_dataset']))}, protocol "
            f"{escape(str(c['baseline_protocol']))}): {escape(c['not_comparable'])}.</p>"
        )
    tol = float(d["score_tolerance"])
    html = [
        f"<h4>Against the baseline ({where})</h4><p>Percent (nuScenes and AV2 fractions scaled "
        f"to percent); Δ beyond {tol:g} points marked"
        + ("; <b>not the same scans</b> (see the warnings)" if not c["same_frames"] else "")
        + ".</p>"
        '<table class="sortable detection-compare" data-file="'
        f'{escape(file, quote=True)}"><thead><tr><th class=l>class</th>'
        "<th class=l>difficulty / distance</th><th class=l>metric</th><th>baseline</th>"
        "<th>this run</th><th>Δ</th></tr></thead><tbody>"
    ]
    for r in c["rows"]:
        delta = r["delta"]
        cls = "regression" if delta < -tol else "improvement" if delta > tol else ""
        css = "worse" if delta < 0 else "better" if delta > 0 else ""
        html.append(
            f'<tr class="{cls}">{_td(r["class"], css="l")}{_td(r["setting"], css="l")}'
            f"{_td(r['metric'], css='l')}{_td(r['baseline'])}{_td(r['value'])}"
            f"{_td(delta, css=css)}</tr>"
        )
    html.append("</tbody></table>")
    html.append(_not_compared(c["only_in_run"], c["only_in_baseline"]))
    return "".join(html)


def _problems(d: dict[str, Any]) -> str:
    if not d["problems"]:
        return ""
    items = "".join(f"<li>{escape(p)}</li>" for p in d["problems"][:200])
    more = (
        f"<p>… and {len(d['problems']) - 200} more (see the JSON)</p>"
        if len(d["problems"]) > 200
        else ""
    )
    return f'<h2 id="problems">Problems</h2><ul class="problems">{items}</ul>{more}'


def render_html(report: Report) -> str:
    """The page (see the module docstring)."""
    d, figures = report.data, report.figures
    body = "".join(
        [
            f"<h1>{escape(d['title'])}</h1>",
            _summary(d),
            _problems(d),
            _regressions(d),
            _scenario_table(d),
            html_stack.sim_perception_section(d),
            _sweep(d, figures),
            html_stack.replay_section(d),
            _tracking(d, figures),
            _detection(d, figures),
            detection2d.section(d),
            html_motion.prediction_section(d, figures),
            html_motion.planning_section(d, figures),
            _details(d, figures),
        ]
    )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(d['title'])}</title><style>{CSS}</style></head>"
        f"<body>{body}<script>{SORT_JS}</script></body></html>\n"
    )
