"""One member across platforms: a one-time code joins a second platform account.

`/link` on platform A gives a code; typing `/link CODE` on platform B attaches B's account
to the same member. If B already had a member of its own in that community, the two are
merged into the older one: points, orders, coupons, referrals and roles move, nothing is
counted twice, and the ledger stays append-only (entries change owner, never amount).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Mapped
from sqlmodel import Session, SQLModel, col

from models import commission_months, communities, distributors, ledger, members, referrals
from models.errors import DomainError
from models.fulfilment import reverse_commission
from models.rules import coupons as code_rules
from models.rules import referral as referral_rules
from models.rules import tiers as tier_rules
from models.rules.tiers import Tier
from models.tables import (
    AuditLog,
    ChannelAccount,
    CommissionEntry,
    Community,
    Coupon,
    LinkCode,
    Member,
    Order,
    PointsEntry,
    Role,
    SpendEntry,
    TierChange,
)
from models.types import id_of

VALID_FOR = timedelta(minutes=10)
_MOVED: tuple[tuple[type[SQLModel], Mapped[int]], ...] = (
    (PointsEntry, col(PointsEntry.member_id)), (SpendEntry, col(SpendEntry.member_id)),
    (Coupon, col(Coupon.member_id)), (Order, col(Order.member_id)),
    (TierChange, col(TierChange.member_id)), (ChannelAccount, col(ChannelAccount.member_id)),
    (CommissionEntry, col(CommissionEntry.beneficiary_id)), (LinkCode, col(LinkCode.member_id)),
)


def new_code(session: Session, member: Member, now: datetime) -> LinkCode:
    while True:
        code = code_rules.new_code(8)
        if session.execute(select(col(LinkCode.id)).where(col(LinkCode.code) == code)).first() is None:
            break
    link = LinkCode(code=code, member_id=id_of(member), expires_at=now + VALID_FOR)
    session.add(link)
    session.flush()
    return link


def redeem(session: Session, code: str, channel: str, external_id: str, handle: str | None,
           now: datetime, tiers: tuple[Tier, ...]) -> Member:
    """Attach (channel, external_id) to the code's member; merge if it had its own member.

    The code's member may have been merged away since the code was given: the account then
    goes to the member it became, never to the tombstone.
    """
    used = session.execute(
        update(LinkCode)
        .where(col(LinkCode.code) == code.upper()[:12], col(LinkCode.used_at).is_(None),
               col(LinkCode.expires_at) > now)
        .values(used_at=now).returning(col(LinkCode.member_id))
    ).first()
    if used is None:
        raise DomainError("link_bad_code")
    issuer = session.get(Member, used[0])
    assert issuer is not None
    _lock_merges(session, issuer.community_id)
    owner = members.live(session, _fresh(session, issuer))
    owned = session.execute(select(col(ChannelAccount.channel)).where(
        col(ChannelAccount.member_id) == owner.id)).scalars().all()
    if channel in owned:  # linking joins platforms; it never hands an account to another person
        raise DomainError("link_other_platform")
    account = session.execute(select(ChannelAccount).where(
        col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id,
        col(ChannelAccount.community_id) == owner.community_id)).scalar_one_or_none()
    if account is None:
        session.add(ChannelAccount(member_id=id_of(owner), community_id=owner.community_id,
                                   channel=channel, external_id=external_id,
                                   handle=handle, last_seen_at=now))
        session.flush()
        return owner
    holder = session.get(Member, account.member_id)
    assert holder is not None
    other = members.live(session, _fresh(session, holder))
    if other.id == owner.id:
        raise DomainError("link_same_member")
    keep, gone = (owner, other) if id_of(owner) < id_of(other) else (other, owner)
    merge(session, keep, gone, now, tiers)
    return keep


def _lock_merges(session: Session, community_id: int) -> None:
    """One merge at a time per community (PostgreSQL row lock; SQLite has one writer), so
    two merges cannot each miss the referral the other one is adding, nor move the same
    member twice."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(col(Community.id)).where(col(Community.id) == community_id).with_for_update())


def _fresh(session: Session, member: Member) -> Member:
    """The member as committed now (after the lock), not as this session first saw it."""
    session.refresh(member)
    return member


