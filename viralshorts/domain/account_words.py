"""What the Accounts page says about platforms: names, scopes in words, how to configure one,
and the messages of a connect flow that came back with a problem (by error code)."""

from __future__ import annotations

from viralshorts.settings import Settings

PLATFORM_LABELS = {"youtube": "YouTube", "tiktok": "TikTok", "instagram": "Instagram"}

_SCOPE_WORDS = {
    "https://www.googleapis.com/auth/youtube.upload": "upload videos",
    "https://www.googleapis.com/auth/youtube.readonly": "read the channel and its numbers",
    "https://www.googleapis.com/auth/youtube": "manage the channel",
    "user.info.basic": "read the profile",
    "video.publish": "publish videos",
    "video.upload": "upload drafts",
    "video.list": "read video numbers",
    "instagram_basic": "read the profile",
    "instagram_content_publish": "publish reels",
    "instagram_manage_insights": "read reel numbers",
    "pages_show_list": "find the linked Facebook page",
    "pages_read_engagement": "read the page",
    "business_management": "reach the business account",
}

# Sent back to /app/accounts?error=<code> by the connect routes.
CONNECT_ERRORS = {
    "connect_state_invalid": (
        "That connection attempt was not started here, or it expired. Start it again."
    ),
    "connect_cancelled": "The connection was cancelled at the platform. Nothing was connected.",
    "connect_refused": "The platform did not accept the connection. Try connecting again.",
    "connect_unreachable": "The platform did not answer. Try again in a moment.",
    "platform_not_configured": "That platform is not configured on this server.",
    "permission_denied": "Only an owner or admin of the workspace can connect accounts.",
    "account_limit": (
        "The workspace's plan has no free account slot: disconnect an account first, or "
        "upgrade on the Billing page."
    ),
    "signed_out": "Sign in again, then connect the account.",
    "service_busy": "The service is busy right now. Try again in a moment.",
}


def scope_words(scopes: list[str]) -> list[str]:
    """What the granted scopes let us do, in words (unknown scopes as they are)."""
    return list(dict.fromkeys(_SCOPE_WORDS.get(scope, scope) for scope in scopes if scope))


def connect_callback_url(settings: Settings, platform: str) -> str:
    """The redirect URI registered with the platform for connecting accounts."""
    return f"{settings.public_base_url.rstrip('/')}/api/connect/{platform}/callback"


def how_to_configure(settings: Settings, platform: str) -> str:
    """What to set so ``platform`` can be connected."""
    variables = {
        "youtube": "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET (a Google Cloud OAuth client "
        "with the YouTube Data API v3 enabled)",
        "tiktok": "TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (a TikTok for Developers app "
        "with Login Kit and the Content Posting API)",
        "instagram": "META_APP_ID and META_APP_SECRET (a Meta app with Facebook Login for "
        "Business and the Instagram Graph API)",
    }[platform]
    return (
        f"Set {variables} in .env and restart; register "
        f"{connect_callback_url(settings, platform)} as its redirect URI. "
        "Or try it offline with ./dev run --sandbox."
    )
