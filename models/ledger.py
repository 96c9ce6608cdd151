"""The points ledger: append-only entries; the cached balance moves in the same statement."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from models.errors import InsufficientPoints
from models.rules.points import Entry, Lot, expired_by, expiry_date, open_lots
from models.tables import Member, PointsEntry

EARN_KINDS = ("purchase", "checkin", "referral", "grant", "refund")


def post(
    session: Session,
    member: Member,
    delta: int,
    kind: str,
    idem_key: str,
    today: date,
    *,
    reason: str = "",
    expiry_months: int | None = 12,
    actor_id: int | None = None,
    allow_negative: bool = False,
) -> PointsEntry | None:
    """Append one entry. A key seen before changes nothing and returns None.

    Earnings expire at the end of the 12th month after `today` (None: never). A debit
    that would take the balance below zero raises InsufficientPoints and writes nothing,
    unless `allow_negative` (a compensating entry that must land whatever was spent since).
    """
    if delta == 0:
        return None
    seen = session.execute(select(PointsEntry.id).where(PointsEntry.idem_key == idem_key)).first()
    if seen:
        return None
    guard = True if allow_negative else Member.points_balance + delta >= 0
    moved = session.execute(
        update(Member)
        .where(Member.id == member.id, guard)
        .values(points_balance=Member.points_balance + delta)
        .returning(Member.points_balance)
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        raise InsufficientPoints(balance=member.points_balance, needed=-delta)
    set_committed_value(member, "points_balance", moved[0])  # the new balance, no re-read
    expires_on = None
    if delta > 0 and expiry_months is not None:
        expires_on = expiry_date(today, expiry_months)
    entry = PointsEntry(
        member_id=member.id,  # type: ignore[arg-type]
        delta=delta,
        kind=kind,
        reason=reason[:200],
        expires_on=expires_on,
        idem_key=idem_key[:128],
        actor_member_id=actor_id,
    )
    session.add(entry)
    session.flush()
    return entry


def recent(session: Session, member_id: int, limit: int = 10) -> list[PointsEntry]:
    return list(
        session.execute(
            select(PointsEntry)
            .where(PointsEntry.member_id == member_id)
            .order_by(PointsEntry.id.desc())  # type: ignore[union-attr]
            .limit(limit)
        ).scalars()
    )


def lots(session: Session, member_id: int) -> list[Lot]:
    rows = session.execute(
        select(PointsEntry.delta, PointsEntry.expires_on)
        .where(PointsEntry.member_id == member_id)
        .order_by(PointsEntry.id)
    ).all()
    return open_lots(Entry(delta, expires_on) for delta, expires_on in rows)


def ledger_sum(session: Session, member_id: int) -> int:
    return int(
        session.execute(
            select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
                PointsEntry.member_id == member_id
            )
        ).scalar_one()
    )


def members_with_expiring(session: Session, since: date, before: date) -> list[int]:
    """Members holding earnings whose expiry date falls in [since, before)."""
    return list(session.execute(
        select(PointsEntry.member_id).where(
            PointsEntry.delta > 0,
            PointsEntry.expires_on >= since,  # type: ignore[operator]
            PointsEntry.expires_on < before,  # type: ignore[operator]
        ).distinct()
    ).scalars())


def expire(session: Session, member: Member, today: date) -> int:
    """Write off (FIFO) what expired before today; once per member per day. Returns points."""
    due = min(expired_by(lots(session, member.id), today), member.points_balance)  # type: ignore[arg-type]
    if due <= 0:
        return 0
    post(session, member, -due, "expire", f"expire:{member.id}:{today.isoformat()}", today)
    return due
