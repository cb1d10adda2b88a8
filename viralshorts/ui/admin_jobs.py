"""Admin: the job queues (depth, live workers) and the dead-letter queue (inspect, retry, delete).

While the tab is on this page a background loop reads the queues again every
``REFRESH_SECONDS``. Reflex does not cancel background tasks when a tab goes away, so the loop
ends by itself: when the tab left the page, when its socket has been gone for two checks in a
row, when a newer loop for the same tab took over, or when the user is no longer a site admin.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypedDict

import reflex as rx
from reflex_base.registry import RegistrationContext

from viralshorts.db import session_scope
from viralshorts.domain import admin_jobs
from viralshorts.errors import ValidationError, ViralShortsError
from viralshorts.integrations.ports import WorkerSummary
from viralshorts.integrations.services import get_services
from viralshorts.ui import guards
from viralshorts.ui.admin_nav import JOBS_ROUTE, admin_nav
from viralshorts.ui.layout import app_shell, card, error_callout

ROUTE = JOBS_ROUTE
REFRESH_SECONDS = 5.0
STALE_BEAT_SECONDS = 30.0
MAX_JOB_ID = 128


class QueueRow(TypedDict):
    name: str
    queued: int
    started: int
    scheduled: int
    deferred: int
    failed: int


class WorkerRow(TypedDict):
    name: str
    host: str
    state: str
    queues: str
    job: str
    seen: str


class FailedRow(TypedDict):
    job_id: str
    queue: str
    description: str
    subject: str
    workspace: str
    failed_at: str
    error: str
    can_retry: bool
    retry_note: str


class JobDetail(TypedDict):
    job_id: str
    queue: str
    description: str
    subject: str
    workspace: str
    failed_at: str
    traceback: str
    args: str
    meta: str
    retry_note: str


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def _failed_row(view: admin_jobs.FailedJobView) -> FailedRow:
    job = view.job
    return FailedRow(
        job_id=job.job_id, queue=job.queue, description=job.description, subject=view.subject,
        workspace=view.workspace_name, failed_at=_when(job.failed_at), error=view.error_line,
        can_retry=view.can_retry, retry_note=view.retry_note,
    )  # fmt: skip


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _detail(view: admin_jobs.FailedJobView) -> JobDetail:
    job = view.job
    return JobDetail(
        job_id=job.job_id, queue=job.queue, description=job.description, subject=view.subject,
        workspace=view.workspace_name, failed_at=_when(job.failed_at), traceback=job.exc_string,
        args=_pretty({"args": list(job.args), "kwargs": job.kwargs}), meta=_pretty(job.meta),
        retry_note=view.retry_note,
    )  # fmt: skip


def _seen(beat: datetime | None) -> str:
    if beat is None:
        return ""
    return f"{max(0, round((datetime.now(UTC) - beat).total_seconds()))} s ago"


def _worker_row(worker: WorkerSummary) -> WorkerRow:
    job = f"{worker.current_job_id}: {worker.current_job_description}"
    return WorkerRow(
        name=worker.name, host=f"{worker.hostname} (pid {worker.pid})", state=worker.state,
        queues=", ".join(worker.queues), job=job if worker.current_job_id else "idle",
        seen=_seen(worker.last_heartbeat),
    )  # fmt: skip


Snapshot = tuple[list[QueueRow], list[WorkerRow], list[FailedRow]]


def _snapshot(user_id: int) -> Snapshot:
    services = get_services()
    with session_scope() as session:
        overview = admin_jobs.queues_overview(session, services, actor_user_id=user_id)
        failed = admin_jobs.list_failed_jobs(session, services, actor_user_id=user_id)
    queues = [QueueRow(**vars(q)) for q in overview.queues]  # type: ignore[typeddict-item]
    return queues, [_worker_row(w) for w in overview.workers], [_failed_row(v) for v in failed]


def _snapshot_or_error(user_id: int) -> Snapshot | str:
    try:
        return _snapshot(user_id)
    except ViralShortsError as exc:
        return str(exc)


def _inspect(user_id: int, job_id: str) -> JobDetail:
    with session_scope() as session:
        view = admin_jobs.failed_job(session, get_services(), actor_user_id=user_id, job_id=job_id)
        return _detail(view)


def _act(action: str, user_id: int, job_id: str) -> str:
    use_case = {"retry": admin_jobs.retry_failed_job, "delete": admin_jobs.delete_failed_job}
    with session_scope() as session:
        return use_case[action](session, get_services(), actor_user_id=user_id, job_id=job_id)


def _message(exc: ViralShortsError) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.field_errors.values()) or str(exc)
    return str(exc)


async def _tab_connected(token: str) -> bool:
    """Whether the tab ``token`` still has a socket (on any instance, through Redis)."""
    try:
        namespace = RegistrationContext.get().app.event_namespace
    except (LookupError, AttributeError):
        return True
    if namespace is None:
        return True
    return await namespace._token_manager.is_token_connected(token)


def _job_id(value: object) -> str | None:
    return guards.text(value, max_length=MAX_JOB_ID) or None


class AdminJobsState(rx.State):
    """Queues, workers and failed jobs as last read, and the open job's details."""

    queues: list[QueueRow] = []
    workers: list[WorkerRow] = []
    failed: list[FailedRow] = []
    detail: JobDetail = JobDetail(
        job_id="", queue="", description="", subject="", workspace="", failed_at="",
        traceback="", args="", meta="", retry_note="",
    )  # fmt: skip
    detail_open: bool = False
    confirm_delete_id: str = ""  # the failed job whose Delete asks "sure?"
    refreshed_at: str = ""
    unavailable: str = ""  # the queues could not be read just now (Redis down)
    notice: str = ""
    error: str = ""
    busy: bool = False
    _watch_id: str = ""
    _watch_beat: float = 0.0

    async def _refresh(self, user_id: int) -> None:
        self._show(await asyncio.to_thread(_snapshot_or_error, user_id))

    @rx.event
    async def load(self):
        """Read the queues when the page opens, then keep them fresh while it stays open."""
        self.notice, self.error, self.busy, self.detail_open = "", "", False, False
        user_id, leave = await guards.session_admin(self)
        if user_id is None:
            return leave
        await self._refresh(user_id)
        return AdminJobsState.watch_queues

    @rx.event(background=True)
    async def watch_queues(self):
        """Re-read the queues every few seconds until the tab leaves the page or closes."""
        attempted = f"AdminJobsState.watch_queues {ROUTE}"  # a background proxy's own name
        async with self:
            user_id, leave = await guards.session_admin(self, attempted)
            if user_id is None:
                return leave
            if self._watch_id and time.time() - self._watch_beat < STALE_BEAT_SECONDS:
                return None  # this tab already has a live loop
            watch_id = self._watch_id = uuid.uuid4().hex
            token = self.router.session.client_token
        missed = 0
        while missed < 2 and (user_id := await self._still_watching(watch_id)) is not None:
            await asyncio.sleep(REFRESH_SECONDS)
            missed = 0 if await _tab_connected(token) else missed + 1
            snapshot = await asyncio.to_thread(_snapshot_or_error, user_id)
            async with self:
                self._show(snapshot)
        async with self:
            if self._watch_id == watch_id:
                self._watch_id = ""
        return None

    async def _still_watching(self, watch_id: str) -> int | None:
        """The admin's id while this loop should go on: still the tab's loop, the tab still on
        the page, the user still a site admin (asked again each round)."""
        async with self:
            here = self.router.url.path.rstrip("/") == ROUTE
            if self._watch_id != watch_id or not here:
                return None
            user_id, _ = await guards.session_admin(self, f"AdminJobsState.watch_queues {ROUTE}")
            self._watch_beat = time.time()
            return user_id

    def _show(self, snapshot: Snapshot | str) -> None:
        if isinstance(snapshot, str):
            self.unavailable = snapshot
            return
        self.unavailable = ""
        self.queues, self.workers, self.failed = snapshot
        self.refreshed_at = time.strftime("%H:%M:%S UTC", time.gmtime())

    @rx.event
    async def inspect(self, job_id: str):
        """Open one failed job's traceback, arguments and meta."""
        self.notice, self.error = "", ""
        wanted = _job_id(job_id)
        user_id, leave = await guards.session_admin(self)
        if user_id is None:
            return leave
        if wanted is None:
            self.error = guards.BAD_REQUEST
            return None
        try:
            self.detail = await asyncio.to_thread(_inspect, user_id, wanted)
            self.detail_open = True
        except ViralShortsError as exc:
            self.error = _message(exc)
        return None

    @rx.event
    def close_detail(self):
        """Close the job's details."""
        self.detail_open = False

    @rx.event
    async def retry(self, job_id: str):
        """Retry a failed render or publish through its domain."""
        return await self._act("retry", job_id)

    @rx.event
    async def ask_delete(self, job_id: str):
        """Ask to confirm deleting this failed job."""
        user_id, leave = await guards.session_admin(self, f"AdminJobsState.ask_delete {ROUTE}")
        if user_id is None:
            return leave
        self.confirm_delete_id = _job_id(job_id) or ""
        return None

    @rx.event
    def keep_job(self):
        """Keep the failed job."""
        self.confirm_delete_id = ""

    @rx.event
    async def delete(self, job_id: str):
        """Remove a failed job from the dead-letter queue (its video or post stays as it is)."""
        self.confirm_delete_id = ""
        return await self._act("delete", job_id)

    async def _act(self, action: str, job_id: object) -> rx.event.EventSpec | None:
        self.notice, self.error = "", ""
        wanted = _job_id(job_id)
        user_id, leave = await guards.session_admin(self, f"AdminJobsState.{action} {ROUTE}")
        if user_id is None:
            return leave
        if wanted is None:
            self.error = guards.BAD_REQUEST
            return None
        self.busy = True
        try:
            self.notice = await asyncio.to_thread(_act, action, user_id, wanted)
            self.detail_open = False
        except ViralShortsError as exc:
            self.error = _message(exc)
        self.busy = False
        await self._refresh(user_id)
        return None


