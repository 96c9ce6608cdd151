"""A leader changes a buy's life: /reopen #N [DEADLINE], /extend #N DEADLINE; both are
answered in the group, so the members see it (the answer policy keeps its budget)."""

from __future__ import annotations

from datetime import datetime

from handlers.buychoice import choose_buy
from handlers.context import Ctx
from handlers.telling import event_key, per_member, tell_promoted
from messages.types import Reply
from models import lifecycle
from models.errors import DomainError, Usage
from models.rules import groupbuy as rules
from models.tables import BuyStatus


def reopen(ctx: Ctx) -> list[Reply]:
    _in_group(ctx)
    buy, rest = choose_buy(ctx, ctx.args, command="reopen", statuses=(BuyStatus.CLOSED,))
    deadline = _deadline(ctx, rest, "reopen") if rest else None
    done = lifecycle.reopen_buy(ctx.session, buy, deadline=deadline, now=ctx.now)
    for theirs in per_member(done.back_in_line):
        ctx.push(theirs.member, "waitlist_reopened", event_key(ctx, "reopened", theirs.member),
                 buy=buy, lines=theirs.lines, units=theirs.units)
    tell_promoted(ctx, buy, done.promoted)
    when = buy.deadline.astimezone(ctx.tz)
    return [ctx.reply("reopened", buy=buy, deadline=rules.echo(when), weekday=when.weekday(),
                      waiting=len(done.back_in_line))]


def extend(ctx: Ctx) -> list[Reply]:
    _in_group(ctx)
    buy, rest = choose_buy(ctx, ctx.args, command="extend", statuses=(BuyStatus.OPEN,))
    if not rest:
        raise Usage("extend")
    deadline = _deadline(ctx, rest, "extend")
    lifecycle.extend_buy(ctx.session, buy, deadline=deadline, now=ctx.now)
    return [ctx.reply("extended", buy=buy, deadline=rules.echo(deadline),
                      weekday=deadline.weekday())]


def _in_group(ctx: Ctx) -> None:
    if not ctx.msg.is_group:
        raise DomainError("in_group_only")


def _deadline(ctx: Ctx, text: str, command: str) -> datetime:
    """A deadline as leaders write it, ahead of now, in the community's time zone."""
    try:
        when = rules.future_deadline(text, ctx.local_now)
    except rules.PastDeadline as past:
        raise DomainError("deadline_past", when=rules.echo(past.when)) from None
    if when is None:
        raise Usage(command)
    return when
