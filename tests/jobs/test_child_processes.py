"""Adapter children (ffmpeg, Piper) die with the process that started them, even on SIGKILL.

Each test runs a small Python "parent" that starts a long ``sleep`` through
``processes.popen`` and prints the child's pid, then kills or watches that parent.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap

import psutil
import pytest

from tests.jobs.worker_support import wait_for
from viralshorts.integrations import processes
from viralshorts.settings import PROJECT_ROOT


def _start_parent(body: str) -> tuple[subprocess.Popen[str], int]:
    """Run ``body`` (which prints the child's pid) in a parent process; return both."""
    code = "from viralshorts.integrations import processes\nimport sys, threading, time\n"
    parent = subprocess.Popen(
        [sys.executable, "-c", code + textwrap.dedent(body)],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert parent.stdout is not None
    return parent, int(parent.stdout.readline())


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _cleanup(parent: subprocess.Popen[str], child: int) -> None:
    for pid in (child, parent.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    parent.wait(timeout=10)


def test_a_child_dies_with_its_sigkilled_parent() -> None:
    parent, child = _start_parent("""
        proc = processes.popen(["sleep", "600"])
        print(proc.pid, flush=True)
        proc.wait()
    """)
    try:
        assert psutil.Process(child).is_running()
        os.kill(parent.pid, signal.SIGKILL)  # what the OOM killer does: no clean-up runs
        parent.wait(timeout=10)
        wait_for(lambda: _gone(child), timeout=10, what="the orphaned child to die")
    finally:
        _cleanup(parent, child)


def test_a_child_has_a_process_group_of_its_own() -> None:
    proc = processes.popen(["sleep", "600"])
    try:
        assert os.getpgid(proc.pid) == proc.pid != os.getpgid(0)
    finally:
        processes.stop(proc)


def test_a_child_started_by_a_thread_that_waits_for_it_finishes_normally() -> None:
    """The way every adapter starts its child: the starting thread outlives the child."""
    parent, child = _start_parent("""
        result = []
        def work():
            pipe = processes.subprocess.PIPE
            proc = processes.popen(["sh", "-c", "read line; exit 7"], stdin=pipe)
            print(proc.pid, flush=True)
            proc.stdin.write(b"go\\n"); proc.stdin.close()
            result.append(proc.wait())
        thread = threading.Thread(target=work); thread.start(); thread.join()
        print(result[0], flush=True)
    """)
    try:
        assert parent.stdout is not None
        assert int(parent.stdout.readline()) == 7  # not -9: the thread was there
        assert parent.wait(timeout=10) == 0
    finally:
        _cleanup(parent, child)


def test_the_parent_death_signal_follows_the_starting_thread_not_the_process() -> None:
    """Why children must be started by a thread that waits for them: Linux sends the signal
    when the *thread* that forked the child ends, though the process lives on."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    parent, child = _start_parent("""
        def work():
            print(processes.popen(["sleep", "600"]).pid, flush=True)
        thread = threading.Thread(target=work); thread.start(); thread.join()
        time.sleep(600)
    """)
    try:
        wait_for(lambda: _gone(child), timeout=10, what="the child of an ended thread to die")
        assert parent.poll() is None
    finally:
        _cleanup(parent, child)


def test_a_child_whose_parent_died_before_the_signal_was_set_exits_at_once() -> None:
    """The race ``die_with_parent`` closes: it is given a parent pid that is not its parent."""
    code = "from viralshorts.integrations import processes; processes.die_with_parent(1)"
    code += "; import time; time.sleep(600)"
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, timeout=60, check=False)
    assert done.returncode == 1
