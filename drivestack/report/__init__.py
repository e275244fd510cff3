"""Evaluation reports: one self-contained HTML page (and its JSON) per run folder.

:mod:`~drivestack.report.collect` reads a run (simulation, fleet, tracking, detection),
:mod:`~drivestack.report.compare` finds regressions against a baseline run,
:mod:`~drivestack.report.sweep` aggregates sweeps, :mod:`~drivestack.report.tracking` sets
tracking results beside the published anchors, :mod:`~drivestack.report.plots` draws and
:mod:`~drivestack.report.html` renders; :func:`build_report` ties them together.
"""

from drivestack.report.build import Report, build_report, write_report

__all__ = ["Report", "build_report", "write_report"]
