"""Delivery feeds the programme in one transaction; a refund reverses it exactly.

Delivered: purchase points (rate × tier × campaign), 12-month spend, an immediate upgrade
with its gift coupon, both sides of a referral on the first delivered purchase, the
replenishment date, and commission events for up to two levels of distributors.
Refunded: a compensating entry for each of those (tiers only fall at period end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from models import coupons, ledger, members, orderlines, referrals
from models import tiers as tier_ops
from models.orderlines import Released
from models.programme import Programme
from models.rules import groupbuy as buy_rules
from models.rules import tiers as tier_rules
from models.rules.coupons import AMOUNT_OFF
from models.rules.points import purchase_points
from models.tables import (
    CommissionEvent,
    GroupBuy,
    LineStatus,
    Member,
    Order,
    PointsEntry,
    SpendEntry,
)
from models.types import id_of

MAX_LEVELS = 2  # three or more levels of commission is pyramid selling


@dataclass
class Effects:
    points: int = 0
    upgraded_to: str | None = None
    gift_code: str | None = None
    referral_rewarded: bool = False
    referrer: Member | None = None  # who earned the referral reward, to be told


def deliver(session: Session, order: Order, buy: GroupBuy, programme: Programme,
            today: date, now: datetime, campaign_pct: int = 100) -> Effects | None:
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
    effects.points = purchase_points(order.net, programme.minor_per_point,
                                     tier.points_multiplier_pct, campaign_pct)
    ledger.post(session, member, effects.points, "purchase", f"order:{order.id}:earn", today,
                reason=f"#{buy.number} {buy.title}", expiry_months=programme.points_expiry_months)
    effects.upgraded_to, effects.gift_code = _upgrade(session, member, programme, now)
    if first and member.referred_by_id is not None:
        effects.referrer = _reward_referral(session, member, programme, today, now, 1)
        effects.referral_rewarded = effects.referrer is not None
    _commission(session, order, member, 1)
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


def _reward_referral(session: Session, member: Member, programme: Programme, today: date,
                     now: datetime, sign: int) -> Member | None:
    """Both sides of a referral (or, sign < 0, their reversal); the referrer, if any."""
    referrer = session.get(Member, member.referred_by_id)
    if referrer is None:
        return None
    suffix = "" if sign > 0 else ":rev"
    for who, points, side in ((referrer, programme.referrer_points, "referrer"),
                              (member, programme.referee_points, "referee")):
        ledger.post(session, who, sign * points, "referral", f"referral:{member.id}:{side}{suffix}",
                    today, reason=member.display_name if side == "referrer" else "",
                    expiry_months=programme.points_expiry_months, clawback=sign < 0)
    if sign > 0:
        _upgrade(session, referrer, programme, now)
    return referrer


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
    keys = {f"referral:{friend.id}:{side}:rev": side for side in ("referrer", "referee")}
    entries = session.execute(select(PointsEntry).where(col(PointsEntry.idem_key).in_(keys))
                              .order_by(col(PointsEntry.id))).scalars()
    found = []
    for entry in entries:
        member = session.get(Member, entry.member_id)
        if member is not None:
            found.append(ReversedReward(member, keys[entry.idem_key], entry,
                                        entry.debt_delta - entry.delta, entry.debt_delta))
    return found


def _commission(session: Session, order: Order, member: Member, sign: int) -> None:
    """A commission event for the referrer (level 1) and their referrer (level 2), no further.

    A reversal (sign < 0) undoes the events the order has, whoever the chain names today.
    """
    if sign < 0:
        reverse_commission(session, id_of(order), "rev")
        return
    chain = referrals.referrer_chain(session, member, limit=MAX_LEVELS)
    for level, beneficiary in enumerate(chain[:MAX_LEVELS], start=1):
        key = f"commission:{order.id}:{level}"
        if session.execute(select(col(CommissionEvent.id))
                           .where(col(CommissionEvent.idem_key) == key)).first():
            continue
        session.add(CommissionEvent(order_id=id_of(order), beneficiary_id=beneficiary, level=level,
                                    base_amount=order.net, idem_key=key))


def reverse_commission(session: Session, order_id: int, why: str,
                       beneficiary_id: int | None = None) -> None:
    """Append the opposite of what is still standing on the order (for one beneficiary, or
    all), per level: the events stay append-only and the sums come to zero."""
    query = (select(col(CommissionEvent.beneficiary_id), col(CommissionEvent.level),
                    func.sum(col(CommissionEvent.base_amount)))
             .where(col(CommissionEvent.order_id) == order_id)
             .group_by(col(CommissionEvent.beneficiary_id), col(CommissionEvent.level))
             .order_by(col(CommissionEvent.level), col(CommissionEvent.beneficiary_id)))
    if beneficiary_id is not None:
        query = query.where(col(CommissionEvent.beneficiary_id) == beneficiary_id)
    for beneficiary, level, standing in session.execute(query).all():
        key = f"commission:{order_id}:{level}:{why}"
        if standing == 0 or session.execute(
                select(col(CommissionEvent.id)).where(col(CommissionEvent.idem_key) == key)).first():
            continue
        session.add(CommissionEvent(order_id=order_id, beneficiary_id=beneficiary, level=level,
                                    base_amount=-int(standing), idem_key=key))
    session.flush()


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
    if _was_first_purchase(session, member, order):
        member.first_purchase_at = None
        session.add(member)
        if member.referred_by_id is not None:
            _reward_referral(session, member, programme, today, now, -1)
    _commission(session, order, member, -1)
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
