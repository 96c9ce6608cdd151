"""A community's programme configuration: tiers, earn rates, coupons, check-in, quiet hours.

Stored as JSON on the community; every key has the default of PRODUCT.md, so an empty
configuration is a working programme.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from typing import Any

from models.programme_defaults import DEFAULT_PROGRAMME, DEFAULT_TIER_NAMES
from models.programme_sections import (
    APPLY,
    EVERYONE,
    SPEND_THRESHOLD,
    Automations,
    Distribution,
    ProgrammeError,
    automations_of,
    campaign_window_of,
    champion_rewards,
    distribution_of,
    min_purchases_of,
    referral_terms,
)
from models.rules.groupbuy import DEFAULT_MEMBER_CAP, configured_cap
from models.rules.notify import Quiet, parse_clock
from models.rules.pickup import ReminderPlan
from models.rules.referral import POINTS, ReferralTerms, Reward
from models.rules.tiers import Tier

__all__ = ["APPLY", "DEFAULT_PROGRAMME", "DEFAULT_TIER_NAMES", "EVERYONE", "SPEND_THRESHOLD",
           "Automations", "Distribution", "Programme", "ProgrammeError", "price_unit",
           "programme_for", "programme_from"]

UPGRADE_COUPON = 10_000
@dataclass(frozen=True)
class Programme:
    tiers: tuple[Tier, ...]
    tier_names: dict[str, dict[str, str]]
    birthday_coupon: dict[str, int]
    minor_per_point: int
    points_expiry_months: int
    checkin_base: int
    checkin_bonus_every: int
    checkin_bonus: int
    referrer_points: int
    referee_points: int
    birthday_coupon_valid_days: int
    quiet_hours: Quiet | None  # no promotions or reminders inside (local time)
    frequency_cap_per_week: int | None  # promotions per member per week
    upgrade_coupons: dict[str, int] = field(default_factory=dict)  # tier -> coupon value
    member_cap: int | None = DEFAULT_MEMBER_CAP  # units per member in a buy without a limit
    payment_reminders: ReminderPlan = ReminderPlan(timedelta(hours=24), timedelta(hours=24), 2)
    pickup_days: int = 3  # the pickup window when '/arrived' names no end
    rating_after: timedelta = timedelta(hours=24)  # a delivered member is asked to rate then
    # a purchase this long after a campaign's send converts for it (and earns its multiplier)
    campaign_window: timedelta = timedelta(days=7)
    interest_tag_min_purchases: int = 2  # buys in a category that earn its tag
    automations: Automations = Automations()
    referral: ReferralTerms = ReferralTerms(Reward(POINTS, 100), Reward(POINTS, 50))
    champions: dict[str, Reward | None] = field(default_factory=dict)  # month/quarter → reward
    distribution: Distribution = Distribution()

    def tier_name(self, key: str, locale: str) -> str:
        names = self.tier_names.get(key, {})
        return names.get(locale) or names.get("en") or key

    def upgrade_coupon(self, tier: str) -> int:
        """The value of the coupon given on reaching `tier`."""
        return self.upgrade_coupons.get(tier, UPGRADE_COUPON)


def programme_from(config: dict[str, Any] | None) -> Programme:
    merged = {**DEFAULT_PROGRAMME, **(config or {})}
    tiers = tuple(
        Tier(
            key=str(t["key"]),
            min_spend=int(t["min_spend"]),
            min_invites=None if t.get("min_invites") is None else int(t["min_invites"]),
            discount_pct=int(t["discount_pct"]),
            points_multiplier_pct=int(t["points_multiplier_pct"]),
        )
        for t in merged["tiers"]
    )
    names = {t["key"]: t.get("names") or DEFAULT_TIER_NAMES.get(t["key"], {}) for t in merged["tiers"]}
    checkin = {**DEFAULT_PROGRAMME["checkin"], **merged.get("checkin", {})}
    referral = {**DEFAULT_PROGRAMME["referral_reward_points"], **merged["referral_reward_points"]}
    return Programme(
        tiers=tiers,
        tier_names=names,
        birthday_coupon={t["key"]: int(t.get("birthday_coupon", 0)) for t in merged["tiers"]},
        minor_per_point=int(merged["minor_per_point"]),
        points_expiry_months=int(merged["points_expiry_months"]),
        checkin_base=int(checkin["base"]),
        checkin_bonus_every=int(checkin["bonus_every"]),
        checkin_bonus=int(checkin["bonus"]),
        referrer_points=int(referral["referrer"]),
        referee_points=int(referral["referee"]),
        birthday_coupon_valid_days=int(merged["birthday_coupon_valid_days"]),
        quiet_hours=_quiet(merged.get("quiet_hours")),
        frequency_cap_per_week=_optional_int(merged.get("frequency_cap_per_week")),
        upgrade_coupons={str(k): int(v) for k, v in (merged.get("upgrade_coupon") or {}).items()},
        member_cap=configured_cap(merged.get("member_cap", DEFAULT_MEMBER_CAP)),
        payment_reminders=_reminder_plan(merged["payment_reminders"]),
        pickup_days=max(1, int(merged["pickup_days"])),
        rating_after=timedelta(hours=max(0, int(merged["rating_after_hours"]))),
        campaign_window=campaign_window_of(merged["campaign_conversion_days"]),
        interest_tag_min_purchases=min_purchases_of(merged.get("interest_tags")),
        automations=automations_of(merged.get("automations")),
        referral=referral_terms(merged, int(referral["referrer"]), int(referral["referee"])),
        champions=champion_rewards(merged.get("champions")),
        distribution=distribution_of(merged),
    )


def _reminder_plan(config: dict[str, Any]) -> ReminderPlan:
    given = {**DEFAULT_PROGRAMME["payment_reminders"], **(config or {})}
    return ReminderPlan(after=timedelta(hours=max(0, int(given["after_hours"]))),
                        gap=timedelta(hours=max(1, int(given["gap_hours"]))),
                        count=max(0, int(given["count"])))


def _quiet(config: Any) -> Quiet | None:
    if not config:
        return None
    return Quiet(parse_clock(str(config["start"])), parse_clock(str(config["end"])))


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


@lru_cache(maxsize=256)
def _parsed(config_json: str) -> Programme:
    return programme_from(json.loads(config_json))


def programme_for(community: object) -> Programme:
    """The community's programme, parsed once per distinct configuration (a community read
    as values carries its configuration's stored text: models.sender)."""
    stored = getattr(community, "programme_json", None)
    if stored is not None:
        return programme_of_json(stored)
    config = getattr(community, "programme", None) or {}
    return _parsed(json.dumps(config, sort_keys=True)) if config else _DEFAULT


