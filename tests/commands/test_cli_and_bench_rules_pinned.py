"""Pinned rules of the CLI's argument helpers, the bench command and the benchmark statistics.

Every expected value is derived by hand from the rule's definition (see each docstring); the
inputs are small and hand-built, and nothing here runs a real benchmark or evaluation.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from drivestack import cli
from drivestack.bench import kernels, scenes, timing
from drivestack.bench.kernels import CaseResult, format_table
from drivestack.bench.timing import Timing, measure
from drivestack.commands import _paths
from drivestack.core.errors import DataError

# -- timing statistics (drivestack.bench.timing.measure) --------------------------------------


def _fake_clock(
    monkeypatch: pytest.MonkeyPatch, durations_s: list[float]
) -> tuple[Callable[[], int], list[int]]:
    """A function that advances a fake ``timing.time.perf_counter`` by ``durations_s`` in turn
    (returning its call number), and the list counting its calls."""
    clock = [0.0]
    steps = iter(durations_s)
    calls: list[int] = []
    monkeypatch.setattr(timing, "time", SimpleNamespace(perf_counter=lambda: clock[0]))

    def fn() -> int:
        clock[0] += next(steps)
        calls.append(1)
        return len(calls)

    return fn, calls


def test_measure_median_of_an_odd_count_is_the_middle_sorted_sample(monkeypatch) -> None:
    """Runs of 3, 1 and 2 ms sort to [1, 2, 3]: the median is the middle one, 2 ms, and the
    minimum the first sorted one, 1 ms (not the first run, 3 ms, nor the last)."""
    fn, _ = _fake_clock(monkeypatch, [0.003, 0.001, 0.002])
    t, _ = measure("x", fn, 3, warmup=0)
    assert t.median_ms == pytest.approx(2.0)
    assert t.min_ms == pytest.approx(1.0)
    assert t.repeats == 3


def test_measure_median_of_an_even_count_is_the_mean_of_the_two_middle(monkeypatch) -> None:
    """Runs of 4, 1, 3 and 2 ms sort to [1, 2, 3, 4]: the median is (2 + 3) / 2 = 2.5 ms."""
    fn, _ = _fake_clock(monkeypatch, [0.004, 0.001, 0.003, 0.002])
    t, _ = measure("x", fn, 4, warmup=0)
    assert t.median_ms == pytest.approx(2.5)
    assert t.min_ms == pytest.approx(1.0)


def test_measure_runs_warmup_untimed_then_repeats_and_returns_the_last_result(
    monkeypatch,
) -> None:
    """warmup=2, repeats=3: 5 calls in all; the two warm-up calls (100 ms each) are not timed,
    so the median of the timed 1, 2, 3 ms is 2 ms; the result is the 5th call's."""
    fn, calls = _fake_clock(monkeypatch, [0.1, 0.1, 0.001, 0.002, 0.003])
    t, result = measure("x", fn, 3, warmup=2)
    assert len(calls) == 5 and result == 5
    assert t.median_ms == pytest.approx(2.0) and t.repeats == 3


# -- the benchmark table (drivestack.bench.kernels.format_table) -------------------------------


def _rows(table: str) -> list[str]:
    return table.splitlines()[2:]


def test_table_ratio_is_peer_time_over_drivestack_default_time() -> None:
    """drivestack 2 ms, peer 6 ms: the peer's "vs default" is 6 / 2 = 3.00x (> 1: drivestack
    faster) and drivestack's own row 1.00x."""
    res = CaseResult(
        "c", "1", [Timing("drivestack numba", 2.0, 2.0, 5), Timing("peer", 6.0, 6.0, 2)]
    )
    ours, peer = _rows(format_table([res]))
    assert ours.split()[-2] == "1.00x"
    assert peer.split()[-2] == "3.00x"


def test_default_time_is_the_first_drivestack_row_not_the_first_row() -> None:
    """A peer listed first (6 ms) does not become the baseline: default_ms is drivestack's
    2 ms, so the peer's ratio is 6 / 2 = 3.00x and drivestack's 2 / 2 = 1.00x."""
    res = CaseResult(
        "c", "1", [Timing("peer", 6.0, 6.0, 2), Timing("drivestack numba", 2.0, 2.0, 5)]
    )
    assert res.default_ms() == 2.0
    peer, ours = _rows(format_table([res]))
    assert peer.split()[-2] == "3.00x" and ours.split()[-2] == "1.00x"


