"""Killing any one process of a render, at any step, still ends in one READY video.

Real worker processes (``python worker.py render``) on the test PostgreSQL and Redis. Each test
SIGKILLs one process the way the OOM killer would (no clean-up runs in it), then checks that
the video ends READY exactly once (one set of stored files, the quota charged once), that no
process is left working on the test's media folder, and that no partial file is left.
Videos are short (a custom script of a few seconds) to keep the whole run quick.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
import time
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
from rq import Queue
from rq.job import JobStatus

from tests.factories import make_creator
from tests.jobs.worker_support import (
    ENCODER,
    PIPER,
    WorkerProcess,
    gone,
    partial_files,
    processes_using,
    read_video,
    wait_for,
)
from viralshorts.domain import quotas, videos
from viralshorts.domain.videos import VideoRequest
from viralshorts.domain.workspaces import personal_actor, personal_workspace_id
from viralshorts.integrations.redis_progress import progress_channel
from viralshorts.models import VideoStatus

pytestmark = pytest.mark.slow
RENDER_TIMEOUT = 240
FINAL = (VideoStatus.READY, VideoStatus.FAILED, VideoStatus.CANCELED)
SCRIPT = (
    "Octopuses have three hearts and blue blood. Two hearts pump blood to the gills. "
    "The third one pumps it to the rest of the body."
)


PR_SET_CHILD_SUBREAPER = 36


@pytest.fixture()
def subreaper():
    """Make this test process the reaper of orphaned descendants, so the exit status of a
    process whose parent was killed can be read (killed by the kernel, or finished its work)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("child subreapers are Linux only")
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    yield
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:  # orphans reparented to us and ended since
            pass


def _reaped(pid: int) -> int | None:
    """The wait status of orphan ``pid`` once it has ended and was reparented to us."""
    try:
        found, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not reparented to us yet
        return None
    return status if found else None


def _killed_by_the_kernel(pid: int, name: str) -> None:
    """Assert that orphan ``pid`` died of SIGKILL (its parent-death signal), not of old age."""
    status = wait_for(lambda: _reaped(pid), timeout=60, what=f"{name} to end")
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert killed, f"{name} ended with wait status {status}"


def _request(session, services, email: str):
    user_id, campaign_id = make_creator(session, email)
    request = VideoRequest(campaign_id=campaign_id, custom_script=SCRIPT, target_seconds=15)
    [video] = videos.request_videos(
        session, services, actor=personal_actor(session, user_id), request=request
    )
    return user_id, video


def _finished(video_id: int):
    video = read_video(video_id)
    return video if video.status in FINAL else None