def merge(session: Session, keep: Member, gone: Member, now: datetime,
          tiers: tuple[Tier, ...]) -> None:
    """Move everything of `gone` to `keep`; `gone` stays as a tombstone pointing at `keep`.

    The person keeps one referrer: the earliest attribution that is neither to themselves
    nor closes a cycle; commission either of them earned on the other's orders is reversed.
    """
    assert keep.id != gone.id and keep.merged_into_id is None and gone.merged_into_id is None
    for table, column in _MOVED:
        session.execute(update(table).where(column == gone.id).values({column: keep.id})
                        .execution_options(synchronize_session=False))
    distributors.merge(session, id_of(keep), id_of(gone))
    commission_months.rebuild_months(session, id_of(keep), keep.community_id, id_of(gone))
    for pointer in (col(Member.referred_by_id), col(Member.merged_into_id)):
        session.execute(update(Member).where(pointer == gone.id).values({pointer: keep.id})
                        .execution_options(synchronize_session=False))
    _merge_roles(session, keep, gone)
    session.refresh(keep)
    self_referred = _one_referrer(session, keep, gone)
    if tier_rules.rank(gone.tier, tiers) > tier_rules.rank(keep.tier, tiers):
        keep.tier = gone.tier
    keep.birthday_month = keep.birthday_month or gone.birthday_month
    keep.birthday_day = keep.birthday_day or gone.birthday_day
    keep.locale = keep.locale or gone.locale
    firsts = [d for d in (keep.first_purchase_at, gone.first_purchase_at) if d is not None]
    keep.first_purchase_at = min(firsts) if firsts else None
    keep.points_balance = ledger.ledger_sum(session, id_of(keep))
    keep.points_debt = ledger.debt_sum(session, id_of(keep))
    gone.points_balance, gone.points_debt, gone.merged_into_id = 0, 0, keep.id
    gone.referred_by_id, gone.referred_at = None, None
    session.add_all([keep, gone])
    session.add(AuditLog(community_id=keep.community_id, actor_member_id=keep.id, actor="link",
                         action="merge", allowed=True, detail=f"{gone.id}->{keep.id}", at=now))
    session.flush()
    for referee_id in self_referred:  # one account referred the other: no reward for oneself
        _take_back_referral_rewards(session, keep, referee_id, now)
    ledger.settle(session, keep, f"merge:{gone.id}:repay")  # one person: the balance pays the debt
    _no_self_commission(session, keep, gone)


def _one_referrer(session: Session, keep: Member, gone: Member) -> list[int]:
    """Re-check the person's attribution: first touch, never oneself, never a cycle.

    Runs after the referees of `gone` were moved to `keep` (so keep's own referrer may now
    read as keep itself). Returns which of the two had been referred by the other.
    """
    person = (id_of(keep), id_of(gone))
    self_referred = [id_of(m) for m in (keep, gone) if m.referred_by_id in person]
    candidates = [(keep.referred_at, keep.referred_by_id), (gone.referred_at, gone.referred_by_id)]
    chains = {r: referrals.ancestors(session, r) for _, r in candidates if r is not None}
    chosen = referral_rules.merged_referrer(person, candidates, chains)
    keep.referred_at, keep.referred_by_id = chosen if chosen is not None else (None, None)
    return self_referred


def _take_back_referral_rewards(session: Session, keep: Member, referee_id: int,
                                now: datetime) -> None:
    for side in ("referrer", "referee"):
        key = f"referral:{referee_id}:{side}"
        given = session.execute(select(col(PointsEntry.delta))
                                .where(col(PointsEntry.idem_key) == key)).scalar()
        if given:
            ledger.post(session, keep, -int(given), "reversal", f"{key}:rev", now.date(),
                        clawback=True)


def _no_self_commission(session: Session, keep: Member, gone: Member) -> None:
    """Commission the person earned on their own orders (through the other account) goes."""
    orders = session.execute(
        select(col(CommissionEntry.order_id)).join(Order, col(Order.id) == col(CommissionEntry.order_id))
        .where(col(CommissionEntry.beneficiary_id) == keep.id, col(Order.member_id) == keep.id).distinct()
    ).scalars().all()
    for order_id in orders:
        reverse_commission(session, order_id, f"self{gone.id}", beneficiary_id=keep.id)


def _merge_roles(session: Session, keep: Member, gone: Member) -> None:
    theirs = communities.role_of(session, gone.community_id, id_of(gone))
    if theirs is None:
        return
    mine = communities.role_of(session, keep.community_id, id_of(keep))
    session.execute(delete(Role).where(col(Role.member_id) == gone.id)
                    .execution_options(synchronize_session=False))
    if mine is None or (theirs == communities.OWNER and mine != communities.OWNER):
        communities.set_role(session, keep.community_id, id_of(keep), None)
        session.execute(delete(Role).where(col(Role.member_id) == keep.id)
                        .execution_options(synchronize_session=False))
        session.add(Role(community_id=keep.community_id, member_id=id_of(keep), role=theirs))