# ---------------------------------------------------------------- the page

S = AdminJobsState


def _header_row(*names: str) -> rx.Component:
    return rx.table.header(rx.table.row(*[rx.table.column_header_cell(n) for n in names]))


def _named_table(
    label: str, headers: tuple[str, ...], rows: rx.Var, row: Callable[[rx.Var], rx.Component]
) -> rx.Component:
    """A table of ``rows`` that scrolls sideways on narrow screens, named ``label``."""
    table = rx.table.root(_header_row(*headers), rx.table.body(rx.foreach(rows, row)), width="100%")
    # Radix's table root puts its props on a wrapper, not on <table>: the region names it.
    return rx.box(table, role="region", aria_label=label, overflow_x="auto", width="100%")


def _queue_table_row(row: rx.Var[QueueRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"]),
        *[
            rx.table.cell(row[key], data_testid=f"queue-{key}")
            for key in ("queued", "started", "scheduled", "deferred", "failed")
        ],
        aria_label=row["name"],
    )


def _queues_card() -> rx.Component:
    return card(
        rx.hstack(
            rx.heading("Queues", size="4", as_="h2"),
            rx.spacer(),
            rx.text("Updated ", S.refreshed_at, size="1", color_scheme="gray", role="status"),
            width="100%",
        ),
        _named_table(
            "Queues",
            ("Queue", "Waiting", "Running", "Scheduled", "Deferred", "Failed"),
            S.queues,
            _queue_table_row,
        ),
    )


def _worker_table_row(row: rx.Var[WorkerRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(row["name"]),
        rx.table.cell(row["host"]),
        rx.table.cell(rx.badge(row["state"], variant="soft")),
        rx.table.cell(row["queues"]),
        rx.table.cell(row["job"]),
        rx.table.cell(row["seen"]),
    )


def _workers_card() -> rx.Component:
    return card(
        rx.heading("Workers", size="4", as_="h2"),
        rx.cond(
            S.workers.length() > 0,
            _named_table(
                "Workers",
                ("Worker", "Host", "State", "Queues", "Current job", "Last seen"),
                S.workers,
                _worker_table_row,
            ),
            rx.text("No worker is running: nothing on the queues is being worked on."),
        ),
    )


def _failed_actions(row: rx.Var[FailedRow]) -> rx.Component:
    return rx.hstack(
        rx.button(
            "Inspect", size="1", variant="soft", on_click=S.inspect(row["job_id"]),
            aria_label="Inspect " + row["job_id"],
        ),
        rx.button(
            "Retry", size="1", on_click=S.retry(row["job_id"]), disabled=~row["can_retry"] | S.busy,
            title=row["retry_note"], aria_label="Retry " + row["job_id"],
        ),
        _delete_action(row),
        spacing="2",
    )  # fmt: skip


def _delete_action(row: rx.Var[FailedRow]) -> rx.Component:
    return rx.cond(
        S.confirm_delete_id == row["job_id"],
        rx.hstack(
            rx.text("Delete this failed job? It cannot be retried after.", size="1"),
            rx.button(
                "Delete", size="1", color_scheme="red", disabled=S.busy,
                on_click=S.delete(row["job_id"]), aria_label="Confirm delete " + row["job_id"],
            ),
            rx.button(
                "Keep it", size="1", variant="soft", color_scheme="gray", on_click=S.keep_job,
            ),
            align="center", spacing="2", role="group",
        ),
        rx.button(
            "Delete", size="1", color_scheme="red", variant="soft", disabled=S.busy,
            on_click=S.ask_delete(row["job_id"]), aria_label="Delete " + row["job_id"],
        ),
    )  # fmt: skip


def _failed_table_row(row: rx.Var[FailedRow]) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(rx.code(row["job_id"])),
        rx.table.cell(row["queue"]),
        rx.table.cell(
            rx.vstack(
                rx.text(row["description"]),
                rx.text(row["subject"], size="1"),
                rx.text(row["workspace"], size="1", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(row["failed_at"]),
        rx.table.cell(
            rx.vstack(
                rx.text(row["error"], color_scheme="red", size="1"),
                rx.text(row["retry_note"], size="1", color_scheme="gray"),
                spacing="1",
            ),
            max_width="28rem",
        ),
        rx.table.cell(_failed_actions(row)),
        aria_label=row["job_id"],
    )


def _failed_card() -> rx.Component:
    return card(
        rx.heading("Failed jobs", size="4", as_="h2"),
        rx.text(
            "Failed jobs stay here for 7 days. Retry renders or publishes again through the "
            "video's or post's own rules (quota, attempts); Delete only removes the job.",
            size="2",
            color_scheme="gray",
        ),
        rx.cond(
            S.failed.length() > 0,
            _named_table(
                "Failed jobs",
                ("Job", "Queue", "Concerns", "Failed at", "Error", "Actions"),
                S.failed,
                _failed_table_row,
            ),
            rx.text("No failed jobs.", data_testid="no-failed-jobs"),
        ),
    )


def _pre(text: rx.Var[str], label: str) -> rx.Component:
    return rx.el.pre(
        text,
        aria_label=label,
        style={"white_space": "pre-wrap", "font_size": "12px", "max_height": "18rem",
               "overflow": "auto", "background": rx.color("gray", 3), "padding": "0.5rem"},
    )  # fmt: skip


def _detail_dialog() -> rx.Component:
    d = S.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Failed job ", d["job_id"]),
            rx.dialog.description(d["description"], " · ", d["queue"], " · ", d["failed_at"]),
            rx.vstack(
                rx.text(d["subject"], " ", d["workspace"], size="2"),
                rx.cond(d["retry_note"] != "", rx.text(d["retry_note"], size="2")),
                rx.heading("Traceback", size="3", as_="h3"),
                _pre(d["traceback"], "Traceback"),
                rx.heading("Arguments", size="3", as_="h3"),
                _pre(d["args"], "Arguments"),
                rx.heading("Meta", size="3", as_="h3"),
                _pre(d["meta"], "Meta"),
                rx.dialog.close(rx.button("Close", variant="soft", on_click=S.close_detail)),
                spacing="2",
                width="100%",
            ),
            max_width="52rem",
        ),
        open=S.detail_open,
        on_open_change=lambda _open: AdminJobsState.close_detail(),
    )


def admin_jobs_page() -> rx.Component:
    return app_shell(
        "Admin",
        admin_nav(ROUTE),
        error_callout(S.error),
        error_callout(S.unavailable),
        rx.cond(S.notice != "", rx.callout(S.notice, color_scheme="green", role="status")),
        _queues_card(),
        _workers_card(),
        _failed_card(),
        _detail_dialog(),
    )
