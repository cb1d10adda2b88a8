"""The plans a workspace can be on, read from configuration (``resources/plans.toml`` or
``PLANS_FILE``), with Stripe price ids from the file or ``STRIPE_PRICE_IDS``.

Exactly one plan has no Stripe price: the free plan, which every workspace is on without a paid
subscription in good standing.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from viralshorts.errors import ConfigurationError
from viralshorts.settings import get_settings

DEFAULT_PLANS_FILE = Path(__file__).resolve().parent.parent / "resources" / "plans.toml"
_LIMITS = (
    "videos_per_month",
    "max_seconds",
    "batch_size",
    "connected_accounts",
    "scheduled_posts",
    "team_seats",
    "render_priority",
)
LIMIT_NAMES: tuple[str, ...] = _LIMITS  # what a site admin's quota override may replace


@dataclass(frozen=True)
class Plan:
    """What a plan allows in one billing period."""

    name: str
    label: str
    videos_per_month: int
    max_seconds: int
    connected_accounts: int
    scheduled_posts: int
    batch_size: int = 10
    team_seats: int = 5
    render_priority: int = 0
    price_label: str = ""
    stripe_price: str = ""

    @property
    def paid(self) -> bool:
        return bool(self.stripe_price)


@dataclass(frozen=True)
class PlanCatalogue:
    """Every configured plan by name, and the free one."""

    plans: dict[str, Plan]
    free: Plan

    def get(self, name: str) -> Plan:
        """The plan called ``name``; the free plan for an unknown name (a plan was removed)."""
        return self.plans.get(name, self.free)

    def by_price(self, price_id: str) -> Plan | None:
        """The paid plan a Stripe price id subscribes to, or None."""
        return next(
            (p for p in self.plans.values() if price_id and p.stripe_price == price_id), None
        )

    def paid_plans(self) -> list[Plan]:
        return [plan for plan in self.plans.values() if plan.paid]


def parse_price_ids(text: str) -> dict[str, str]:
    """``"creator=price_1,pro=price_2"`` → ``{"creator": "price_1", "pro": "price_2"}``."""
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise ConfigurationError("STRIPE_PRICE_IDS is a list of plan=price_id pairs.")
    return {name.strip(): price.strip() for name, price in pairs}


def _plan(name: str, table: dict[str, Any], price_override: str | None) -> Plan:
    known = {f.name for f in fields(Plan)} - {"name"}
    unknown = set(table) - known
    if unknown:
        raise ConfigurationError(
            f"Plan {name!r} has unknown settings: {', '.join(sorted(unknown))}."
        )
    for limit in _LIMITS:
        value = table.get(limit, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigurationError(f"Plan {name!r}: {limit} must be a whole number ≥ 0.")
    values = {**table, "name": name, "label": str(table.get("label") or name.title())}
    if price_override is not None:
        values["stripe_price"] = price_override
    return Plan(**values)


def load_plans(path: Path, price_overrides: dict[str, str]) -> PlanCatalogue:
    """Read and check a plans file.

    Raises:
        ConfigurationError: the file is missing or malformed, or it does not have exactly one
            plan without a Stripe price.
    """
    try:
        tables = tomllib.loads(path.read_text(encoding="utf-8")).get("plans", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"The plans file {path} cannot be read: {exc}") from exc
    plans = {name: _plan(name, t, price_overrides.get(name)) for name, t in tables.items()}
    free = [plan for plan in plans.values() if not plan.paid]
    if len(free) != 1:
        raise ConfigurationError(f"The plans file {path} needs exactly one plan without a price.")
    return PlanCatalogue(plans, free[0])


@lru_cache(maxsize=4)
def _cached(path: str, price_ids: str) -> PlanCatalogue:
    return load_plans(Path(path), parse_price_ids(price_ids))


def catalogue() -> PlanCatalogue:
    """The plans of this process's settings (read once per file and price list)."""
    settings = get_settings()
    path = Path(settings.plans_file) if settings.plans_file.strip() else DEFAULT_PLANS_FILE
    return _cached(str(path), settings.stripe_price_ids)
