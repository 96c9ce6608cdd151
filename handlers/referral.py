"""Referral rewards held for review: `/holds` lists them, `/release @name|ID` pays them,
`/void @name|ID [reason]` refuses them. Staff only (handlers/commands.py), audited; both sides
of each reward hear the decision through notify."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.leader import actor
from messages.types import Reply
from models import communities, holds, lookups, rewards
from models.errors import DomainError, UnknownMember, Usage
from models.holds import Hold
from models.rules.text import DB_INT_MAX, fold, whole_numbers
from models.types import id_of


def list_holds(ctx: Ctx) -> list[Reply]:
    found = holds.held(ctx.session, id_of(ctx.community))
    total = rewards.held_count(ctx.session, id_of(ctx.community))
    return [ctx.card("holds", holds=found, held_total=total)]


def _chosen(ctx: Ctx, command: str) -> tuple[list[Hold], str]:
    """'@name' (their held rewards as referrer or referee) or a hold's number; the rest."""
    words = ctx.args.split(maxsplit=1)
    if not words:
        raise Usage(command)
    first, rest = words[0], (words[1].strip() if len(words) > 1 else "")
    if first.startswith("@") and len(first) > 1:
        who = lookups.by_handle(ctx.session, id_of(ctx.community), first)
        if who is None:
            raise UnknownMember(name=first[:40])
        found = holds.held(ctx.session, id_of(ctx.community), member_id=id_of(who))
    else:
        number = whole_numbers([fold(first).lstrip("#")])
        if number is None:
            raise Usage(command)
        found = [] if number[0] > DB_INT_MAX else holds.held(  # no row has a bigger id
            ctx.session, id_of(ctx.community), reward_id=number[0])
    if not found:
        raise DomainError("no_hold", what=first[:40])
    return found, rest[:200]


def release(ctx: Ctx) -> list[Reply]:
    found, _ = _chosen(ctx, "release")
    done = [h for h in found if holds.release(ctx.session, h, actor_id=id_of(ctx.member),
                                              programme=ctx.programme, today=ctx.today,
                                              now=ctx.now)]
    return _decided(ctx, "release", done, "")


def void(ctx: Ctx) -> list[Reply]:
    found, reason = _chosen(ctx, "void")
    done = [h for h in found if holds.void(ctx.session, h, actor_id=id_of(ctx.member), now=ctx.now)]
    return _decided(ctx, "void", done, reason)


def _decided(ctx: Ctx, command: str, done: list[Hold], reason: str) -> list[Reply]:
    """Audit each decision, tell both sides, answer the leader (who could not be told)."""
    if not done:  # held a moment ago, decided by someone else since
        raise DomainError("no_hold", what=ctx.args.split()[0][:40])
    released = command == "release"
    unreachable = 0
    for hold in done:
        communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), command, True,
                          f"reward {hold.reward.id} referee {hold.referee.id} referrer "
                          f"{hold.referrer.id} {reason}".strip(), ctx.member.id, ctx.now)
        terms = ctx.programme.referral
        for who, side, reward in ((hold.referrer, "referrer", terms.referrer),
                                  (hold.referee, "referee", terms.referee)):
            told = ctx.push(who, "referral_decided", f"hold:{hold.reward.id}:{side}",
                            released=released, side=side, prize=reward, reason=reason,
                            friend=hold.referee if side == "referrer" else hold.referrer)
            unreachable += 0 if told else 1
    return [ctx.reply("holds_decided", released=released, holds=done, reason=reason,
                      unreachable=unreachable)]
