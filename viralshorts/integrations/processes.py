"""Child processes of the adapters (ffmpeg, ffprobe, the Piper voice) and of the worker.

Every child starts in a process group of its own and, on Linux, with a parent-death signal:
when the process that started it dies, even by SIGKILL (the OOM killer), the kernel kills the
child too, so no ffmpeg keeps writing into a file a retry is about to write again.

The kernel sends the parent-death signal when the *thread* that started the child ends, not
the process. Every caller here waits for its child before returning (``stop`` in ``finally``),
so the starting thread always outlives the child; keep it that way.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from viralshorts.errors import IntegrationError

_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


# Looked up once, before any fork: the child may only call it, not load a library.
_prctl = _load_prctl()


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies; exit now if it already did.

    Call it first thing in a forked or spawned child. ``parent_pid`` is the pid the parent had
    before the fork: if the parent died in between, the child was re-parented and
    ``os.getppid()`` tells.
    """
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:
        os._exit(1)


def _child_setup(parent_pid: int) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        os.setpgid(0, 0)
        die_with_parent(parent_pid)

    return setup


def popen(args: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen`` whose child has its own process group and dies with this process.

    Start it from the thread that will wait for it (see the module docstring).
    """
    return subprocess.Popen(args, preexec_fn=_child_setup(os.getpid()), **kwargs)  # noqa: PLW1509


def run(args: list[str], *, timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run`` (no check) through ``popen``; the child is killed on timeout."""
    with popen(args, **kwargs) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:
            stop(proc)
            raise
        return subprocess.CompletedProcess(args, proc.returncode, out, err)


def stop(proc: subprocess.Popen[Any]) -> None:
    """Kill ``proc`` if it still runs, reap it, and close the pipes we hold to it.

    Called in ``finally``: an RQ job timeout or a cancel does not kill grandchildren, so nobody
    else would. A pipe another thread already closed (a stdin feeder) is fine.
    """
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream:
            with contextlib.suppress(OSError):
                stream.close()


def is_running(pid: int) -> bool:
    """True while process ``pid`` exists on this machine and is not a zombie.

    A process killed a moment ago may stay a zombie until its new parent reaps it; it holds
    nothing and runs nothing any more.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        pass
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux): it exists
    return state not in (b"Z", b"X")


def killed_by_signal(returncode: int | None) -> bool:
    """True when a child's return code says a signal ended it (``-9``: SIGKILL)."""
    return returncode is not None and returncode < 0


def killed_error(returncode: int | None, message: str, *, code: str) -> IntegrationError | None:
    """The retryable error for a child a signal ended (the OOM killer may pick any one child
    alone: that attempt failed, not the work), or None when it ended by itself.

    ``message`` is formatted with ``signal``: "ffmpeg was stopped by signal {signal} ...".
    """
    if not killed_by_signal(returncode):
        return None
    signum = -(returncode or 0)
    return IntegrationError(
        message.format(signal=signum), retryable=True, code=code, params={"signal": signum}
    )
