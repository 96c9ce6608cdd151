"""Parts of the programme with rules of their own: distribution (modes, the commission
ladder, at most two levels), automations, referral terms, champions, the campaign window.
Each parser raises ProgrammeError (or ValueError) naming the key and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from models.programme_defaults import DEFAULT_PROGRAMME
from models.rules.commission import CommissionConfigError, Ladder, check
from models.rules.referral import COUPON, POINTS, REWARD_KINDS, ReferralTerms, Reward

APPLY, EVERYONE, SPEND_THRESHOLD = "apply", "everyone", "spend_threshold"  # distribution modes


class ProgrammeError(ValueError):
    """A configuration the rules refuse; the message names the key and why."""


@dataclass(frozen=True)
class Distribution:
    """Who is a distributor and what they earn (see models/rules/commission.py).

    mode: "apply" (a member applies, a leader approves), "everyone" (人人分銷: every member
    who has not been suspended), "spend_threshold" (滿額分銷: every member whose delivered
    spend reached `min_spend`). `review_days`: an approved distributor with no delivered
    sale for that many days is suspended by the review job (None: no review).
    """

    mode: str = APPLY
    min_spend: int = 0
    self_purchase: bool = False  # a distributor earns level 1 on their own purchases
    return_window: timedelta = timedelta(days=7)  # pending until then, then confirmed
    review_days: int | None = 90
    ladder: Ladder = ((0, 5), (1_000_000, 8), (3_000_000, 10))
    level2_pct: int = 2
    cap_pct: int = 12


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


def automations_of(config: dict[str, Any] | None) -> Automations:
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


def min_purchases_of(config: dict[str, Any] | None) -> int:
    value = int({**DEFAULT_PROGRAMME["interest_tags"], **(config or {})}["min_purchases"])
    if not 1 <= value <= 1000:
        raise ValueError(f"interest_tags.min_purchases must be 1–1000, not {value}")
    return value


MAX_CONVERSION_DAYS = 90


def campaign_window_of(value: Any) -> timedelta:
    """1–90 days; anything else is a configuration error, said plainly."""
    days = int(value)
    if not 1 <= days <= MAX_CONVERSION_DAYS:
        raise ValueError(f"campaign_conversion_days must be 1–{MAX_CONVERSION_DAYS}, not {days}")
    return timedelta(days=days)


def distribution_of(merged: dict[str, Any]) -> Distribution:
    """The distribution settings, or ProgrammeError: three levels, a cap below the lowest
    level-1 rate, a negative rate, a ladder that does not increase, an unknown mode."""
    given = {**DEFAULT_PROGRAMME["distribution"], **(merged.get("distribution") or {})}
    if any(key.startswith("commission_level") and key[16:17].isdigit() and int(key[16]) > 2
           for key in merged):
        raise ProgrammeError("a third commission level is not allowed (at most 2 levels)")
    try:
        ladder = check(merged["commission_ladder"], int(merged["commission_level2_pct"]),
                       int(merged["commission_cap_pct"]), int(merged["commission_levels"]))
    except CommissionConfigError as wrong:
        raise ProgrammeError(str(wrong)) from None
    except (TypeError, ValueError, IndexError):
        raise ProgrammeError("commission_ladder must be a list of [monthly sales, percent]") from None
    mode = str(given["mode"])
    if mode not in (APPLY, EVERYONE, SPEND_THRESHOLD):
        raise ProgrammeError(f"distribution.mode {mode!r}: one of apply, everyone, spend_threshold")
    numbers = {key: int(given[key] or 0) for key in ("min_spend", "return_days", "review_days")}
    if any(value < 0 for value in numbers.values()):
        raise ProgrammeError("distribution: min_spend, return_days and review_days cannot be negative")
    return Distribution(mode=mode, min_spend=numbers["min_spend"],
                        self_purchase=bool(given["self_purchase"]),
                        return_window=timedelta(days=numbers["return_days"]),
                        review_days=numbers["review_days"] or None, ladder=ladder,
                        level2_pct=int(merged["commission_level2_pct"]),
                        cap_pct=int(merged["commission_cap_pct"]))


def referral_terms(merged: dict[str, Any], referrer_points: int, referee_points: int) -> ReferralTerms:
    """The referral reward per side (points or a coupon), the minimum purchase, the hold."""
    kinds = {**DEFAULT_PROGRAMME["referral_reward"], **(merged.get("referral_reward") or {})}
    values = {**DEFAULT_PROGRAMME["referral_reward_coupon"],
              **(merged.get("referral_reward_coupon") or {})}
    points = {"referrer": referrer_points, "referee": referee_points}
    sides = {}
    for side in ("referrer", "referee"):
        kind = str(kinds[side])
        if kind not in REWARD_KINDS:
            raise ProgrammeError(f"referral_reward.{side} must be one of {', '.join(REWARD_KINDS)},"
                                 f" not {kind!r}")
        value = whole(values[side], f"referral_reward_coupon.{side}") if kind == COUPON \
            else whole(points[side], f"referral_reward_points.{side}")
        sides[side] = Reward(kind, value)
    hold = merged.get("referral_hold", DEFAULT_PROGRAMME["referral_hold"])
    over, hours = None, 24
    if hold:
        over = whole(hold.get("over", 10), "referral_hold.over")
        hours = whole(hold.get("hours", 24), "referral_hold.hours")
        if hours < 1:
            raise ProgrammeError("referral_hold.hours must be at least 1")
    return ReferralTerms(
        sides["referrer"], sides["referee"],
        min_purchase=whole(merged.get("referral_min_purchase", 0), "referral_min_purchase"),
        hold_over=over, hold_window=timedelta(hours=hours),
        coupon_valid_days=max(1, whole(merged.get("referral_coupon_valid_days", 30),
                                        "referral_coupon_valid_days")))


def champion_rewards(config: Any) -> dict[str, Reward | None]:
    """The month's and the quarter's champion reward (points or a coupon); None: no champion."""
    given = {**DEFAULT_PROGRAMME["champions"], **(config or {})}
    found: dict[str, Reward | None] = {}
    for period in ("month", "quarter"):
        terms = given[period]
        if not terms:
            found[period] = None
            continue
        kind = str(terms.get("kind", POINTS)) if isinstance(terms, dict) else ""
        if kind not in REWARD_KINDS:
            raise ProgrammeError(f"champions.{period} must be {{\"kind\": \"points\" or \"coupon\","
                                 f" \"value\": N}} or null, not {terms!r}")
        found[period] = Reward(kind, whole(terms.get("value", 0), f"champions.{period}.value"))
    return found


def whole(value: Any, key: str) -> int:
    """A whole number of at least 0, or a ProgrammeError naming the key."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ProgrammeError(f"{key} must be a whole number, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise ProgrammeError(f"{key} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ProgrammeError(f"{key} must not be negative ({number})")
    return number
