"""One render attempt inside a worker: start, inputs, pipeline, upload, READY.

Everything is reloaded from the database by id. Every write goes through ``video_lifecycle``
guarded by the job id that owns the video (``Video.job_id``), so a job that lost its video
(cancelled, or re-enqueued after its worker died) can neither run nor finish it. Progress goes
to the database (throttled) and to the user's progress channel; a heartbeat thread touches
``heartbeat_at`` so crash recovery can tell a live render from a dead one. The queue's glue
(``jobs/tasks.py``) calls ``run`` and, after a failed attempt, ``attempt_failed``.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import select

from viralshorts.db import session_scope
from viralshorts.domain import render_queue, video_lifecycle
from viralshorts.domain.rendering import pipeline
from viralshorts.domain.rendering.render_inputs import build_spec
from viralshorts.errors import CancelledError, ServiceUnavailableError
from viralshorts.integrations.ports import Services
from viralshorts.models import Campaign, RenderStep, Video, VideoStatus, utcnow

DB_WRITE_INTERVAL = 0.5  # seconds: at most two progress writes per second
CANCEL_CHECK_INTERVAL = 1.0
OUTPUT_TYPES = {"mp4": "video/mp4", "jpg": "image/jpeg", "srt": "application/x-subrip"}


@dataclass(frozen=True)
class Attempt:
    """Which video this job renders, and the job id that must still own it."""

    video_id: int
    user_id: int  # who made the video (its files are stored under this id)
    workspace_id: int  # whose members watch its progress and share its render slots
    job_id: str
    services: Services

    def record_progress(self, **values: Any) -> bool:
        """Write progress columns if this attempt still owns the video and it is active."""
        with session_scope() as session:
            return video_lifecycle.record_progress(
                session, video_id=self.video_id, job_id=self.job_id, **values
            )

    def publish(self, status: str, step: str, percent: int, message: str) -> None:
        """Tell the browsers of the workspace's members how this video is doing."""
        payload = {"video_id": self.video_id, "status": status, "step": step}
        payload |= {"percent": percent, "message": message}
        self.services.progress.publish(self.workspace_id, payload)


def work_dir_for(services: Services, job_id: str) -> Path:
    """Scratch space of one job (kept between queue retries so the pipeline's cache resumes)."""
    return Path(services.settings.media_root) / ".work" / job_id


def remove_work_dirs(services: Services, video_id: int, keep: str = "") -> None:
    """Delete the scratch space of the video's attempts, except ``keep``."""
    for path in (Path(services.settings.media_root) / ".work").glob(f"render-{video_id}-*"):
        if path.name != keep:
            shutil.rmtree(path, ignore_errors=True)


class ProgressReporter:
    """``on_progress`` for the pipeline: publishes every report, writes the row at most 2/s."""

    def __init__(self, attempt: Attempt) -> None:
        self._attempt = attempt
        self._last_write = 0.0
        self._last_step = ""
        self._last_report: tuple[str, int, str] = ("", -1, "")

    def __call__(self, step: str, percent: int, message: str) -> None:
        percent = max(0, min(int(percent), 99))
        if (step, percent, message) == self._last_report:
            return
        self._last_report = (step, percent, message)
        self._attempt.publish(VideoStatus.RUNNING, step, percent, message)
        now = time.monotonic()
        if step == self._last_step and now - self._last_write < DB_WRITE_INTERVAL:
            return
        self._last_write, self._last_step = now, step
        self._attempt.record_progress(
            step=step, progress=percent, status_message=message[:300], heartbeat_at=utcnow()
        )


class CancelCheck:
    """``is_cancelled`` for the pipeline: reads ``cancel_requested`` at most once a second."""

    def __init__(self, attempt: Attempt) -> None:
        self._attempt = attempt
        self._checked_at = 0.0
        self._cancelled = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._checked_at >= CANCEL_CHECK_INTERVAL:
            self._checked_at = now
            self._cancelled = _cancel_requested(self._attempt)
        return self._cancelled


def _cancel_requested(attempt: Attempt) -> bool:
    """True when the creator asked to stop, or the video is no longer this job's."""
    with session_scope() as session:
        query = select(Video.cancel_requested).where(
            Video.id == attempt.video_id, Video.job_id == attempt.job_id
        )
        return session.exec(query).first() is not False


class Heartbeat:
    """A daemon thread that touches ``heartbeat_at`` while the render runs."""

    def __init__(self, attempt: Attempt) -> None:
        self._attempt = attempt
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="render-heartbeat", daemon=True)

    def _run(self) -> None:
        interval = self._attempt.services.settings.render_heartbeat_seconds
        while not self._stop.wait(interval):
            self._attempt.record_progress(heartbeat_at=utcnow())

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def start(video_id: int, job_id: str) -> tuple[Video, Campaign] | str:
    """Mark the video RUNNING for ``job_id``; returns it and its campaign, or why not
    (``missing``: no such video or campaign; ``skipped``: not this job's to run)."""
    with session_scope() as session:
        video = session.get(Video, video_id)
        if video is None:
            return "missing"
        if not video_lifecycle.start_attempt(session, video=video, job_id=job_id):
            return "skipped"
        session.commit()
        session.refresh(video)
        campaign = session.get(Campaign, video.campaign_id)
        return (video, campaign) if campaign else "missing"


