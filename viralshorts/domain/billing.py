"""Billing use cases: the plan, period and meters of a workspace, invoices, upgrading through
Stripe Checkout, managing through the Billing Portal, and a site admin's tools (assign a plan by
hand, the webhook log, replaying an event).

Only the owner manages billing (``Action.MANAGE_BILLING``); everyone in the workspace may read
the meters (they show where a limit is hit). Stripe's side is the ``BillingGateway`` port.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from viralshorts.domain import quotas, stripe_events
from viralshorts.domain.plans import Plan, catalogue
from viralshorts.domain.workspaces import Action, Actor, require
from viralshorts.errors import (
    ConfigurationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from viralshorts.integrations.ports import BillingGateway, BillingInvoice, Services
from viralshorts.models import (
    AuditLog,
    Subscription,
    SubscriptionStatus,
    User,
    WebhookEvent,
    Workspace,
    utcnow,
)
from viralshorts.models.billing import WebhookOutcome

NOT_CONFIGURED = (
    "Billing is not configured on this site (no Stripe keys), so plans cannot be bought here. "
    "A site admin can assign a plan by hand."
)
MAX_REASON = 500


@dataclass(frozen=True)
class Meter:
    """One limit of the plan and how much of it is used ("3 of 10 videos")."""

    key: str
    label: str
    used: int
    limit: int

    @property
    def percent(self) -> int:
        return 100 if self.limit <= 0 else min(100, round(100 * self.used / self.limit))

    @property
    def full(self) -> bool:
        return self.used >= self.limit


@dataclass(frozen=True)
class BillingOverview:
    """What the Billing page shows."""

    plan: Plan
    status: str
    period: quotas.BillingPeriod
    cancel_at_period_end: bool
    past_due: bool
    meters: list[Meter]
    render_minutes: float
    paid_plans: list[Plan]
    configured: bool
    has_customer: bool


def _subscription(session: Session, workspace_id: int) -> Subscription | None:
    query = select(Subscription).where(Subscription.workspace_id == workspace_id)
    return session.exec(query.execution_options(populate_existing=True)).first()


def meters(session: Session, *, workspace_id: int) -> list[Meter]:
    """Every metered limit of the workspace's plan in the current period."""
    plan = quotas.plan_for(session, workspace_id=workspace_id)
    usage = quotas.usage_summary(session, workspace_id=workspace_id)
    accounts = quotas.connected_account_count(session, workspace_id)
    seats = quotas.seats_taken(session, workspace_id)
    videos = usage.videos_used + usage.videos_reserved
    return [
        Meter("videos_per_month", "Videos this period", videos, plan.videos_per_month),
        Meter("scheduled_posts", "Scheduled posts this period", usage.posts, plan.scheduled_posts),
        Meter("connected_accounts", "Connected accounts", accounts, plan.connected_accounts),
        Meter("team_seats", "Team seats (invitations included)", seats, plan.team_seats),
    ]


def overview(session: Session, services: Services, *, actor: Actor) -> BillingOverview:
    """The workspace's plan, period, meters and the plans it can buy (owner only)."""
    require(actor, Action.MANAGE_BILLING)
    workspace_id = actor.workspace_id
    sub = _subscription(session, workspace_id)
    plan = quotas.plan_for(session, workspace_id=workspace_id)
    usage = quotas.usage_summary(session, workspace_id=workspace_id)
    return BillingOverview(
        plan=plan,
        status=str(sub.status) if sub and plan.paid else "free",
        period=quotas.billing_period(session, workspace_id=workspace_id),
        cancel_at_period_end=bool(sub and plan.paid and sub.cancel_at_period_end),
        past_due=bool(sub and plan.paid and sub.status == SubscriptionStatus.PAST_DUE),
        meters=meters(session, workspace_id=workspace_id),
        render_minutes=round(usage.render_seconds / 60, 1),
        paid_plans=catalogue().paid_plans(),
        configured=services.billing is not None,
        has_customer=bool(sub and sub.stripe_customer_id),
    )


