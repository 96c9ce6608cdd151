"""A member takes some units off their order ('/cancel #N 1', '-1'): newest line first; a line
that fits inside what is taken off is cancelled whole (its coupon and points go back), the
last one is shortened and repriced. Freed stock serves the waitlist in order.

Repricing a shortened line: the member's tier discount on the new quantity; a coupon stays on
the line and is worked out again on the smaller amount (unless the line no longer reaches the
coupon's minimum spend: then it comes off the line and back to the member's wallet); points
already used stay on it while they still fit, and what no longer fits goes back to the balance.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from models import coupons, fulfilment, groupbuys, ledger, orderlines
from models.buying import MEMBER_CANCELS, POINT_VALUE, Cancelled, brief, promoted_owners
from models.errors import DomainError
from models.programme import Programme
from models.rules import tiers as tier_rules
from models.rules.coupons import reaches_minimum
from models.rules.pricing import price_order
from models.tables import BuyStatus, GroupBuy, Member, Order
from models.types import id_of


def cancel_member_units(session: Session, *, buy: GroupBuy, member: Member, units: int,
                        programme: Programme, today: date, now: datetime,
                        price_unit: int = 1) -> Cancelled:
    """Take `units` off the member's open lines in the buy (never more than they hold)."""
    if now >= buy.deadline or buy.status != BuyStatus.OPEN:
        raise DomainError("buy_closed", buy=brief(buy))
    orderlines.hold_buy(session, id_of(buy))
    lines = groupbuys.lines_of(session, id_of(buy), id_of(member), MEMBER_CANCELS)  # newest first
    held = sum(line.quantity for line in lines)
    if not held:
        raise DomainError("nothing_to_cancel", buy=brief(buy))
    if units > held:
        raise DomainError("cancel_too_many", buy=brief(buy), held=held, units=units)
    left, promoted = units, []
    for order in lines:
        if left == 0:
            break
        if order.quantity <= left:
            released = fulfilment.cancel(session, order, buy, programme, today, now,
                                         expected=MEMBER_CANCELS)
            if released is not None:
                left -= released.quantity
                promoted += released.promoted
            continue
        served = _shorten(session, buy, order, member, left, programme, today, price_unit)
        if served is not None:
            left, promoted = 0, promoted + served
    if left == units:  # every line moved meanwhile (the leader cancelled or marked it)
        raise DomainError("nothing_to_cancel", buy=brief(buy))
    return Cancelled(units - left, promoted_owners(session, promoted))


def _shorten(session: Session, buy: GroupBuy, order: Order, member: Member, by: int,
             programme: Programme, today: date, price_unit: int) -> list[Order] | None:
    kind, value, minimum = coupons.terms_with_minimum(session, order.coupon_id)
    pct = tier_rules.find(member.tier, programme.tiers).discount_pct
    quantity, points_were, coupon_was = order.quantity - by, order.points_used, order.coupon_id
    cost = price_order(order.unit_price, quantity, pct, kind, value, points_were, POINT_VALUE,
                       price_unit)
    keeps = reaches_minimum(cost.list_price - cost.tier_discount, minimum)
    if not keeps:  # below the coupon's minimum spend: the line is priced without it
        cost = price_order(order.unit_price, quantity, pct, None, 0, points_were, POINT_VALUE,
                           price_unit)
    served = orderlines.shorten_line(
        session, id_of(buy), order, by=by, list_price=cost.list_price,
        tier_discount=cost.tier_discount, coupon_discount=cost.coupon_discount,
        points_used=cost.points_used, points_value=cost.points_value, net=cost.net,
        **({} if keeps else {"coupon_id": None}))
    if served is not None and not keeps:
        coupons.give_back(session, coupon_was)
    if served is not None and cost.points_used < points_were:
        ledger.post(session, member, points_were - cost.points_used, "refund",
                    f"order:{order.id}:points:q{quantity}", today, reason=f"#{buy.number}",
                    expiry_months=programme.points_expiry_months)
    return served
