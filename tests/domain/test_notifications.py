"""Notifications on real PostgreSQL: who gets them, email and its per-kind opt-out, the bell."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from tests.factories import RecordingMailer, new_campaign, new_user, services_with
from viralshorts.domain import notifications as nt
from viralshorts.domain import video_lifecycle
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.errors import ValidationError
from viralshorts.integrations.ports import Services
from viralshorts.models import Membership, Notification, Video, VideoStatus, WorkspaceRole
from viralshorts.settings import get_settings


@pytest.fixture()
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture()
def services(mailer) -> Services:
    return services_with(email=mailer)


@pytest.fixture()
def team(session: Session) -> dict[str, int]:
    """A workspace of Olga (owner) with an admin, an editor and a viewer; ids by role name."""
    owner = new_user(session, "olga@example.com")
    workspace_id = personal_workspace_id(session, owner.id)
    ids = {"workspace": workspace_id, "owner": owner.id}
    for role in (WorkspaceRole.ADMIN, WorkspaceRole.EDITOR, WorkspaceRole.VIEWER):
        user = new_user(session, f"{role.value}@example.com")
        session.add(Membership(workspace_id=workspace_id, user_id=user.id, role=role))
        ids[role.value] = user.id
    session.commit()
    return ids


def _recipients(session: Session) -> list[int]:
    rows = session.exec(select(Notification.user_id).order_by(Notification.user_id)).all()
    return list(rows)


def test_every_member_is_told_with_a_link_by_bell_and_email(session, services, mailer, team):
    nt.notify(
        session,
        services,
        workspace_id=team["workspace"],
        kind="video_ready",
        title="“Moon facts” is ready",
        body="Your video finished rendering.",
        link="/app/videos/7",
    )
    session.commit()
    members = sorted(team[r] for r in ("owner", "admin", "editor", "viewer"))
    assert _recipients(session) == members
    assert len(mailer.sent) == 4
    message = mailer.sent[0]
    assert message.subject == "“Moon facts” is ready"
    assert f"{get_settings().public_base_url}/app/videos/7" in message.body
    assert "/app/profile" in message.body


def test_approval_requests_go_to_owners_and_admins_and_user_ids_to_members_only(
    session, services, team
):
    outsider = new_user(session, "out@example.com")
    nt.notify(
        session, services, workspace_id=team["workspace"], kind="approval_requested", title="t"
    )
    assert _recipients(session) == sorted([team["owner"], team["admin"]])
    for row in session.exec(select(Notification)).all():
        session.delete(row)
    nt.notify(
        session,
        services,
        workspace_id=team["workspace"],
        kind="post_failed",
        title="t",
        user_ids=[team["editor"], outsider.id, team["editor"]],
    )
    assert _recipients(session) == [team["editor"]]


def test_a_muted_kind_is_not_emailed_but_still_in_the_bell(session, services, mailer, team):
    muted = nt.set_email_wanted(session, user_id=team["viewer"], kind="video_failed", wanted=False)
    assert muted == {"video_failed"}
    nt.notify(session, services, workspace_id=team["workspace"], kind="video_failed", title="x")
    nt.notify(session, services, workspace_id=team["workspace"], kind="video_ready", title="y")
    session.commit()
    emailed = [(m.to, m.subject) for m in mailer.sent]
    assert ("viewer@example.com", "x") not in emailed
    assert ("viewer@example.com", "y") in emailed
    assert ("editor@example.com", "x") in emailed
    count = nt.unread_count(session, user_id=team["viewer"], workspace_id=team["workspace"])
    assert count == 2
    nt.set_email_wanted(session, user_id=team["viewer"], kind="video_failed", wanted=True)
    assert nt.email_muted_kinds(session, team["viewer"]) == set()
    with pytest.raises(ValidationError):
        nt.set_email_wanted(session, user_id=team["viewer"], kind="spam", wanted=False)


def test_reading_and_marking_read_touch_only_your_own(session, services, team):
    workspace = team["workspace"]
    for title in ("first", "second"):
        nt.notify(session, services, workspace_id=workspace, kind="post_published", title=title)
    session.commit()
    items = nt.recent(session, user_id=team["editor"], workspace_id=workspace)
    assert [i.title for i in items] == ["second", "first"]
    others = nt.recent(session, user_id=team["viewer"], workspace_id=workspace)
    # Someone else's id changes nothing.
    assert (
        nt.mark_read(
            session, user_id=team["editor"], workspace_id=workspace, notification_id=others[0].id
        )
        == 0
    )
    assert (
        nt.mark_read(
            session, user_id=team["editor"], workspace_id=workspace, notification_id=items[0].id
        )
        == 1
    )
    assert nt.unread_count(session, user_id=team["editor"], workspace_id=workspace) == 1
    assert nt.unread_count(session, user_id=team["viewer"], workspace_id=workspace) == 2
    assert nt.mark_read(session, user_id=team["editor"], workspace_id=workspace) == 1
    assert nt.unread_count(session, user_id=team["editor"], workspace_id=workspace) == 0


def test_without_an_email_sender_only_the_bell_is_written(session, team):
    nt.notify(session, None, workspace_id=team["workspace"], kind="video_ready", title="z")
    assert len(_recipients(session)) == 4


def test_a_video_ending_ready_or_failed_tells_the_workspace_once(session, services, mailer, team):
    campaign = new_campaign(session, team["owner"])
    videos = []
    for topic in ("Moon facts", "Mars facts"):
        video = Video(
            workspace_id=team["workspace"],
            user_id=team["owner"],
            campaign_id=campaign.id,
            topic=topic,
            status=VideoStatus.RUNNING,
            job_id=f"render-{topic}",
        )
        session.add(video)
        videos.append(video)
    session.commit()
    ready, failed = videos
    assert video_lifecycle.complete(
        session, video_id=ready.id, job_id=ready.job_id, values={}, services=services
    )
    assert video_lifecycle.end(
        session,
        video_id=failed.id,
        job_id=failed.job_id,
        status=VideoStatus.FAILED,
        message="ffmpeg exited with 1",
        services=services,
    )
    # A second end of the same render changes nothing and tells no one again.
    assert not video_lifecycle.complete(
        session, video_id=ready.id, job_id=ready.job_id, values={}, services=services
    )
    session.commit()
    rows = session.exec(
        select(Notification).where(Notification.user_id == team["viewer"]).order_by(Notification.id)
    ).all()
    assert [(r.kind, r.title, r.link) for r in rows] == [
        ("video_ready", "“Moon facts” is ready", f"/app/videos/{ready.id}"),
        ("video_failed", "“Mars facts” failed", f"/app/videos/{failed.id}"),
    ]
    assert rows[1].body == "ffmpeg exited with 1"
    assert len(mailer.sent) == 8
