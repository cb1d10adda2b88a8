"""Rows that many tests need, made the same way everywhere."""

from __future__ import annotations

from sqlmodel import Session

from viralshorts.models import Campaign, User


def make_creator(session: Session, email: str) -> tuple[int, int]:
    """A user with one campaign; returns their ids."""
    user = User(email=email)
    session.add(user)
    session.commit()
    campaign = Campaign(user_id=user.id, name="Space", niche="astronomy facts")
    session.add(campaign)
    session.commit()
    return user.id, campaign.id
