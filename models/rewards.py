"""The referral reward: earned once per referee, whatever refunds come between.

One row per referee (a unique constraint). The referee's first qualifying delivered purchase
(at least `referral_min_purchase`) earns it: paid at once to both sides (points or a coupon,
per side), or held for the leader's review when the referrer's referrals came in a burst
(more than `referral_hold.over` within `referral_hold.hours`). A refund of the purchase that
earned it hands it to another standing qualifying purchase if there is one, else reverses
it (status `reversed`, compensating entries), and the next qualifying purchase earns it again
in a new round with keys of its own: refund and buy again earns it exactly once.
Every status change is one conditional UPDATE on the status it expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models import coupons, ledger
from models.db import dialect_name
from models.programme import Programme
from models.rules import referral as rules
from models.rules.coupons import AMOUNT_OFF
from models.tables import (
    Coupon,
    LineStatus,
    Member,
    Order,
    PointsEntry,
    ReferralReward,
    RewardStatus,
)
from models.types import id_of, rows_matched

SIDES = ("referrer", "referee")


@dataclass(frozen=True)
class Earned:
    """A reward a delivery earned: paid, or held for review."""

    reward: ReferralReward
    referrer: Member
    held: bool


def earn(session: Session, member: Member, order: Order, programme: Programme, today: date,
         now: datetime) -> Earned | None:
    """The reward `order` (just delivered) earns for `member` and their referrer, if any."""
    terms = programme.referral
    if member.referred_by_id is None or not rules.qualifies(order.net, terms):
        return None
    if _standing_qualifying(session, member, terms.min_purchase, but=id_of(order)) is not None:
        return None  # not the first: an earlier purchase earned it (or earns it no more)
    if _merged_reward_stands(session, member):
        return None  # one of the person's merged accounts earned it already
    referrer = session.get(Member, member.referred_by_id)
    if referrer is None:
        return None
    held = _burst(session, member, referrer, programme)
    reward = _claim(session, member, referrer, id_of(order),
                    RewardStatus.HELD if held else RewardStatus.PAID, now)
    if reward is None:
        return None
    if not held:
        pay(session, reward, programme, today, now)
    return Earned(reward, referrer, held)


def _standing_qualifying(session: Session, member: Member, minimum: int, but: int) -> int | None:
    """The member's earliest delivered purchase (other than `but`) that earns a reward."""
    found = session.execute(
        select(col(Order.id)).where(col(Order.member_id) == member.id,
                                    col(Order.status) == LineStatus.DELIVERED,
                                    col(Order.net) >= max(1, minimum), col(Order.id) != but)
        .order_by(col(Order.delivered_at), col(Order.id)).limit(1)
    ).scalar()
    return None if found is None else int(found)


def _merged_reward_stands(session: Session, member: Member) -> bool:
    merged = select(col(Member.id)).where(col(Member.merged_into_id) == member.id)
    return session.execute(select(col(ReferralReward.id)).where(
        col(ReferralReward.referee_id).in_(merged),
        col(ReferralReward.status) != RewardStatus.REVERSED).limit(1)).first() is not None


def _burst(session: Session, member: Member, referrer: Member, programme: Programme) -> bool:
    terms, at = programme.referral, member.referred_at
    if terms.hold_over is None or at is None:
        return False
    times = session.execute(
        select(col(Member.referred_at)).where(
            col(Member.referred_by_id) == referrer.id,
            col(Member.referred_at) >= at - terms.hold_window,
            col(Member.referred_at) <= at + terms.hold_window)
    ).scalars().all()
    return rules.in_burst(at, [t for t in times if t is not None], terms.hold_over,
                          terms.hold_window)


def _claim(session: Session, member: Member, referrer: Member, order_id: int,
           status: RewardStatus, now: datetime) -> ReferralReward | None:
    """The referee's reward row, now `status`: new, or a reversed one earned again (a new
    round). None when it stands already (paid, held or void)."""
    values = {"community_id": member.community_id, "referee_id": id_of(member),
              "referrer_id": id_of(referrer), "order_id": order_id, "status": status.value,
              "round": 1, "created_at": now}
    insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    table = ReferralReward.__table__  # type: ignore[attr-defined]
    added = session.execute(insert(table).values(**values)
                            .on_conflict_do_nothing(index_elements=["referee_id"])
                            .returning(table.c.id)).first()  # rowcount is -1 on psycopg
    if added is None:
        revived = session.execute(
            update(ReferralReward)
            .where(col(ReferralReward.referee_id) == member.id,
                   col(ReferralReward.status) == RewardStatus.REVERSED)
            .values(status=status, referrer_id=referrer.id, order_id=order_id,
                    round=col(ReferralReward.round) + 1, decided_at=None, decided_by_id=None)
            .execution_options(synchronize_session=False))
        if rows_matched(revived) != 1:
            return None
    return of_referee(session, id_of(member))


