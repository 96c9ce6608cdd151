"""A member in a group buy: join it, cancel one's own lines, put a coupon or points on a line.

Each operation refuses with a DomainError (the transaction then rolls back, so a coupon
redeemed on the way is not spent) and changes a line only on the state it read, in the
same statement: a line cancelled, marked or repriced meanwhile is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from models import coupons, exclusive, fulfilment, groupbuys, joining, ledger, orderlines
from models.db import Runner
from models.errors import DomainError, Usage
from models.programme import Programme
from models.rules import groupbuy as rules
from models.rules import tiers as tier_rules
from models.rules.coupons import reaches_minimum
from models.rules.pricing import Breakdown, price_order
from models.tables import BuyStatus, GroupBuy, LineStatus, Member, Order
from models.types import id_of, rows_matched

POINT_VALUE = 100  # one point takes one currency unit (100 minor units) off
REPRICEABLE = (LineStatus.ALLOCATED,)  # a coupon or points go on a line that holds stock, unpaid
MEMBER_CANCELS = (LineStatus.ALLOCATED, LineStatus.WAITLISTED)


def brief(buy: GroupBuy) -> SimpleNamespace:
    """What a refusal may mention of a group buy, safe after the transaction rolled back."""
    return SimpleNamespace(number=buy.number, title=buy.title)


def owners(session: Session, orders: list[Order]) -> list[tuple[Order, Member]]:
    """Each line with its member (to tell them), in the order given."""
    if not orders:
        return []
    people = {m.id: m for m in session.execute(
        select(Member).where(col(Member.id).in_({o.member_id for o in orders}))).scalars()}
    return [(o, people[o.member_id]) for o in orders if o.member_id in people]


def promoted_owners(session: Session, promoted: list[Order]) -> list[tuple[Order, Member]]:
    """Waiting lines that now hold stock (not one cancelled meanwhile), with their members."""
    return owners(session, [o for o in promoted if o.status == LineStatus.ALLOCATED])


def join_buy(session: Runner, *, buy: GroupBuy, member: Member, quantity: int,
             source_key: str, programme: Programme, now: datetime, tz: tzinfo,
             price_unit: int = 1, held: joining.Held | None = None) -> joining.Joined:
    """'+N': what stock allows is allocated, the rest waits; `Joined.held` is what the member
    then holds in the buy, its lines are detached (to read; `session.get` one to change it).
    Refused when the buy is closed, not yet open to the member's tier (`tz` words the opening
    time), or the member's limit would be passed. `held`: the buy as
    `joining.hold_chat_buy` held it (else it is held here, before the limit check)."""
    if buy.status != BuyStatus.OPEN or now >= buy.deadline:
        raise DomainError("buy_closed", buy=brief(buy))
    tiers = programme.tiers
    exclusive.admits(session, buy, member, programme, now)
    early = tier_rules.rank(buy.early_tier, tiers) if buy.early_tier else None
    if now < buy.opens_at and (early is None or tier_rules.rank(member.tier, tiers) < early):
        raise DomainError("opens_later", buy=brief(buy),
                          at=buy.opens_at.astimezone(tz).strftime("%H:%M"))
    if held is None:
        held = joining.hold(session, id_of(buy))
    units, queue = joining.standing(session, id_of(buy), id_of(member))
    limit = rules.member_cap(buy.per_member_limit, buy.price, programme.member_cap)
    if not rules.within_member_limit(units, quantity, limit):
        raise DomainError("over_limit", buy=brief(buy), held=units, limit=limit)
    discount = tier_rules.find(member.tier, tiers).discount_pct
    joined = joining.join(session, buy, member, quantity, source_key, discount, now, price_unit,
                          held=held, queue=queue, attach=False)  # lines to read
    joined.held = units + quantity
    return joined


@dataclass
class Cancelled:
    units: int
    promoted: list[tuple[Order, Member]] = field(default_factory=list)


def cancel_member_lines(session: Session, *, buy: GroupBuy, member: Member,
                        programme: Programme, today: date, now: datetime) -> Cancelled:
    """The member's '/cancel': every line still allocated or waiting, while the buy is open;
    their coupon and points go back, the units to the waitlist in order."""
    if now >= buy.deadline or buy.status != BuyStatus.OPEN:
        raise DomainError("buy_closed", buy=brief(buy))
    lines = groupbuys.lines_of(session, id_of(buy), id_of(member), MEMBER_CANCELS)
    released = [done for order in lines
                if (done := fulfilment.cancel(session, order, buy, programme, today, now,
                                              expected=MEMBER_CANCELS))]
    if not released:  # nothing open, or the leader cancelled (or marked) it a moment ago
        raise DomainError("nothing_to_cancel", buy=brief(buy))
    promoted = [line for done in released for line in done.promoted]
    return Cancelled(sum(done.quantity for done in released), promoted_owners(session, promoted))


def apply_coupon(session: Session, *, buy: GroupBuy, order: Order, member: Member, code: str,
                 programme: Programme, today: date, now: datetime, price_unit: int = 1) -> Order:
    """Put the member's coupon `code` on the line; points it no longer needs go back. A
    coupon whose minimum spend the line (after the tier discount) does not reach is refused."""
    orderlines.hold_buy(session, id_of(buy))  # the buy first, as a cancel
    found = coupons.by_code(session, id_of(member), code) if code else None
    if found is None or order.coupon_id is not None:
        raise DomainError("bad_coupon", code=code)
    coupon, tmpl = found
    if not reaches_minimum(order.list_price - order.tier_discount, tmpl.min_spend):
        raise DomainError("coupon_minimum", code=code, minimum=tmpl.min_spend)
    if not coupons.redeem(session, id_of(coupon), now):
        raise DomainError("bad_coupon", code=code)
    spent = order.points_used  # already taken from the balance by /usepoints
    cost = _price(order, member, programme, tmpl.kind, tmpl.value, spent, price_unit)
    if not _reprice(session, order, cost, coupon.id, coupon_was=None, points_were=spent):
        raise _refusal(session, buy, order, DomainError("bad_coupon", code=code))
    if cost.points_used < spent:  # the coupon left less to pay: the unused points go back
        ledger.post(session, member, spent - cost.points_used, "refund",
                    f"order:{order.id}:points:coupon", today, reason=f"#{buy.number}",
                    expiry_months=programme.points_expiry_months)
    return order


def apply_points(session: Session, *, buy: GroupBuy, order: Order, member: Member,
                 points: int, programme: Programme, today: date) -> Order:
    """Pay part of the line with up to `points` of the member's balance, once per line."""
    orderlines.hold_buy(session, id_of(buy))  # the buy first, as a cancel
    if order.points_used:
        raise Usage("usepoints")
    if points > member.points_balance:
        raise DomainError("points_short", balance=member.points_balance, wanted=points)
    kind, value = coupons.terms(session, order.coupon_id)
    cost = _price(order, member, programme, kind, value, min(points, member.points_balance))
    if not _reprice(session, order, cost, order.coupon_id, coupon_was=order.coupon_id,
                    points_were=0):
        raise _refusal(session, buy, order, Usage("usepoints"))
    if cost.points_used:
        ledger.post(session, member, -cost.points_used, "redeem", f"order:{order.id}:points",
                    today, reason=f"#{buy.number}")
    return order


