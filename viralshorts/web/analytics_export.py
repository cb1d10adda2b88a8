"""``GET /api/analytics/export.csv?start=&end=``: the workspace's analytics rows as CSV.

The request is authorised like a page: the HttpOnly session cookie must be a live session, and
the rows are those of the workspace that session acts in (the one the Analytics page shows),
for any member (viewers included). Without a session the browser is sent to sign in. A cell
that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) is written as text.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from urllib.parse import quote

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from viralshorts.db import session_scope
from viralshorts.domain.accounts import SESSION_COOKIE, user_for_token
from viralshorts.domain.analytics_reports import CSV_HEADER, export_rows, parse_range
from viralshorts.domain.workspace_members import stored_workspace_id
from viralshorts.domain.workspaces import Actor, current_workspace
from viralshorts.errors import NotFoundError, ValidationError
from viralshorts.models import WorkspaceRole

EXPORT_PATH = "/api/analytics/export.csv"
PAGE = "/app/analytics"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows([_safe_cell(cell) for cell in row] for row in rows)
    return out.getvalue()


def _actor(session: Session, token: str) -> Actor | None:
    """The member the session cookie belongs to, in the workspace that session acts in."""
    user = user_for_token(session, token)
    if user is None or user.id is None:
        return None
    chosen = stored_workspace_id(session, token)
    workspace_id, _name, role = current_workspace(session, user.id, chosen)
    return Actor(user_id=user.id, workspace_id=workspace_id, role=WorkspaceRole(role))


def export_csv(request: Request) -> Response:
    """The CSV for the signed-in member's current workspace and the asked date range."""
    query = request.query_params
    try:
        date_range = parse_range(
            query.get("start", ""), query.get("end", ""), today=datetime.now(UTC).date()
        )
    except ValidationError as exc:
        return PlainTextResponse(exc.message, status_code=400)
    with session_scope() as session:
        try:
            actor = _actor(session, request.cookies.get(SESSION_COOKIE, ""))
        except NotFoundError:  # a user without a workspace
            actor = None
        if actor is None:
            return RedirectResponse(f"/sign-in?next={quote(PAGE, safe='')}", status_code=303)
        rows = export_rows(session, actor=actor, date_range=date_range)
    name = f"analytics-{date_range.start.isoformat()}-{date_range.end.isoformat()}.csv"
    return Response(
        _csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def analytics_export_routes() -> list[Route]:
    """The CSV export route for ``build_api()``."""
    return [Route(EXPORT_PATH, export_csv, methods=["GET"])]
