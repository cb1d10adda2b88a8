"""The analytics CSV route: only a live session, only its own workspace's rows, viewers too."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

from tests.factories import new_published_post, new_user
from viralshorts.domain.accounts import SESSION_COOKIE, _sha256, create_login_session
from viralshorts.domain.workspaces import personal_workspace_id
from viralshorts.models import (
    LoginSession,
    Membership,
    User,
    WorkspaceRole,
)
from viralshorts.web.analytics_export import EXPORT_PATH
from viralshorts.web.routes import build_api

RANGE = {"start": "2026-12-01", "end": "2026-12-02"}


def _posted(session: Session, user_id: int, title: str, views: int) -> int:
    """A published Instagram post in the user's personal workspace with one day's numbers;
    returns that workspace's id."""
    new_published_post(session, user_id, title, views, day=date(2026, 12, 2))
    return personal_workspace_id(session, user_id)


def _cookie(session: Session, user_id: int, workspace_id: int | None = None) -> dict[str, str]:
    raw = create_login_session(
        session, user=session.get(User, user_id), user_agent="pytest", ip="127.0.0.1"
    )
    if workspace_id is not None:
        login = session.exec(
            select(LoginSession).where(LoginSession.token_hash == _sha256(raw))
        ).one()
        login.workspace_id = workspace_id
        session.add(login)
    session.commit()
    return {SESSION_COOKIE: raw}


def _get(client: TestClient, cookies: dict[str, str], params: dict[str, str] = RANGE):
    client.cookies.clear()
    client.cookies.update(cookies)
    return client.get(EXPORT_PATH, params=params)


def _lines(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture()
def client(use_database: str) -> TestClient:
    return TestClient(build_api(), follow_redirects=False)  # the app's own routes


def test_without_a_session_the_browser_is_sent_to_sign_in(session, client) -> None:
    owner = new_user(session, "owner@example.com")
    _posted(session, owner.id, "Owls", 10)
    for cookies in ({}, {SESSION_COOKIE: "not-a-session"}):
        response = _get(client, cookies)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/sign-in?next=")
        assert "Owls" not in response.text


def test_a_member_gets_only_their_workspaces_rows_as_csv(session, client) -> None:
    owner, other = new_user(session, "owner@example.com"), new_user(session, "other@example.com")
    _posted(session, owner.id, "Owls", 10)
    _posted(session, other.id, "Cats", 999)
    response = _get(client, _cookie(session, owner.id))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    header, *rows = _lines(response.text)
    assert header[0] == "date" and header[-1] == "saves"
    assert [(r[0], r[4], r[7]) for r in rows] == [("2026-12-02", "Owls", "10")]


def test_a_viewer_reads_the_workspace_they_switched_to(session, client) -> None:
    owner, viewer = new_user(session, "owner@example.com"), new_user(session, "viewer@example.com")
    workspace_id = _posted(session, owner.id, "Owls", 10)
    session.add(Membership(workspace_id=workspace_id, user_id=viewer.id, role=WorkspaceRole.VIEWER))
    session.commit()
    cookies = _cookie(session, viewer.id, workspace_id)
    _header, *rows = _lines(_get(client, cookies).text)
    assert [r[4] for r in rows] == ["Owls"]


def test_a_removed_member_no_longer_gets_the_workspaces_rows(session, client) -> None:
    owner, former = new_user(session, "owner@example.com"), new_user(session, "former@example.com")
    workspace_id = _posted(session, owner.id, "Owls", 10)
    cookies = _cookie(session, former.id, workspace_id)  # switched there, then removed
    response = _get(client, cookies)
    assert response.status_code == 200
    assert _lines(response.text)[1:] == []  # their own (personal) workspace: nothing posted


def test_a_title_a_spreadsheet_would_run_is_written_as_text(session, client) -> None:
    owner = new_user(session, "owner@example.com")
    _posted(session, owner.id, "=HYPERLINK(1)", 10)
    response = _get(client, _cookie(session, owner.id))
    assert _lines(response.text)[1][4] == "'=HYPERLINK(1)"


def test_a_bad_date_is_a_clear_400(session, client) -> None:
    owner = new_user(session, "owner@example.com")
    cookies = _cookie(session, owner.id)
    response = _get(client, cookies, {"start": "yesterday"})
    assert response.status_code == 400 and "YYYY-MM-DD" in response.text