def test_a_zero_default_time_gives_nan_ratios_not_a_crash() -> None:
    """A default median of 0 ms (a no-op timed below the clock's step) has no ratio: nan."""
    res = CaseResult(
        "c", "1", [Timing("drivestack numba", 0.0, 0.0, 2), Timing("peer", 1.0, 1.0, 2)]
    )
    rows = _rows(format_table([res]))
    assert [r.split()[-2] for r in rows] == ["nanx", "nanx"]


def test_the_case_label_is_written_on_the_first_row_of_a_case_only() -> None:
    """Three timings of one case: the label ``c [1]`` on row 1, blanks on rows 2 and 3."""
    res = CaseResult(
        "c",
        "1",
        [Timing("drivestack a", 1.0, 1.0, 2), Timing("p", 1.0, 1.0, 2), Timing("q", 1.0, 1.0, 2)],
    )
    rows = _rows(format_table([res]))
    assert rows[0].startswith("c [1]")
    assert rows[1].split()[0] == "p" and rows[2].split()[0] == "q"


# -- the benchmark's agreement checks (kernels._differences_on_faces, broadcasting) ------------


def test_differences_on_faces_counts_pairs_on_a_face_and_zero_when_none() -> None:
    """Box at the origin, 2 m cube, yaw 0. Point (1, 0, 0) lies on the +x face (gap |1| - 1 = 0
    on x only: "on one of its faces" is any axis): one disagreement -> 1. No disagreement -> 0
    (an int, not None, which means a real difference)."""
    box = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    pts = np.array([[1.0, 0.0, 0.0]])
    assert kernels._differences_on_faces(pts, box, np.array([[True]]), np.array([[False]])) == 1
    same = kernels._differences_on_faces(pts, box, np.array([[True]]), np.array([[True]]))
    assert same == 0 and same is not None


def test_differences_on_faces_tolerance_is_inclusive() -> None:
    """Point at the centre of a box 2e-9 m long: local offset 0, so the tolerance is exactly
    1e-9 + 8 eps * 0 = 1e-9, and the gap to the x faces is 2e-9 / 2 = 1e-9: within (<=)."""
    box = np.array([[0.0, 0.0, 0.0, 2e-9, 10.0, 10.0, 0.0]])
    pts = np.zeros((1, 3))
    assert kernels._differences_on_faces(pts, box, np.array([[True]]), np.array([[False]])) == 1


def test_differences_off_every_face_are_a_real_difference() -> None:
    """Point (0.5, 0, 0) in a 2 m cube is 0.5 m from every face: None (a real difference)."""
    box = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    pts = np.array([[0.5, 0.0, 0.0]])
    assert kernels._differences_on_faces(pts, box, np.array([[True]]), np.array([[False]])) is None


def test_a_point_on_a_faces_plane_but_outside_the_face_is_a_real_difference() -> None:
    """Point (1, 5, 0) lies on the plane of a 2 m cube's +x face (x gap 0) but 4 m beyond the
    face along y: not a rounding difference, None (it was counted as one: "any axis")."""
    box = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    pts = np.array([[1.0, 5.0, 0.0]])
    assert kernels._differences_on_faces(pts, box, np.array([[True]]), np.array([[False]])) is None


def test_broadcast_points_in_boxes_includes_faces_and_rotates_into_the_box_frame() -> None:
    """A 2 m cube: (1, 0, 0) on its face is inside (<=). A 4 m x 1 m box yawed 45 degrees:
    the point 1.5 m along its heading, (1.5 cos 45, 1.5 sin 45), has local (1.5, 0): inside;
    the point 1.5 m across it, (-1.5 sin 45, 1.5 cos 45), has local (0, 1.5): outside (> 0.5)."""
    cube = np.array([[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 0.0]])
    assert kernels._broadcast_points_in_boxes(np.array([[1.0, 0.0, 0.0]]), cube).tolist() == [
        [True]
    ]
    r = 1.5 / math.sqrt(2.0)
    box = np.array([[0.0, 0.0, 0.0, 4.0, 1.0, 2.0, math.pi / 4]])
    pts = np.array([[r, r, 0.0], [-r, r, 0.0]])
    assert kernels._broadcast_points_in_boxes(pts, box).tolist() == [[True], [False]]


