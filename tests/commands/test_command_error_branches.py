"""Error and edge branches of the command helpers (drivestack.commands._paths), the strict
config loader (drivestack.config.strict), the core helpers (drivestack.core) and the stack
config (drivestack.pipeline) that the rest of the suite does not reach in-process: bad input
gets a clear error naming the file, the field or the option, never a bare traceback."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import io
import json
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from drivestack.commands import _paths
from drivestack.commands._paths import (
    STAGING_OWNER,
    STAGING_PREFIX,
    check_dataset_layout,
    check_eval_out,
    check_out_dir,
    default_shared_data,
    iou_thresholds,
    number_list,
    reader_errors_as_data_errors,
    remove_abandoned_staging,
)
from drivestack.config.strict import ConfigValueError, from_mapping, load_yaml
from drivestack.core.arrays import backend_of
from drivestack.core.errors import ConfigError, DataError
from drivestack.core.frames import camera_frame
from drivestack.core.progress import PlainProgress, is_terminal
from drivestack.core.transforms import (
    SE2,
    SE3,
    quaternion_to_rotation_matrix,
    rotation_matrix_to_quaternion,
)
from drivestack.core.value_equality import ArrayValueEquality, values_equal
from drivestack.core.warning_format import one_line_warning
from drivestack.pipeline import PredictionConfig, StackConfig, build_stack

# --- drivestack.commands._paths -------------------------------------------------------------


def test_default_shared_data_is_none_when_no_candidate_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No $DRIVESTACK_SHARED_DATA folder, no ../shared/data and none beside the checkout:
    None (the caller then says the shared data are missing), not a path that does not exist."""
    monkeypatch.setenv("DRIVESTACK_SHARED_DATA", str(tmp_path / "absent"))
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setattr(_paths, "REPO", tmp_path / "a" / "checkout")
    assert default_shared_data() is None


def test_check_dataset_layout_leaves_an_unknown_dataset_alone(tmp_path: Path) -> None:
    """A dataset without layout markers is not checked (its reader's own error names it)."""
    (tmp_path / "deep" / "er").mkdir(parents=True)
    check_dataset_layout("no-such-dataset", tmp_path)  # no error


def test_number_list_refuses_a_list_of_only_commas() -> None:
    """``--x ' , '`` holds no number: an argparse error quoting the text, not an empty list."""
    with pytest.raises(argparse.ArgumentTypeError, match=r"no numbers in ' , '"):
        number_list()(" , ")


@pytest.mark.parametrize("text", ["a,b", "0.5,x", "0.5;0.7"])
def test_iou_thresholds_refuses_text_naming_the_option(text: str) -> None:
    """A threshold list that does not parse: DataError naming the option and the text."""
    with pytest.raises(DataError, match="--iou-thresholds: not a list of numbers") as info:
        iou_thresholds(text, option="--iou-thresholds")
    assert repr(text) in str(info.value)


def test_check_out_dir_refuses_a_folder_that_is_not_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An existing --out folder without write permission: DataError naming the folder and
    the option, before any work (os.access stubbed: the suite may run as root)."""
    monkeypatch.setattr(_paths.os, "access", lambda *_a, **_k: False)
    with pytest.raises(DataError, match="folder not writable") as info:
        check_out_dir(tmp_path, option="--out")
    assert info.value.path == str(tmp_path) and info.value.field == "--out"


def test_check_out_dir_probes_an_existing_folder_by_writing_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.access says yes to root on a read-only mount: an existing --out folder where no
    scratch folder can be made is refused with the OS's words, naming it and the option."""

    def read_only(*_a: object, **_k: object) -> str:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(_paths.tempfile, "mkdtemp", read_only)
    with pytest.raises(DataError, match="folder not writable: Read-only file system") as info:
        check_out_dir(tmp_path, option="--out")
    assert info.value.path == str(tmp_path) and info.value.field == "--out"


