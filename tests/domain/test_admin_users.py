"""Site admins' user tools on real PostgreSQL (and Redis for the session cache): search,
detail, disable/enable ending every session at once, site roles, the admin who may not demote
themself, the site that never loses its last admin, refusals and bad arguments."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from tests.factories import new_user
from viralshorts import db as db_module
from viralshorts.domain import admin_users as au
from viralshorts.domain import session_checks
from viralshorts.domain.accounts import create_login_session, user_for_token
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.errors import NotFoundError, PermissionDeniedError, ValidationError
from viralshorts.integrations.redis_sessions import RedisSessionCache
from viralshorts.models import AuditLog, LoginSession, Membership, Role, User, Workspace
from viralshorts.settings import get_settings


@pytest.fixture()
def cache(use_redis, monkeypatch) -> Iterator[RedisSessionCache]:
    # Entries outlive the test, so "ended at once" cannot pass by an entry expiring.
    monkeypatch.setattr(session_checks, "CACHE_MS", 600_000)
    yield RedisSessionCache(get_settings())


def _admin(session: Session, email: str = "admin@example.com") -> int:
    user = new_user(session, email, role=Role.ADMIN)
    assert user.id is not None
    return user.id


def _creator(session: Session, email: str = "creator@example.com") -> int:
    user = new_user(session, email)
    assert user.id is not None
    return user.id


def _browser(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    assert user is not None
    token = create_login_session(session, user=user, user_agent="pytest", ip="127.0.0.1")
    session.commit()
    return token


def _check(cache: RedisSessionCache, token: str) -> str | None:
    """The session check every event makes: the cache, else the database."""

    def load(raw: str) -> tuple[int, str] | None:
        with Session(db_module.get_engine()) as db:
            user = user_for_token(db, raw)
            return None if user is None else (user.id or 0, f"{user.id}|{user.is_admin}")

    return session_checks.checked(cache, token, load)


def test_search_finds_users_by_email_or_workspace_name(session: Session) -> None:
    admin_id = _admin(session)
    ada = _creator(session, "ada@example.com")
    bob = _creator(session, "bob_smith@example.com")
    studio = Workspace(name="Rocket Studio")
    session.add(studio)
    session.flush()
    session.add(Membership(workspace_id=studio.id, user_id=bob, role="editor"))
    session.commit()

    def emails(query: str) -> list[str]:
        found, _ = au.search_users(session, actor_user_id=admin_id, query=query)
        return [u.email for u in found]

    assert emails("ADA@") == ["ada@example.com"]
    assert emails("rocket") == ["bob_smith@example.com"]
    assert emails("b_s") == ["bob_smith@example.com"]
    assert emails("_") == ["bob_smith@example.com"]  # a literal underscore, not any character
    assert emails("") == ["bob_smith@example.com", "ada@example.com", "admin@example.com"]
    assert emails("nobody") == []
    assert ada


def test_search_pages(session: Session) -> None:
    admin_id = _admin(session)
    for n in range(au.PAGE_SIZE):
        _creator(session, f"user{n}@example.com")
    first, more = au.search_users(session, actor_user_id=admin_id)
    second, more_after = au.search_users(session, actor_user_id=admin_id, page=1)
    assert (len(first), more, len(second), more_after) == (au.PAGE_SIZE, True, 1, False)
    assert second[0].email == "admin@example.com"


def test_a_users_detail_lists_workspaces_roles_and_sessions(session: Session) -> None:
    admin_id = _admin(session)
    creator = _creator(session)
    studio = Workspace(name="Studio")
    session.add(studio)
    session.flush()
    session.add(Membership(workspace_id=studio.id, user_id=creator, role="viewer"))
    session.commit()
    _browser(session, creator)
    detail = au.user_detail(session, actor_user_id=admin_id, user_id=creator)
    assert detail.user.email == "creator@example.com" and detail.open_sessions == 1
    assert [(m.workspace_name, m.personal, m.role) for m in detail.memberships] == [
        ("creator's workspace", True, "owner"),
        ("Studio", False, "viewer"),
    ]
    with pytest.raises(NotFoundError):
        au.user_detail(session, actor_user_id=admin_id, user_id=999_999)


def test_disabling_ends_every_session_at_once_and_is_audited(session: Session, cache) -> None:
    admin_id = _admin(session)
    creator = _creator(session)
    tokens = [_browser(session, creator), _browser(session, creator)]
    assert all(_check(cache, t) == f"{creator}|False" for t in tokens)  # now cached
    au.set_disabled(session, actor_user_id=admin_id, user_id=creator, disabled=True,
                    reason="Spam uploads", sessions=cache)  # fmt: skip
    assert [_check(cache, t) for t in tokens] == [None, None]
    assert session.exec(select(LoginSession).where(LoginSession.user_id == creator)).all() == []
    row = session.exec(select(AuditLog).where(AuditLog.action == "admin.user_disabled")).one()
    assert (row.user_id, row.target_type, row.target_id) == (admin_id, "user", str(creator))
    assert row.details == {"before": False, "after": True, "sessions_ended": 2,
                           "reason": "Spam uploads"}  # fmt: skip

    au.set_disabled(session, actor_user_id=admin_id, user_id=creator, disabled=False,
                    reason="Appeal accepted", sessions=cache)  # fmt: skip
    session.expire_all()
    assert session.get(User, creator).disabled is False
    assert user_for_token(session, _browser(session, creator)) is not None


def test_a_site_role_change_is_seen_by_the_next_check(session: Session, cache) -> None:
    admin_id = _admin(session)
    creator = _creator(session)
    token = _browser(session, creator)
    assert _check(cache, token) == f"{creator}|False"
    au.set_site_role(session, actor_user_id=admin_id, user_id=creator, role="admin",
                     reason="New support lead", sessions=cache)  # fmt: skip
    assert _check(cache, token) == f"{creator}|True"
    au.set_site_role(session, actor_user_id=creator, user_id=admin_id, role="creator",
                     reason="Handing over", sessions=cache)  # fmt: skip
    session.expire_all()
    assert session.get(User, admin_id).role == Role.CREATOR
    changes = session.exec(
        select(AuditLog).where(AuditLog.action == "admin.site_role_changed").order_by(AuditLog.id)
    ).all()
    assert [(c.user_id, c.target_id, c.details["after"]) for c in changes] == [
        (admin_id, str(creator), "admin"),
        (creator, str(admin_id), "creator"),
    ]


def test_an_admin_cannot_disable_or_demote_themself(session: Session) -> None:
    admin_id = _admin(session)
    with pytest.raises(PermissionDeniedError) as refused:
        au.set_disabled(session, actor_user_id=admin_id, user_id=admin_id, disabled=True,
                        reason="oops")  # fmt: skip
    assert refused.value.code == "admin_self"
    session.rollback()
    with pytest.raises(PermissionDeniedError):
        au.set_site_role(session, actor_user_id=admin_id, user_id=admin_id, role="creator",
                         reason="oops")  # fmt: skip
    session.rollback()
    session.expire_all()
    assert session.get(User, admin_id).is_admin and not session.get(User, admin_id).disabled


def test_two_admins_demoting_each_other_at_once_leave_one_admin(use_database) -> None:
    with Session(db_module.get_engine()) as setup:
        first, second = _admin(setup, "a@example.com"), _admin(setup, "b@example.com")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor: int, target: int) -> None:
        with Session(db_module.get_engine()) as own:
            start.wait()
            try:
                au.set_site_role(own, actor_user_id=actor, user_id=target, role="creator",
                                 reason="race")  # fmt: skip
                outcomes.append("demoted")
            except PermissionDeniedError as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=demote, args=p) for p in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["admin_only", "demoted"]
    with Session(db_module.get_engine()) as check:
        admins = check.exec(select(User).where(User.role == Role.ADMIN)).all()
    assert len(admins) == 1


def test_a_creator_is_refused_every_user_tool(session: Session) -> None:
    creator = _creator(session)
    other = _creator(session, "other@example.com")
    calls = [
        lambda: au.search_users(session, actor_user_id=creator),
        lambda: au.user_detail(session, actor_user_id=creator, user_id=other),
        lambda: au.set_disabled(session, actor_user_id=creator, user_id=other, disabled=True,
                                reason="x"),
        lambda: au.set_site_role(session, actor_user_id=creator, user_id=creator, role="admin",
                                 reason="x"),
    ]  # fmt: skip
    for call in calls:
        with pytest.raises(PermissionDeniedError) as refused:
            call()
        assert refused.value.code == "admin_only"
        session.rollback()
    session.expire_all()
    assert session.get(User, creator).role == Role.CREATOR
    assert session.get(User, other).disabled is False


def test_bad_arguments_get_field_messages(session: Session) -> None:
    admin_id = _admin(session)
    creator = _creator(session)
    cases = [
        (lambda: au.search_users(session, actor_user_id=admin_id, query="x" * 201), "query"),
        (lambda: au.set_site_role(session, actor_user_id=admin_id, user_id=creator,
                                  role="owner", reason="x"), "role"),
        (lambda: au.set_site_role(session, actor_user_id=admin_id, user_id=creator,
                                  role="admin", reason="  "), "reason"),
        (lambda: au.set_disabled(session, actor_user_id=admin_id, user_id=creator,
                                 disabled=True, reason="x" * 501), "reason"),
    ]  # fmt: skip
    for call, field in cases:
        with pytest.raises(ValidationError) as refused:
            call()
        assert set(refused.value.field_errors) == {field}
        session.rollback()
    with pytest.raises(NotFoundError):
        au.set_disabled(session, actor_user_id=admin_id, user_id=999_999, disabled=True,
                        reason="x")  # fmt: skip
    session.rollback()
    session.expire_all()
    assert session.get(User, creator).role == Role.CREATOR
    assert personal_workspace_id(session, creator)
