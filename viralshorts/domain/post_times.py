"""Times of posts in the workspace's timezone, and the workspace's publishing settings."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlmodel import Session

from viralshorts.domain.workspaces import Action, Actor, require
from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.models import Workspace

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"  # what an <input type="datetime-local"> sends


def zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``, UTC when unknown (a zone removed from the system)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def to_utc(local_text: str, timezone: str) -> datetime:
    """A wall-clock time in ``timezone`` as UTC.

    Raises:
        ValidationError: ``when`` is not a time, or does not exist there (the hour skipped
            when clocks go forward). A time that happens twice (clocks go back) is the first.
    """
    try:
        naive = datetime.strptime(local_text.strip()[:16], LOCAL_FORMAT)
    except ValueError as exc:
        raise ValidationError(
            {"when": "Pick a date and time."}, field_codes={"when": "invalid"}
        ) from exc
    tz = zone(timezone)
    local = naive.replace(tzinfo=tz, fold=0)
    in_utc = local.astimezone(UTC)
    if in_utc.astimezone(tz).replace(tzinfo=None) != naive:
        raise ValidationError(
            {
                "when": f"{local_text} does not exist in {tz.key} (the clocks skip it). "
                "Pick another time."
            },
            field_codes={"when": "nonexistent_time"},
        )
    return in_utc


def local_text(moment: datetime | None, timezone: str) -> str:
    """``moment`` as the ``datetime-local`` value of ``timezone`` ("" for None)."""
    if moment is None:
        return ""
    return moment.astimezone(zone(timezone)).strftime(LOCAL_FORMAT)


def workspace_of(session: Session, actor: Actor) -> Workspace:
    workspace = session.get(Workspace, actor.workspace_id)
    if workspace is None:
        raise NotFoundError("Workspace not found.", code="workspace_not_found")
    return workspace


def set_publishing_settings(
    session: Session, *, actor: Actor, timezone: str, require_approval: bool
) -> Workspace:
    """Change the workspace's timezone and whether editors' posts wait for approval (commits).

    Raises:
        PermissionDeniedError: not an owner or admin.
        ValidationError: ``timezone`` is not an IANA zone name.
    """
    require(actor, Action.MANAGE_SETTINGS)
    name = timezone.strip()
    if name not in available_timezones():
        raise ValidationError(
            {"timezone": "Choose a timezone from the list (for example Europe/Paris)."}
        )
    workspace = workspace_of(session, actor)
    workspace.timezone = name
    workspace.require_approval = bool(require_approval)
    session.add(workspace)
    session.commit()
    return workspace