def test_check_out_dir_refuses_a_new_folder_under_an_unwritable_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new --out below an unwritable folder: DataError naming both, and nothing is made."""
    monkeypatch.setattr(_paths.os, "access", lambda *_a, **_k: False)
    out = tmp_path / "new" / "out"
    with pytest.raises(DataError, match=f"cannot create {out}: no write permission") as info:
        check_out_dir(out, option="-o")
    assert info.value.path == str(tmp_path) and info.value.field == "-o"
    assert not (tmp_path / "new").exists()


def test_reader_errors_become_data_errors() -> None:
    """A reader's plain ValueError leaves the block as a DataError keeping its message."""
    with pytest.raises(DataError, match="row 3: bad float") as info, reader_errors_as_data_errors():
        raise ValueError("row 3: bad float")
    assert isinstance(info.value.__cause__, ValueError)


def test_reader_errors_pass_the_users_own_errors_unchanged(tmp_path: Path) -> None:
    """A user error (FileNotFoundError naming the path, a DataError) passes unchanged."""
    missing = FileNotFoundError(2, "No such file or directory", str(tmp_path / "x"))
    with pytest.raises(FileNotFoundError) as info, reader_errors_as_data_errors():
        raise missing
    assert info.value is missing
    with pytest.raises(DataError, match=r"a\.bin: field x: NaN"), reader_errors_as_data_errors():
        raise DataError("NaN", path="a.bin", field="x")


def test_check_eval_out_refuses_a_metrics_json_that_does_not_read(tmp_path: Path) -> None:
    """--out whose metrics.json is not JSON: another run's, refused naming --out, unless
    --overwrite."""
    (tmp_path / "metrics.json").write_text("{not json")
    with pytest.raises(DataError, match=r"its metrics.json does not read\); give another --out"):
        check_eval_out(tmp_path, "detection", {}, overwrite=False)
    assert check_eval_out(tmp_path, "detection", {}, overwrite=True) == ()


