"""One member across platforms: a one-time code joins a second platform account.

`/link` on platform A gives a code; typing `/link CODE` on platform B attaches B's account
to the same member. If B already had a member of its own in that community, the two are
merged into the older one: points, orders, coupons, referrals and roles move, nothing is
counted twice, and the ledger stays append-only (entries change owner, never amount).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session

from models import communities
from models.errors import DomainError
from models.rules import coupons as code_rules
from models.rules import tiers as tier_rules
from models.rules.tiers import Tier
from models.tables import (
    AuditLog,
    ChannelAccount,
    CommissionEvent,
    Coupon,
    LinkCode,
    Member,
    Order,
    PointsEntry,
    Role,
    SpendEntry,
    TierChange,
)

VALID_FOR = timedelta(minutes=10)
_MOVED = (PointsEntry.member_id, SpendEntry.member_id, Coupon.member_id, Order.member_id,
          TierChange.member_id, ChannelAccount.member_id, CommissionEvent.beneficiary_id)


def new_code(session: Session, member: Member, now: datetime) -> LinkCode:
    while True:
        code = code_rules.new_code(8)
        if session.execute(select(LinkCode.id).where(LinkCode.code == code)).first() is None:
            break
    link = LinkCode(code=code, member_id=member.id, expires_at=now + VALID_FOR)  # type: ignore[arg-type]
    session.add(link)
    session.flush()
    return link


def redeem(session: Session, code: str, channel: str, external_id: str, handle: str | None,
           now: datetime, tiers: tuple[Tier, ...]) -> Member:
    """Attach (channel, external_id) to the code's member; merge if it had its own member."""
    used = session.execute(
        update(LinkCode)
        .where(LinkCode.code == code.upper()[:12], LinkCode.used_at.is_(None),  # type: ignore[union-attr]
               LinkCode.expires_at > now)
        .values(used_at=now).returning(LinkCode.member_id)
    ).first()
    if used is None:
        raise DomainError("link_bad_code")
    owner = session.get(Member, used[0])
    assert owner is not None
    owned = session.execute(select(ChannelAccount.channel).where(
        ChannelAccount.member_id == owner.id)).scalars().all()
    if channel in owned:  # linking joins platforms; it never hands an account to another person
        raise DomainError("link_other_platform")
    account = session.execute(select(ChannelAccount).where(
        ChannelAccount.channel == channel, ChannelAccount.external_id == external_id,
        ChannelAccount.community_id == owner.community_id)).scalar_one_or_none()
    if account is None:
        session.add(ChannelAccount(member_id=owner.id, community_id=owner.community_id,  # type: ignore[arg-type]
                                   channel=channel, external_id=external_id,
                                   handle=handle, last_seen_at=now))
        session.flush()
        return owner
    if account.member_id == owner.id:
        raise DomainError("link_same_member")
    other = session.get(Member, account.member_id)
    assert other is not None
    keep, gone = (owner, other) if owner.id < other.id else (other, owner)  # type: ignore[operator]
    merge(session, keep, gone, now, tiers)
    return keep


def merge(session: Session, keep: Member, gone: Member, now: datetime,
          tiers: tuple[Tier, ...]) -> None:
    """Move everything of `gone` to `keep`; `gone` stays as a tombstone pointing at `keep`."""
    for column in _MOVED:
        session.execute(update(column.class_).where(column == gone.id).values({column.key: keep.id})  # type: ignore[attr-defined]
                        .execution_options(synchronize_session=False))
    session.execute(update(Member).where(Member.referred_by_id == gone.id)
                    .values(referred_by_id=keep.id).execution_options(synchronize_session=False))
    session.execute(update(Member).where(Member.id == keep.id, Member.referred_by_id == keep.id)
                    .values(referred_by_id=None).execution_options(synchronize_session=False))
    _merge_roles(session, keep, gone)
    session.refresh(keep)
    if keep.referred_by_id is None and gone.referred_by_id not in (None, keep.id):
        keep.referred_by_id = gone.referred_by_id
    if tier_rules.rank(gone.tier, tiers) > tier_rules.rank(keep.tier, tiers):
        keep.tier = gone.tier
    keep.birthday_month = keep.birthday_month or gone.birthday_month
    keep.birthday_day = keep.birthday_day or gone.birthday_day
    keep.locale = keep.locale or gone.locale
    firsts = [d for d in (keep.first_purchase_at, gone.first_purchase_at) if d is not None]
    keep.first_purchase_at = min(firsts) if firsts else None
    keep.points_balance = int(session.execute(select(func.coalesce(func.sum(PointsEntry.delta), 0))
                                              .where(PointsEntry.member_id == keep.id)).scalar_one())
    gone.points_balance, gone.merged_into_id, gone.referred_by_id = 0, keep.id, None
    session.add_all([keep, gone])
    session.add(AuditLog(community_id=keep.community_id, actor_member_id=keep.id, actor="link",
                         action="merge", allowed=True, detail=f"{gone.id}->{keep.id}", at=now))
    session.flush()


def _merge_roles(session: Session, keep: Member, gone: Member) -> None:
    theirs = communities.role_of(session, gone.community_id, gone.id)  # type: ignore[arg-type]
    if theirs is None:
        return
    mine = communities.role_of(session, keep.community_id, keep.id)  # type: ignore[arg-type]
    session.execute(Role.__table__.delete().where(Role.member_id == gone.id))  # type: ignore[attr-defined]
    if mine is None or (theirs == communities.OWNER and mine != communities.OWNER):
        communities.set_role(session, keep.community_id, keep.id, None)  # type: ignore[arg-type]
        session.execute(Role.__table__.delete().where(Role.member_id == keep.id))  # type: ignore[attr-defined]
        session.add(Role(community_id=keep.community_id, member_id=keep.id, role=theirs))
