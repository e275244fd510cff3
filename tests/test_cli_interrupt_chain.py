"""Ctrl-C is one line and exit status 130 even when it comes out as another error: a SIGINT
inside a numba kernel raises ``SystemError`` with the ``KeyboardInterrupt`` as its context."""

from __future__ import annotations

import sys
import types

import pytest

from drivestack import cli
from drivestack.cli import INTERRUPTED_STATUS, is_interrupt, main


def _fake_command(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    module = types.ModuleType("drivestack.commands._fake_interrupt")
    module.add_arguments = lambda parser: None  # type: ignore[attr-defined]

    def run(args):  # type: ignore[no-untyped-def]
        raise error

    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(cli.COMMANDS, "fake", ("_fake_interrupt", "raises"))


def _numba_style() -> SystemError:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise SystemError(
                "CPUDispatcher(<function _statistics_kernel>) returned a result with an "
                "exception set"
            ) from exc
    except SystemError as err:
        return err


def test_an_error_caused_by_ctrl_c_is_an_interrupt(monkeypatch, capsys) -> None:
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    _fake_command(monkeypatch, _numba_style())
    assert main(["fake"]) == INTERRUPTED_STATUS
    err = capsys.readouterr().err
    assert err.strip() == "interrupted" and "Traceback" not in err


def test_an_error_raised_while_handling_ctrl_c_is_an_interrupt() -> None:
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("cleanup failed")  # noqa: B904 (context, not cause)
    except RuntimeError as exc:
        assert is_interrupt(exc)
    assert is_interrupt(KeyboardInterrupt())
    assert not is_interrupt(SystemError("a real crash"))


def test_other_errors_still_raise(monkeypatch) -> None:
    _fake_command(monkeypatch, SystemError("a real crash"))
    with pytest.raises(SystemError, match="a real crash"):
        main(["fake"])


def test_sim_help_keeps_the_fleet_example_line_break(capsys) -> None:
    """(here with the other CLI output checks) ``drivestack sim --help`` shows its fleet
    example's continuation backslash and line break, as ``fleet --help`` does."""
    with pytest.raises(SystemExit):
        main(["sim", "--help"])
    out = capsys.readouterr().out
    assert "--sweep ego.speed_kph=20:70 \\\n      --variants 30" in out


def test_sigterm_runs_the_interrupt_cleanup_and_exits_143(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SIGTERM (CI cancellations, docker stop, timeout) killed the process where it stood: a
    replay left its .partial output and no message. It is now raised like Ctrl-C (finally
    blocks run) and reported as one ``terminated`` line with status 143."""
    import os
    import signal
    import time

    from drivestack.cli import TERMINATED_STATUS, interrupted_as_exit_status

    cleaned = []

    def run() -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5.0)  # the handler raises before this ends
            return 0
        finally:
            cleaned.append(True)

    before = signal.getsignal(signal.SIGTERM)
    assert interrupted_as_exit_status(run) == TERMINATED_STATUS == 143
    assert cleaned == [True]
    assert capsys.readouterr().err == "\nterminated\n"
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


def test_bare_drivestack_prints_its_usage_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "usage: drivestack" in captured.err