def _price(order: Order, member: Member, programme: Programme, kind: str | None, value: int,
           points: int, price_unit: int = 1) -> Breakdown:
    tier = tier_rules.find(member.tier, programme.tiers)
    return price_order(order.unit_price, order.quantity, tier.discount_pct, kind, value, points,
                       POINT_VALUE, price_unit)


def _reprice(session: Session, order: Order, cost: Breakdown, coupon_id: int | None, *,
             coupon_was: int | None, points_were: int) -> bool:
    """Keep the breakdown on the line if it is still open and still carries the coupon and
    points it was priced from; one conditional UPDATE. False when it changed meanwhile."""
    coupon_now = (col(Order.coupon_id).is_(None) if coupon_was is None
                  else col(Order.coupon_id) == coupon_was)
    values: dict[str, Any] = dict(
        list_price=cost.list_price, tier_discount=cost.tier_discount,
        coupon_discount=cost.coupon_discount, coupon_id=coupon_id, points_used=cost.points_used,
        points_value=cost.points_value, net=cost.net)
    done = session.execute(
        update(Order).where(col(Order.id) == order.id, col(Order.status).in_(REPRICEABLE),
                            coupon_now, col(Order.points_used) == points_were)
        .values(**values).execution_options(synchronize_session="fetch"))
    return rows_matched(done) == 1


def _refusal(session: Session, buy: GroupBuy, order: Order, otherwise: DomainError) -> DomainError:
    """Why a reprice found the line changed: no longer open, or priced by someone else."""
    if orderlines.status_of(session, id_of(order)) not in REPRICEABLE:
        return DomainError("nothing_to_price", buy=brief(buy))
    return otherwise
