"""Error and corner branches of the kernel benchmark (no torch, no open3d, a GPU route, no
KITTI folder), numba's cache folder (unwritable, a file of a key's name, an unreadable
entry), the report's figures (an agent never present, two lights labelled at one spot, a
label with no room, an all-NaN bucket), its HTML (an improvement, a planner without light
perception, an incomparable prediction result) and the detection run (boxes in a frame
without a sensor pose, a submission without a labelled sample) that no other test ran."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from drivestack import _numba_cache
from drivestack.bench import kernels
from drivestack.bench.timing import Timing
from drivestack.core.errors import DataError
from drivestack.core.frames import EGO, LIDAR
from drivestack.core.transforms import SE3
from drivestack.report import build_report, plots, write_report
from drivestack.report.light_view import LightView, StopMark
from drivestack.sim.runner import SimHistory
from drivestack.structures.boxes import Boxes3D
from drivestack.structures.point_cloud import PointCloud
from drivestack.structures.sensor_frame import SensorFrame
from tests.eval.detection.test_detections_file_checks import _nusc_perfect
from tests.report.test_lost_points_lead_and_sim_sweeps import _history, _metrics
from tests.report.test_prediction_planning import _folder, prediction_result

# --- bench.kernels ----------------------------------------------------------------------------


def test_no_torch_is_no_torch_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_torch``: a torch that does not import is no torch route (None), not an error."""
    monkeypatch.setitem(sys.modules, "torch", None)  # ``import torch`` raises ImportError
    assert kernels._torch() is None


def test_a_device_backend_moves_inputs_once_and_waits_on_every_call() -> None:
    """``DeviceBackend.timed``: the inputs are moved before timing (once), each timed call
    runs the kernel on the moved inputs and then synchronises."""
    log: list[Any] = []
    backend = kernels.DeviceBackend(
        "fake", lambda a: (log.append(("move", a.shape)), a * 2)[1], lambda: log.append("sync")
    )
    call = backend.timed(lambda a, b: float(a.sum() + b.sum()), np.ones(3), np.ones(2))
    assert log == [("move", (3,)), ("move", (2,))]
    assert call() == 10.0 and call() == 10.0
    assert log[2:] == ["sync", "sync"]


def test_gpu_backends_list_torch_cuda_and_cupy_when_a_device_is_usable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``gpu_backends``: torch-CUDA when ``torch.cuda.is_available()``, CuPy when it counts a
    device; a CuPy whose runtime raises is no route (no error)."""
    cuda = types.SimpleNamespace(is_available=lambda: True, synchronize=lambda: None)
    monkeypatch.setattr(kernels, "_torch", lambda: types.SimpleNamespace(cuda=cuda))
    runtime = types.SimpleNamespace(getDeviceCount=lambda: 1)
    stream = types.SimpleNamespace(null=types.SimpleNamespace(synchronize=lambda: None))
    cupy = types.SimpleNamespace(
        asarray=np.asarray, cuda=types.SimpleNamespace(runtime=runtime, Stream=stream)
    )
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    found = kernels.gpu_backends()
    assert [b.label for b in found] == ["drivestack torch-cuda", "drivestack cupy"]
    found[1].synchronize()  # CuPy's null stream

    def broken() -> int:
        raise RuntimeError("cudaErrorNoDevice")

    runtime.getDeviceCount = broken
    assert [b.label for b in kernels.gpu_backends()] == ["drivestack torch-cuda"]
    cuda.is_available = lambda: False
    assert kernels.gpu_backends() == []


def test_no_kitti_folder_is_no_kitti_scans() -> None:
    """``_load_kitti_scans(None)``: no scans (only the generated one is timed)."""
    assert kernels._load_kitti_scans(None) == []


def _small_untimed_scenes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the kernel benchmark's scenes small and each measurement one untimed call (the
    branches are the point, not the times)."""
    small_boxes, small_scan = kernels.driving_scene_boxes, kernels.lidar_like_scan
    monkeypatch.setattr(
        kernels,
        "driving_scene_boxes",
        lambda rng, n, *a, **k: small_boxes(rng, min(n, 30), *a, **k),
    )
    monkeypatch.setattr(kernels, "lidar_like_scan", lambda rng, b: small_scan(rng, b)[:500])
    monkeypatch.setattr(
        kernels,
        "measure",
        lambda impl, fn, repeats, warmup=1, note="": (Timing(impl, 1.0, 1.0, 2, note), fn()),
    )


