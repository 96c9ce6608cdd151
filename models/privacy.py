"""A member's rights over their data: consent per channel, a copy of it all, erasure.

Erasure keeps every ledger (points, spend, orders, coupons, commissions) under the member's
number, so every total stays right, and removes what names or reaches the person: their name,
handles, birthday, platform ids and private chats, inbound payloads, queued pushes, flows in
progress, link codes, rating comments. Talking to the bot again afterwards starts a new member.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import delete, select, update
from sqlmodel import Session, col

from models import notifications
from models.rules.privacy import forgotten_actor, forgotten_id
from models.tables import (
    AuditLog,
    ChannelAccount,
    Consent,
    Conversation,
    Coupon,
    CouponTemplate,
    Distributor,
    DistributorStatus,
    GroupBuy,
    InboundEvent,
    LinkCode,
    Member,
    MemberTag,
    Order,
    OutboxMessage,
    OutboxStatus,
    PointsEntry,
    Rating,
)
from models.types import id_of, rows_matched


def record_consent(session: Session, *, account: ChannelAccount, granted: bool, source: str,
                   now: datetime) -> None:
    """Promotions on (granted) or off on this account's channel, and the change kept."""
    notifications.set_opted_out(session, account, not granted)
    session.add(Consent(member_id=account.member_id, community_id=account.community_id,
                        channel=account.channel, granted=granted, source=source[:32], at=now))


def _when(moment: datetime | None, tz: tzinfo) -> str | None:
    return moment.astimezone(tz).isoformat(timespec="seconds") if moment else None


def _rows(session: Session, query: Any) -> list[Any]:
    return list(session.execute(query).all())


def my_data(session: Session, *, member: Member, tz: tzinfo) -> dict[str, Any]:
    """Everything stored about this member, as plain JSON-ready values (their own data only:
    who they invited is a count, since those are other people)."""
    mid = id_of(member)
    referrer = (session.get(Member, member.referred_by_id) if member.referred_by_id else None)
    birthday = (f"{member.birthday_month:02d}-{member.birthday_day:02d}"
                if member.birthday_month and member.birthday_day else None)
    return {
        "member": {
            "number": mid, "name": member.display_name, "language": member.locale,
            "birthday": birthday, "tier": member.tier, "points": member.points_balance,
            "points_owed": member.points_debt, "referral_code": member.referral_code,
            "referred_by_code": referrer.referral_code if referrer else None,
            "joined": _when(member.joined_at, tz),
            "first_purchase": _when(member.first_purchase_at, tz),
            "checkin_streak": member.checkin_streak,
        },
        "accounts": [
            {"channel": a.channel, "id": a.external_id, "handle": a.handle,
             "private_chat": a.private_chat, "promotions": not a.opted_out,
             "last_seen": _when(a.last_seen_at, tz)}
            for a in session.execute(select(ChannelAccount).where(
                col(ChannelAccount.member_id) == mid)).scalars()],
        "consent_changes": [
            {"channel": c.channel, "promotions": c.granted, "source": c.source,
             "at": _when(c.at, tz)}
            for c in session.execute(select(Consent).where(col(Consent.member_id) == mid)
                                     .order_by(col(Consent.at))).scalars()],
        "points_history": [
            {"points": p.delta, "kind": p.kind, "reason": p.reason,
             "expires": p.expires_on.isoformat() if p.expires_on else None,
             "at": _when(p.created_at, tz)}
            for p in session.execute(select(PointsEntry).where(col(PointsEntry.member_id) == mid)
                                     .order_by(col(PointsEntry.id))).scalars()],
        "coupons": [
            {"code": c.code, "name": name, "issued": _when(c.issued_at, tz),
             "valid_until": _when(c.valid_until, tz), "used": _when(c.redeemed_at, tz)}
            for c, name in _rows(session, select(Coupon, col(CouponTemplate.name))
                                 .join(CouponTemplate, col(CouponTemplate.id) == Coupon.template_id)
                                 .where(col(Coupon.member_id) == mid).order_by(col(Coupon.id)))],
        "orders": [
            {"group_buy": f"#{number} {title}", "quantity": o.quantity, "status": str(o.status),
             "paid_minor_units": o.net, "ordered": _when(o.created_at, tz),
             "delivered": _when(o.delivered_at, tz)}
            for o, number, title in _rows(session, select(Order, col(GroupBuy.number), col(GroupBuy.title))
                                          .join(GroupBuy, col(GroupBuy.id) == Order.group_buy_id)
                                          .where(col(Order.member_id) == mid)
                                          .order_by(col(Order.id)))],
        "ratings": [
            {"group_buy_id": r.group_buy_id, "score": r.score, "comment": r.comment}
            for r in session.execute(select(Rating).where(col(Rating.member_id) == mid)).scalars()],
        "tags": sorted(session.execute(select(col(MemberTag.tag)).where(
            col(MemberTag.member_id) == mid)).scalars()),
        "distributor": next((
            {"status": str(d.status), "note": d.note, "applied": _when(d.applied_at, tz),
             "commission_pending": d.pending, "commission_confirmed": d.confirmed,
             "commission_paid": d.paid}
            for d in session.execute(select(Distributor).where(
                col(Distributor.member_id) == mid)).scalars()), None),
        "members_invited": len(_rows(session, select(col(Member.id)).where(
            col(Member.referred_by_id) == mid))),
    }


