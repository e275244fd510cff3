"""Evaluation reports: one self-contained HTML page (and its JSON) per run folder.

:mod:`~drivestack.report.collect` reads a run (simulation, fleet, tracking, detection,
motion-forecast and open-loop planning results: :mod:`~drivestack.report.prediction` and
:mod:`~drivestack.report.planning` read and compare the last two; log replay summaries:
:mod:`~drivestack.report.replay`; a sim run's perception scores:
:mod:`~drivestack.report.perception`),
:mod:`~drivestack.report.compare` finds regressions against a baseline run,
:mod:`~drivestack.report.sweep` aggregates sweeps (a fleet's and a sim run's scenario-file
sweeps), :mod:`~drivestack.report.score_terms` says what a run's score lost points for,
:mod:`~drivestack.report.lead` finds the nearest agent ahead of the ego, :mod:`~drivestack.report.tracking` sets
tracking results beside the published anchors, :mod:`~drivestack.report.detection` compares
detection APs with a baseline's, :mod:`~drivestack.report.plots` draws and
:mod:`~drivestack.report.html` renders (:mod:`~drivestack.report.html_motion` the prediction
and planning sections, :mod:`~drivestack.report.html_stack` the replay and sim perception
sections); :func:`build_report` ties them together.

The names below import :mod:`~drivestack.report.build` (and its plotting) on first use, so
that reading a submodule's constants (the command's defaults) stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivestack.core.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from drivestack.report.build import Report, build_report, write_report

__all__ = ["Report", "build_report", "write_report"]
__getattr__ = lazy_exports(__name__, dict.fromkeys(__all__, "build"))
