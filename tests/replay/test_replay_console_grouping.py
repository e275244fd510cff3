"""The replay's console lines group frames whose reasons differ only in the times they name:
38 frames refused as "timestamp_ns must increase: A after B" were 38 lines, and 12 frames
replayed without an ego pose were 12 lines, though the help says frames skipped for one
reason print as one line with a count (the summary JSON keeps every entry)."""

from __future__ import annotations

from drivestack.replay.runner import _note_lines, _skipped_lines, reason_template

T = 1_317_000_000_000_000_000


def _skip(k: int, reason: str) -> dict[str, object]:
    return {"timestamp_ns": T + k, "source": f"bag:/points#{k}", "reason": reason}


def test_reasons_that_differ_in_their_times_are_one_line() -> None:
    skipped = [
        _skip(k, f"SensorFrame.timestamp_ns must increase: {T + k} ns after {T + 99} ns")
        for k in range(38)
    ]
    skipped.insert(5, _skip(50, "a decode error"))
    skipped.append({"timestamp_ns": -1, "source": "bag", "reason": "input incomplete: cut"})
    lines = _skipped_lines(skipped)
    assert len(lines) == 3
    assert lines[0].startswith(f"  skipped 38 frames, t={T} bag:/points#0 to t={T + 37}")
    assert lines[0].endswith(f"must increase: {T} ns after {T + 99} ns")  # the first's reason
    assert "a decode error" in lines[1] and "input incomplete" in lines[2]
    assert reason_template(f"gap of {T} ns, 12 points") == "gap of … ns, 12 points"


def test_frame_notes_that_differ_in_their_times_are_one_line() -> None:
    notes = {
        f"t={T + k} replayed without an ego pose: {T + k} falls in a gap": 1 for k in range(12)
    }
    notes["t=5 a LiDAR scan with no point"] = 1
    lines = _note_lines(notes)
    assert lines == [
        f"  12 frames, t={T} to t={T + 11}: replayed without an ego pose: {T} falls in a gap",
        "  t=5 a LiDAR scan with no point: 1 frame",
    ]
    assert _note_lines({"no ego pose: tracked in the ego frame": 4}) == [
        "  no ego pose: tracked in the ego frame: 4 frames"
    ]