def _gateway(services: Services) -> BillingGateway:
    if services.billing is None:
        raise ConfigurationError(NOT_CONFIGURED, code="billing_not_configured")
    return services.billing


def invoices(session: Session, services: Services, *, actor: Actor) -> list[BillingInvoice]:
    """The workspace's latest invoices from Stripe (none before its first checkout)."""
    require(actor, Action.MANAGE_BILLING)
    sub = _subscription(session, actor.workspace_id)
    if services.billing is None or sub is None or not sub.stripe_customer_id:
        return []
    return services.billing.invoices(sub.stripe_customer_id)


def _customer_id(session: Session, gateway: BillingGateway, actor: Actor) -> str:
    """The workspace's Stripe customer, created once (the workspace row is locked meanwhile)."""
    quotas.lock_workspace(session, actor.workspace_id)
    sub = _subscription(session, actor.workspace_id)
    if sub is not None and sub.stripe_customer_id:
        session.commit()
        return sub.stripe_customer_id
    user = session.get(User, actor.user_id)
    customer_id = gateway.create_customer(
        email=user.email if user else "", workspace_id=actor.workspace_id
    )
    sub = sub or Subscription(
        workspace_id=actor.workspace_id,
        user_id=actor.user_id,
        plan=catalogue().free.name,
        status=SubscriptionStatus.INCOMPLETE,
    )
    sub.stripe_customer_id = customer_id
    session.add(sub)
    session.commit()
    return customer_id


def start_checkout(
    session: Session, services: Services, *, actor: Actor, plan_name: str, return_url: str
) -> str:
    """A Stripe Checkout page that subscribes the workspace to ``plan_name``.

    Raises:
        PermissionDeniedError: not the owner.
        ValidationError: field ``plan``: not a plan that can be bought.
        ConfigurationError: Stripe is not configured.
        IntegrationError: Stripe did not answer.
    """
    require(actor, Action.MANAGE_BILLING)
    gateway = _gateway(services)
    plan = catalogue().plans.get(plan_name)
    if plan is None or not plan.paid:
        raise ValidationError({"plan": "Pick one of the paid plans."}, field_codes={"plan": "plan"})
    customer_id = _customer_id(session, gateway, actor)
    return gateway.checkout_url(
        customer_id=customer_id,
        price_id=plan.stripe_price,
        workspace_id=actor.workspace_id,
        success_url=f"{return_url}?checkout=done&session_id={{CHECKOUT_SESSION_ID}}",
        cancel_url=f"{return_url}?checkout=canceled",
    )


def open_portal(session: Session, services: Services, *, actor: Actor, return_url: str) -> str:
    """The Stripe Billing Portal, where the owner changes or cancels the plan."""
    require(actor, Action.MANAGE_BILLING)
    gateway = _gateway(services)
    sub = _subscription(session, actor.workspace_id)
    if sub is None or not sub.stripe_customer_id:
        raise ValidationError(
            {"plan": "Subscribe to a plan first; then you can manage it here."},
            field_codes={"plan": "no_customer"},
        )
    return gateway.portal_url(customer_id=sub.stripe_customer_id, return_url=return_url)


# ---------------------------------------------------------------- site admin tools


