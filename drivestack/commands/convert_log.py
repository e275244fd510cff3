"""The command line of the dataset -> drivestack log converters (``tools/dataset_to_log.py``,
``tools/kitti_tracking_to_log.py``): one parser and one run for both.

Both take ``--root``, ``--out`` and ``--first-frame`` / ``--last-frame`` (a range every frame
of which must be there: :func:`~drivestack.replay.dataset_log.select_frames`), check ``--out``
before reading anything, write ``OUT.partial`` renamed to ``OUT`` when complete, leave no
folder nor partial log behind when they fail (Ctrl-C: one line, exit status 130), and print what they wrote with
the notes a replay of the log needs (frames without an ego pose, labels without ids). Bad input
is one ``error:`` line naming the file and field, exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from pathlib import Path

from drivestack.commands._paths import (
    check_out_file,
    dataset_root,
    int_at_least,
    removed_on_failure,
)
from drivestack.core.atomic import partial_path, write_atomic
from drivestack.core.errors import DataError
from drivestack.replay.dataset_log import DATASET_FRAMES, LogWritten, dataset_to_log


def converter_parser(description: str, numbering: str) -> argparse.ArgumentParser:
    """``--out``, ``--first-frame`` and ``--last-frame`` (``numbering``: what the frame numbers
    are); the caller adds ``--root`` and its own options."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="output log (.mcap)")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --out (refused without it: a typo must not cost a log)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--first-frame",
        type=int_at_least(0),
        help=f"first frame to write ({numbering}; default: the first)",
    )
    parser.add_argument(
        "--last-frame",
        type=int_at_least(0),
        help="last frame to write, included (default: the last); every frame from the first "
        "to the last must be there (exit status 2 naming the frames there are otherwise)",
    )
    return parser


def parse_converter_args(
    parser: argparse.ArgumentParser, argv: list[str] | None
) -> argparse.Namespace:
    """The parsed options; ``--first-frame`` after ``--last-frame`` is a usage error (exit 2)."""
    args = parser.parse_args(argv)
    if (
        args.first_frame is not None
        and args.last_frame is not None
        and args.first_frame > args.last_frame
    ):
        parser.error(f"--first-frame {args.first_frame} is after --last-frame {args.last_frame}")
    return args


def run_converter(
    out: Path, what: str, write: Callable[[Path], LogWritten], *, overwrite: bool = False
) -> int:
    """:func:`_convert` with bad input as one ``error:`` line (exit status 2) and Ctrl-C as
    one ``interrupted`` line (exit status 130)."""
    from drivestack.cli import interrupted_as_exit_status, report_user_errors

    return interrupted_as_exit_status(
        lambda: report_user_errors(lambda: _convert(out, what, write, overwrite))
    )


def _convert(
    out: Path, what: str, write: Callable[[Path], LogWritten], overwrite: bool = False
) -> int:
    """``write(OUT.partial)`` with ``out`` checked first (an existing file is refused unless
    ``overwrite``), renamed to ``out`` when complete: a failed or interrupted conversion
    removes the partial log and the new folders and leaves an older ``out`` as it was (never a
    cut log under its name). Prints ``wrote N frames of WHAT (frames A-B) to OUT`` and the
    log's notes."""
    check_out_file(out, what="the log's file name")  # before any work
    if out.is_file() and not overwrite:
        raise DataError(
            f"{out} exists: give another --out, or --overwrite to replace it", field="--out"
        )
    partial = partial_path(out)
    if partial.is_dir():
        raise DataError(
            f"{partial} is a folder, and the converter writes a file of that name: move it",
            field="--out",
        )
    with removed_on_failure(out.parent):
        out.parent.mkdir(parents=True, exist_ok=True)
        written = write_atomic(out, write)
    frames = f"{written.frames} frame{'' if written.frames == 1 else 's'}"
    print(f"wrote {frames} of {what} (frames {written.first}-{written.last}) to {out}")
    for note in written.notes():
        print(note)
    return 0


def progress_bar(numbers: Iterable[int]) -> Iterable[int]:
    """A progress bar over the frame numbers written (plain lines without a terminal)."""
    from drivestack.core.progress import progress

    return progress(list(numbers), desc="frames", unit="frame")


def dataset_main(description: str, argv: list[str] | None = None) -> int:
    """``tools/dataset_to_log.py``: ``--dataset``, ``--root``, the shared options."""
    parser = converter_parser(
        description,
        "the dataset's frame number: sweep or frame order from 0, PandaSet's file "
        "number, nuScenes' sample index",
    )
    parser.add_argument("--dataset", required=True, choices=sorted(DATASET_FRAMES))
    parser.add_argument(
        "--root",
        type=Path,
        required=True,
        help="an Argoverse 2 log folder, an aiMotive or PandaSet sequence folder, a nuScenes "
        "*_info.json (or the folder holding one)",
    )
    args = parse_converter_args(parser, argv)

    def write(out: Path) -> LogWritten:
        return dataset_to_log(
            args.dataset,
            args.root,
            out,
            first_frame=args.first_frame,
            last_frame=args.last_frame,
            progress=None if args.quiet else progress_bar,
        )

    return run_converter(
        args.out, f"{args.dataset} {args.root.name}", write, overwrite=args.overwrite
    )


def kitti_tracking_main(description: str, argv: list[str] | None = None) -> int:
    """``tools/kitti_tracking_to_log.py``: ``--root`` (default the shared KITTI tracking
    folder), ``--sequence``, the shared options."""
    from drivestack.replay.kitti_log import kitti_tracking_to_log

    parser = converter_parser(description, "the sequence's own frame numbers")
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="KITTI tracking folder (training/{velodyne,velodyne_pcd_xz}/<seq>, label_02, "
        "calib; default: kitti_tracking in the shared data folder, $DRIVESTACK_SHARED_DATA or "
        "../shared/data)",
    )
    parser.add_argument("--sequence", default="0000", help="sequence name (default 0000)")
    args = parse_converter_args(parser, argv)

    def write(out: Path) -> LogWritten:
        # (here, inside run_converter: no --root and no shared data is one error line)
        root = dataset_root("kitti-tracking", args.root)
        return kitti_tracking_to_log(
            root,
            out,
            sequence=args.sequence,
            progress=None if args.quiet else progress_bar,
            first_frame=args.first_frame,
            last_frame=args.last_frame,
        )

    return run_converter(args.out, f"sequence {args.sequence}", write, overwrite=args.overwrite)
