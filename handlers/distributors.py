"""Distributors: a member applies (/apply), a leader sees the pending applications and
approves, rejects or suspends (audited); the member is told either way, privately."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.leader import _target, actor
from messages.types import Reply
from models import communities, distributors
from models.errors import Usage
from models.programme import APPLY
from models.tables import DistributorStatus
from models.types import id_of

MAX_REASON = 200


def apply(ctx: Ctx) -> list[Reply]:
    """Apply with an optional note; under 人人分銷 / 滿額分銷 a member who qualifies simply is one."""
    row = distributors.apply(ctx.session, ctx.member, ctx.args.strip()[:MAX_REASON],
                             ctx.programme, ctx.now)
    return [ctx.card("applied", status=row.status.value,
                     automatic=ctx.programme.distribution.mode != APPLY)]


def applications(ctx: Ctx) -> list[Reply]:
    waiting = distributors.pending(ctx.session, id_of(ctx.community))
    return [ctx.card("applications", applicants=waiting, mode=ctx.programme.distribution.mode)]


def _decide(ctx: Ctx, command: str, to: DistributorStatus, needs_reason: bool) -> list[Reply]:
    target, rest = _target(ctx, command)
    reason = " ".join(rest).strip()[:MAX_REASON]
    if needs_reason and not reason:
        raise Usage(command)
    row = distributors.decide(ctx.session, target, to, reason, id_of(ctx.member), ctx.now,
                              ctx.programme)
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), command, True,
                      f"{target.id} {to.value} {reason}", ctx.member.id, ctx.now)
    told = target.id == ctx.member.id or ctx.push(
        target, "distributor_notice", f"distributor:{row.id}:{to.value}:{ctx.msg.event_key}",
        status=to.value, reason=reason, days=None)
    return [ctx.reply("distributor_decided", target=target, status=to.value, reason=reason,
                      unreachable=not told)]


def approve(ctx: Ctx) -> list[Reply]:
    return _decide(ctx, "approve", DistributorStatus.APPROVED, needs_reason=False)


def reject(ctx: Ctx) -> list[Reply]:
    return _decide(ctx, "reject", DistributorStatus.REJECTED, needs_reason=True)


def suspend(ctx: Ctx) -> list[Reply]:
    return _decide(ctx, "suspend", DistributorStatus.SUSPENDED, needs_reason=True)