class ReadyCount:
    """Counts the "ready" progress messages of one workspace (one per READY transition)."""

    def __init__(self, services, workspace_id: int) -> None:
        self._pubsub = services.progress.client.pubsub()
        self._pubsub.subscribe(progress_channel(workspace_id))
        self.messages: list[dict] = []

    def read(self) -> list[dict]:
        while (message := self._pubsub.get_message(timeout=0.05)) is not None:
            if message["type"] == "message":
                self.messages.append(json.loads(message["data"]))
        return self.messages

    def wait_for_step(self, step: str, timeout: float) -> None:
        """Return as soon as a message of ``step`` arrives (no polling delay)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self._pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "message":
                self.messages.append(json.loads(message["data"]))
                if self.messages[-1]["step"] == step:
                    return
        raise AssertionError(f"no {step} message within {timeout} s: {self.messages[-3:]}")

    def ready(self) -> int:
        return sum(m["status"] == "ready" for m in self.read())

    def close(self) -> None:
        self._pubsub.close()


def assert_ready_once(services, user_id: int, video_id: int, worker: WorkerProcess, count):
    """READY, one set of files, charged once, one "ready" message, nothing left behind."""
    done = wait_for(
        lambda: _finished(video_id), timeout=RENDER_TIMEOUT, what="READY", worker=worker
    )
    assert done.status == VideoStatus.READY, done.error
    media_root = Path(services.settings.media_root)
    folder = media_root / "videos" / str(user_id) / str(video_id)
    base = done.render_hash
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{base}.jpg",
        f"{base}.mp4",
        f"{base}.srt",
        f"{base}.wide.jpg",
    ]
    wait_for(lambda: count.ready() >= 1, timeout=15, what="the ready message", worker=worker)
    assert count.ready() == 1
    assert partial_files(media_root) == []
    assert processes_using(media_root, besides=[worker]) == []
    return done


def _scheduler_registered(connection) -> bool:
    """The scheduler process writes its hash once it runs (it took the lock before)."""
    return bool(connection.keys("rq:scheduler:*"))


def _ticking(worker: WorkerProcess) -> bool:
    """The tick process has connected to a server: it is past its start-up."""
    for process in worker.tree()[1:]:
        with contextlib.suppress(psutil.Error):
            if "spawn_main" in " ".join(process.cmdline()) and process.net_connections("tcp"):
                return True
    return False


def _charged_once(session, user_id: int) -> None:
    usage = quotas.usage_summary(session, workspace_id=personal_workspace_id(session, user_id))
    assert (usage.videos_used, usage.videos_reserved) == (1, 0)


@pytest.mark.parametrize(
    ("victim", "marker"),
    [
        ("horse", ENCODER),  # the OOM killer's usual pick: the work horse, while ffmpeg encodes
        ("child", ENCODER),  # ffmpeg alone
        ("horse", PIPER),  # the work horse while Piper speaks
        ("child", PIPER),  # the Piper child alone
    ],
    ids=["horse-during-encode", "ffmpeg", "horse-during-voice", "piper"],
)
def test_one_process_killed_alone_mid_render_still_gives_one_ready_video(
    subreaper, session, services, workers, victim: str, marker: str
) -> None:
    user_id, video = _request(session, services, f"{victim}-{len(marker)}@example.com")
    count = ReadyCount(services, personal_workspace_id(session, user_id))
    worker = workers()
    horse, child = wait_for(
        lambda: worker.horse_child(marker), timeout=180, what=f"a {marker} child", worker=worker
    )
    if marker == ENCODER:
        wait_for(
            lambda: list(Path(services.settings.media_root).rglob("*.partial.mp4")),
            timeout=60, what="ffmpeg to be writing", worker=worker,
        )  # fmt: skip
    (horse if victim == "horse" else child).kill()
    if victim == "horse":
        _killed_by_the_kernel(child.pid, f"the {marker} child")
    wait_for(lambda: gone(child), timeout=10, what="the child to die")
    done = assert_ready_once(services, user_id, video.id, worker, count)
    assert worker.proc.poll() is None  # the worker itself lived through it
    assert done.attempts == 1  # RQ retried the same job: no recovery was needed
    _charged_once(session, user_id)
    count.close()


def test_the_worker_killed_during_the_upload_leaves_nothing_and_the_video_is_ready_once(
    subreaper, session, services, workers
) -> None:
    user_id, video = _request(session, services, "upload@example.com")
    count = ReadyCount(services, personal_workspace_id(session, user_id))
    first = workers()
    horse, _ = wait_for(
        lambda: first.horse_child(ENCODER), timeout=180, what="the render", worker=first
    )
    count.wait_for_step("upload", timeout=120)
    os.kill(horse.pid, signal.SIGSTOP)  # hold it inside the upload
    assert read_video(video.id).status == VideoStatus.RUNNING
    tree = first.tree()
    os.kill(first.proc.pid, signal.SIGKILL)  # the worker alone: the horse must follow it
    first.proc.wait(timeout=10)
    _killed_by_the_kernel(horse.pid, "the work horse")
    wait_for(lambda: all(gone(p) for p in tree), timeout=10, what="the whole tree to die")
    second = workers()
    done = assert_ready_once(services, user_id, video.id, second, count)
    assert (done.attempts, done.job_id) == (2, f"render-{video.id}-2")
    _charged_once(session, user_id)
    count.close()


def test_a_sigkilled_worker_takes_its_processes_along_and_a_new_one_schedules_at_once(
    subreaper, services, workers
) -> None:
    """Horse, scheduler and companion die with the worker; its scheduler lock does not
    outlive it, so a worker started straight after promotes a retry with back-off."""
    first = workers()
    connection = services.queue.connection
    wait_for(
        lambda: _scheduler_registered(connection) and _ticking(first),
        timeout=60, what="the scheduler and the tick process to be at work", worker=first,
    )  # fmt: skip
    tree = first.tree()
    # The scheduler and the tick process; multiprocessing's resource tracker ends by itself
    # once nobody holds its pipe.
    children = {
        p.pid: " ".join(p.cmdline())[-60:]
        for p in tree[1:]
        if "resource_tracker" not in " ".join(p.cmdline())
    }
    assert len(children) == 2, tree
    os.kill(first.proc.pid, signal.SIGKILL)
    first.proc.wait(timeout=10)
    for pid, name in children.items():
        _killed_by_the_kernel(pid, name)
    wait_for(lambda: all(gone(p) for p in tree), timeout=10, what="the worker's children to die")
    assert processes_using(Path(services.settings.media_root)) == []
    second = workers()
    queue = Queue("render", connection=connection)
    job = queue.enqueue_in(timedelta(seconds=1), "viralshorts.jobs.tasks.render_video", 10**9)
    wait_for(
        lambda: job.get_status(refresh=True) == JobStatus.FINISHED,
        timeout=45, what="the scheduled job to be promoted and run", worker=second,
    )  # fmt: skip
    assert job.return_value() == "missing"
    assert "event=worker.scheduler_lock_released" in second.log()
    assert psutil.Process(second.proc.pid).is_running()