def _require_site_admin(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.disabled or not user.is_admin:
        raise PermissionDeniedError("Only site admins can do this.", code="admin_only")
    return user


def _audit(
    session: Session, user_id: int, workspace_id: int | None, action: str, **details: object
) -> None:
    session.add(
        AuditLog(
            user_id=user_id,
            workspace_id=workspace_id,
            action=action,
            target_type="workspace" if workspace_id else "webhook_event",
            target_id=str(details.pop("target_id", workspace_id or "")),
            details=details,
        )
    )


def assign_plan(
    session: Session, *, actor_user_id: int, workspace_id: int, plan: str, reason: str
) -> Subscription:
    """Put a workspace on ``plan`` by hand (no Stripe), with the reason in the audit log.

    A later Stripe event for the workspace's subscription replaces it with Stripe's state.

    Raises:
        PermissionDeniedError: not a site admin. NotFoundError: no such workspace.
        ValidationError: fields ``plan`` (unknown) and ``reason`` (empty or too long).
    """
    _require_site_admin(session, actor_user_id)
    if session.get(Workspace, workspace_id) is None:
        raise NotFoundError("Workspace not found.")
    errors = {}
    if plan not in catalogue().plans:
        errors["plan"] = f"Pick one of: {', '.join(catalogue().plans)}."
    if not reason.strip() or len(reason) > MAX_REASON:
        errors["reason"] = f"Say why, in at most {MAX_REASON} characters."
    if errors:
        raise ValidationError(errors)
    quotas.lock_workspace(session, workspace_id)
    sub = _subscription(session, workspace_id) or Subscription(
        workspace_id=workspace_id,
        user_id=quotas.payer_user_id(session, workspace_id) or actor_user_id,
    )
    before = sub.plan
    sub.plan, sub.status, sub.past_due_since = plan, SubscriptionStatus.ACTIVE, None
    sub.cancel_at_period_end, sub.current_period_start, sub.current_period_end = False, None, None
    sub.updated_at = utcnow()
    session.add(sub)
    _audit(
        session,
        actor_user_id,
        workspace_id,
        "billing.plan_assigned",
        before=before,
        plan=plan,
        reason=reason.strip(),
    )
    session.commit()
    session.refresh(sub)
    return sub


def list_webhook_events(
    session: Session,
    *,
    actor_user_id: int,
    outcome: str = "",
    event_type: str = "",
    limit: int = 50,
    offset: int = 0,
) -> list[WebhookEvent]:
    """The webhook log, newest first, optionally of one outcome and one type (site admins)."""
    _require_site_admin(session, actor_user_id)
    query = select(WebhookEvent)
    if outcome:
        query = query.where(WebhookEvent.outcome == WebhookOutcome(outcome))
    if event_type:
        query = query.where(WebhookEvent.type == event_type)
    query = query.order_by(col(WebhookEvent.received_at).desc(), col(WebhookEvent.id).desc())
    return list(session.exec(query.offset(offset).limit(min(limit, 200))).all())


def webhook_event_types(session: Session, *, actor_user_id: int) -> list[str]:
    """Every event type the log holds, for the admin's filter (site admins)."""
    _require_site_admin(session, actor_user_id)
    return sorted(session.exec(select(WebhookEvent.type).distinct()).all())


def webhook_event(session: Session, *, actor_user_id: int, webhook_event_id: int) -> WebhookEvent:
    """One stored event, payload and outcome message included (site admins).

    Raises:
        PermissionDeniedError: not a site admin. NotFoundError: no such event.
    """
    _require_site_admin(session, actor_user_id)
    row = session.get(WebhookEvent, webhook_event_id)
    if row is None:
        raise NotFoundError("Webhook event not found.")
    return row


def replay_webhook_event(
    session: Session, services: Services, *, actor_user_id: int, webhook_event_id: int
) -> stripe_events.WebhookReceipt:
    """Process a stored event again (from Stripe's state now), audited (site admins)."""
    _require_site_admin(session, actor_user_id)
    gateway = _gateway(services)
    row = session.get(WebhookEvent, webhook_event_id)
    if row is None or row.provider != stripe_events.PROVIDER:
        raise NotFoundError("Webhook event not found.")
    row.outcome, row.claimed_at, row.attempts = (
        WebhookOutcome.PROCESSING,
        utcnow(),
        row.attempts + 1,
    )
    session.add(row)
    _audit(
        session,
        actor_user_id,
        None,
        "billing.webhook_replayed",
        target_id=row.event_id,
        type=row.type,
    )
    session.commit()
    return stripe_events.process_claimed(session, gateway, row)


def period_label(start: datetime, end: datetime) -> str:
    """The period as "Dec 2, 2026 to Jan 2, 2027" (the end is the day it renews)."""
    return f"{start:%b %-d, %Y} to {end:%b %-d, %Y}"
