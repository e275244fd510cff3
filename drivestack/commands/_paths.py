"""Where the commands find their inputs: the optional real-data folder (``$DRIVESTACK_SHARED_DATA``
or ``../shared/data``), a dataset's folder in it and the shipped LiDAR detector configs; the
argparse types of counts, positive numbers, an IoU, number lists and IoU threshold lists; the
shared ``--out`` / ``--quiet`` options, the output-folder checks and the commands' error
translation."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from drivestack.core.errors import DataError

#: The checkout's own folder (``shared/`` lies beside it in the project's layout).
REPO = Path(__file__).resolve().parents[2]


def default_shared_data() -> Path | None:
    """The shared real-data folder if it exists: ``$DRIVESTACK_SHARED_DATA``, else
    ``../shared/data`` of the current folder, else ``shared/data`` beside this checkout."""
    env = os.environ.get("DRIVESTACK_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(REPO.parent / "shared" / "data")
    for path in candidates:
        if path.is_dir():
            return path.resolve()
    return None


#: The repository's LiDAR detector configs; ``lidar_<dataset>.yaml`` unless listed here.
DETECTOR_CONFIG_DIR = REPO / "configs" / "perception"
DETECTOR_CONFIGS = {"kitti": "lidar_kitti.yaml", "kitti-tracking": "lidar_kitti.yaml"}


def dataset_root(
    dataset: str, root: Path | None, option: str = "--root", alternative: str | None = None
) -> Path:
    """``root`` (the command's ``option``) when given, else the dataset's folder under the
    shared data (:data:`~drivestack.eval.detection.datasets.DEFAULT_ROOTS`).

    Raises:
        DataError: no such folder (naming ``option``), or no ``root`` and no shared data folder
            (naming ``option`` and the ``alternative`` option that would do instead).
    """
    if root is None:
        from drivestack.eval.detection.datasets import DEFAULT_ROOTS

        shared = default_shared_data()
        if shared is None:
            given = option if alternative is None else f"{option} or {alternative}"
            raise DataError(
                f"no {given} given and ../shared/data not found (set DRIVESTACK_SHARED_DATA)"
            )
        root = shared / DEFAULT_ROOTS[dataset]
    if not root.is_dir():
        raise DataError(f"no such {dataset} folder", path=str(root), field=option)
    check_dataset_layout(dataset, root, option)
    return root


#: What a dataset's folder holds (glob patterns; any one will do): a folder with none of them
#: is refused with the folders below it that have one (a --root one level too high or low).
DATASET_MARKERS: dict[str, tuple[str, ...]] = {
    "kitti-tracking": ("training", "testing", "seqmaps", "label_02", "velodyne"),
    "kitti": ("training", "testing", "label_2", "velodyne"),
    "nuscenes": ("*_info.json", "*_infos_*.json", "*.pkl"),
    "av2": ("annotations.feather", "*/annotations.feather"),
    "aimotive": ("dynamic", "sensor"),
    "pandaset": ("lidar", "annotations"),
}


def check_dataset_layout(dataset: str, root: Path, option: str = "--root") -> None:
    """Refuse a ``dataset`` folder ``root`` that holds none of its :data:`DATASET_MARKERS` while
    folders below it do (a --root a level or two too high), or a KITTI ``training`` /
    ``testing`` folder given for its parent, naming ``option`` and the folders that look
    right. A folder with nothing like the dataset near it is left to the reader's own error.

    Raises:
        DataError: naming ``root`` and ``option``.
    """
    markers = DATASET_MARKERS.get(dataset)
    if markers is None:
        return
    kitti_split = dataset.startswith("kitti") and root.name in ("training", "testing")
    if kitti_split and not any((root / m).is_dir() for m in ("training", "testing")):
        raise DataError(
            f"a {dataset} folder holds training/ (and testing/): give its parent, "
            f"{option.split()[0]} {root.parent}",
            path=str(root),
            field=option,
        )
    if any(next(root.glob(m), None) is not None for m in markers):
        return
    found = _folders_with(root, markers)
    if not found:  # nothing to point to: the reader's own error says what is missing
        return
    one = "this looks like one" if len(found) == 1 else "these look like one"
    raise DataError(
        f"no {dataset} data here (none of {', '.join(markers)} in it); {one}: "
        + ", ".join(str(f) for f in found),
        path=str(root),
        field=option,
    )


#: :func:`_folders_with` stops after looking into this many folders (a root far too high, such
#: as ``/``, is not walked in full for an error message's hint)
_MAX_FOLDERS_LOOKED_AT = 500


def _folders_with(root: Path, markers: tuple[str, ...], depth: int = 3) -> list[Path]:
    """Up to three folders below ``root`` (at most ``depth`` levels, at most
    :data:`_MAX_FOLDERS_LOOKED_AT` folders looked into, breadth first) that hold one of
    ``markers``."""
    found: list[Path] = []
    level, seen = [root], 0
    for _ in range(depth):
        below: list[Path] = []
        for folder in level:
            try:
                children = sorted(p for p in folder.iterdir() if p.is_dir())
            except OSError:
                continue
            for child in children:
                if seen == _MAX_FOLDERS_LOOKED_AT:
                    return found
                seen += 1
                if any(next(child.glob(m), None) is not None for m in markers):
                    found.append(child)
                    if len(found) == 3:
                        return found
                else:
                    below.append(child)
        level = below
    return found


def av2_log_dirs(root: Path, option: str = "--root") -> list[Path]:
    """The Argoverse 2 log folders of ``root``: ``root`` itself when it is one log (it holds
    ``annotations.feather``), else its ``<log_id>/`` folders that hold one, sorted.

    Raises:
        DataError: naming ``root`` and ``option`` when it is neither.
    """
    if (root / "annotations.feather").is_file():
        return [root]
    found = sorted(p.parent for p in root.glob("*/annotations.feather"))
    if not found:
        raise DataError(
            "no <log_id>/annotations.feather (nor annotations.feather: not a log folder either)",
            path=str(root),
            field=option,
        )
    return found


def add_kitti_root_option(parser: argparse.ArgumentParser, *aliases: str) -> None:
    """``--kitti-root`` (and ``aliases``): the KITTI tracking folder, by default the shared
    data's (read it with ``dataset_root("kitti-tracking", args.kitti_root, option=...)``)."""
    parser.add_argument(
        "--kitti-root",
        *aliases,
        dest="kitti_root",
        type=Path,
        default=None,
        help="KITTI tracking folder (with training/, seqmaps/ and detections/; default: "
        "kitti_tracking in the shared data folder, $DRIVESTACK_SHARED_DATA or ../shared/data)",
    )


def add_quiet_option(parser: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bar (``args.quiet``)."""
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def add_out_options(parser: argparse.ArgumentParser) -> None:
    """``--out`` (the output folder, required; it holds ``metrics.json``), ``--overwrite``
    (:func:`add_overwrite_option`) and ``--quiet`` (no progress bar), as the eval commands that
    write only ``metrics.json`` take them."""
    parser.add_argument("--out", type=Path, required=True, help="output folder (metrics.json)")
    add_overwrite_option(parser)
    add_quiet_option(parser)


def detector_config(dataset: str, config: Path | None) -> Path:
    """``--config`` when given, else the repository's LiDAR detector config for ``dataset``.

    Raises:
        DataError: the file does not exist.
    """
    name = DETECTOR_CONFIGS.get(dataset, f"lidar_{dataset.replace('-', '_')}.yaml")
    path = config or DETECTOR_CONFIG_DIR / name
    if not path.is_file():
        hint = "" if config else f"; pass --config (shipped: {_shipped_configs()})"
        raise DataError(f"detector config not found{hint}", path=str(path), field="--config")
    return path


def _shipped_configs() -> str:
    return ", ".join(sorted(p.name for p in DETECTOR_CONFIG_DIR.glob("lidar_*.yaml")))


def int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` for integers of at least ``minimum`` (counts, limits) and, when
    given, at most ``maximum`` (a count that would run for hours or exhaust memory)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, got {value}")
        return value

    return parse


def seed_int(text: str) -> int:
    """An argparse ``type`` for a random seed in [0, 2**63) (NumPy's and torch's range)."""
    value = int_at_least(0)(text)
    if value >= 2**63:
        raise argparse.ArgumentTypeError(f"must be below 2**63, got {value}")
    return value


#: Counts that must be at least 1 (``--max-frames``).
positive_int = int_at_least(1)


def _number(text: str) -> float:
    """``text`` as a float (any, NaN and infinities too); an argparse error if it is none."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def positive_number(text: str) -> float:
    """An argparse ``type`` for a finite number > 0 (a duration, a learning rate)."""
    value = _number(text)
    if not (math.isfinite(value) and value > 0.0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def duration_s(limit_s: float) -> Callable[[str], float]:
    """An argparse ``type`` for a :func:`positive_number` of seconds of at most ``limit_s``
    (a window over recordings: a huge one would size arrays by it, not find more data)."""

    def parse(text: str) -> float:
        value = positive_number(text)
        if value > limit_s:
            raise argparse.ArgumentTypeError(f"must be at most {limit_s:g} s, got {text}")
        return value

    return parse


def non_negative_number(text: str) -> float:
    """An argparse ``type`` for a finite number of at least 0 (a tolerance)."""
    value = _number(text)
    if not (math.isfinite(value) and value >= 0.0):
        raise argparse.ArgumentTypeError(f"must be a finite number of at least 0, got {text}")
    return value


def iou_fraction(text: str) -> float:
    """An argparse ``type`` for one IoU threshold in (0, 1]."""
    value = _number(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"an IoU must be in (0, 1], got {text}")
    return value


def number_list(minimum: float | None = None) -> Callable[[str], list[float]]:
    """An argparse ``type`` for a non-empty comma-separated list of finite numbers, each at
    least ``minimum`` when given (``"0.01,0.1"`` -> ``[0.01, 0.1]``)."""

    def parse(text: str) -> list[float]:
        try:
            values = [float(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not a comma-separated list of numbers: {text!r}"
            ) from None
        if not values:
            raise argparse.ArgumentTypeError(f"no numbers in {text!r}")
        if not all(math.isfinite(v) for v in values):
            raise argparse.ArgumentTypeError(f"numbers must be finite, got {text!r}")
        if minimum is not None and min(values) < minimum:
            raise argparse.ArgumentTypeError(
                f"every number must be at least {minimum:g}, got {text!r}"
            )
        return values

    return parse


def iou_thresholds(text: str, option: str = "--iou", below_one: bool = False) -> list[float]:
    """Comma-separated IoU thresholds, each in (0, 1], or (0, 1) with ``below_one`` (a
    protocol where a match needs IoU above the threshold, so 1 matches nothing), each once (a
    repeated one would print its table twice and overwrite its own metrics.json ``iou_<t>``
    entry); DataError naming ``option`` otherwise (checked before any work, not after it)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise DataError(f"{option}: not a list of numbers: {text!r}") from None
    if below_one:
        if not values or any(not 0.0 < v < 1.0 for v in values):
            raise DataError(
                f"IoU thresholds must be in (0, 1) (a match needs IoU above the threshold), "
                f"got {text!r}",
                field=option,
            )
    elif not values or any(not 0.0 < v <= 1.0 for v in values):
        raise DataError(f"{option}: IoU thresholds must be in (0, 1], got {text!r}")
    keys = [f"{t:g}" for t in values]  # (metrics.json's iou_<t> keys)
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise DataError(
            f"threshold{'s' if len(repeated) > 1 else ''} {', '.join(repeated)} given more than "
            f"once in {text!r}",
            field=option,
        )
    return values


def clear_earlier_outputs(
    folder: Path, patterns: tuple[str, ...], overwrite: bool, option: str = "--out"
) -> list[Path]:
    """The files in ``folder`` matching ``patterns`` (an earlier run's outputs: ``model.pt``,
    ``checkpoint_*.pt``, result ``*.txt``), removed when ``overwrite``, else refused: a new
    run must not leave a mix of two runs (nor silently replace one). Returns those removed.

    Raises:
        DataError: naming ``folder``, ``option``, what it holds and ``--overwrite``.
    """
    found = sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})
    if not found:
        return []
    if not overwrite:
        shown = ", ".join(p.name for p in found[:3]) + (
            f" and {len(found) - 3} more" if len(found) > 3 else ""
        )
        raise DataError(
            f"holds an earlier run's outputs ({shown}): give another {option}, or --overwrite "
            "to replace them",
            path=str(folder),
            field=option,
        )
    for p in found:
        p.unlink()
    return found


def check_out_dir(path: Path, option: str = "--out") -> Path:
    """``path`` when it is a folder or can be made one (checked before any work; the folder
    itself is created only when the work starts, so a failed run leaves none).

    Raises:
        DataError: ``path`` or a folder above it is a file (``PATH: field --out: not a
            directory (a file of that name exists)``), or the nearest existing folder above it
            is not writable (a scratch folder made and removed there tells, as root too).
    """
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise DataError(
            "not a directory (a file of that name exists)", path=str(probe), field=option
        )
    if probe.is_dir() and not os.access(probe, os.W_OK | os.X_OK):
        what = (
            "folder not writable" if probe == path else f"cannot create {path}: no write permission"
        )
        raise DataError(what, path=str(probe), field=option)
    if probe.is_dir():
        # os.access says yes to root everywhere, also where nothing can be written (/proc, a
        # read-only mount): make and remove a scratch folder there, so that the refusal comes
        # before any work
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".drivestack-probe-", dir=probe))
        except OSError as exc:
            what = "folder not writable" if probe == path else f"cannot create {path}"
            raise DataError(
                f"{what}: {exc.strerror or exc}", path=str(probe), field=option
            ) from None
    return path


def check_out_file(path: Path, option: str = "--out", what: str = "a file name") -> Path:
    """``path`` when it is not a folder and its folder is one :func:`check_out_dir` accepts
    (checked before any work).

    Raises:
        DataError: ``path`` is a folder (``PATH: field --out: is a folder; give WHAT``), or its
            folder cannot be made or written.
    """
    if path.is_dir():
        raise DataError(f"is a folder; give {what}", path=str(path), field=option)
    check_out_dir(path.parent, option)
    return path


@contextlib.contextmanager
def removed_on_failure(folder: Path) -> Iterator[None]:
    """Delete ``folder`` when the block raises (any error, Ctrl-C too) and the folder did not
    exist before it, with the missing folders above it the block made: a command that writes
    its outputs as it goes leaves no partial folder."""
    existed = folder.exists()
    top = folder  # the highest of ``folder`` and its parents that does not exist yet
    while not top.parent.exists() and top.parent != top:
        top = top.parent
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(top, ignore_errors=True)
        raise


@contextlib.contextmanager
def reader_errors_as_data_errors() -> Iterator[None]:
    """A ``ValueError`` or ``OSError`` the block raises (a reader's) re-raised as a
    :class:`DataError`, which the CLI prints as one line with exit status 2; the CLI's own
    user errors pass unchanged."""
    from drivestack.cli import USER_ERRORS

    try:
        yield
    except (ValueError, OSError) as exc:
        if isinstance(exc, USER_ERRORS):
            raise
        raise DataError(str(exc)) from exc


#: The folders of one run's files an eval command may write in ``--out`` beside its
#: ``metrics.json`` (eval detection's ``detections/``, eval tracking's ``data/`` and
#: ``data_lidar/``); a run lists the ones it wrote in metrics.json's ``outputs``
#: (:func:`eval_outputs`), and only those are removed when a later run replaces it.
EVAL_FOLDERS = ("detections", "data", "data_lidar")


def add_overwrite_option(parser: argparse.ArgumentParser, outputs: str = "metrics.json") -> None:
    """``--overwrite`` of an eval command (``outputs``: what it writes in ``--out``), for
    :func:`check_eval_out`."""
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"replace another eval run's results in --out (this command writes {outputs}; "
        "the folders the old run's metrics.json lists as its outputs are removed with it, and "
        "a folder no metrics.json lists never is); without it such an --out is refused, "
        "while a rerun of the same run replaces its own",
    )


def resolved(path: str | Path) -> str:
    """``path`` made absolute with symlinks resolved, as the eval commands store the paths of
    a run's inputs in metrics.json (and compare them: :func:`check_eval_out`)."""
    return str(Path(path).resolve())


def eval_outputs(out: Path, names: tuple[str, ...]) -> list[str]:
    """metrics.json's ``outputs``: the ones of ``names`` (of :data:`EVAL_FOLDERS`) this run
    wrote in ``out``."""
    return [name for name in names if (out / name).is_dir()]


def check_eval_out(
    out: Path,
    kind: str,
    identity: dict[str, object],
    overwrite: bool,
    inputs: dict[str, Path | None] | None = None,
    writes: tuple[str, ...] = (),
) -> tuple[str, ...]:
    """Before any work of an eval command (``kind``: ``detection``, ``detection2d``,
    ``tracking``, ``prediction``, ``planning``): refuse an ``--out`` holding another run's
    results unless ``overwrite``, and return the folders of ``out`` the run replaces at its
    end (:func:`swap_in_eval_out`).

    Another run's: a ``metrics.json`` of another eval kind (or of none, or that does not
    read, or is not a JSON object), or of this kind whose ``identity`` keys (what is scored:
    dataset, root, detections, result files, tracker config, split, settings...) differ from
    this run's. A :class:`~pathlib.Path` value of ``identity`` is compared resolved with the
    stored one (stored resolved: :func:`resolved`); a stored relative path (an older run's)
    cannot be told and counts as another run's. A dict value is compared key by key with a
    stored object; a list value with a stored object's keys (a table keyed by class). A
    rerun of the same run (same kind and identity) replaces its own files. A ``metrics.json``
    that is a folder is refused in any case.

    Replaced are only the folders a recognised eval ``metrics.json`` (a real file, not a
    symlink) lists in ``outputs`` that are real folders inside ``out`` (no symlink followed),
    by every eval command (one that writes no folder too: no old run's folder is orphaned). A
    folder of ``writes`` (:data:`EVAL_FOLDERS` this command writes) that is in ``out`` but
    not so listed holds files no eval run there claims: refused even with ``overwrite`` (the
    user's files are never removed). Other folders are left alone. ``inputs`` (option -> path
    the run reads) lying in a folder to be removed or written, or holding one to be removed,
    are refused in any case.

    Raises:
        DataError: naming ``--out`` (one line, exit status 2).
    """
    if (out / "metrics.json").is_dir() and not (out / "metrics.json").is_symlink():
        raise DataError(
            "its metrics.json is a folder, which no eval run writes: move it or give another --out",
            path=str(out),
            field="--out",
        )
    old, unread = _old_metrics(out)
    old_run = _eval_kind(old) if old is not None else None
    why = unread or _other_eval_run(old, old_run, kind, identity)
    if why is not None and not overwrite:
        raise DataError(
            f"already holds the results of another run ({why}); give another --out, or "
            "--overwrite to replace them",
            path=str(out),
            field="--out",
        )
    old_kind = old_run if not (out / "metrics.json").is_symlink() else None
    listed = _listed_outputs(out, old) if old_kind is not None else ()
    unclaimed = [
        n for n in writes if n not in listed and ((out / n).exists() or (out / n).is_symlink())
    ]
    if unclaimed:
        raise DataError(
            "; ".join(_unclaimed_reason(out, n, old, old_kind) for n in unclaimed),
            path=str(out),
            field="--out",
        )
    for option, given in (inputs or {}).items():
        if given is None:
            continue
        read = given.resolve()
        for name in dict.fromkeys((*listed, *writes)):
            folder = (out / name).resolve()
            # an input in a folder removed or written, or a removed folder inside an input
            does = "remove" if name in listed else "write into"
            if folder in (read, *read.parents):
                why = f"{option} lies in --out's {name}/, which this run would {does}"
            elif name in listed and read in folder.parents:
                why = f"--out's {name}/, which this run would remove, lies in {option} ({given})"
            else:
                continue
            raise DataError(
                f"{why} (--out holds only its own run's files): give another --out",
                path=str(out),
                field="--out",
            )
    return listed


def _unclaimed_reason(
    out: Path, name: str, old: dict[str, object] | None, old_kind: str | None
) -> str:
    """Why ``out/name`` (a folder this command writes, not listed) is refused, and what to do."""
    path = out / name
    if path.is_symlink():
        return (
            f"holds {name}/, which this command writes, and it is a symlink (no eval run "
            "writes one): remove the link or give another --out"
        )
    if not path.is_dir():
        return f"holds {name}, which this command writes as a folder: move it or give another --out"
    if old_kind is not None and old is not None and "outputs" not in old:
        return (
            f"holds {name}/ beside the metrics.json of an eval {old_kind} run from before "
            f"outputs were recorded: remove {path}/ by hand to rerun here"
        )
    return (
        f"holds {name}/, which this command writes but no metrics.json there lists as a "
        "run's outputs: it holds files this command would not overwrite; move them or give "
        "another --out"
    )


def _old_metrics(out: Path) -> tuple[dict[str, object] | None, str | None]:
    """``out/metrics.json`` as read (None when there is none) and why it is no eval result
    when it does not read or is not a JSON object (None when it is one)."""
    import json

    metrics = out / "metrics.json"
    if not (metrics.exists() or metrics.is_symlink()):
        return None, None
    try:
        old = json.loads(metrics.read_text())
    except (OSError, ValueError):
        return None, "its metrics.json does not read"
    if not isinstance(old, dict):
        return None, "its metrics.json is not a JSON object"
    return old, None


def _eval_kind(old: dict[str, object]) -> str | None:
    """The drivestack eval command whose result ``old`` is (the report's classify), None when
    none."""
    from drivestack.report.collect import classify

    try:
        return classify(old)
    except ValueError:  # a tracking result with malformed blocks: still a tracking result
        return "tracking"


def _listed_outputs(out: Path, old: dict[str, object] | None) -> tuple[str, ...]:
    """The folders the old run's metrics.json lists in ``outputs`` that are real folders of
    ``out`` (names of :data:`EVAL_FOLDERS`, no symlink)."""
    listed = (old or {}).get("outputs")
    if not isinstance(listed, list):
        return ()
    return tuple(
        name
        for name in EVAL_FOLDERS
        if name in listed and (out / name).is_dir() and not (out / name).is_symlink()
    )


def _differs(key: str, stored: object, value: object) -> str | None:
    """``"KEY STORED, now VALUE"`` when an identity ``value`` (JSON values: a tuple as a
    list; a list compared with a stored object's keys, a table keyed by class) is not the
    stored one, else None."""
    import json

    if isinstance(value, list) and isinstance(stored, dict):
        stored = list(stored)
    return None if stored == json.loads(json.dumps(value)) else f"{key} {stored!s}, now {value}"


def _other_eval_run(
    old: dict[str, object] | None, old_kind: str | None, kind: str, identity: dict[str, object]
) -> str | None:
    """Why the eval results ``old`` (``--out``'s metrics.json, of the eval command
    ``old_kind``: :func:`_eval_kind`) are not this run's; None when it holds none, or this
    same run's (:func:`check_eval_out`)."""
    if old is None:
        return None
    if old_kind != kind:
        return (
            f"a metrics.json of drivestack eval {old_kind}, not {kind}"
            if old_kind is not None
            else "a metrics.json of no drivestack eval command"
        )
    differs = []
    for key, value in identity.items():
        stored = old.get(key)
        if isinstance(value, Path):
            now = resolved(value)
            if isinstance(stored, str) and not Path(stored).is_absolute():
                differs.append(
                    f"{key} {stored} is a relative path (an older run's), now {now}: whether "
                    "it is the same cannot be told"
                )
            elif not isinstance(stored, str) or resolved(stored) != now:
                differs.append(f"{key} {stored!s}, now {now}")
        elif isinstance(value, dict) and isinstance(stored, dict):  # key by key
            pairs = [(f"{key}.{sub}", stored.get(sub), v) for sub, v in value.items()]
            differs += [why for k, s, v in pairs if (why := _differs(k, s, v)) is not None]
        elif (why := _differs(key, stored, value)) is not None:
            differs.append(why)
    return f"another {'; '.join(differs)}" if differs else None


#: Prefix of :func:`eval_staging`'s scratch folders and the file naming the process using one.
STAGING_PREFIX = ".eval-"
STAGING_OWNER = ".owner-pid"


@contextlib.contextmanager
def eval_staging(out: Path, kind: str) -> Iterator[Path]:
    """A scratch folder inside ``out`` (made if missing) where an eval run writes its
    metrics.json and folders, deleted at the end: :func:`swap_in_eval_out` moves them into
    ``out`` once the run is done, so a run stopped half-way (an error, Ctrl-C) leaves ``out``
    as it was. The folder records the process using it (:data:`STAGING_OWNER`); the scratch
    folders a killed run left (SIGKILL, power loss: no clean-up ran) are removed first
    (:func:`remove_abandoned_staging`)."""
    out.mkdir(parents=True, exist_ok=True)
    removed = remove_abandoned_staging(out)
    if removed:
        print(
            f"note: removed {len(removed)} scratch folder(s) of stopped eval runs from {out}: "
            + ", ".join(removed),
            file=sys.stderr,
        )
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{kind}-", dir=out))
    try:
        (staging / STAGING_OWNER).write_text(f"{os.getpid()}\n")
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_abandoned_staging(out: Path) -> list[str]:
    """Remove the :func:`eval_staging` folders in ``out`` whose run has stopped: a real
    folder (not a symlink) named ``.eval-<kind>-*`` whose :data:`STAGING_OWNER` names a
    process id that is not running on this machine. A folder without a readable owner file
    is left alone (a run that has just made it, or not one of ours); so is one whose process
    runs (another eval run into the same ``out``) or cannot be checked. Returns the names
    removed, sorted."""
    removed = []
    for folder in sorted(out.glob(f"{STAGING_PREFIX}*-*")):
        if folder.is_symlink() or not folder.is_dir():
            continue
        try:
            pid = int((folder / STAGING_OWNER).read_text().strip())
        except (OSError, ValueError):
            continue
        if pid <= 0 or pid == os.getpid() or _process_runs(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder.name)
    return removed


def _process_runs(pid: int) -> bool:
    """Is process ``pid`` running (or there, but not ours to signal)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's process
        return True
    return True


def swap_in_eval_out(
    staging: Path, out: Path, clear: tuple[str, ...], result: dict[str, Any], indent: int = 1
) -> None:
    """Write a finished run's ``result`` as ``staging/metrics.json`` (strict JSON, undefined
    figures as null; its ``outputs`` set here: the :data:`EVAL_FOLDERS` the run wrote in
    ``staging``, :func:`eval_outputs`) and move the run from ``staging`` (:func:`eval_staging`)
    into ``out``: the old run's listed folders (``clear``, :func:`check_eval_out`) are moved
    aside into ``staging`` (deleted with it), the run's folders moved in, and its
    ``metrics.json`` last (``os.replace``: a symlink there is replaced, never followed out of
    ``out``)."""
    from drivestack.core.json_values import strict_dumps

    result["outputs"] = eval_outputs(staging, EVAL_FOLDERS)
    (staging / "metrics.json").write_text(strict_dumps(result, indent=indent))
    for name in clear:
        if name in EVAL_FOLDERS:
            (out / name).rename(staging / f".old-{name}")
    for name in EVAL_FOLDERS:
        if (staging / name).is_dir():
            (staging / name).rename(out / name)
    os.replace(staging / "metrics.json", out / "metrics.json")


def write_eval_metrics(
    out: Path, kind: str, result: dict[str, Any], clear: tuple[str, ...]
) -> None:
    """``out/metrics.json`` of an eval run that writes no folder (its ``outputs`` empty):
    ``result`` written to a file inside ``out`` and swapped in (:func:`swap_in_eval_out`), the
    old run's listed folders (``clear``) removed with it."""
    with eval_staging(out, kind) as staging:
        swap_in_eval_out(staging, out, clear, result)
