"""Member side of group buys: '+1' (and friends), cancel, my orders, coupons and points."""

from __future__ import annotations

import re
from typing import Any

from handlers.buychoice import no_such_buy
from handlers.context import Ctx
from handlers.glance import Glance
from handlers.notify import Message, notify
from handlers.telling import tell_promoted
from messages.types import Reply
from models import buying, groupbuys, joining, shortening
from models.buying import brief
from models.errors import DomainError, NeedsSession, Usage
from models.programme import price_unit
from models.rules import groupbuy as rules
from models.rules.notify import Kind
from models.rules.text import normalize, parse_amount
from models.tables import GroupBuy, LineStatus, Order
from models.types import id_of

MAX_UNITS = 9999
_NUMBER = re.compile(r"#(\d{1,6})")


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
    named = number
    if number is None and not ctx.msg.is_group:
        number = groupbuys.latest_number_of(ctx.session, id_of(ctx.member))
    buy = groupbuys.current(ctx.session, ctx.msg.channel, ctx.msg.chat, number, ctx.community.id)
    if buy is None and number is None and closed_too and ctx.msg.is_group:
        buy = groupbuys.current(ctx.session, ctx.msg.channel, ctx.msg.chat, any_status=True)
    if buy is None and named:
        raise no_such_buy(ctx, named)  # '+1 #99': which buys there are, not "nothing is open"
    if buy is None or buy.community_id != ctx.community.id:
        raise DomainError("no_open_buy")
    return buy, rest


def members_buy(ctx: Ctx, statuses: tuple[LineStatus, ...]) -> tuple[GroupBuy, str]:
    """For '/cancel', '/usepoints'…: '#N', else the buy in which the member has such a line
    most recently, else the chat's current one."""
    number, rest = _number(ctx.args)
    if number is None and ctx.msg.is_group:
        found = groupbuys.member_latest_in_chat(ctx.session, ctx.msg.channel, ctx.msg.chat,
                                                id_of(ctx.member), statuses)
        if found is not None:
            return found, rest
    return find_buy(ctx, ctx.args, closed_too=True)


def _quantity(rest: str) -> int:
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


def join(ctx: Ctx | Glance) -> list[Reply]:
    """'+N': in a group without '#N', the chat's open buy is held at once (models.joining).

    On the light lane (a Glance: a known member's '+1' in the group, no Session) only that
    case is answered; any other, and a refusal, goes to the full path (handlers.glance)."""
    number, rest = _number(ctx.args)
    found = (joining.hold_chat_buy(ctx.runner, ctx.msg.channel, ctx.msg.chat)
             if number is None and ctx.msg.is_group else None)
    held = None
    if found is not None and found[0].community_id == ctx.community.id:
        buy, held = found
    elif isinstance(ctx, Ctx):  # '#N', in private, no open buy (a late '+1' hears it closed)
        buy, rest = find_buy(ctx, ctx.args, closed_too=True)
    else:
        raise NeedsSession("a '+1' that names its buy, or in a chat without an open one")
    quantity = _quantity(rest)
    joined = buying.join_buy(ctx.runner, buy=buy, member=ctx.member, quantity=quantity,
                             source_key=f"{ctx.msg.channel}:{ctx.msg.event_key}",
                             programme=ctx.programme, now=ctx.now, tz=ctx.tz,
                             price_unit=price_unit(ctx.community), held=held)
    if joined.duplicate:
        return []
    net = sum(order.net for order in joined.orders)
    context: dict[str, Any] = dict(buy=buy, joined=joined, net=net, held=joined.held)
    if not ctx.msg.is_group:
        return [ctx.reply("joined", **context)]
    _confirm(ctx, f"joined:{joined.orders[0].id}", context)
    return []  # the group sees the roster, not one answer per '+1'


def _confirm(ctx: Ctx | Glance, key: str, context: dict[str, Any]) -> bool:
    """A '+1' in a group is confirmed in private (ctx.push), known reachable or not from the
    account it came from where that answers (a member who joined with it has no other)."""
    return notify(ctx.runner, ctx.deps, ctx.member, Message("joined", **context), Kind.SERVICE,
                  key=key, prefer=ctx.msg.channel, community=ctx.community, now=ctx.now,
                  here=ctx.account, only=ctx.first_contact)


def cancel(ctx: Ctx) -> list[Reply]:
    """'/cancel' cancels the member's lines in the buy; '/cancel #N 2' (or '-2' typed in the
    chat) takes two units off, newest line first."""
    buy, rest = members_buy(ctx, buying.MEMBER_CANCELS)
    units = _units_off(rest)
    if units is None:
        done = buying.cancel_member_lines(ctx.session, buy=buy, member=ctx.member,
                                          programme=ctx.programme, today=ctx.today, now=ctx.now)
    else:
        done = shortening.cancel_member_units(
            ctx.session, buy=buy, member=ctx.member, units=units, programme=ctx.programme,
            today=ctx.today, now=ctx.now, price_unit=price_unit(ctx.community))
    tell_promoted(ctx, buy, done.promoted)
    return [ctx.card("cancelled", buy=buy, units=done.units)]


def _units_off(rest: str) -> int | None:
    """'' → None (the whole order); '2' / '２' → 2; anything else (0, -1, 'two') is refused."""
    typed = normalize(rest)
    if not typed:
        return None
    if not typed.isdigit() or not typed.isascii() or not 1 <= int(typed[:6]) <= MAX_UNITS:
        raise Usage("cancel")
    return int(typed)


def orders(ctx: Ctx) -> list[Reply]:
    mine = groupbuys.member_orders(ctx.session, id_of(ctx.member))
    return [ctx.card("orders", orders=mine)]


def _my_line(ctx: Ctx) -> tuple[GroupBuy, Order]:
    buy, rest = members_buy(ctx, buying.REPRICEABLE)
    lines = groupbuys.lines_of(ctx.session, id_of(buy), id_of(ctx.member), buying.REPRICEABLE)
    if not lines:
        raise DomainError("nothing_to_price", buy=brief(buy))
    ctx.args = rest
    return buy, lines[0]


def use_coupon(ctx: Ctx) -> list[Reply]:
    if not ctx.args.strip():
        raise Usage("usecoupon")
    buy, order = _my_line(ctx)
    code = ctx.args.strip().upper()[:16]
    buying.apply_coupon(ctx.session, buy=buy, order=order, member=ctx.member, code=code,
                        programme=ctx.programme, today=ctx.today, now=ctx.now,
                        price_unit=price_unit(ctx.community))
    return [ctx.card("order_priced", buy=buy, order=order)]


def use_points(ctx: Ctx) -> list[Reply]:
    if not ctx.args.strip():
        raise Usage("usepoints")
    buy, order = _my_line(ctx)
    wanted = parse_amount(ctx.args) or 0
    if not 0 < wanted <= 10_000_000:
        raise Usage("usepoints")
    buying.apply_points(ctx.session, buy=buy, order=order, member=ctx.member, points=wanted,
                        programme=ctx.programme, today=ctx.today)
    return [ctx.card("order_priced", buy=buy, order=order)]