def test_the_benchmark_times_gpu_routes_and_says_when_open3d_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``run`` with a GPU route times it on NMS, voxel down-sampling and points in boxes
    (inputs moved once, synchronised after each call); without open3d the voxel case says
    ``open3d: unavailable: ...`` instead of its counts. (Small scenes and one untimed call
    per measurement keep it fast: the branches are the point, not the times.)"""
    _small_untimed_scenes(monkeypatch)
    monkeypatch.setitem(sys.modules, "open3d", None)
    synced: list[str] = []
    fake = kernels.DeviceBackend("drivestack fake-gpu", np.asarray, lambda: synced.append("s"))
    monkeypatch.setattr(kernels, "gpu_backends", lambda: [fake])
    report = kernels.run(quick=True, repeats=1, log=lambda line: None)
    cases = {c["case"]: c for c in report["cases"]}
    timed = [
        name
        for name, c in cases.items()
        if "drivestack fake-gpu" in {t["implementation"] for t in c["timings"]}
    ]
    assert timed == [
        "nms_bev",
        "voxel_downsample 0.1 m, generated 64x1875 scan",
        "points_in_boxes, generated 64x1875 scan",
    ]
    assert synced == ["s", "s", "s"]
    voxel = cases["voxel_downsample 0.1 m, generated 64x1875 scan"]["checks"]
    assert voxel["open3d"].startswith("unavailable: ") and "voxels_open3d" not in voxel
    assert cases["points_in_boxes, generated 64x1875 scan"]["checks"]["same_as_broadcasting"]
    # each route's answer is checked, not only timed
    assert cases["nms_bev"]["checks"]["same_keep_set_drivestack fake-gpu"] is True
    assert voxel["voxels_drivestack fake-gpu"] > 0
    pib = cases["points_in_boxes, generated 64x1875 scan"]["checks"]
    assert pib["same_as_broadcasting_drivestack fake-gpu"] is True


def test_a_route_that_answers_wrong_is_flagged_not_only_timed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A GPU route whose NMS keeps every box and whose points-in-boxes mask is all True is
    timed as before, but its checks say False (the first 500 points are ground returns on the
    plane of the boxes' bottom faces: points on a face's plane but outside the face were once
    taken for rounding differences)."""
    _small_untimed_scenes(monkeypatch)

    def wrong(fn: Any, *arrays: np.ndarray) -> Any:
        if fn is kernels.K.points_in_boxes:
            return lambda: np.ones((len(arrays[0]), len(arrays[1])), bool)
        return lambda: np.arange(len(arrays[0]))  # NMS keeping every box

    fake = kernels.DeviceBackend("bad-gpu", np.asarray, lambda: None)
    monkeypatch.setattr(fake, "timed", wrong)
    monkeypatch.setattr(kernels, "gpu_backends", lambda: [fake])
    report = kernels.run(quick=True, repeats=1, log=lambda line: None)
    cases = {c["case"]: c for c in report["cases"]}
    assert cases["nms_bev"]["checks"]["same_keep_set_bad-gpu"] is False
    pib = cases["points_in_boxes, generated 64x1875 scan"]["checks"]
    assert pib["same_as_broadcasting_bad-gpu"] is False


# --- _numba_cache -----------------------------------------------------------------------------


def _pkg(tmp_path: Path) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    return pkg


def test_an_unwritable_cache_folder_leaves_numbas_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder that exists but cannot be written: None, ``NUMBA_CACHE_DIR`` stays unset and
    nothing is pruned (the write is made to fail: os.access says yes to root even on a
    read-only mount, so the folder is probed by writing to it)."""
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "cache" / "drivestack" / "numba"
    stale = root / ("a" * 16)
    stale.mkdir(parents=True)
    os.utime(stale, (0, 0))

    def read_only(*_a: Any, **_k: Any) -> Any:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(_numba_cache.tempfile, "TemporaryFile", read_only)
    assert _numba_cache.configure_numba_cache(_pkg(tmp_path)) is None
    assert "NUMBA_CACHE_DIR" not in os.environ and stale.is_dir()


def test_a_file_named_like_a_key_is_left_alone(tmp_path: Path) -> None:
    """``prune_stale_folders`` deletes key folders only: a stale file with a key's name (or a
    symlink to a folder) is not touched."""
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / ("a" * 16)).write_text("")
    (tmp_path / ("b" * 16)).symlink_to(target, target_is_directory=True)
    for name in ("a" * 16, "b" * 16):
        os.utime(tmp_path / name, (0, 0), follow_symlinks=False)
    assert _numba_cache.prune_stale_folders(tmp_path, keep="", now_s=1e9) == []
    assert (tmp_path / ("a" * 16)).is_file() and target.is_dir()


def test_an_entry_that_cannot_be_read_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry whose type or time cannot be read (another process removing it) is skipped;
    the others are still pruned."""
    old = tmp_path / ("c" * 16)
    old.mkdir()
    os.utime(old, (0, 0))

    class Vanishing:
        name = "d" * 16
        path = str(tmp_path / name)

        def is_dir(self, follow_symlinks: bool = True) -> bool:
            raise FileNotFoundError(self.path)

    real = os.scandir

    def scandir(path: Any) -> Any:  # the cache root only (shutil.rmtree scans too)
        return [Vanishing(), *real(path)] if path == tmp_path else real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert _numba_cache.prune_stale_folders(tmp_path, keep="", now_s=1e9) == ["c" * 16]


