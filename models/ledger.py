"""The points ledger: append-only entries; the cached balance moves in the same statement.

Points never go below zero. A refund takes back what it gave only as far as the balance
goes; the rest is a points debt (cached on the member, each change a ledger entry's
`debt_delta`), paid first by later earnings, each repayment an entry of its own. So
balance == sum(delta) and debt == sum(debt_delta), and debt > 0 only while the balance is 0.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from models.errors import InsufficientPoints
from models.rules.points import Entry, Lot, expired_by, expiry_date, open_lots
from models.tables import Member, PointsEntry
from models.types import id_of

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
    clawback: bool = False,
    at: datetime | None = None,
) -> PointsEntry | None:
    """Append one entry. A key seen before changes nothing and returns None.

    Earnings expire at the end of the 12th month after `today` (None: never), and pay any
    points debt first (a second entry, kind "repay"). A debit that would take the balance
    below zero raises InsufficientPoints and writes nothing, unless `clawback` (a refund
    taking back what it gave): then it takes what is left and the rest becomes points debt.
    """
    if delta == 0:
        return None
    seen = session.execute(select(col(PointsEntry.id)).where(col(PointsEntry.idem_key) == idem_key)).first()
    if seen:
        return None
    if delta < 0 and clawback:
        taken = _claw(session, member, -delta)
        return _append(session, member, -taken, kind, idem_key, reason, None, actor_id,
                       debt_delta=-delta - taken)
    moved = session.execute(
        update(Member)
        .where(col(Member.id) == member.id, col(Member.points_balance) + delta >= 0)
        .values(points_balance=col(Member.points_balance) + delta)
        .returning(col(Member.points_balance), col(Member.points_debt))
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        raise InsufficientPoints(balance=member.points_balance, needed=-delta)
    _cache(member, moved[0], moved[1])
    expires_on = None
    if delta > 0 and expiry_months is not None:
        expires_on = expiry_date(today, expiry_months)
    entry = _append(session, member, delta, kind, idem_key, reason, expires_on, actor_id, at=at)
    if delta > 0 and moved[1] > 0:
        _repay(session, member, min(moved[1], delta), f"{idem_key[:121]}:repay")
    return entry


def _cache(member: Member, balance: int, debt: int) -> None:
    """The new cached values, as the UPDATE returned them (no re-read)."""
    set_committed_value(member, "points_balance", balance)
    set_committed_value(member, "points_debt", debt)


def _append(session: Session, member: Member, delta: int, kind: str, idem_key: str,
            reason: str, expires_on: date | None, actor_id: int | None,
            debt_delta: int = 0, at: datetime | None = None) -> PointsEntry:
    entry = PointsEntry(
        member_id=id_of(member),
        delta=delta,
        debt_delta=debt_delta,
        kind=kind,
        reason=reason[:200],
        expires_on=expires_on,
        idem_key=idem_key[:128],
        actor_member_id=actor_id,
    )
    if at is not None:
        entry.created_at = at
    session.add(entry)
    session.flush()
    return entry


def _claw(session: Session, member: Member, amount: int) -> int:
    """Take up to `amount` from the balance, owe the rest; returns what was taken.

    Conditional on the balance read just before: a concurrent change makes the UPDATE
    match nothing, and the loop reads again.
    """
    while True:
        balance: int = session.execute(
            select(col(Member.points_balance)).where(col(Member.id) == member.id)
        ).scalar_one()
        taken = max(0, min(balance, amount))
        moved = session.execute(
            update(Member)
            .where(col(Member.id) == member.id, col(Member.points_balance) == balance)
            .values(points_balance=col(Member.points_balance) - taken,
                    points_debt=col(Member.points_debt) + (amount - taken))
            .returning(col(Member.points_balance), col(Member.points_debt))
            .execution_options(synchronize_session=False)
        ).first()
        if moved is not None:
            _cache(member, moved[0], moved[1])
            return taken


def _repay(session: Session, member: Member, points: int, idem_key: str) -> None:
    """Pay `points` of the member's debt from their balance: one ledger entry."""
    if points <= 0:
        return
    moved = session.execute(
        update(Member)
        .where(col(Member.id) == member.id, col(Member.points_balance) >= points,
               col(Member.points_debt) >= points)
        .values(points_balance=col(Member.points_balance) - points,
                points_debt=col(Member.points_debt) - points)
        .returning(col(Member.points_balance), col(Member.points_debt))
        .execution_options(synchronize_session=False)
    ).first()
    if moved is None:
        return  # someone else moved the balance or the debt first; nothing is lost
    _cache(member, moved[0], moved[1])
    _append(session, member, -points, "repay", idem_key, "", None, None, debt_delta=-points)


