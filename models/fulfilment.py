"""Delivery feeds the programme in one transaction; a refund reverses it exactly.

Delivered: purchase points (rate × tier × campaign), 12-month spend, an immediate upgrade
with its gift coupon, both sides of a referral on the first delivered purchase, the
replenishment date, and commission for up to two levels of active distributors (pending
until the return window passes).
Refunded: a compensating entry for each of those (tiers only fall at period end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from models import campaigns, commission, coupons, ledger, members, orderlines, rewards
from models import tiers as tier_ops
from models.orderlines import Released
from models.programme import Programme
from models.rules import groupbuy as buy_rules
from models.rules import tiers as tier_rules
from models.rules.coupons import AMOUNT_OFF
from models.rules.points import purchase_points
from models.tables import (
    Community,
    GroupBuy,
    LineStatus,
    Member,
    Order,
    PointsEntry,
    SpendEntry,
)
from models.types import id_of, utcnow


@dataclass
class Effects:
    points: int = 0
    upgraded_to: str | None = None
    gift_code: str | None = None
    referral_rewarded: bool = False
    referrer: Member | None = None  # who earned the referral reward, to be told
    referral_round: int = 0  # the reward's round (a new one after a refund and a re-buy)
    referral_held: bool = False  # earned, but held for the leader's review


def deliver(session: Session, order: Order, buy: GroupBuy, programme: Programme,
            today: date, now: datetime, campaign_pct: int | None = None) -> Effects | None:
    """Mark one allocated or paid line delivered and credit everything it earns.

    None, and nothing credited, when the line is neither any more (delivered or cancelled
    by someone else first).
    """
    replenish_on = buy_rules.replenish_on(today, buy.cycle_days, order.quantity)
    if not orderlines.mark_delivered(session, id_of(buy), id_of(order), now=now,
                                     replenish_on=replenish_on):
        return None
    session.refresh(order)  # as it was moved: a reprice just before counts
    member = session.get(Member, order.member_id)
    assert member is not None
    effects = Effects()
    first = member.first_purchase_at is None
    members.record_spend(session, member, order.net, f"order:{order.id}:spend", now)
    tier = tier_rules.find(member.tier, programme.tiers)
    if campaign_pct is None:  # a campaign the member received whose window holds the purchase
        campaign_pct = campaigns.multiplier_pct(session, id_of(member), order.created_at)
    effects.points = purchase_points(order.net, programme.minor_per_point,
                                     tier.points_multiplier_pct, campaign_pct)
    ledger.post(session, member, effects.points, "purchase", f"order:{order.id}:earn", today,
                reason=f"#{buy.number} {buy.title}", expiry_months=programme.points_expiry_months)
    effects.upgraded_to, effects.gift_code = _upgrade(session, member, programme, now)
    if first and member.referred_by_id is not None:  # a qualified invite: the referrer may rise
        referrer = session.get(Member, member.referred_by_id)
        if referrer is not None:
            _upgrade(session, referrer, programme, now)
    earned = rewards.earn(session, member, order, programme, today, now)
    if earned is not None:
        effects.referral_round, effects.referral_held = earned.reward.round, earned.held
        effects.referrer = None if earned.held else earned.referrer
        effects.referral_rewarded = not earned.held
    _commission(session, order, member, programme, now)
    session.flush()
    return effects


def _upgrade(session: Session, member: Member, programme: Programme,
             now: datetime) -> tuple[str | None, str | None]:
    upgraded = tier_ops.upgrade_if_earned(session, member, programme, now)
    if upgraded is None:
        return None, None
    value = programme.upgrade_coupon(upgraded)
    tmpl = coupons.template(session, member.community_id, f"upgrade_{upgraded}",
                            name=f"upgrade {upgraded}", kind=AMOUNT_OFF, value=value,
                            valid_days=60)
    gift = coupons.issue(session, member, tmpl, now, issue_key=f"upgrade:{member.id}:{upgraded}")
    return upgraded, gift.code if gift else None


@dataclass(frozen=True)
class ReversedReward:
    """One side of a referral reward taken back: who, the ledger entry, what it took."""

    member: Member
    side: str  # "referrer" or "referee"
    entry: PointsEntry
    points: int  # the whole reward taken back
    owed: int  # the part the balance could not cover, now points debt


def reversed_referral(session: Session, friend: Member) -> list[ReversedReward]:
    """The reversal entries of `friend`'s referral reward (the notice hook of a refund); each
    side once, so a notice keyed on the entry is sent once however often this is asked."""
    keys = rewards.reversal_keys(session, id_of(friend))
    entries = session.execute(select(PointsEntry).where(col(PointsEntry.idem_key).in_(keys))
                              .order_by(col(PointsEntry.id))).scalars()
    found = []
    for entry in entries:
        member = session.get(Member, entry.member_id)
        if member is not None:
            found.append(ReversedReward(member, keys[entry.idem_key], entry,
                                        entry.debt_delta - entry.delta, entry.debt_delta))
    return found


def _commission(session: Session, order: Order, member: Member, programme: Programme,
                now: datetime) -> None:
    """Level 1 and level 2 commission on the order (models/commission.py), no further."""
    community = session.get(Community, member.community_id)
    assert community is not None
    commission.accrue(session, order, member, programme, now, ZoneInfo(community.timezone))


def reverse_commission(session: Session, order_id: int, why: str,
                       beneficiary_id: int | None = None, now: datetime | None = None) -> None:
    """Reverse what still stands on the order (for one beneficiary, or all), exactly: from
    pending, or from confirmed once confirmed (below zero after a payout)."""
    commission.reverse(session, order_id, why, now or utcnow(), beneficiary_id)


def refund(session: Session, order: Order, buy: GroupBuy, programme: Programme,
           today: date, now: datetime) -> list[Order] | None:
    """Undo a delivered line with compensating entries; every total comes back exactly.

    Its units go back to the group buy's stock (so `allocated` stays the sum of the active
    lines) and, as with a cancel, to the waitlist in order. Returns the promoted lines, or
    None, undoing nothing, when the line is no longer delivered (refunded meanwhile).
    """
    released = orderlines.refund_line(session, id_of(buy), id_of(order), now=now)
    if released is None:
        return None
    session.refresh(order)
    promoted = released.promoted
    member = session.get(Member, order.member_id)
    assert member is not None
    earned = session.execute(
        select(func.coalesce(func.sum(col(SpendEntry.amount)), 0))
        .where(col(SpendEntry.source_key) == f"order:{order.id}:spend")
    ).scalar_one()
    members.record_spend(session, member, -int(earned), f"order:{order.id}:spend:rev", now)
    if order.points_used:  # given back first, so the reversal below can take from them
        ledger.post(session, member, order.points_used, "refund", f"order:{order.id}:points:back",
                    today, expiry_months=programme.points_expiry_months)
    _reverse_points(session, member, f"order:{order.id}:earn", today)
    release_coupon(session, order)
    nothing_left = _was_first_purchase(session, member, order)
    if nothing_left:
        member.first_purchase_at = None
        session.add(member)
    rewards.on_refund(session, member, order, programme, today, now, nothing_left)
    reverse_commission(session, id_of(order), "rev", now=now)
    session.flush()
    return promoted


def cancel(session: Session, order: Order, buy: GroupBuy, programme: Programme, today: date,
           now: datetime, expected: tuple[LineStatus, ...] = orderlines.CANCELLABLE) -> Released | None:
    """Cancel an undelivered line still in one of `expected`: its coupon and points go back,
    its units to the waitlist in order. None, giving nothing back, when it was moved first."""
    released = orderlines.cancel_line(session, id_of(buy), id_of(order), now=now,
                                      expected=expected)
    if released is None:
        return None
    session.refresh(order)  # as it was moved: points or a coupon put on it just before go back
    release_coupon(session, order)
    if order.points_used:
        member = session.get(Member, order.member_id)
        assert member is not None
        ledger.post(session, member, order.points_used, "refund", f"order:{order.id}:points:back",
                    today, expiry_months=programme.points_expiry_months)
    return released


def _reverse_points(session: Session, member: Member, key: str, today: date) -> None:
    delta = session.execute(select(col(PointsEntry.delta)).where(col(PointsEntry.idem_key) == key)).scalar()
    if delta:
        ledger.post(session, member, -int(delta), "reversal", f"{key}:rev", today, clawback=True)


def _was_first_purchase(session: Session, member: Member, order: Order) -> bool:
    """No other delivered purchase is left on the member's spend record."""
    remaining = session.execute(
        select(func.coalesce(func.sum(col(SpendEntry.amount)), 0))
        .where(col(SpendEntry.member_id) == member.id)
    ).scalar_one()
    return int(remaining) <= 0


def release_coupon(session: Session, order: Order) -> None:
    """A cancelled or refunded order gives its coupon back."""
    coupons.give_back(session, order.coupon_id)
