"""Members hear about their points and tier when a leader (or a refund) changes them: privately,
where they can be reached, in their own language, once per ledger entry (the dedupe key)."""

from __future__ import annotations

from handlers.context import Ctx
from models import fulfilment
from models.fulfilment import Effects
from models.tables import Member, PointsEntry


def points_changed(ctx: Ctx, target: Member, entry: PointsEntry, reason: str) -> bool:
    """A grant or a deduction; False when the member could not be told."""
    return ctx.push(target, "points_notice", f"points:{entry.id}", delta=entry.delta,
                    reason=reason, balance=target.points_balance)


def tier_changed(ctx: Ctx, target: Member, before: str, after: str, reason: str) -> bool:
    """A tier set by hand, named in the member's language."""
    locale = target.locale or ctx.community.default_locale
    return ctx.push(target, "tier_notice", f"tier:{target.id}:{ctx.msg.channel}:{ctx.msg.event_key}",
                    before=ctx.programme.tier_name(before, locale),
                    after=ctx.programme.tier_name(after, locale), reason=reason)


def referral_rewarded(ctx: Ctx, effects: Effects, friend: Member) -> None:
    """The referrer hears that `friend`'s purchase earned them the reward (once per round)."""
    if effects.referrer is None:
        return
    ctx.push(effects.referrer, "referral_rewarded", f"referral:{friend.id}:{effects.referral_round}",
             friend=friend, prize=ctx.programme.referral.referrer,
             points=ctx.programme.referral.referrer.value)


def referral_reversed(ctx: Ctx, friend: Member) -> None:
    """Both sides of a referral reward taken back when `friend`'s first purchase is refunded."""
    for reversal in fulfilment.reversed_referral(ctx.session, friend):
        ctx.push(reversal.member, "referral_reversed", f"points:{reversal.entry.id}",
                 friend=friend, side=reversal.side, points=reversal.points, owed=reversal.owed,
                 balance=reversal.member.points_balance)
