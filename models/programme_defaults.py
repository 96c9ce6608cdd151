"""The default programme: every key with the value PRODUCT.md gives it (money in minor units)."""

from __future__ import annotations

from typing import Any

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
    "referral_reward": {"referrer": "points", "referee": "points"},  # or "coupon", per side
    "referral_reward_coupon": {"referrer": 10_000, "referee": 5_000},  # amount off, minor units
    "referral_coupon_valid_days": 30,
    "referral_min_purchase": 0,  # minor units: the referee's purchase must reach it
    "referral_hold": {"over": 10, "hours": 24},  # null: never held for review
    "champions": {"month": {"kind": "points", "value": 500},  # null: no champion that period
                  "quarter": {"kind": "coupon", "value": 50_000}},
    "birthday_coupon_valid_days": 30,
    "quiet_hours": {"start": "22:00", "end": "08:00"},
    "frequency_cap_per_week": 3,
    "commission_ladder": [[0, 5], [1_000_000, 8], [3_000_000, 10]],
    "commission_level2_pct": 2,
    "commission_cap_pct": 12,
    "commission_levels": 2,
    "distribution": {"mode": "apply", "min_spend": 0, "self_purchase": False,
                     "return_days": 7, "review_days": 90},
    "payment_reminders": {"after_hours": 24, "gap_hours": 24, "count": 2},
    "pickup_days": 3,
    "rating_after_hours": 24,
    "campaign_conversion_days": 7,
    "interest_tags": {"min_purchases": 2},
    "automations": {
        "welcome": {"on": True, "coupon": 5_000, "valid_days": 30, "within_days": 7},
        "winback": {"on": True, "days": 60},
        "expiry_reminder": {"on": True, "days": 14},
        "tier_nudge": {"on": True, "days": 30},
        "replenish_demand": {"on": True},
    },
}
