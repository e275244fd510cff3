"""Progress on stderr: a tqdm bar on a terminal, plain lines in a log or a pipe (a bar's
carriage-return frames filled CI logs: a 1 KB line per command), nothing with --quiet."""

from __future__ import annotations

import io

import pytest

from drivestack.core.progress import PlainProgress, is_terminal, progress


def test_without_a_terminal_the_work_is_about_ten_plain_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert not is_terminal(__import__("sys").stderr)  # pytest's capture is no terminal
    assert list(progress(range(61), desc="replay drive.mcap", unit="frame")) == list(range(61))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 9 and "\r" not in "".join(lines)  # every 7th of 61, and the last
    assert lines[0].startswith("replay drive.mcap: 7/61 frames, ")
    assert lines[-1].startswith("replay drive.mcap: 61/61 frames, ")


def test_updates_postfix_initial_and_close(capsys: pytest.CaptureFixture[str]) -> None:
    with progress(total=4, desc="eval planning", unit="log") as bar:
        bar.set_description("eval planning av2")
        bar.set_postfix(crashed=1)
        bar.update()
        bar.update(2)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "eval planning av2: 1/4 logs",
        "eval planning av2: 3/4 logs",
    ]  # stopped at 3: close says where it ended
    assert lines[0].endswith("crashed=1")
    resumed = PlainProgress(range(8, 10), total=10, desc="train", initial=8, file=io.StringIO())
    assert list(resumed) == [8, 9] and resumed.n == 10


def test_without_a_total_lines_at_1_2_5_10_20_50(capsys: pytest.CaptureFixture[str]) -> None:
    list(progress(iter(range(60)), desc="frames", unit="frame"))
    counts = [
        int(line.split(": ")[1].split(" ")[0]) for line in capsys.readouterr().err.splitlines()
    ]
    assert counts == [1, 2, 5, 10, 20, 50, 60]


def test_quiet_prints_nothing_and_a_terminal_gets_the_bar(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert list(progress(range(5), desc="sim", unit="run", disable=True)) == list(range(5))
    assert capsys.readouterr().err == ""
    monkeypatch.setattr("drivestack.core.progress.is_terminal", lambda stream: True)
    from tqdm import tqdm

    bar = progress(range(3), desc="sim", unit="run")
    assert isinstance(bar, tqdm)
    bar.close()