def forget(session: Session, *, member: Member, now: datetime) -> None:
    """Erase the person, keep the books. Members merged into this one are erased with it."""
    ids = [id_of(member), *session.execute(select(col(Member.id)).where(
        col(Member.merged_into_id) == id_of(member))).scalars()]
    accounts = list(session.execute(select(ChannelAccount).where(
        col(ChannelAccount.member_id).in_(ids))).scalars())
    for account in accounts:
        _forget_account(session, account)
    session.execute(update(Member).where(col(Member.id).in_(ids)).values(
        display_name="", birthday_month=None, birthday_day=None, forgotten_at=now)
        .execution_options(synchronize_session=False))
    member.display_name, member.birthday_month, member.birthday_day = "", None, None
    member.forgotten_at = now
    session.execute(update(OutboxMessage).where(
        col(OutboxMessage.member_id).in_(ids), col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(status=OutboxStatus.FAILED, last_error="forgotten"))
    session.execute(update(OutboxMessage).where(col(OutboxMessage.member_id).in_(ids))
                    .values(body={}, chat_id="forgotten"))
    session.execute(delete(LinkCode).where(col(LinkCode.member_id).in_(ids)))
    session.execute(delete(MemberTag).where(col(MemberTag.member_id).in_(ids)))  # interests
    session.execute(update(Rating).where(col(Rating.member_id).in_(ids)).values(comment=""))
    session.execute(update(Distributor).where(col(Distributor.member_id).in_(ids))
                    .values(note=""))  # their words when applying; the books stay
    session.execute(update(Distributor).where(  # nobody left to pay: no more commission
        col(Distributor.member_id).in_(ids), col(Distributor.status) == DistributorStatus.APPROVED)
        .values(status=DistributorStatus.SUSPENDED, reason="forgotten", decided_at=now))
    for mid in ids:
        session.execute(update(AuditLog).where(col(AuditLog.actor_member_id) == mid)
                        .values(actor=forgotten_actor(mid)))


def _forget_account(session: Session, account: ChannelAccount) -> None:
    """The platform id and chats go; what the person said to the bot goes with them."""
    external = account.external_id
    for key in ("sender", "reply_to_sender"):
        session.execute(update(InboundEvent).where(
            col(InboundEvent.channel) == account.channel,
            InboundEvent.__table__.c.payload[key].as_string() == external,  # type: ignore[attr-defined]
        ).values(payload=None).execution_options(synchronize_session=False))
    session.execute(delete(Conversation).where(
        col(Conversation.channel) == account.channel, col(Conversation.sender) == external))
    session.execute(update(ChannelAccount).where(col(ChannelAccount.id) == account.id).values(
        external_id=forgotten_id(id_of(account)), handle=None, private_chat=None,
        opted_out=True, last_inbound_at=None).execution_options(synchronize_session=False))


def prune(session: Session, *, inbox_before: datetime, outbox_before: datetime,
          audit_before: datetime) -> dict[str, int]:
    """The retention job. Old inbound events go (answered ones; an unanswered one keeps its
    row but loses its payload); finished pushes lose their text but keep their row, because
    their dedupe key is what stops a job from sending the same greeting twice; old audit lines
    go. Returns how many rows each touched."""
    inbox = rows_matched(session.execute(delete(InboundEvent).where(
        col(InboundEvent.received_at) < inbox_before,
        col(InboundEvent.answered_at).is_not(None))))
    session.execute(update(InboundEvent).where(
        col(InboundEvent.received_at) < inbox_before, col(InboundEvent.payload).is_not(None))
        .values(payload=None).execution_options(synchronize_session=False))
    outbox = rows_matched(session.execute(update(OutboxMessage).where(
        col(OutboxMessage.created_at) < outbox_before, col(OutboxMessage.chat_id) != "",
        col(OutboxMessage.status).in_((OutboxStatus.SENT, OutboxStatus.FAILED)))
        .values(body={}, chat_id="").execution_options(synchronize_session=False)))
    audit = rows_matched(session.execute(delete(AuditLog).where(col(AuditLog.at) < audit_before)))
    return {"inbox": inbox, "outbox": outbox, "audit": audit}
