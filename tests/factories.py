"""Rows that many tests need, made the same way everywhere."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from viralshorts.domain.workspaces import create_personal_workspace, personal_workspace_id
from viralshorts.models import Campaign, User


def new_user(session: Session, email: str, **fields: Any) -> User:
    """A user with their personal workspace (as sign-up makes it), committed."""
    user = User(email=email, **fields)
    session.add(user)
    create_personal_workspace(session, user)
    session.commit()
    return user


def new_campaign(session: Session, user_id: int, **fields: Any) -> Campaign:
    """A campaign in the user's personal workspace, committed."""
    values: dict[str, Any] = {"name": "Space", "niche": "astronomy facts", **fields}
    campaign = Campaign(
        workspace_id=personal_workspace_id(session, user_id), user_id=user_id, **values
    )
    session.add(campaign)
    session.commit()
    return campaign


def make_creator(session: Session, email: str) -> tuple[int, int]:
    """A user with one campaign; returns their ids."""
    user = new_user(session, email)
    assert user.id is not None
    campaign = new_campaign(session, user.id)
    return user.id, campaign.id
