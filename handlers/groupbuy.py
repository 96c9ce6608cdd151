"""Member side of group buys: '+1' (and friends), cancel, my orders, coupons and points."""

from __future__ import annotations

import re
from types import SimpleNamespace

from handlers.context import Ctx
from messages.types import Reply
from models import coupons, fulfilment, groupbuys, ledger
from models.errors import DomainError, Usage
from models.programme import price_unit
from models.rules import groupbuy as rules
from models.rules import tiers as tier_rules
from models.rules.pricing import Breakdown, price_order
from models.rules.text import parse_amount
from models.tables import GroupBuy, Member, Order

MAX_UNITS = 9999
POINT_VALUE = 100  # one point takes one currency unit (100 minor units) off
_NUMBER = re.compile(r"#(\d{1,6})")


def brief(buy: GroupBuy) -> SimpleNamespace:
    """What a refusal may mention of a group buy, safe after the transaction rolled back."""
    return SimpleNamespace(number=buy.number, title=buy.title)


def _number(args: str) -> tuple[int | None, str]:
    """'#12' anywhere in the arguments picks group buy 12; returns it and the rest."""
    match = _NUMBER.search(args)
    if match is None:
        return None, args
    return int(match.group(1)), (args[: match.start()] + args[match.end():]).strip()


def find_buy(ctx: Ctx, args: str, closed_too: bool = False) -> tuple[GroupBuy, str]:
    """The group buy '#N' names, else the chat's open one (in private: the one joined last).

    `closed_too`: without '#N', fall back to the chat's latest group buy even when it is
    closed, so '/delivered all' works after '/close' and a late '+1' hears it is closed.
    """
    number, rest = _number(args)
    if number is None and not ctx.msg.is_group:
        number = groupbuys.latest_number_of(ctx.session, ctx.member.id)  # type: ignore[arg-type]
    buy = groupbuys.current(ctx.session, ctx.msg.channel, ctx.msg.chat, number, ctx.community.id)
    if buy is None and number is None and closed_too and ctx.msg.is_group:
        buy = groupbuys.current(ctx.session, ctx.msg.channel, ctx.msg.chat, any_status=True)
    if buy is None or buy.community_id != ctx.community.id:
        raise DomainError("no_open_buy")
    return buy, rest


def members_buy(ctx: Ctx, statuses: tuple[str, ...]) -> tuple[GroupBuy, str]:
    """For '/cancel', '/usepoints'…: '#N', else the buy in which the member has such a line
    most recently, else the chat's current one."""
    number, rest = _number(ctx.args)
    if number is None and ctx.msg.is_group:
        found = groupbuys.member_latest_in_chat(ctx.session, ctx.msg.channel, ctx.msg.chat,
                                                ctx.member.id, statuses)  # type: ignore[arg-type]
        if found is not None:
            return found, rest
    return find_buy(ctx, ctx.args, closed_too=True)


def _quantity(ctx: Ctx, rest: str) -> int:
    try:
        quantity = rules.join_quantity(rest)  # '+2', '加兩份', '同上+1'; None for '2
    except rules.BadQuantity:
        raise Usage("join") from None
    if quantity is None:
        digits = rest.strip() or "1"
        if not digits.isdigit() or not digits.isascii() or len(digits) > len(str(MAX_UNITS)):
            raise Usage("join")
        quantity = int(digits)
    if not 1 <= quantity <= MAX_UNITS:
        raise Usage("join")
    return quantity


def join(ctx: Ctx) -> list[Reply]:
    buy, rest = find_buy(ctx, ctx.args, closed_too=True)
    quantity = _quantity(ctx, rest)
    if buy.status != "open" or ctx.now >= buy.deadline:
        raise DomainError("buy_closed", buy=brief(buy))
    tiers = ctx.programme.tiers
    early = tier_rules.rank(buy.early_tier, tiers) if buy.early_tier else None
    if ctx.now < buy.opens_at and (early is None or tier_rules.rank(ctx.member.tier, tiers) < early):
        raise DomainError("opens_later", buy=brief(buy),
                          at=buy.opens_at.astimezone(ctx.local_now.tzinfo).strftime("%H:%M"))
    groupbuys.hold_for_join(ctx.session, buy.id)  # type: ignore[arg-type]  # before the limit check
    held = groupbuys.units_of(ctx.session, buy.id, ctx.member.id)  # type: ignore[arg-type]
    limit = rules.member_cap(buy.per_member_limit, buy.price, ctx.programme.raw.get("member_cap"))
    if not rules.within_member_limit(held, quantity, limit):
        raise DomainError("over_limit", buy=brief(buy), held=held, limit=limit)
    discount = tier_rules.find(ctx.member.tier, tiers).discount_pct
    joined = groupbuys.join(ctx.session, buy, ctx.member, quantity,
                            f"{ctx.msg.channel}:{ctx.msg.event_key}", discount, ctx.now,
                            price_unit(ctx.community))
    if joined.duplicate:
        return []
    net = sum(order.net for order in joined.orders)
    context = dict(buy=buy, joined=joined, net=net, held=held + quantity)
    if not ctx.msg.is_group:
        return [ctx.reply("joined", **context)]
    ctx.push(ctx.member, "joined", f"joined:{joined.orders[0].id}", **context)
    return []  # the group sees the roster, not one answer per '+1'


