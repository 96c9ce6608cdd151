"""What members hear when a leader's (or another member's) action moves their lines: one
message per member per event, listing their lines, never one per line. The dedupe key names
the event (the message that caused it) and the member."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from handlers import notices
from handlers.context import Ctx
from models.fulfilment import Effects
from models.marking import Mark
from models.tables import GroupBuy, Member, Order


@dataclass
class Theirs:
    member: Member
    lines: list[Order]

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


def per_member(lines: Sequence[tuple[Order, Member]]) -> list[Theirs]:
    """The lines grouped by member, members in the order their first line came."""
    grouped: dict[int | None, Theirs] = {}
    for order, member in lines:
        grouped.setdefault(member.id, Theirs(member, [])).lines.append(order)
    return list(grouped.values())


def event_key(ctx: Ctx, what: str, member: Member) -> str:
    """One key per event and member: what happened, the message that did it, who hears."""
    tag = hashlib.sha256(f"{ctx.msg.channel}:{ctx.msg.event_key}".encode()).hexdigest()[:24]
    return f"{what}:{tag}:{member.id}"


def tell_promoted(ctx: Ctx, buy: GroupBuy, promoted: list[tuple[Order, Member]]) -> None:
    """Each member whose waiting lines now hold stock hears it once."""
    for theirs in per_member(promoted):
        ctx.push(theirs.member, "promoted", event_key(ctx, "promoted", theirs.member), buy=buy,
                 lines=theirs.lines, units=theirs.units)


def tell_closed(ctx: Ctx, buy: GroupBuy, ended: list[tuple[Order, Member]]) -> None:
    """Each member whose waiting lines the close ended hears it once."""
    for theirs in per_member(ended):
        ctx.push(theirs.member, "waitlist_closed", event_key(ctx, "closed", theirs.member),
                 buy=buy, lines=theirs.lines, units=theirs.units)


def tell_marks(ctx: Ctx, buy: GroupBuy, action: str, marked: list[Mark]) -> None:
    """A member hears once of their lines delivered (with what they earned; their referrer
    of the reward) or cancelled by the leader; a payment mark is not announced."""
    marks = {id(m.order): m for m in marked}
    for theirs in per_member([(m.order, m.member) for m in marked]):
        mine = [marks[id(order)] for order in theirs.lines]
        if action == "cancelorder":
            refunded = [m.order for m in mine if m.refunded]
            ctx.push(theirs.member, "order_cancelled", event_key(ctx, "cancelled", theirs.member),
                     buy=buy, lines=theirs.lines, units=theirs.units, refunded=bool(refunded),
                     points=sum(o.points_used for o in refunded))
            if refunded:  # a first purchase refunded: both sides of its referral hear it
                notices.referral_reversed(ctx, theirs.member)
        elif action == "delivered":
            _tell_delivered(ctx, buy, theirs, [m for m in mine if m.effects is not None])


def _tell_delivered(ctx: Ctx, buy: GroupBuy, theirs: Theirs, mine: list[Mark]) -> None:
    if not mine:
        return
    member = theirs.member
    effects = Effects(points=sum(m.effects.points for m in mine if m.effects))
    for mark in mine:
        if mark.effects is not None and mark.effects.upgraded_to:
            effects.upgraded_to, effects.gift_code = mark.effects.upgraded_to, mark.effects.gift_code
    ctx.push(member, "delivered_push", event_key(ctx, "delivered", member), buy=buy,
             lines=[m.order for m in mine], units=sum(m.order.quantity for m in mine),
             effects=effects, tier=ctx.programme.tier_name(
                 mine[-1].tier, member.locale or ctx.community.default_locale))
    for mark in mine:
        if mark.effects is not None:
            notices.referral_rewarded(ctx, mark.effects, member)