def upload_outputs(attempt: Attempt, output: pipeline.RenderOutput) -> dict[str, str]:
    """Store the mp4, thumbnail and captions under deterministic keys; returns the keys."""
    attempt.publish(VideoStatus.RUNNING, RenderStep.UPLOAD, 97, "Saving your video")
    attempt.record_progress(step=RenderStep.UPLOAD, progress=97, status_message="Saving your video")
    base = f"videos/{attempt.user_id}/{attempt.video_id}/{output.render_hash}"
    sources = {
        "mp4": output.video_path,
        "jpg": output.thumbnail_path,
        "srt": output.captions_srt_path,
    }
    if output.wide_thumbnail_path:
        sources["wide.jpg"] = output.wide_thumbnail_path
    keys = {ext: f"{base}.{ext}" for ext in sources}
    for ext, source in sources.items():
        content_type = OUTPUT_TYPES[ext.rsplit(".", 1)[-1]]
        attempt.services.storage.put_file(keys[ext], Path(source), content_type)
    return keys


def ready_values(output: pipeline.RenderOutput, keys: dict[str, str]) -> dict[str, Any]:
    """The columns a finished render sets on its video."""
    script = output.script
    return {
        "step": RenderStep.DONE,
        "progress": 100,
        "status_message": "Ready",
        "error": "",
        "script": script.to_dict(),
        "title": script.title[:200],
        "description": script.description,
        "hashtags": list(script.hashtags),
        "duration_seconds": float(output.duration),
        "video_key": keys["mp4"],
        "thumbnail_key": keys["jpg"],
        "wide_thumbnail_key": keys.get("wide.jpg", ""),
        "captions_key": keys["srt"],
        "render_hash": output.render_hash,
        "size_bytes": Path(output.video_path).stat().st_size,
    }


def delete_replaced_files(services: Services, old: Video, keys: dict[str, str]) -> None:
    """Remove the files of an earlier render of this video that the new one replaced."""
    for key in (old.video_key, old.thumbnail_key, old.wide_thumbnail_key, old.captions_key):
        if key and key not in keys.values():
            services.storage.delete(key)


def run(services: Services, *, video_id: int, job_id: str) -> str:
    """Run one attempt of the video's render if ``job_id`` owns it.

    Returns:
        The outcome: ``ready``, ``canceled``, ``skipped`` (not this job's to run) or ``missing``.

    Raises whatever the pipeline raises other than CancelledError (the queue's glue decides
    about retries and calls ``attempt_failed``).
    """
    started = start(video_id, job_id)
    if isinstance(started, str):
        return started
    video, campaign = started
    attempt = Attempt(video_id, video.user_id, video.workspace_id, video.job_id, services)
    return run_render(attempt, video, campaign)


def run_render(attempt: Attempt, video: Video, campaign: Campaign) -> str:
    """Render, upload and finish the started video; returns ``ready`` or ``canceled``."""
    work_dir = work_dir_for(attempt.services, attempt.job_id)
    remove_work_dirs(attempt.services, attempt.video_id, keep=work_dir.name)
    try:
        with Heartbeat(attempt):
            spec = build_spec(attempt.services, video, campaign, work_dir)
            output = pipeline.render(
                spec,
                attempt.services,
                work_dir=work_dir,
                on_progress=ProgressReporter(attempt),
                is_cancelled=CancelCheck(attempt),
            )
            keys = upload_outputs(attempt, output)
    except CancelledError:
        finish(attempt, VideoStatus.CANCELED, "Canceled")
        return "canceled"
    finish_ready(attempt, video, output, keys)
    return "ready"


def finish_ready(
    attempt: Attempt, video: Video, output: pipeline.RenderOutput, keys: dict[str, str]
) -> None:
    """Mark READY exactly once (and charge the quota), then promote the user's next video."""
    with session_scope() as session:
        done = video_lifecycle.complete(
            session,
            video_id=attempt.video_id,
            job_id=attempt.job_id,
            values=ready_values(output, keys),
            services=attempt.services,
        )
    if done:
        delete_replaced_files(attempt.services, video, keys)
        attempt.publish(VideoStatus.READY, RenderStep.DONE, 100, "Ready")
    remove_work_dirs(attempt.services, attempt.video_id)
    _promote(attempt)


def finish(attempt: Attempt, status: VideoStatus, message: str) -> None:
    """End the video as FAILED or CANCELED (releasing its quota) and promote the next one."""
    with session_scope() as session:
        ended = video_lifecycle.end(
            session,
            video_id=attempt.video_id,
            job_id=attempt.job_id,
            status=status,
            message=message,
            services=attempt.services,
        )
    if ended:
        attempt.publish(status, RenderStep.DONE, 0, message)
    remove_work_dirs(attempt.services, attempt.video_id)
    _promote(attempt)


def attempt_failed(
    services: Services, *, video_id: int, user_id: int, job_id: str, reason: str, final: bool
) -> None:
    """After a failed attempt: wait for the queue's next try, or (``final``) end FAILED."""
    owner, workspace_id = _owner(video_id)
    attempt = Attempt(video_id, user_id or owner, workspace_id, job_id, services)
    if final:
        finish(attempt, VideoStatus.FAILED, reason)
        return
    message = f"Attempt failed ({reason[:200]}); trying again shortly."
    with session_scope() as session:
        retrying = video_lifecycle.retry_later(
            session, video_id=video_id, job_id=job_id, message=message
        )
    if retrying:
        attempt.publish(VideoStatus.QUEUED, RenderStep.QUEUED, 0, message)


def _owner(video_id: int) -> tuple[int, int]:
    """The video's creator and workspace (zeros when it was deleted meanwhile)."""
    with session_scope() as session:
        video = session.get(Video, video_id)
        return (video.user_id, video.workspace_id) if video else (0, 0)


def _promote(attempt: Attempt) -> None:
    # The video's own end is committed; with the queue unreachable the tick promotes later.
    with session_scope() as session, contextlib.suppress(ServiceUnavailableError):
        render_queue.promote_waiting(session, attempt.services, workspace_id=attempt.workspace_id)