def cancel(ctx: Ctx) -> list[Reply]:
    buy, _ = members_buy(ctx, ("allocated", "waitlisted"))
    if ctx.now >= buy.deadline or buy.status != "open":
        raise DomainError("buy_closed", buy=brief(buy))
    lines = groupbuys.lines_of(ctx.session, buy.id, ctx.member.id, ("allocated", "waitlisted"))  # type: ignore[arg-type]
    released = [done for order in lines
                if (done := fulfilment.cancel(ctx.session, order, buy, ctx.programme, ctx.today,
                                              ctx.now, expected=("allocated", "waitlisted")))]
    if not released:  # nothing open, or the leader cancelled (or marked) it a moment ago
        raise DomainError("nothing_to_cancel", buy=brief(buy))
    _tell_promoted(ctx, buy, [line for done in released for line in done.promoted])
    units = sum(done.quantity for done in released)
    return [ctx.card("cancelled", buy=buy, units=units)]


def _tell_promoted(ctx: Ctx, buy: GroupBuy, promoted: list[Order]) -> None:
    """Tell each member whose waiting line now holds stock (not one cancelled meanwhile)."""
    for order in promoted:
        if order.status != "allocated":
            continue
        member = ctx.session.get(Member, order.member_id)
        if member is not None:
            ctx.push(member, "promoted", f"promoted:{order.id}", buy=buy, order=order)


def orders(ctx: Ctx) -> list[Reply]:
    mine = groupbuys.member_orders(ctx.session, ctx.member.id)  # type: ignore[arg-type]
    return [ctx.card("orders", orders=mine)]


def _my_line(ctx: Ctx) -> tuple[GroupBuy, Order]:
    buy, rest = members_buy(ctx, ("allocated",))
    lines = groupbuys.lines_of(ctx.session, buy.id, ctx.member.id, ("allocated",))  # type: ignore[arg-type]
    if not lines:
        raise DomainError("nothing_to_price", buy=brief(buy))
    ctx.args = rest
    return buy, lines[0]


def use_coupon(ctx: Ctx) -> list[Reply]:
    if not ctx.args.strip():
        raise Usage("usecoupon")
    buy, order = _my_line(ctx)
    code = ctx.args.strip().upper()[:16]
    found = coupons.by_code(ctx.session, ctx.member.id, code) if code else None  # type: ignore[arg-type]
    if found is None or order.coupon_id is not None:
        raise DomainError("bad_coupon", code=code)
    coupon, tmpl = found
    after_tier = order.list_price - order.tier_discount
    if after_tier < tmpl.min_spend or not coupons.redeem(ctx.session, coupon.id, ctx.now):  # type: ignore[arg-type]
        raise DomainError("bad_coupon", code=code)
    spent = order.points_used  # already taken from the balance by /usepoints
    cost = _reprice(ctx, order, tmpl.kind, tmpl.value, spent, coupon.id, available=spent)
    if cost.points_used < spent:  # the coupon left less to pay: the unused points go back
        ledger.post(ctx.session, ctx.member, spent - cost.points_used, "refund",
                    f"order:{order.id}:points:coupon", ctx.today, reason=f"#{buy.number}",
                    expiry_months=ctx.programme.points_expiry_months)
    return [ctx.card("order_priced", buy=buy, order=order)]


def use_points(ctx: Ctx) -> list[Reply]:
    if not ctx.args.strip():
        raise Usage("usepoints")
    buy, order = _my_line(ctx)
    wanted = parse_amount(ctx.args) or 0
    if not 0 < wanted <= 10_000_000 or order.points_used:
        raise Usage("usepoints")
    kind, value = coupons.terms(ctx.session, order.coupon_id)
    cost = _reprice(ctx, order, kind, value, wanted, order.coupon_id,
                    available=ctx.member.points_balance)
    if cost.points_used:
        ledger.post(ctx.session, ctx.member, -cost.points_used, "redeem", f"order:{order.id}:points",
                    ctx.today, reason=f"#{buy.number}")
    return [ctx.card("order_priced", buy=buy, order=order)]


def _reprice(ctx: Ctx, order: Order, kind: str | None, value: int, points: int,
             coupon_id: int | None, available: int) -> Breakdown:
    """Price the line again with a coupon and/or points; the breakdown is kept on the order.

    `available`: how many of the points the member can put in (their balance, or what the
    order already holds).
    """
    tier = tier_rules.find(ctx.member.tier, ctx.programme.tiers)
    cost = price_order(order.unit_price, order.quantity, tier.discount_pct, kind, value,
                       min(points, available), POINT_VALUE)
    order.list_price, order.tier_discount = cost.list_price, cost.tier_discount
    order.coupon_discount, order.coupon_id = cost.coupon_discount, coupon_id
    order.points_used, order.points_value, order.net = cost.points_used, cost.points_value, cost.net
    ctx.session.add(order)
    return cost
