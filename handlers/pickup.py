"""Payment and pickup, the leader's side: who has not paid, the goods arrived, picked up.

`choose_buy` is the one place a command without '#N' picks its buy (or refuses with the
candidates); the shared "which buy" chooser replaces it when merged.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from handlers import notices
from handlers.buychoice import WhichBuy, buy_button
from handlers.context import Ctx
from messages.types import Reply
from models import groupbuys, lookups, members, pickup
from models.buying import brief
from models.errors import DomainError, UnknownMember, Usage
from models.rules.deadline import echo
from models.rules.pickup import arrival
from models.tables import BuyStatus, GroupBuy, LineStatus, Member
from models.types import id_of

_NUMBER = re.compile(r"#(\d{1,6})(?!\d)")
Candidates = Callable[[tuple[str, str] | None], list[GroupBuy]]


def choose_buy(ctx: Ctx, args: str, candidates: Candidates,
               none: DomainError | None = None, *, command: str) -> tuple[GroupBuy, str]:
    """'#N' (of this community, and of this chat in a group); else the one candidate (of
    this chat in a group, of the community in private); else a refusal listing them (or
    `none` when there is no candidate at all)."""
    chat = (ctx.msg.channel, ctx.msg.chat) if ctx.msg.is_group else None
    match = _NUMBER.search(args)
    if match is None:
        found = candidates(chat)
        if len(found) == 1:
            return found[0], args.strip()
        if not found and none is not None:
            raise none
        if found:  # asked with a button per buy, as every leader command does
            raise WhichBuy(buys=[brief(b) for b in found], command=command,
                           buttons=tuple(buy_button(b, command, args.strip()) for b in found))
        raise DomainError("buy_not_found", number=None, buys=[])
    number, rest = int(match[1]), (args[:match.start()] + args[match.end():]).strip()
    buy = groupbuys.current(ctx.session, ctx.msg.channel, ctx.msg.chat, number, id_of(ctx.community))
    if buy is None or (chat is not None and (buy.channel, buy.chat_id) != chat):
        raise DomainError("buy_not_found", number=number,
                          buys=[brief(b) for b in candidates(chat)])
    return buy, rest


def unpaid(ctx: Ctx) -> list[Reply]:
    """Who has not paid in a buy (open or closed): name, units, amount; to the leader only."""
    buy, _ = choose_buy(ctx, ctx.args, lambda chat: pickup.buys_with_lines(
        ctx.session, id_of(ctx.community), (LineStatus.ALLOCATED,), chat=chat), command="unpaid")
    owed = pickup.unpaid(ctx.session, id_of(buy))
    return [ctx.card("unpaid", buy=buy, unpaid_lines=owed, total=sum(o.amount for o in owed))]


def arrived(ctx: Ctx) -> list[Reply]:
    """'/arrived #N 大樓管理室 週五 20:00': every member still to pick up hears it privately."""
    if not ctx.args.strip():
        raise Usage("arrived")
    buy, rest = choose_buy(ctx, ctx.args, lambda chat: pickup.buys_with_lines(
        ctx.session, id_of(ctx.community), pickup.WAITING, chat=chat, buy_where=pickup.NOT_ARRIVED),
        command="arrived")
    if buy.arrived_at is not None:
        raise DomainError("already_arrived", buy=brief(buy), place=buy.pickup_place,
                          until=_local(ctx, buy))
    if buy.status != BuyStatus.CLOSED:
        raise DomainError("arrive_open", buy=brief(buy))
    read = arrival(rest, ctx.local_now, ctx.programme.pickup_days)
    if read is None:
        raise Usage("arrived")
    place, until = read
    if until <= ctx.local_now:
        raise DomainError("deadline_past", when=echo(until))
    if not pickup.announce_arrival(ctx.session, id_of(buy), place=place, until=until, now=ctx.now):
        raise DomainError("already_arrived", buy=brief(buy), place=buy.pickup_place,
                          until=_local(ctx, buy))
    waiting = pickup.waiting_members(ctx.session, id_of(buy))
    for owed in waiting:
        ctx.push(owed.member, "arrived_push", f"arrived:{buy.id}:{owed.member.id}", buy=buy,
                 place=place, until=echo(until), units=owed.units)
    return [ctx.reply("arrived", buy=buy, place=place, until=echo(until), count=len(waiting))]


def _local(ctx: Ctx, buy: GroupBuy) -> str:
    return echo(buy.pickup_until.astimezone(ctx.tz)) if buy.pickup_until else ""


def picked(ctx: Ctx) -> list[Reply]:
    """'/picked @amy [#N]': Amy took her goods; a waiting line is delivered on the way."""
    target, rest = _target(ctx)
    buy, _ = choose_buy(ctx, rest, lambda chat: pickup.pickable_buys(
        ctx.session, id_of(ctx.community), id_of(target), chat),
        none=DomainError("no_pickup", name=target.display_name), command="picked")
    done = pickup.pick_up(ctx.session, buy=buy, member=target, programme=ctx.programme,
                          today=ctx.today, now=ctx.now)
    if done.lines == 0:
        raise DomainError("nothing_to_pick", buy=brief(buy), name=target.display_name,
                          arrived=buy.arrived_at is not None)
    points = sum(m.effects.points for m in done.marks if m.effects is not None)
    ctx.push(target, "picked_push", f"picked:{buy.id}:{target.id}", buy=buy, units=done.units,
             points=points)
    for mark in done.marks:
        if mark.effects is not None:
            notices.referral_rewarded(ctx, mark.effects, target)
    return [ctx.reply("picked", buy=buy, name=target.display_name, units=done.units)]


def _target(ctx: Ctx) -> tuple[Member, str]:
    """'@name' first, or the author of the message the leader replied to in the group."""
    words = ctx.args.split(maxsplit=1)
    if words and words[0].startswith("@") and len(words[0]) > 1:
        found = lookups.by_handle(ctx.session, id_of(ctx.community), words[0])
        if found is None:
            raise UnknownMember(name=words[0][:40])
        return found, words[1] if len(words) > 1 else ""
    if ctx.msg.reply_to_sender is not None and ctx.msg.is_group:
        joined = members.join(ctx.session, ctx.community, ctx.msg.channel, ctx.msg.reply_to_sender,
                              ctx.msg.reply_to_handle, ctx.msg.reply_to_name, ctx.now)
        return joined.member, ctx.args
    raise Usage("picked")
