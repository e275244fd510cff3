"""A replay's log and summary JSON take their final names together, last: anything raised
before (Ctrl-C during the KITTI scoring or the summary, a numba kernel's SystemError from a
Ctrl-C) leaves an older RUN.mcap and its summary as they were and no new file beside them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from drivestack.pipeline import build_stack
from drivestack.replay import runner
from drivestack.replay.runner import replay

REPO = Path(__file__).resolve().parents[2]
DEMO_LOG = REPO / "data" / "demo" / "drive.mcap"
SIM_STACK = REPO / "configs" / "stack" / "sim_lidar.yaml"


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Each file's inode (a rename over it gives a new one) and bytes."""
    return {p.name: (p.stat().st_ino, p.read_bytes()) for p in sorted(folder.iterdir())}


def _interrupted_in_scoring() -> None:
    raise KeyboardInterrupt


def _numba_style_interrupt() -> None:
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt as exc:  # what numba's dispatcher raises when SIGINT lands inside
        raise SystemError(
            "CPUDispatcher(<function _statistics_kernel>) returned a result with an exception set"
        ) from exc


@pytest.mark.parametrize("raiser", [_interrupted_in_scoring, _numba_style_interrupt])
def test_an_interrupt_after_the_log_is_closed_keeps_the_older_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raiser
) -> None:
    out = tmp_path / "run.mcap"
    replay(DEMO_LOG, build_stack(SIM_STACK), out, progress=False, io_worker="thread")
    before = _snapshot(tmp_path)
    assert set(before) == {"run.mcap", "run.summary.json"}

    # the per-class tally is read while the summary is built, beside the KITTI scoring: after
    # the output log was closed, before anything takes its final name
    def as_dict(self):  # type: ignore[no-untyped-def]
        raiser()

    monkeypatch.setattr(runner.DetectionTally, "as_dict", as_dict)
    with pytest.raises((KeyboardInterrupt, SystemError)):
        replay(DEMO_LOG, build_stack(SIM_STACK), out, progress=False, io_worker="thread")
    assert _snapshot(tmp_path) == before  # no new log, the old summary, no .partial/.crashed


def test_an_interrupt_in_the_kitti_scoring_leaves_no_new_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Scorer:  # a KITTI log's scorer whose final scoring is interrupted
        channels = SimpleNamespace(labels={})  # no label channel to copy into the output

        def add_in_region(self, frame, detections, tracks):  # type: ignore[no-untyped-def]
            return None

        def metrics(self):  # type: ignore[no-untyped-def]
            raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_kitti_scorer", lambda log_path, skipped: Scorer())
    out = tmp_path / "run.mcap"
    with pytest.raises(KeyboardInterrupt):
        replay(DEMO_LOG, build_stack(SIM_STACK), out, progress=False, io_worker="thread")
    assert list(tmp_path.iterdir()) == []


def test_a_finished_replay_writes_the_log_and_its_summary(tmp_path: Path) -> None:
    out = tmp_path / "run.mcap"
    summary = replay(DEMO_LOG, build_stack(SIM_STACK), out, progress=False, io_worker="thread")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.mcap", "run.summary.json"]
    assert summary["summary_path"] == str(out.with_suffix(".summary.json"))
