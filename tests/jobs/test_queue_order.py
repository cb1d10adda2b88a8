"""The order a default worker takes its queues in: RQ always takes the first non-empty queue it
listens on, so a post that is due goes out before renders that wait (a render takes minutes;
a post was scheduled for a time)."""

from __future__ import annotations

import redis
from rq import Queue, SimpleWorker

import worker


def _done() -> str:
    return "done"


def test_a_default_worker_uploads_a_due_post_before_the_renders_waiting(
    use_redis: redis.Redis,
) -> None:
    render = Queue("render", connection=use_redis)
    publish = Queue("publish", connection=use_redis)
    waiting_renders = [render.enqueue(_done) for _ in range(2)]
    post = publish.enqueue(_done)
    queues = [Queue(name, connection=use_redis) for name in worker.DEFAULT_QUEUES]
    SimpleWorker(queues, connection=use_redis).work(burst=True, max_jobs=1)
    assert post.get_status() == "finished"
    assert [job.get_status() for job in waiting_renders] == ["queued", "queued"]
