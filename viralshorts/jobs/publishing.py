"""RQ entry point of queue ``publish``: one publish attempt of a post (``domain.publishing``).

No RQ retries: the domain backs off, waits out rate limits and polls through the post's
``next_attempt_at``, and the dispatcher enqueues the next try under a new job id.
"""

from __future__ import annotations

from rq import get_current_job

from viralshorts.domain import publishing
from viralshorts.integrations.services import get_services

__all__ = ["publish_post"]


def publish_post(post_id: int) -> str:
    """Publish one post (an RQ job); returns the outcome (see ``domain.publishing``)."""
    job = get_current_job()
    outcome = publishing.publish_post(get_services(), post_id=post_id, job_id=job.id if job else "")
    if job is not None:
        job.meta["outcome"] = outcome  # read by the worker's per-job log line; not saved
    return outcome
