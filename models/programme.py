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

from models.rules.groupbuy import DEFAULT_MEMBER_CAP, configured_cap
from models.rules.notify import Quiet, parse_clock
from models.rules.pickup import ReminderPlan
from models.rules.tiers import Tier

DEFAULT_TIER_NAMES: dict[str, dict[str, str]] = {
    "bronze": {"zh-Hant": "銅", "zh-Hans": "铜", "en": "Bronze"},
    "silver": {"zh-Hant": "銀", "zh-Hans": "银", "en": "Silver"},
    "gold": {"zh-Hant": "金", "zh-Hans": "金", "en": "Gold"},
    "diamond": {"zh-Hant": "鑽石", "zh-Hans": "钻石", "en": "Diamond"},
}

DEFAULT_PROGRAMME: dict[str, Any] = {
    "tiers": [
        {"key": "bronze", "min_spend": 0, "min_invites": None, "discount_pct": 100,
         "points_multiplier_pct": 100, "birthday_coupon": 5_000},
        {"key": "silver", "min_spend": 300_000, "min_invites": None, "discount_pct": 95,
         "points_multiplier_pct": 120, "birthday_coupon": 10_000},
        {"key": "gold", "min_spend": 800_000, "min_invites": 3, "discount_pct": 90,
         "points_multiplier_pct": 150, "birthday_coupon": 20_000},
        {"key": "diamond", "min_spend": 2_000_000, "min_invites": 10, "discount_pct": 85,
         "points_multiplier_pct": 200, "birthday_coupon": 50_000},
    ],
    "minor_per_point": 1_000,
    "points_expiry_months": 12,
    "checkin": {"base": 5, "bonus_every": 7, "bonus": 20},
    "referral_reward_points": {"referrer": 100, "referee": 50},
    "birthday_coupon_valid_days": 30,
    "quiet_hours": {"start": "22:00", "end": "08:00"},
    "frequency_cap_per_week": 3,
    "commission_ladder": [[0, 5], [1_000_000, 8], [3_000_000, 10]],
    "commission_level2_pct": 2,
    "commission_cap_pct": 12,
    "payment_reminders": {"after_hours": 24, "gap_hours": 24, "count": 2},
    "pickup_days": 3,
    "rating_after_hours": 24,
    "interest_tags": {"min_purchases": 2},
    "automations": {
        "welcome": {"on": True, "coupon": 5_000, "valid_days": 30, "within_days": 7},
        "winback": {"on": True, "days": 60},
        "expiry_reminder": {"on": True, "days": 14},
        "tier_nudge": {"on": True, "days": 30},
        "replenish_demand": {"on": True},
    },
}


UPGRADE_COUPON = 10_000


@dataclass(frozen=True)
class Automations:
    """The scheduler's automatic pushes (README "Automations"); days are whole days."""

    welcome: bool = True  # a greeting with a coupon, once, to a member who joined lately
    welcome_coupon: int = 5_000  # minor units; 0: the greeting without a coupon
    welcome_valid_days: int = 30
    welcome_within_days: int = 7  # only members who joined in the last N days
    winback: bool = True  # once per lapse, N days after the last order
    winback_days: int = 60
    expiry_reminder: bool = True  # N days before earned points lapse, once per batch
    expiry_reminder_days: int = 14
    tier_nudge: bool = True  # N days before a period end that would move the member down
    tier_nudge_days: int = 30
    replenish_demand: bool = True  # no open buy to link: the leader hears how many are due


def _automations(config: dict[str, Any] | None) -> Automations:
    given = {name: {**part, **((config or {}).get(name) or {})}
             for name, part in DEFAULT_PROGRAMME["automations"].items()}
    unknown = set(config or {}) - set(given)
    if unknown:
        raise ValueError(f"automations: unknown {', '.join(sorted(unknown))} "
                         f"(known: {', '.join(given)})")

    def days(name: str, key: str = "days", low: int = 1) -> int:
        value = int(given[name][key])
        if not low <= value <= 365:
            raise ValueError(f"automations.{name}.{key} must be {low}–365 days, not {value}")
        return value

    coupon = int(given["welcome"]["coupon"])
    if not 0 <= coupon <= 10_000_000:
        raise ValueError(f"automations.welcome.coupon must be 0–10000000 (minor units), not {coupon}")
    return Automations(
        welcome=bool(given["welcome"]["on"]), welcome_coupon=coupon,
        welcome_valid_days=days("welcome", "valid_days"),
        welcome_within_days=days("welcome", "within_days"),
        winback=bool(given["winback"]["on"]), winback_days=days("winback"),
        expiry_reminder=bool(given["expiry_reminder"]["on"]),
        expiry_reminder_days=days("expiry_reminder"),
        tier_nudge=bool(given["tier_nudge"]["on"]), tier_nudge_days=days("tier_nudge"),
        replenish_demand=bool(given["replenish_demand"]["on"]),
    )


def _min_purchases(config: dict[str, Any] | None) -> int:
    value = int({**DEFAULT_PROGRAMME["interest_tags"], **(config or {})}["min_purchases"])
    if not 1 <= value <= 1000:
        raise ValueError(f"interest_tags.min_purchases must be 1–1000, not {value}")
    return value


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
    interest_tag_min_purchases: int = 2  # buys in a category that earn its tag
    automations: Automations = Automations()

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
        interest_tag_min_purchases=_min_purchases(merged.get("interest_tags")),
        automations=_automations(merged.get("automations")),
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
    """The community's programme, parsed once per distinct configuration."""
    config = getattr(community, "programme", None) or {}
    return _parsed(json.dumps(config, sort_keys=True)) if config else _DEFAULT


_DEFAULT = programme_from({})


WHOLE_UNITS = {"TWD": 100}  # prices are quoted in whole dollars: no NT$31.35


def price_unit(community: object) -> int:
    """The smallest amount a price may end in, in minor units (config "price_unit" wins)."""
    config = getattr(community, "programme", None) or {}
    if "price_unit" in config:
        return max(1, int(config["price_unit"]))
    return WHOLE_UNITS.get(str(getattr(community, "currency", "")), 1)