def of_referee(session: Session, referee_id: int) -> ReferralReward | None:
    reward = session.execute(select(ReferralReward)
                             .where(col(ReferralReward.referee_id) == referee_id)).scalar()
    if reward is not None:
        session.refresh(reward)
    return reward


def pay(session: Session, reward: ReferralReward, programme: Programme, today: date,
        now: datetime) -> None:
    """Both sides of a reward's current round: points, or an amount-off coupon."""
    terms = programme.referral
    referee, referrer = session.get_one(Member, reward.referee_id), session.get_one(Member,
                                                                                    reward.referrer_id)
    for who, side, given in ((referrer, "referrer", terms.referrer),
                             (referee, "referee", terms.referee)):
        key = rules.ledger_key(id_of(referee), side, reward.round)
        if given.kind == rules.COUPON:
            tmpl = coupons.template(session, who.community_id, f"referral_{given.value}",
                                    name="referral", kind=AMOUNT_OFF, value=given.value,
                                    valid_days=terms.coupon_valid_days)
            coupons.issue(session, who, tmpl, now, issue_key=key)
        else:
            ledger.post(session, who, given.value, "referral", key, today,
                        reason=referee.display_name if side == "referrer" else "",
                        expiry_months=programme.points_expiry_months)


def on_refund(session: Session, member: Member, order: Order, programme: Programme,
              today: date, now: datetime, nothing_left: bool) -> bool:
    """`order` was refunded: if it earned the reward, another standing qualifying purchase
    takes it over, else it is reversed (earnable again). True when reversed."""
    reward = of_referee(session, id_of(member))
    if reward is None or reward.status not in (RewardStatus.PAID, RewardStatus.HELD):
        return False
    if reward.order_id != order.id and not (reward.order_id is None and nothing_left):
        return False  # another purchase earned it (or, carried over, one is still standing)
    was = reward.status
    other = _standing_qualifying(session, member, programme.referral.min_purchase, but=id_of(order))
    changes = ({"order_id": other} if other is not None
               else {"status": RewardStatus.REVERSED, "decided_at": now})
    moved = session.execute(
        update(ReferralReward).where(col(ReferralReward.id) == reward.id,
                                     col(ReferralReward.status) == was,
                                     col(ReferralReward.round) == reward.round)
        .values(**changes).execution_options(synchronize_session=False))
    if rows_matched(moved) != 1 or other is not None:
        return False
    if was == RewardStatus.PAID:
        take_back(session, reward, today, now)
    return True


def take_back(session: Session, reward: ReferralReward, today: date, now: datetime,
              onto: Member | None = None) -> None:
    """Compensate what the reward's current round gave: points back (as far as the balance
    goes, the rest as points debt), a coupon not yet used expires now. `onto`: the member
    both sides now are (two accounts of one person merged)."""
    for side in SIDES:
        key = rules.ledger_key(reward.referee_id, side, reward.round)
        given = session.execute(select(col(PointsEntry.delta), col(PointsEntry.member_id))
                                .where(col(PointsEntry.idem_key) == key)).first()
        if given is not None and given[0]:
            who = onto or session.get_one(Member, given[1])
            ledger.post(session, who, -int(given[0]), "reversal", f"{key}:rev", today,
                        clawback=True)
        session.execute(update(Coupon).where(col(Coupon.issue_key) == key,
                                             col(Coupon.redeemed_at).is_(None),
                                             col(Coupon.valid_until) > now)
                        .values(valid_until=now).execution_options(synchronize_session=False))


def void_self_referral(session: Session, referee_id: int, keep: Member, today: date,
                       now: datetime) -> None:
    """One account invited the other of the same person: no reward for oneself, ever."""
    reward = of_referee(session, referee_id)
    if reward is None or reward.status == RewardStatus.VOID:
        return
    was = reward.status
    moved = session.execute(update(ReferralReward)
                            .where(col(ReferralReward.id) == reward.id,
                                   col(ReferralReward.status) == was)
                            .values(status=RewardStatus.VOID, decided_at=now)
                            .execution_options(synchronize_session=False))
    if rows_matched(moved) == 1 and was == RewardStatus.PAID:
        take_back(session, reward, today, now, onto=keep)


def reversal_keys(session: Session, referee_id: int) -> dict[str, str]:
    """The ledger keys of the reversal of the reward's current round → the side."""
    reward = of_referee(session, referee_id)
    round_ = reward.round if reward is not None else 1
    return {f"{rules.ledger_key(referee_id, side, round_)}:rev": side for side in SIDES}


def held_count(session: Session, community_id: int) -> int:
    return int(session.execute(select(func.count(col(ReferralReward.id))).where(
        col(ReferralReward.community_id) == community_id,
        col(ReferralReward.status) == RewardStatus.HELD)).scalar_one())
