"""Coupons: what a coupon takes off an order, whether it can be used now, fresh codes."""

from __future__ import annotations

import secrets
from datetime import datetime

AMOUNT_OFF = "amount"
PERCENT_OFF = "percent"
FREE_SHIPPING = "shipping"
GIFT = "gift"
KINDS = (AMOUNT_OFF, PERCENT_OFF, FREE_SHIPPING, GIFT)

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_RANDOM = secrets.SystemRandom()  # the operating system's randomness, as secrets.choice


def discount(kind: str, value: int, subtotal: int, shipping: int = 0, unit: int = 1) -> int:
    """Minor units taken off: never more than the subtotal (plus shipping for free shipping).

    Percent off rounds down: to the minor unit, then to a multiple of `unit` (the price unit,
    a whole NT$ for TWD), so a price that was whole stays whole: 10 % of NT$333 is NT$33 off.
    A gift takes nothing off (the line carries the coupon, the leader hands the gift over).
    """
    if subtotal <= 0:
        return 0
    if kind == AMOUNT_OFF:
        return max(0, min(value, subtotal))
    if kind == PERCENT_OFF:
        off = subtotal * max(0, min(value, 100)) // 100
        return off - off % unit if unit > 1 and off != subtotal else off
    if kind == FREE_SHIPPING:
        return max(0, shipping)
    return 0


def usable(
    now: datetime,
    valid_from: datetime,
    valid_until: datetime,
    redeemed: bool,
    subtotal: int = 0,
    min_spend: int = 0,
) -> bool:
    """Inside its validity window, not yet redeemed, and the order reaches the minimum spend."""
    return not redeemed and valid_from <= now < valid_until and subtotal >= min_spend


def reaches_minimum(subtotal: int, min_spend: int) -> bool:
    """A coupon with a minimum spend counts only on a line whose price after the tier
    discount reaches it; a line shortened below it loses the coupon (it goes back)."""
    return subtotal >= min_spend


def within_limit(already_issued: int, per_member_limit: int | None) -> bool:
    """A member may hold at most `per_member_limit` coupons of one kind (None: no limit)."""
    return per_member_limit is None or already_issued < per_member_limit


def new_code(length: int = 10) -> str:
    """A random code without look-alike characters (no 0/O, 1/I)."""
    return "".join(_RANDOM.choices(_CODE_ALPHABET, k=length))