def settle(session: Session, member: Member, idem_key: str) -> None:
    """Pay what a balance can of a debt (after two members' ledgers came together)."""
    row = session.execute(select(col(Member.points_balance), col(Member.points_debt))
                          .where(col(Member.id) == member.id)).one()
    _repay(session, member, min(row[0], row[1]), idem_key)


def repeated(session: Session, member_id: int, actor_id: int, delta: int, reason: str,
             since: datetime) -> bool:
    """Did this actor post the same change with the same reason to the member since `since`?
    (A leader's double tap on /grant or /deduct.)"""
    return session.execute(select(col(PointsEntry.id)).where(
        col(PointsEntry.member_id) == member_id, col(PointsEntry.actor_member_id) == actor_id,
        col(PointsEntry.delta) == delta, col(PointsEntry.reason) == reason[:200],
        col(PointsEntry.created_at) >= since).limit(1)).first() is not None


def recent(session: Session, member_id: int, limit: int = 10) -> list[PointsEntry]:
    return list(
        session.execute(
            select(PointsEntry)
            .where(col(PointsEntry.member_id) == member_id)
            .order_by(col(PointsEntry.id).desc())
            .limit(limit)
        ).scalars()
    )


def lots(session: Session, member_id: int) -> list[Lot]:
    rows = session.execute(
        select(col(PointsEntry.delta), col(PointsEntry.expires_on))
        .where(col(PointsEntry.member_id) == member_id)
        .order_by(col(PointsEntry.id))
    ).all()
    return open_lots(Entry(delta, expires_on) for delta, expires_on in rows)


def ledger_sum(session: Session, member_id: int) -> int:
    return int(
        session.execute(
            select(func.coalesce(func.sum(col(PointsEntry.delta)), 0)).where(
                col(PointsEntry.member_id) == member_id
            )
        ).scalar_one()
    )


def debt_sum(session: Session, member_id: int) -> int:
    return int(
        session.execute(
            select(func.coalesce(func.sum(col(PointsEntry.debt_delta)), 0)).where(
                col(PointsEntry.member_id) == member_id
            )
        ).scalar_one()
    )


def members_with_expiring(session: Session, since: date, before: date) -> list[int]:
    """Members holding earnings whose expiry date falls in [since, before)."""
    return list(session.execute(
        select(col(PointsEntry.member_id)).where(
            col(PointsEntry.delta) > 0,
            col(PointsEntry.expires_on) >= since,
            col(PointsEntry.expires_on) < before,
        ).distinct()
    ).scalars())


def expire(session: Session, member: Member, today: date) -> int:
    """Write off (FIFO) what expired before today; once per member per day. Returns points."""
    due = min(expired_by(lots(session, id_of(member)), today), member.points_balance)
    if due <= 0:
        return 0
    post(session, member, -due, "expire", f"expire:{member.id}:{today.isoformat()}", today)
    return due


def expire_in_community(session: Session, community_id: int, since: date, today: date) -> int:
    """Write off, for each of the community's members holding earnings that expired in
    [since, today), what expired; once per member per day. Returns the points written off."""
    ids = members_with_expiring(session, since, today)
    found = session.execute(select(Member).where(
        col(Member.id).in_(ids), col(Member.community_id) == community_id)).scalars()
    return sum(expire(session, member, today) for member in found)
