"""Every status change of a video, in one place.

QUEUED (waiting, ``job_id == ""``) → QUEUED (claimed: ``job_id`` set, on the render queue) →
RUNNING → READY | FAILED | CANCELED; a finished video goes back to QUEUED (retry, re-render)
with a new quota reservation. Every change is one conditional UPDATE, guarded by the status it
starts from and, for a render's own writes, by the job id that owns the video, so two actors
(a worker, the dispatcher, the creator, crash recovery) can never both make it. The caller owns
the transaction: these functions never commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col

from viralshorts.models import Video, VideoStatus

ACTIVE = (VideoStatus.QUEUED, VideoStatus.RUNNING)
FINISHED = (VideoStatus.READY, VideoStatus.FAILED, VideoStatus.CANCELED)
WAITING_MESSAGE = "Waiting for a free slot"


def delete_finished(session: Session, *, video_id: int) -> bool:
    """Delete the video's row unless it is queued or rendering; True when it was deleted."""
    result = session.exec(
        sa.delete(Video).where(col(Video.id) == video_id, col(Video.status).in_(FINISHED))
    )
    return result.rowcount == 1
