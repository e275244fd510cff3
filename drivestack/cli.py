"""``drivestack`` command line: one sub-command module per job, imported only when used."""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from types import FrameType

from drivestack.core.errors import DrivestackError, Terminated, in_chain, is_interrupt

# DEBUG_ENV (re-exported): set to 1 to see an input error's traceback, not its one-line message
from drivestack.core.warning_format import DEBUG_ENV as DEBUG_ENV
from drivestack.core.warning_format import debug_enabled, use_one_line_warnings

#: Exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED_STATUS = 130
#: Exit status of a run stopped by SIGTERM (128 + 15, as shells report it).
TERMINATED_STATUS = 143
#: What a user's input can raise past a command: drivestack's own errors (bad data or config,
#: naming the file, record and field) and the OS's about the paths given (naming the path).
USER_ERRORS: tuple[type[BaseException], ...] = (
    DrivestackError,
    FileNotFoundError,
    FileExistsError,
    NotADirectoryError,
    IsADirectoryError,
    PermissionError,
)

# name -> (module under drivestack.commands, one-line help). Each module has
# ``add_arguments(parser)`` and ``run(args) -> int``. Modules import lazily so that
# ``drivestack --help`` stays fast and torch/cupy load only for commands that need them.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "demo",
        "replay the bundled demo drive through the stack and score it against its labels, "
        "then run the kernel benchmark",
    ),
    "bench": ("bench", "benchmarks: drivestack against its peers, side by side, with ratios"),
    "replay": ("replay", "replay a recorded drive (drivestack log or ROS bag) through the stack"),
    "eval": (
        "eval",
        "evaluate detections, tracks or forecasts against labels, and planners open loop on "
        "recorded drives (KITTI, nuScenes, AV2, nuPlan protocols)",
    ),
    "sim": (
        "sim",
        "closed-loop simulation: drive scenarios or a suite, write metrics and a summary",
    ),
    "fleet": ("fleet", "scenario fleets: seeded sweeps on a process pool or Ray, resumable"),
    "report": ("report", "one self-contained HTML report of a run folder, against a baseline run"),
}


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. With ``argv``, only the command it names (its first word
    that is one) imports its module and gets its options: the others are listed by name and
    help (``drivestack eval ...`` does not import the replay, sim or bench modules, some
    0.3 s); without, every command is built (for tests and tools that inspect them)."""
    parser = argparse.ArgumentParser(
        prog="drivestack",
        description="drivestack: assisted-driving perception and planning stack.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None if argv is None else next((a for a in argv if a in COMMANDS), "")
    for name, (module_name, help_text) in COMMANDS.items():
        if chosen is not None and name != chosen:
            sub.add_parser(name, help=help_text, description=help_text)
            continue
        module = importlib.import_module(f"drivestack.commands.{module_name}")
        cmd = sub.add_parser(
            name, help=help_text, description=(module.__doc__ or help_text).strip()
        )
        module.add_arguments(cmd)
        cmd.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words)
    args = parse_command_line(parser, words)
    if args.version:
        from drivestack import __version__

        print(__version__)
        return 0
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)  # a usage error: stderr and 2, as a subcommand's
        return 2
    return interrupted_as_exit_status(
        lambda: report_user_errors(lambda: int(args._module.run(args) or 0)),
        lambda: getattr(args, "resume_hint", None),  # (set while it runs: fleet's)
    )


def parse_command_line(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``parser.parse_args(argv)``, but an unknown option is reported by the (sub)command it
    was given to, with its usage and the closest option names (argparse reports it with the
    top-level usage, which lists none of the command's options)."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        chosen = _chosen_parser(parser, argv)
        known = [o for a in chosen._actions for o in a.option_strings if o.startswith("--")]
        hints = []
        for extra in extras:
            if extra.startswith("--"):
                close = difflib.get_close_matches(extra.split("=", 1)[0], known, n=2, cutoff=0.6)
                if close:
                    hints.append(f"{extra.split('=', 1)[0]}: did you mean {' or '.join(close)}?")
        hint = f" ({'; '.join(hints)})" if hints else ""
        chosen.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
    return args


def _chosen_parser(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.ArgumentParser:
    """The deepest (sub)command parser ``argv`` names (``drivestack eval tracking ...``: the
    ``tracking`` parser)."""
    current = parser
    for token in argv:
        subcommands = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if subcommands and token in subcommands[0].choices:
            current = subcommands[0].choices[token]
    return current


def interrupted_as_exit_status(
    run: Callable[[], int], resume_hint: Callable[[], str | None] | None = None
) -> int:
    """``run()``; Ctrl-C is one ``interrupted`` line on stderr (followed by ``resume_hint()``
    when that gives one: ``drivestack fleet`` says to rerun the same command) and exit status
    130 (its traceback with ``DRIVESTACK_DEBUG=1``): every ``drivestack`` command and the
    converters in ``tools/`` stop this way. SIGTERM (a CI cancellation, ``docker stop``,
    ``timeout``) is raised as :class:`~drivestack.core.errors.Terminated`, a
    ``KeyboardInterrupt``, so the same cleanup runs (no ``.partial`` output left behind): one
    ``terminated`` line and exit status 143. It used to kill the process where it stood."""
    previous = _raise_on_sigterm()
    try:
        return run()
    except BaseException as exc:
        if not is_interrupt(exc) or debug_enabled():
            raise
        terminated = in_chain(exc, Terminated)
        word = "terminated" if terminated else "interrupted"
        hint = resume_hint() if resume_hint is not None else None
        print(f"\n{word}; {hint}" if hint else f"\n{word}", file=sys.stderr)
        return TERMINATED_STATUS if terminated else INTERRUPTED_STATUS
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _raise_on_sigterm() -> signal.Handlers | Callable[[int, FrameType | None], object] | int | None:
    """Install a SIGTERM handler raising :class:`Terminated`; the handler it replaced (None
    where signals cannot be set: a thread other than the main one)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated(f"signal {signum}")

    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, terminate)
    return previous


def report_user_errors(run: Callable[[], int]) -> int:
    """``run()``, an input error (:data:`USER_ERRORS`) printed as one ``error: ...`` line with
    exit status 2 (its traceback with ``DRIVESTACK_DEBUG=1``): every ``drivestack`` command
    and the tools in ``tools/`` report bad input this way. A warning shown while it runs
    (e.g. a scenario route run with lead lanes, a detector class the tracker lacks) is one
    ``warning: ...`` line, not Python's two-line form with a source line (that form with
    ``DRIVESTACK_DEBUG=1``; :mod:`drivestack.core.warning_format`, which a fleet's worker
    processes use too)."""
    debug = debug_enabled()
    formatter = use_one_line_warnings(debug)
    try:
        return run()
    except USER_ERRORS as exc:
        if debug:
            raise
        print(f"error: {_user_message(exc)}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = formatter


def _user_message(exc: BaseException) -> str:
    """One line for an input error: drivestack's own message, or the OS's with its path (a
    folder to create whose path runs through a file: "not a directory", not "File exists")."""
    if isinstance(exc, OSError) and exc.filename is not None:
        if isinstance(exc, FileExistsError) and not os.path.isdir(exc.filename):
            return f"{exc.filename}: not a directory (a file of that name exists)"
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