def programme_of_json(config_json: str | None) -> Programme:
    """The programme from a community's stored configuration text (a light read of it)."""
    return _from_text(config_json) if config_json else _DEFAULT


@lru_cache(maxsize=256)
def _config_of(config_json: str) -> dict[str, Any]:
    """A stored configuration text as read (never changed: shared by its callers)."""
    config = json.loads(config_json) if config_json else {}
    return config if isinstance(config, dict) else {}


@lru_cache(maxsize=256)
def _from_text(config_json: str) -> Programme:
    config = _config_of(config_json)
    return _parsed(json.dumps(config, sort_keys=True)) if config else _DEFAULT


_DEFAULT = programme_from({})


def _config(community: object) -> dict[str, Any]:
    """The community's configuration, from a model or from its stored text (models.sender)."""
    stored = getattr(community, "programme_json", None)
    return _config_of(stored) if stored is not None else getattr(community, "programme", None) or {}


WHOLE_UNITS = {"TWD": 100}  # prices are quoted in whole dollars: no NT$31.35


def price_unit(community: object) -> int:
    """The smallest amount a price may end in, in minor units (config "price_unit" wins)."""
    config = _config(community)
    if "price_unit" in config:
        return max(1, int(config["price_unit"]))
    return WHOLE_UNITS.get(str(getattr(community, "currency", "")), 1)