# --- report.plots ------------------------------------------------------------------------------


def _stop(light_id: str, x: float, distance_m: float) -> StopMark:
    return StopMark(light_id, "road_0", np.array([[x, 0.0], [x, 3.5]]), "red", 1.0, distance_m)


def _lights(*stops: StopMark) -> LightView:
    return LightView(stops, (), np.zeros((0, 0), np.int8), (), 0)


def _labels(fig: Any) -> list[str]:
    return [a.get_text().strip() for a in fig.findobj() if a.get_gid() == "light-label"]


def test_an_agent_never_present_is_not_drawn() -> None:
    """``BevFigure.draw``: an agent valid at no tick has no path (nor footprints) drawn."""
    h = _history()
    valid = h.agent_valid.copy()
    valid[:, 3] = False
    lines = plots.bev_figure(h, None, "t").axes[0].lines
    fewer = plots.bev_figure(SimHistory(**{**h.__dict__, "agent_valid": valid}), None, "t")
    assert len(fewer.axes[0].lines) == len(lines) - 1


def test_lights_whose_lines_end_at_one_spot_share_one_label() -> None:
    """Two lights whose stop lines end within 3 m of each other are labelled once, at the
    nearer one's line end: ``L1/L2``."""
    fig = plots.bev_figure(
        _history(), None, "t", _lights(_stop("L1", 20.0, 1.0), _stop("L2", 21.0, 2.0))
    )
    assert _labels(fig) == ["L1/L2"]


def test_a_label_with_no_room_is_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """A light label that would overlap another in each of its four places is left out."""
    fig = plots.bev_figure(
        _history(), None, "t", _lights(_stop("L1", 20.0, 1.0), _stop("L2", 25.0, 2.0))
    )
    assert _labels(fig) == ["L1", "L2"]
    monkeypatch.setattr(plots, "place_labels", lambda anchors, sizes, taken: [anchors[0], None])
    fig = plots.bev_figure(
        _history(), None, "t", _lights(_stop("L1", 20.0, 1.0), _stop("L2", 25.0, 2.0))
    )
    assert _labels(fig) == ["L1"]


def test_a_bucket_all_nan_keeps_one_nan() -> None:
    """``decimate_minmax``: a bucket with no number keeps its first sample (a NaN: the gap is
    still drawn as a gap)."""
    t = np.arange(8.0)
    y = np.array([1.0, 3.0, 2.0, 0.0, np.nan, np.nan, np.nan, np.nan])
    dt, dy = plots.decimate_minmax(t, y, 4)  # 2 buckets: [0..3], [4..7]
    np.testing.assert_array_equal(dt, [1.0, 3.0, 4.0])
    np.testing.assert_array_equal(dy, [3.0, 0.0, np.nan])


# --- eval.detection.run ----------------------------------------------------------------------


def test_ego_frame_boxes_without_a_sensor_pose_name_the_frame_source() -> None:
    """``_in_cloud_frame``: detections in another frame than the cloud's, on a frame without
    ``ego_from_sensor`` for its LiDAR, are a DataError naming the frame's source; boxes in
    the cloud's frame pass as they are."""
    from drivestack.eval.detection.datasets import LabelledFrame
    from drivestack.eval.detection.run import _in_cloud_frame

    cloud = PointCloud(np.zeros((1, 3), np.float32), LIDAR, 0)
    frame = SensorFrame(0, lidars={LIDAR: cloud}, source="log.bin#7")
    lf = LabelledFrame("7", frame, None)
    same = Boxes3D.empty(LIDAR)
    assert _in_cloud_frame(same, lf) is same
    with pytest.raises(DataError, match="no ego_from_sensor for 'lidar'") as info:
        _in_cloud_frame(Boxes3D.empty(EGO), lf)
    assert info.value.path == "log.bin#7" and "frame 'ego'" in str(info.value)
    posed = LabelledFrame(
        "7", SensorFrame(0, lidars={LIDAR: cloud}, ego_from_sensor={LIDAR: SE3.identity()}), None
    )
    assert _in_cloud_frame(Boxes3D.empty(EGO), posed).frame == LIDAR


