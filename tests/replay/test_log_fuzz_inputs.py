"""Bad input found by mutating drivestack logs: a log cut before it declares its LiDAR channel
(or shorter than an MCAP footer) says it is cut, and ``validate`` gives one DataError naming
the file (and the message) for a log that does not read."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivestack.core.errors import DataError
from drivestack.replay.log_reader import LogReader, TruncatedLogError
from tests.replay.test_log_reader_bad_messages import _log, _rewrite


@pytest.mark.parametrize("cut", [1, 8, 13, 200])
def test_a_log_cut_before_its_lidar_channel_says_it_is_cut(tmp_path: Path, cut: int) -> None:
    whole = _log(tmp_path / "whole.mcap")
    path = tmp_path / "cut.mcap"
    path.write_bytes(whole.read_bytes()[:cut])
    with pytest.raises(TruncatedLogError) as raised:
        list(LogReader(path).frames(problems=True))
    assert str(raised.value).startswith(f"{path}: truncated or corrupt MCAP")


@pytest.mark.parametrize("cut", [0, 1, 200, -1])
def test_validate_of_a_cut_log_is_a_data_error_naming_it(tmp_path: Path, cut: int) -> None:
    whole = _log(tmp_path / "whole.mcap").read_bytes()
    path = tmp_path / "cut.mcap"
    path.write_bytes(whole[:cut] if cut >= 0 else whole[: len(whole) // 2])
    with pytest.raises(DataError) as raised:
        LogReader(path).validate()
    assert str(raised.value).startswith(f"{path}: not a readable MCAP after ")


def test_validate_names_a_message_that_is_not_json(tmp_path: Path) -> None:
    def garble(topic: str, i: int, t: int, data: bytes) -> tuple[int, bytes]:
        return t, (b'{"x": \xfe' if topic == "/labels" and i == 2 else data)

    path = _rewrite(_log(tmp_path / "whole.mcap"), tmp_path / "bad.mcap", garble)
    with pytest.raises(DataError) as raised:
        LogReader(path).validate()
    assert raised.value.path == str(path) and raised.value.record == "/labels #2"
    assert raised.value.reason.startswith("not JSON: ")
    assert "\n" not in str(raised.value)