def test_kitti_scans_are_the_first_two_sorted_files_as_xyz(tmp_path: Path) -> None:
    """Three scans: only the first two by name are timed; each (x, y, z, r) row gives (x, y, z)."""
    velodyne = tmp_path / "training" / "velodyne"
    velodyne.mkdir(parents=True)
    for i, name in enumerate(["000002.bin", "000000.bin", "000001.bin"]):
        rows = np.array([[1.0 + i, 2.0, 3.0, 0.5], [4.0, 5.0, 6.0, 0.25]], dtype=np.float32)
        rows.tofile(velodyne / name)
    scans = kernels._load_kitti_scans(tmp_path)
    assert [name for name, _ in scans] == ["000000.bin", "000001.bin"]
    # 000000.bin was written third (i = 1): x of its first row is 2
    assert scans[0][1].tolist() == [[2.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def _damaged_kitti(folder: Path) -> Path:
    """A KITTI object folder whose one scan is 14 bytes (not whole 16-byte points)."""
    scan = folder / "training" / "velodyne" / "000000.bin"
    scan.parent.mkdir(parents=True)
    scan.write_bytes(b"\0" * 14)
    return folder


@pytest.mark.parametrize("seed", [True, -1, 1.5])
def test_kernels_run_refuses_a_bool_negative_or_float_seed(seed: Any, tmp_path: Path) -> None:
    """The seed must be an int >= 0; a bool (an int subclass) is refused too, before the
    scans are read (so the damaged scan is not the error)."""
    with pytest.raises(DataError, match="must be an integer >= 0"):
        kernels.run(seed=seed, kitti_object_dir=_damaged_kitti(tmp_path), log=lambda _: None)


def test_kernels_run_accepts_seed_zero(tmp_path: Path) -> None:
    """Seed 0 is valid (>= 0): the run goes on to read the scans, so the damaged one is the
    error, not the seed."""
    with pytest.raises(DataError, match="not a multiple of 16"):
        kernels.run(seed=0, kitti_object_dir=_damaged_kitti(tmp_path), log=lambda _: None)


# -- generated scenes (drivestack.bench.scenes) ------------------------------------------------


def test_scene_boxes_stand_on_the_ground_with_wrapped_headings() -> None:
    """z is half the height (the box stands on z = 0) and headings lie in [-pi, pi]
    (math.remainder), also for north-south roads where pi + pi/2 would overflow."""
    boxes = scenes.driving_scene_boxes(np.random.default_rng(0), 200)
    assert boxes.shape == (200, 7)
    np.testing.assert_allclose(boxes[:, 2], boxes[:, 5] / 2)
    assert np.all(np.abs(boxes[:, 6]) <= math.pi)


def test_detections_like_wraps_yaw_into_minus_pi_pi() -> None:
    """Yaw noise is added to headings near +-pi; the result is wrapped into [-pi, pi)."""
    rng = np.random.default_rng(1)
    boxes = scenes.driving_scene_boxes(rng, 300)
    boxes[:, 6] = math.pi - 1e-3  # every heading at the edge: noise (sd 0.1) pushes half over
    det = scenes.detections_like(rng, boxes, 0.0)
    assert np.all(det[:, 6] >= -math.pi) and np.all(det[:, 6] < math.pi)


def test_detections_like_replaces_the_false_positive_share_of_rows() -> None:
    """share 0.5 of 10 boxes: int(0.5 * 10) = 5 rows replaced by boxes placed anywhere; the
    other 5 are noisy copies (centre noise sd 0.4 m, far below 20 m). Boxes 100 m apart on a
    line, so a replacement lands within 20 m of its row's box only by chance (seeded)."""
    boxes = np.zeros((10, 7))
    boxes[:, 0] = np.arange(10) * 100.0 - 450.0
    boxes[:, 3:6] = (4.5, 1.8, 1.5)
    det = scenes.detections_like(np.random.default_rng(2), boxes, 0.5)
    moved = np.hypot(*(det[:, :2] - boxes[:, :2]).T) > 20.0
    assert int(moved.sum()) == 5


def test_lidar_like_scan_layout_ground_height_and_dtype() -> None:
    """4 rings x 8 azimuths, no boxes: 32 float32 points. Rings at -24.8, -15.87, -6.93 and
    2.0 degrees: the three below -0.01 rad hit the ground at z = -1.73 m; the lowest at range
    1.73 / tan(24.8 deg) = 3.744 m (noise sd 0.02 m)."""
    pts = scenes.lidar_like_scan(np.random.default_rng(3), np.zeros((0, 7)), n_rings=4, n_azimuth=8)
    assert pts.shape == (32, 3) and pts.dtype == np.float32
    np.testing.assert_allclose(pts[:24, 2], -1.73, rtol=1e-6)
    ranges = np.hypot(pts[:8, 0], pts[:8, 1])
    np.testing.assert_allclose(ranges, 1.73 / math.tan(math.radians(24.8)), atol=0.1)


def test_lidar_like_scan_adds_points_on_boxes_within_range_only() -> None:
    """One box 50 m away (< 80 m range) gets 50 to 399 points; one 90 m away none: the scan
    has 32 + [50, 399] points."""
    boxes = np.array([[50.0, 0.0, 0.75, 4.5, 1.8, 1.5, 0.0], [90.0, 0.0, 0.75, 4.5, 1.8, 1.5, 0.0]])
    pts = scenes.lidar_like_scan(np.random.default_rng(4), boxes, n_rings=4, n_azimuth=8)
    assert 32 + 50 <= len(pts) <= 32 + 399


# -- argparse types (drivestack.commands._paths) -----------------------------------------------


def _refused(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except (argparse.ArgumentTypeError, DataError):
        return True
    return False


def test_int_at_least_bounds_are_inclusive() -> None:
    """int_at_least(1, 5): 1 and 5 accepted (at least / at most), 0 and 6 refused."""
    parse = _paths.int_at_least(1, 5)
    assert parse("1") == 1 and parse("5") == 5
    assert _refused(parse, "0") and _refused(parse, "6")


def test_seed_int_range_is_zero_to_below_two_to_the_63() -> None:
    """[0, 2**63): 0 and 2**63 - 1 accepted, 2**63 and -1 refused."""
    assert _paths.seed_int("0") == 0 and _paths.seed_int(str(2**63 - 1)) == 2**63 - 1
    assert _refused(_paths.seed_int, str(2**63)) and _refused(_paths.seed_int, "-1")


def test_positive_number_refuses_zero_and_non_finite() -> None:
    """> 0 and finite: 0, inf and nan refused; 1e-9 accepted."""
    assert _paths.positive_number("1e-9") == 1e-9
    assert all(_refused(_paths.positive_number, t) for t in ("0", "inf", "nan"))


def test_duration_limit_is_inclusive() -> None:
    """duration_s(10): at most 10 s, so 10 accepted and 10.5 refused."""
    parse = _paths.duration_s(10.0)
    assert parse("10") == 10.0 and _refused(parse, "10.5")


def test_non_negative_number_accepts_zero() -> None:
    """At least 0: 0 accepted, -0.1 refused."""
    assert _paths.non_negative_number("0") == 0.0
    assert _refused(_paths.non_negative_number, "-0.1")


def test_iou_fraction_accepts_one_and_refuses_zero() -> None:
    """(0, 1]: 1 accepted, 0 refused."""
    assert _paths.iou_fraction("1") == 1.0 and _refused(_paths.iou_fraction, "0")


def test_number_list_minimum_is_inclusive_and_values_must_be_finite() -> None:
    """number_list(0.01): "0.01,0.1" -> [0.01, 0.1] (0.01 is at least 0.01); nan refused."""
    parse = _paths.number_list(0.01)
    assert parse("0.01,0.1") == [0.01, 0.1]
    assert _refused(parse, "0.1,nan") and _refused(_paths.number_list(), "1,inf")


def test_iou_thresholds_ranges() -> None:
    """Default (0, 1]: 1 accepted, 0 refused. below_one (0, 1): 1 refused."""
    assert _paths.iou_thresholds("0.5,1") == [0.5, 1.0]
    assert _refused(_paths.iou_thresholds, "0,0.5")
    with pytest.raises(DataError):
        _paths.iou_thresholds("0.5,1", below_one=True)
    assert _paths.iou_thresholds("0.5,0.7", below_one=True) == [0.5, 0.7]


def test_iou_thresholds_repeated_as_the_same_metrics_key_are_refused() -> None:
    """A threshold given twice is refused, and so are two whose metrics.json key iou_<t>
    (format :g, 6 significant digits) is the same: 0.5 and 0.5000001 both give iou_0.5."""
    with pytest.raises(DataError, match=r"threshold 0\.5 given more than once"):
        _paths.iou_thresholds("0.5,0.5")
    with pytest.raises(DataError, match=r"threshold 0\.5 given more than once"):
        _paths.iou_thresholds("0.5,0.5000001")


# -- output folders and data folders -----------------------------------------------------------


def test_clear_earlier_outputs_names_three_and_counts_the_rest(tmp_path: Path) -> None:
    """Four old files: the first three by name and "and 1 more"; three: just the three."""
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("x")
    with pytest.raises(DataError) as three:
        _paths.clear_earlier_outputs(tmp_path, ("*.txt",), overwrite=False)
    assert "(a.txt, b.txt, c.txt)" in str(three.value)
    (tmp_path / "d.txt").write_text("x")
    with pytest.raises(DataError) as four:
        _paths.clear_earlier_outputs(tmp_path, ("*.txt",), overwrite=False)
    assert "(a.txt, b.txt, c.txt and 1 more)" in str(four.value)
    removed = _paths.clear_earlier_outputs(tmp_path, ("*.txt",), overwrite=True)
    assert [p.name for p in removed] == ["a.txt", "b.txt", "c.txt", "d.txt"]
    assert not list(tmp_path.glob("*.txt"))


def test_a_root_too_high_names_at_most_three_dataset_folders(tmp_path: Path) -> None:
    """Four KITTI folders below --root (each with training/): three are named, "these look
    like one"; with one below: "this looks like one"."""
    for name in ("k1", "k2", "k3", "k4"):
        (tmp_path / name / "training").mkdir(parents=True)
    with pytest.raises(DataError) as info:
        _paths.check_dataset_layout("kitti", tmp_path)
    message = str(info.value)
    assert "these look like one" in message
    assert [n for n in ("k1", "k2", "k3", "k4") if str(tmp_path / n) in message] == [
        "k1",
        "k2",
        "k3",
    ]
    two = tmp_path / "two"
    for name in ("a", "b"):
        (two / name / "training").mkdir(parents=True)
    with pytest.raises(DataError, match="these look like one"):
        _paths.check_dataset_layout("kitti", two)
    one = tmp_path / "one"
    (one / "a" / "training").mkdir(parents=True)
    with pytest.raises(DataError, match="this looks like one"):
        _paths.check_dataset_layout("kitti", one)


def test_detector_config_default_name_uses_underscores(monkeypatch, tmp_path: Path) -> None:
    """No --config for dataset "foo-bar": the default is lidar_foo_bar.yaml (dash -> _)."""
    monkeypatch.setattr(_paths, "DETECTOR_CONFIG_DIR", tmp_path)
    (tmp_path / "lidar_foo_bar.yaml").write_text("{}\n")
    assert _paths.detector_config("foo-bar", None) == tmp_path / "lidar_foo_bar.yaml"


def test_a_list_identity_matches_a_stored_table_by_its_keys() -> None:
    """An identity list (class names) equals a stored object keyed by those classes: same run."""
    old: dict[str, object] = {"classes": {"Car": {"ap": 0.5}, "Pedestrian": {"ap": 0.3}}}
    assert (
        _paths._other_eval_run(old, "detection", "detection", {"classes": ["Car", "Pedestrian"]})
        is None
    )
    why = _paths._other_eval_run(old, "detection", "detection", {"classes": ["Car"]})
    assert why is not None and why.startswith("another classes")


# -- the command line (drivestack.cli, drivestack.commands.bench) ------------------------------


def test_user_message_for_a_file_in_the_way_of_a_folder(tmp_path: Path) -> None:
    """FileExistsError on a path that is a file: "PATH: not a directory (a file ... exists)"."""
    blocker = tmp_path / "f"
    blocker.write_text("x")
    exc = FileExistsError(17, "File exists", str(blocker))
    assert cli._user_message(exc) == f"{blocker}: not a directory (a file of that name exists)"
    folder = FileExistsError(17, "File exists", str(tmp_path))
    assert cli._user_message(folder) == f"{tmp_path}: File exists"


def test_an_unknown_option_suggests_up_to_two_close_ones(capsys) -> None:
    """``bench kernels --seeds 3``: refused by the bench parser (status 2) with both close
    options (difflib ratio 2 M / T >= 0.6): --seed (M = 6 of T = 13: 0.92) and --repeats
    (M = 5 ("--", "e", "e", "s") of T = 16: 0.625)."""
    parser = cli.build_parser(["bench"])
    with pytest.raises(SystemExit) as info:
        cli.parse_command_line(parser, ["bench", "kernels", "--seeds", "3"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--seeds: did you mean --seed or --repeats?" in err


def test_no_command_is_a_usage_error_with_status_two(capsys) -> None:
    """``drivestack`` alone: the help on stderr and exit status 2."""
    assert cli.main([]) == 2
    assert "COMMAND" in capsys.readouterr().err


def test_a_user_error_is_one_line_and_status_two(capsys) -> None:
    """report_user_errors: a DataError -> ``error: ...`` on stderr, status 2."""

    def bad() -> int:
        raise DataError("broken", field="x")

    assert cli.report_user_errors(bad) == 2
    assert capsys.readouterr().err == "error: field x: broken\n"


def test_bench_kernels_defaults_five_repeats_and_seed_zero(monkeypatch, capsys) -> None:
    """No --repeats / --seed: kernels.run gets repeats=5 and seed=0; the first line says 5."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(kernels, "run", lambda **kw: seen.update(kw))
    assert cli.main(["bench", "kernels"]) == 0
    assert seen["repeats"] == 5 and seen["seed"] == 0 and seen["quick"] is False
    assert "repeats=5 " in capsys.readouterr().out


def test_bench_kernels_says_it_runs_at_least_two_repeats(monkeypatch, capsys) -> None:
    """--repeats 1: measure runs MIN_REPEATS = 2, and the first line says so (repeats=2)."""
    monkeypatch.setattr(kernels, "run", lambda **kw: None)
    assert cli.main(["bench", "kernels", "--repeats", "1"]) == 0
    assert "repeats=2 " in capsys.readouterr().out


def test_bench_perception_defaults_twenty_frames(monkeypatch, tmp_path: Path) -> None:
    """No --max-frames: perception.run gets max_frames=20 (and kitti-tracking)."""
    from drivestack.bench import perception

    seen: dict[str, Any] = {}
    monkeypatch.setattr(perception, "run", lambda **kw: seen.update(kw))
    monkeypatch.setattr(_paths, "dataset_root", lambda dataset, root: tmp_path)
    monkeypatch.setattr(_paths, "detector_config", lambda dataset, config: tmp_path / "c.yaml")
    assert cli.main(["bench", "perception"]) == 0
    assert seen["max_frames"] == 20 and seen["dataset"] == "kitti-tracking"


def test_bench_json_that_is_a_folder_is_refused_before_timing(
    monkeypatch, tmp_path: Path, capsys
) -> None:
    """--json naming a folder: one error line naming --json, status 2, nothing run."""
    ran: list[int] = []
    monkeypatch.setattr(kernels, "run", lambda **kw: ran.append(1))
    assert cli.main(["bench", "kernels", "--json", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--json" in err and "is a directory" in err and ran == []


@pytest.mark.parametrize("seed", ["0", "1"])
def test_a_kernels_option_given_to_bench_perception_is_refused_even_at_zero(
    monkeypatch, capsys, seed: str
) -> None:
    """``--seed`` belongs to ``bench kernels``: with ``perception`` it is an error naming it,
    ``--seed 0`` too (0 == False let it through, silently ignored), before anything runs."""
    from drivestack.bench import perception

    ran: list[int] = []
    monkeypatch.setattr(perception, "run", lambda **kw: ran.append(1))
    assert cli.main(["bench", "perception", "--seed", seed]) == 2
    err = capsys.readouterr().err
    assert "field --seed: only for drivestack bench kernels (not perception)" in err
    assert ran == []


def test_the_dataset_hint_looks_into_at_most_500_folders(tmp_path: Path) -> None:
    """A root far too high is not walked in full for the hint: 600 empty folders sorted
    before the one KITTI folder below it (``zz``): 500 looked into, nothing found, so no hint
    (the reader's own error follows); with 400 empty ones (401 folders) ``zz`` is named."""
    for count in (600, 400):
        root = tmp_path / str(count)
        for i in range(count):
            (root / f"a{i:04d}").mkdir(parents=True)
        (root / "zz" / "training").mkdir(parents=True)
        if count > 500:
            _paths.check_dataset_layout("kitti", root)
            continue
        with pytest.raises(DataError, match="this looks like one") as info:
            _paths.check_dataset_layout("kitti", root)
        assert str(root / "zz") in str(info.value)