def test_check_eval_out_refuses_a_metrics_json_that_is_not_utf8(tmp_path: Path) -> None:
    """A binary metrics.json (not UTF-8) counts as one that does not read, a DataError
    (never a UnicodeDecodeError escaping)."""
    (tmp_path / "metrics.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(DataError, match="does not read") as info:
        check_eval_out(tmp_path, "tracking", {}, overwrite=False)
    assert info.value.field == "--out"


def test_check_eval_out_takes_malformed_tracking_blocks_as_a_tracking_run(tmp_path: Path) -> None:
    """A tracking metrics.json whose block names no IoU threshold is still a tracking run's:
    refused for eval detection as ``drivestack eval tracking``."""
    old: dict[str, object] = {"metrics": {"oddly_named": {"classes": {"Car": {}}}}}
    (tmp_path / "metrics.json").write_text(json.dumps(old))
    with pytest.raises(
        DataError, match=r"a metrics\.json of drivestack eval tracking, not detection"
    ):
        check_eval_out(tmp_path, "detection", {}, overwrite=False)


def test_check_eval_out_refuses_a_file_where_it_writes_a_folder(tmp_path: Path) -> None:
    """A plain file named like a folder the command writes (detections): refused even with
    --overwrite, naming it (the user's file is never replaced)."""
    (tmp_path / "detections").write_text("mine\n")
    with pytest.raises(DataError, match="holds detections, which this command writes as a folder"):
        check_eval_out(tmp_path, "detection2d", {}, overwrite=True, writes=("detections",))
    assert (tmp_path / "detections").read_text() == "mine\n"


def test_remove_abandoned_staging_keeps_a_folder_of_another_users_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A staging folder whose process cannot be signalled (someone else's: PermissionError)
    may be running: it is left alone."""
    staging = tmp_path / f"{STAGING_PREFIX}detection-abc"
    staging.mkdir()
    (staging / STAGING_OWNER).write_text("4242\n")

    def kill(pid: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(_paths.os, "kill", kill)
    assert remove_abandoned_staging(tmp_path) == []
    assert staging.is_dir()


# --- drivestack.config.strict ---------------------------------------------------------------


class _Mode(enum.Enum):
    FAST = "fast"
    SAFE = "safe"


@dataclasses.dataclass
class _Cfg:
    size: int | str = 1
    mode: _Mode = _Mode.FAST
    where: Path = Path(".")
    scale: float | Literal["auto"] = 1.0
    strange: complex = 0j


@dataclasses.dataclass
class _Checked:
    n: int = 1

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ConfigError("must be >= 0", path="inner.yaml", field="n")
        if self.n > 9:
            raise ConfigValueError("must be at most 9", key="n")


def test_a_union_value_of_no_option_names_the_options_and_key() -> None:
    """A value none of a union's types take: ConfigError naming the file, key and types."""
    with pytest.raises(ConfigError, match=r"c.yaml: field size: expected int or str, got 1.5"):
        from_mapping(_Cfg, {"size": 1.5}, path="c.yaml")


def test_a_union_with_a_literal_names_the_literal_values() -> None:
    """``float | Literal["auto"]`` given text: the message says which words are allowed
    (it said only "Literal")."""
    with pytest.raises(
        ConfigError,
        match=r"field scale: expected float or one of \['auto'\], got 'automatic'",
    ):
        from_mapping(_Cfg, {"scale": "automatic"}, path="c.yaml")


def test_an_unknown_enum_value_lists_the_allowed_ones() -> None:
    """An enum key given an unknown word: ConfigError listing the members (lower case)."""
    with pytest.raises(ConfigError, match=r"field mode: expected one of \['fast', 'safe'\]"):
        from_mapping(_Cfg, {"mode": "slow"}, path="c.yaml")
    assert from_mapping(_Cfg, {"mode": "SAFE"}).mode is _Mode.SAFE


def test_a_path_key_needs_text() -> None:
    """A path key given a number: ConfigError naming the key, not a Path(3) TypeError."""
    with pytest.raises(ConfigError, match=r"c.yaml: field where: expected a path string, got 3"):
        from_mapping(_Cfg, {"where": 3}, path="c.yaml")


def test_an_unsupported_field_type_is_a_config_error_naming_the_key() -> None:
    """A dataclass field of a type the loader cannot read: ConfigError at its key."""
    with pytest.raises(ConfigError, match="field strange: unsupported config field type"):
        from_mapping(_Cfg, {"strange": 1}, path="c.yaml")


def test_a_config_error_from_post_init_passes_unchanged() -> None:
    """A ConfigError a dataclass raises itself keeps its own file and key."""
    with pytest.raises(ConfigError, match=r"^inner.yaml: field n: must be >= 0$"):
        from_mapping(_Checked, {"n": -1}, path="outer.yaml")


def test_a_config_value_error_is_reported_at_the_dotted_key() -> None:
    """A ConfigValueError of ``__post_init__`` is reported at ``prefix.key`` of the file."""
    with pytest.raises(ConfigError, match=r"^outer.yaml: field sub.n: must be at most 9$"):
        from_mapping(_Checked, {"n": 10}, path="outer.yaml", prefix="sub")


def test_load_yaml_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    """A config file of binary bytes: ConfigError naming the file (no UnicodeDecodeError)."""
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(ConfigError, match="config file is not UTF-8 text") as info:
        load_yaml(path)
    assert info.value.path == str(path)


# --- drivestack.pipeline ------------------------------------------------------------------


def test_prediction_config_refuses_a_model_that_is_not_text() -> None:
    """PredictionConfig(model=3) built in code: an error at key ``model`` listing models."""
    with pytest.raises(ConfigValueError, match=r"^model: must be a model name \(.*constant_vel"):
        PredictionConfig(model=3)  # type: ignore[arg-type]


def test_stack_config_refuses_a_prediction_that_is_not_a_prediction_config() -> None:
    """StackConfig(prediction="ctrv") built in code: an error at key ``prediction``."""
    with pytest.raises(ConfigValueError, match=r"^prediction: must be a PredictionConfig, got str"):
        StackConfig("open3d-baseline", prediction="ctrv")  # type: ignore[arg-type]


def test_build_stack_of_the_open3d_baseline_needs_no_detector_file(tmp_path: Path) -> None:
    """``perception: open3d-baseline`` builds the baseline detector (no config file read)."""
    stack_yaml = tmp_path / "stack.yaml"
    stack_yaml.write_text("perception: open3d-baseline\n")
    stack = build_stack(stack_yaml)
    assert type(stack.detector).__name__ == "Open3dBaselineDetector"
    assert stack.tracker is None


# --- drivestack.core ---------------------------------------------------------------------


def test_backend_of_an_unsupported_array_names_its_type() -> None:
    """A list is no array of a supported library: TypeError naming its type."""
    with pytest.raises(TypeError, match=r"unsupported array type builtins.list"):
        backend_of([1.0, 2.0])


def test_camera_frame_refuses_an_empty_name() -> None:
    """``camera_frame("")`` would name no camera: ValueError."""
    with pytest.raises(ValueError, match="non-empty"):
        camera_frame("")


def test_is_terminal_of_a_closed_stream_is_false() -> None:
    """A closed stream (isatty raises ValueError) is no terminal, not an error."""
    stream = io.StringIO()
    stream.close()
    assert is_terminal(stream) is False


def test_plain_progress_without_an_iterable_iterates_nothing() -> None:
    """A PlainProgress made for ``update`` calls only yields nothing when iterated."""
    assert list(PlainProgress(total=3, file=io.StringIO())) == []


def test_one_line_warning_is_the_message_alone() -> None:
    """Warnings print as ``warning: <message>`` without module path or source line."""
    assert one_line_warning(UserWarning("lane x"), UserWarning, "/a/b.py", 3) == (
        "warning: lane x\n"
    )


@dataclasses.dataclass(frozen=True, eq=False)
class _Held(ArrayValueEquality):
    values: np.ndarray


@dataclasses.dataclass
class _A:
    x: int = 1


@dataclasses.dataclass
class _B:
    x: int = 1


def test_values_of_different_dataclasses_are_not_equal() -> None:
    """Plain dataclasses of two classes with the same fields are not equal values."""
    assert not values_equal(_A(), _B())
    assert values_equal(_A(), _A())


def test_an_array_structure_equals_itself() -> None:
    """A structure equals itself (NaNs included): ``x == x`` for a value."""
    held = _Held(np.array([np.nan, 1.0]))
    assert held == held
    assert held == _Held(np.array([np.nan, 1.0]))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: quaternion_to_rotation_matrix([1.0, 0.0, 0.0]), r"shape \(\.\.\., 4\)"),
        (lambda: rotation_matrix_to_quaternion(np.eye(2)), r"shape \(\.\.\., 3, 3\)"),
        (lambda: SE3(np.eye(2)), r"rotation must have shape \(\.\.\., 3, 3\), got \(2, 2\)"),
        (lambda: SE3(np.eye(3), np.zeros(2)), r"translation must have shape \(\.\.\., 3\)"),
        (lambda: SE3(np.eye(3)).apply(np.zeros(2)), r"points must have shape \(\.\.\., 3\)"),
        (lambda: SE2(np.zeros(()), np.zeros(3)), r"translation must have shape \(\.\.\., 2\)"),
        (
            lambda: SE2(np.zeros(()), np.zeros(2)).apply(np.zeros(3)),
            r"points must have shape \(\.\.\., 2\)",
        ),
    ],
)
def test_transforms_refuse_wrong_shapes_naming_the_argument(make: object, message: str) -> None:
    """A transform or point array of the wrong shape: ValueError naming it and its shape."""
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_a_single_se3_cannot_be_indexed() -> None:
    """Indexing one transform (not a batch): TypeError, not a numpy IndexError."""
    with pytest.raises(TypeError, match="a single SE3 cannot be indexed"):
        SE3(np.eye(3))[0]


def test_se3_of_a_non_orthonormal_matrix_is_refused() -> None:
    """A rotation with R^T R != I (a scaled matrix) is refused."""
    with pytest.raises(ValueError, match="not a proper orthonormal"):
        SE3(np.eye(3) * 2.0)


def test_se2_as_matrix_is_the_homogeneous_matrix() -> None:
    """SE2.as_matrix: ``[[R, t], [0, 0, 1]]``, batched too, and it maps points as apply."""
    single = SE2(np.asarray(np.pi / 2), np.array([1.0, 2.0]))
    m = single.as_matrix()
    np.testing.assert_allclose(m, [[0, -1, 1], [1, 0, 2], [0, 0, 1]], atol=1e-12)
    point = np.array([3.0, 4.0])
    np.testing.assert_allclose(m[:2, :2] @ point + m[:2, 2], single.apply(point))
    batch = SE2(np.array([0.0, np.pi]), np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert batch.as_matrix().shape == (2, 3, 3)
    np.testing.assert_allclose(batch.as_matrix()[1, :2, 2], [3.0, 4.0])
