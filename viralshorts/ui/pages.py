"""Every page and its route, registered in one place.

Signed-in pages load the user first (``AuthState.require_user``), then their own data.
Add a page with one ``app.add_page(...)`` line in ``register``.
"""

import reflex as rx

from viralshorts.ui import (
    account_pages,
    accounts,
    admin,
    admin_audit,
    admin_jobs,
    admin_user,
    admin_webhooks,
    admin_workspace,
    analytics,
    auth_pages,
    billing,
    calendar,
    campaign_form,
    campaigns,
    landing,
    media,
    overview,
    profile,
    video_detail,
    video_new,
    videos,
    workspace_pages,
)
from viralshorts.ui.state import AuthState

TITLE = "ViralShortsOps"
# Files in assets/ are served from the site root; scripts/make_icons.py draws them.
ICON_FILES = {"icon": "/favicon.ico", "svg": "/favicon.svg", "touch": "/icon-180.png"}


def _title(page: str) -> str:
    return f"{page} · {TITLE}"


def icon_links() -> list[rx.Component]:
    """The ``<link>`` tags naming the site icon in every page's head."""
    return [
        rx.el.link(rel="icon", href=ICON_FILES["icon"], sizes="48x48"),
        rx.el.link(rel="icon", href=ICON_FILES["svg"], type="image/svg+xml"),
        rx.el.link(rel="apple-touch-icon", href=ICON_FILES["touch"]),
    ]


def register(app: rx.App) -> None:
    """Add every page to ``app``."""
    app.head_components.extend(icon_links())
    signed_in = AuthState.require_user
    app.add_page(landing.landing_page, route="/", title=f"{TITLE} — faceless short videos")
    app.add_page(
        auth_pages.sign_in_page,
        route="/sign-in",
        title=_title("Sign in"),
        on_load=auth_pages.ON_LOAD,
    )
    app.add_page(
        auth_pages.sign_up_page,
        route="/sign-up",
        title=_title("Create account"),
        on_load=auth_pages.ON_LOAD,
    )
    app.add_page(
        account_pages.forgot_password_page,
        route=account_pages.FORGOT_ROUTE,
        title=_title("Forgot password"),
        on_load=account_pages.ForgotPasswordState.load,
    )
    app.add_page(
        account_pages.reset_password_page,
        route=account_pages.RESET_ROUTE,
        title=_title("New password"),
        on_load=account_pages.ResetPasswordState.load,
    )
    app.add_page(
        account_pages.confirm_email_page,
        route=account_pages.CONFIRM_EMAIL_ROUTE,
        title=_title("Confirm email"),
        on_load=account_pages.ConfirmEmailState.load,
    )
    app.add_page(
        profile.profile_page,
        route=profile.ROUTE,
        title=_title("Profile"),
        on_load=[signed_in, profile.ProfileState.load],
    )
    app.add_page(
        overview.overview_page,
        route="/app",
        title=_title("Overview"),
        on_load=[signed_in, overview.OverviewState.load],
    )
    app.add_page(
        campaigns.campaigns_page,
        route="/app/campaigns",
        title=_title("Campaigns"),
        on_load=[signed_in, campaigns.CampaignListState.load],
    )
    app.add_page(
        campaign_form.new_campaign_page,
        route="/app/campaigns/new",
        title=_title("New campaign"),
        on_load=[signed_in, campaign_form.CampaignFormState.load_new],
    )
    app.add_page(
        campaign_form.edit_campaign_page,
        route="/app/campaigns/[campaign_id]",
        title=_title("Campaign"),
        on_load=[signed_in, campaign_form.CampaignFormState.load_existing],
    )
    app.add_page(
        calendar.calendar_page,
        route=calendar.ROUTE,
        title=_title("Calendar"),
        on_load=[signed_in, calendar.CalendarState.load_page],
    )
    app.add_page(
        accounts.accounts_page,
        route=accounts.ROUTE,
        title=_title("Accounts"),
        on_load=[signed_in, accounts.AccountsState.load],
    )
    app.add_page(
        analytics.analytics_page,
        route=analytics.ROUTE,
        title=_title("Analytics"),
        on_load=[signed_in, analytics.AnalyticsState.load],
    )
    app.add_page(
        billing.billing_page,
        route=billing.ROUTE,
        title=_title("Billing"),
        on_load=[signed_in, billing.BillingState.load],
    )
    app.add_page(
        admin.admin_page,
        route="/app/admin",
        title=_title("Admin"),
        on_load=[signed_in, admin.AdminState.load],
    )
    # The admin pages' own loads check the site role (and log a refusal) themselves.
    app.add_page(
        admin_user.admin_user_page,
        route=admin_user.ROUTE,
        title=_title("Admin · User"),
        on_load=[signed_in, admin_user.AdminUserState.load],
    )
    app.add_page(
        admin_workspace.admin_workspace_page,
        route=admin_workspace.ROUTE,
        title=_title("Admin · Workspace"),
        on_load=[signed_in, admin_workspace.AdminWorkspaceState.load],
    )
    app.add_page(
        admin_audit.admin_audit_page,
        route=admin_audit.ROUTE,
        title=_title("Admin · Audit log"),
        on_load=[signed_in, admin_audit.AdminAuditState.load],
    )
    app.add_page(
        admin_jobs.admin_jobs_page,
        route=admin_jobs.ROUTE,
        title=_title("Admin · Queues"),
        on_load=[AuthState.require_admin, admin_jobs.AdminJobsState.load],
    )
    app.add_page(
        admin_webhooks.admin_webhooks_page,
        route=admin_webhooks.ROUTE,
        title=_title("Admin · Webhooks"),
        on_load=[AuthState.require_admin, admin_webhooks.AdminWebhooksState.load],
    )
    app.add_page(
        videos.videos_page,
        route=videos.ROUTE,
        title=_title("Videos"),
        on_load=[signed_in, videos.VideosState.load_page],
    )
    app.add_page(
        video_new.video_new_page,
        route=video_new.ROUTE,
        title=_title("New video"),
        on_load=[signed_in, video_new.NewVideoState.load_page],
    )
    app.add_page(
        video_detail.video_detail_page,
        route=video_detail.ROUTE,
        title=_title("Video"),
        on_load=[signed_in, video_detail.VideoDetailState.load_page],
    )
    app.add_page(
        media.media_page,
        route=media.ROUTE,
        title=_title("Media"),
        on_load=[signed_in, media.MediaState.load_page],
    )
    app.add_page(
        workspace_pages.workspace_page,
        route=workspace_pages.ROUTE,
        title=_title("Workspace"),
        on_load=[signed_in, workspace_pages.WorkspaceState.load],
    )
    app.add_page(
        workspace_pages.invite_page,
        route=workspace_pages.INVITE_ROUTE,
        title=_title("Invitation"),
        on_load=workspace_pages.InviteState.load,
    )