@pytest.mark.data
def test_a_submission_without_a_labelled_sample_names_the_sample(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A nuScenes ``--detections`` file without an entry for a labelled sample (the devkit
    needs every sample; an empty list is no detections): exit 2, one line naming the file
    and ``results['<token>']``; with an empty list instead it is scored."""
    from drivestack.cli import main

    root = shared_data / "nuscenes_samples" / "mmdet3d_demo"
    doc = _nusc_perfect(root)
    token = next(iter(doc["results"]))
    base = ["eval", "detection", "--dataset", "nuscenes", "--root", str(root), "--quiet"]
    missing = tmp_path / "missing.json"
    missing.write_text(
        json.dumps({**doc, "results": {k: v for k, v in doc["results"].items() if k != token}})
    )
    assert main([*base, "--out", str(tmp_path / "m"), "--detections", str(missing)]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == (
        f"error: {missing}: results[{token!r}]: no entry for a labelled sample (an empty list "
        "means no detections)"
    )
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({**doc, "results": {**doc["results"], token: []}}))
    assert main([*base, "--out", str(tmp_path / "e"), "--detections", str(empty)]) == 0


# --- report.html ------------------------------------------------------------------------------


def test_a_score_risen_beyond_the_tolerance_is_listed_as_improved(tmp_path: Path) -> None:
    """Against a baseline, a run whose score rose beyond the tolerance is named on the
    report's ``Improved:`` line (and is no regression)."""
    _metrics(tmp_path / "run", "pdm/a", 90.0)
    _metrics(tmp_path / "base", "pdm/a", 80.0)
    report = build_report(tmp_path / "run", tmp_path / "base", score_tolerance=1.0)
    html = write_report(report, tmp_path / "r.html")[0].read_text()
    assert "<p>Improved: pdm/a</p>" in html and "<p>No regressions.</p>" in html


def test_a_planner_without_light_perception_says_so() -> None:
    """``_light_facts``: with camera lights, a planner whose summary holds no
    ``light_perception`` gets a line saying it is not recorded (it was left out without a
    word); the others get their figures, raw accuracy appended when known."""
    from drivestack.report.html import _light_facts

    held = {"light_ticks": 10, "accuracy": 0.9, "unknown_share": 0.1}
    manifest = {
        "lights": "camera",
        "light_camera": {"preset": "night"},
        "summary": {"idm": {"passed": 1}, "pdm": {"light_perception": held,
                                                  "light_perception_raw": {"accuracy": 0.8}}},
    }  # fmt: skip
    assert _light_facts(manifest) == [
        ("lights", "camera (night)"),
        ("light perception (idm)", "not recorded in its summary"),
        (
            "light perception (pdm)",
            "lights seen by camera over 10 light-ticks: accuracy 90.0%, unknown 10.0%; "
            "raw reads accuracy 80.0%",
        ),
    ]


# --- report.html_motion -----------------------------------------------------------------------


def test_a_learned_models_checkpoint_and_training_are_shown(tmp_path: Path) -> None:
    """A prediction result's learned model shows its checkpoint and what it was trained on
    (``not recorded`` without provenance)."""
    data = prediction_result()
    data["model_records"] = {
        "lane_branches": {"checkpoint": "ck.pt", "provenance": {"split": "train", "x": 1}},
        "constant_velocity": {"checkpoint": "cv.pt"},
    }
    html = write_report(build_report(_folder(tmp_path / "run", data, "p")), tmp_path / "r.html")
    text = html[0].read_text()
    assert "; checkpoint ck.pt; trained on split train" in text
    assert "; checkpoint cv.pt; trained on not recorded" in text


def test_a_prediction_result_of_other_settings_is_not_compared(tmp_path: Path) -> None:
    """Against a baseline result run with other settings: a warning naming the baseline file
    and the difference, no comparison table."""
    run = _folder(tmp_path / "run", prediction_result(), "p")
    base = _folder(tmp_path / "base", prediction_result(miss_threshold_m=3.0), "p")
    text = write_report(build_report(run, base), tmp_path / "r.html")[0].read_text()
    assert f"Not compared with the baseline ({base}/p/metrics.json): its settings differ (" in text
    assert "miss_threshold_m" in text


# --- report.build -----------------------------------------------------------------------------


def test_fleets_without_a_sweep_record_get_no_sweep_warning() -> None:
    """``_sweep_warnings``: two fleets of which one records no ``sweep`` object (an older
    fleet.json, or a damaged one) are not said to be swept differently; two that differ are."""
    from drivestack.report.build import _sweep_warnings

    def fleet(sweep: Any) -> Any:
        return types.SimpleNamespace(kind="fleet", manifest={"sweep": sweep})

    mine = {"params": [], "seed": 1}
    assert _sweep_warnings(fleet(mine), fleet(None), None) == []
    assert _sweep_warnings(fleet("bad"), fleet(mine), None) == []
    (line,) = _sweep_warnings(fleet(mine), fleet({"params": [], "seed": 2}), None)
    assert "--seed 1 here, 2 in the baseline" in line and "0 such runs" in line
