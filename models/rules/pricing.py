"""What an order costs: list price, tier discount, coupon, points, net — all minor units."""

from __future__ import annotations

from dataclasses import dataclass

from models.rules.coupons import discount as coupon_discount


@dataclass(frozen=True, slots=True)
class Breakdown:
    list_price: int
    tier_discount: int
    coupon_discount: int
    points_used: int
    points_value: int
    net: int


def price_order(
    unit_price: int,
    quantity: int,
    tier_discount_pct: int,
    coupon_kind: str | None = None,
    coupon_value: int = 0,
    points: int = 0,
    point_value: int = 100,
    price_unit: int = 1,
) -> Breakdown:
    """Tier price first (rounded down to `price_unit`, in the member's favour: NT$31.35 is
    NT$31), then the coupon, then points. Points never pay more than what is left.
    """
    list_price = unit_price * quantity
    after_tier = list_price * max(0, min(tier_discount_pct, 100)) // 100
    if price_unit > 1 and after_tier != list_price:
        after_tier -= after_tier % price_unit
    tier_off = list_price - after_tier
    coupon_off = (coupon_discount(coupon_kind, coupon_value, after_tier, unit=price_unit)
                  if coupon_kind else 0)
    remaining = after_tier - coupon_off
    usable = min(max(0, points), remaining // point_value if point_value > 0 else 0)
    points_value = usable * point_value
    return Breakdown(list_price, tier_off, coupon_off, usable, points_value, remaining - points_value)
