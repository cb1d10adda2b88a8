"""Child processes of the adapters (ffmpeg, the Piper voice): stopped the same way everywhere."""

from __future__ import annotations

import contextlib
import subprocess
from typing import Any


def stop(proc: subprocess.Popen[Any]) -> None:
    """Kill ``proc`` if it still runs, reap it, and close the pipes we hold to it.

    Called in ``finally``: an RQ job timeout or a cancel does not kill grandchildren, so nobody
    else would. A pipe another thread already closed (a stdin feeder) is fine.
    """
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream:
            with contextlib.suppress(OSError):
                stream.close()
