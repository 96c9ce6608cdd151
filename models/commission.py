"""The commission ledger (models/tables_distribution.py explains the entries): accrue on
delivery, reverse on cancel or refund, confirm after the return window, pay out.

Every entry is written with the UPDATE of its distributor's cached totals in the same
transaction, so each total is always the sum of its column over the entries. Accruals and
reversals read the community's confirmation watermark FOR SHARE and the confirmation job
moves it with a conditional UPDATE, so on PostgreSQL the two never interleave (SQLite has
one writer at a time anyway).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, cast, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models import commission_months as months
from models import distributors, referrals
from models.db import dialect_name, table_of
from models.errors import DomainError
from models.programme import Programme
from models.rules import commission as rules
from models.tables import Community, Member, Order
from models.tables_distribution import (
    CommissionClock,
    CommissionEntry,
    CommissionKind,
    CommissionMonth,
    Distributor,
)
from models.types import id_of, rows_matched

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ORDER_KINDS = (CommissionKind.ACCRUE, CommissionKind.REVERSE)
_ENTRIES = table_of(CommissionEntry)


def month_of(moment: datetime, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def watermark(session: Session, community_id: int, *, lock: bool = False) -> datetime:
    """How far the community's commissions are confirmed (read FOR SHARE when `lock`)."""
    insert_once = sqlite_insert if dialect_name(session) == "sqlite" else pg_insert
    session.execute(insert_once(table_of(CommissionClock))
                    .values(community_id=community_id, confirmed_through=EPOCH)
                    .on_conflict_do_nothing(index_elements=["community_id"]))
    query = select(col(CommissionClock.confirmed_through)).where(
        col(CommissionClock.community_id) == community_id)
    if lock:
        query = query.with_for_update(read=True)
    mark = session.execute(query).scalar_one()
    assert isinstance(mark, datetime)
    return mark


def monthly_sales(session: Session, member_id: int, month: str) -> int:
    """The distributor's delivered level-1 sales of `month`, net of reversals."""
    return int(session.execute(select(col(CommissionMonth.sales)).where(
        col(CommissionMonth.beneficiary_id) == member_id, col(CommissionMonth.month) == month)
    ).scalar() or 0)


def _seen(session: Session, key: str) -> bool:
    return session.execute(select(col(CommissionEntry.id))
                           .where(col(CommissionEntry.idem_key) == key)).first() is not None


def _post(session: Session, entry: CommissionEntry) -> CommissionEntry:
    """Append the entry and move its distributor's cached totals (and months) by the same
    amounts."""
    session.add(entry)
    session.flush()
    months.book(session, entry)
    session.execute(update(Distributor).where(col(Distributor.member_id) == entry.beneficiary_id)
                    .values(pending=col(Distributor.pending) + entry.pending_delta,
                            confirmed=col(Distributor.confirmed) + entry.confirmed_delta,
                            paid=col(Distributor.paid) + entry.paid_delta)
                    .execution_options(synchronize_session=False))
    return entry


def accrue(session: Session, order: Order, buyer: Member, programme: Programme, now: datetime,
           tz: tzinfo) -> list[CommissionEntry]:
    """The order's commission, pending until the return window passes: level 1 at the
    ladder rate, level 2 at its rate, capped together; only active distributors, two
    levels at most, the buyer only when self-purchase commission is on."""
    plan = programme.distribution
    chain = referrals.referrer_chain(session, buyer, limit=rules.MAX_LEVELS)
    candidates = [*chain, id_of(buyer)] if plan.self_purchase else chain
    active = distributors.active_among(session, buyer.community_id, candidates, programme, now)
    paid = rules.beneficiaries(id_of(buyer), chain, active, self_purchase=plan.self_purchase)
    if not paid:
        return []
    month = month_of(now, tz)
    by_level = dict(paid)
    sales = monthly_sales(session, by_level[1], month) if 1 in by_level else 0
    split = rules.split(order.net, sales, plan.ladder, plan.level2_pct, plan.cap_pct,
                        level1=1 in by_level, level2=2 in by_level)
    due = max(now + plan.return_window,
              watermark(session, buyer.community_id, lock=True) + timedelta(microseconds=1))
    written = []
    for level, who in paid:
        key = f"commission:{order.id}:{level}"
        if _seen(session, key):
            continue
        amount, pct = (split.level1, split.level1_pct) if level == 1 else (split.level2, split.level2_pct)
        written.append(_post(session, CommissionEntry(
            community_id=buyer.community_id, beneficiary_id=who, order_id=id_of(order),
            level=level, kind=CommissionKind.ACCRUE, base=order.net, pct=pct,
            pending_delta=amount, month=month, booked=month, confirm_after=due, idem_key=key,
            created_at=now)))
    return written


def reverse(session: Session, order_id: int, why: str, now: datetime,
            beneficiary_id: int | None = None) -> list[CommissionEntry]:
    """Append the opposite of what still stands on the order (for one beneficiary, or all):
    from pending while the return window runs, from confirmed after (below zero when it was
    paid out: carried into the next statement). Sales go back with it."""
    query = select(CommissionEntry).where(col(CommissionEntry.order_id) == order_id,
                                          col(CommissionEntry.kind) == CommissionKind.ACCRUE)
    if beneficiary_id is not None:
        query = query.where(col(CommissionEntry.beneficiary_id) == beneficiary_id)
    written = []
    accruals = session.execute(query.order_by(col(CommissionEntry.level))).scalars().all()
    community = session.get(Community, accruals[0].community_id) if accruals else None
    booked = month_of(now, ZoneInfo(community.timezone)) if community else ""
    for accrual in accruals:
        key = f"commission:{order_id}:{accrual.level}:{why}"
        standing = session.execute(
            select(func.coalesce(func.sum(col(CommissionEntry.pending_delta)
                                          + col(CommissionEntry.confirmed_delta)), 0),
                   func.coalesce(func.sum(col(CommissionEntry.base)), 0))
            .where(col(CommissionEntry.order_id) == order_id,
                   col(CommissionEntry.level) == accrual.level,
                   col(CommissionEntry.beneficiary_id) == accrual.beneficiary_id,
                   col(CommissionEntry.kind).in_(ORDER_KINDS))).one()
        amount, base = int(standing[0]), int(standing[1])
        if (amount == 0 and base == 0) or _seen(session, key):
            continue
        mark = watermark(session, accrual.community_id, lock=True)
        assert accrual.confirm_after is not None
        confirmed = accrual.confirm_after <= mark
        written.append(_post(session, CommissionEntry(
            community_id=accrual.community_id, beneficiary_id=accrual.beneficiary_id,
            order_id=order_id, level=accrual.level, kind=CommissionKind.REVERSE, base=-base,
            pct=accrual.pct, pending_delta=0 if confirmed else -amount,
            confirmed_delta=-amount if confirmed else 0, month=accrual.month, booked=booked,
            confirm_after=accrual.confirm_after, idem_key=key[:128], created_at=now)))
    session.flush()
    return written


def confirm(session: Session, community_id: int, now: datetime, tz: tzinfo) -> int:
    """Confirm every accrual whose return window has passed: the watermark moves to `now`
    (conditionally: a second run at the same time moves nothing) and each distributor gets
    one confirm entry for the sum, in one INSERT … SELECT and one UPDATE. Returns how many
    distributors got one."""
    old = watermark(session, community_id)
    if old >= now or not rows_matched(session.execute(
            update(CommissionClock).where(col(CommissionClock.community_id) == community_id,
                                          col(CommissionClock.confirmed_through) == old)
            .values(confirmed_through=now).execution_options(synchronize_session=False))):
        return 0
    e = _ENTRIES.c
    stamp = f"confirm:{community_id}:{now.timestamp():.6f}:"
    month = month_of(now, tz)
    due = (select(e.community_id, e.beneficiary_id, literal(CommissionKind.CONFIRM.value),
                  literal(0), -func.sum(e.pending_delta), func.sum(e.pending_delta),
                  literal(month), literal(month), literal(stamp) + cast(e.beneficiary_id, String),
                  bindparam("now", now, type_=e.created_at.type))
           .where(e.community_id == community_id, e.confirm_after > old, e.confirm_after <= now,
                  e.kind.in_([k.value for k in ORDER_KINDS]))
           .group_by(e.community_id, e.beneficiary_id).having(func.sum(e.pending_delta) != 0))
    inserted = session.execute(insert(_ENTRIES).from_select(
        ["community_id", "beneficiary_id", "kind", "level", "pending_delta", "confirmed_delta",
         "month", "booked", "idem_key", "created_at"], due).returning(e.id)).all()
    moved = (select(e.beneficiary_id, e.confirmed_delta)
             .where(e.community_id == community_id, e.created_at == now,
                    e.kind == CommissionKind.CONFIRM.value).subquery())
    distributor = table_of(Distributor)
    session.execute(update(distributor).where(distributor.c.member_id == moved.c.beneficiary_id)
                    .values(pending=distributor.c.pending - moved.c.confirmed_delta,
                            confirmed=distributor.c.confirmed + moved.c.confirmed_delta))
    zero = literal(0)
    months.upsert(session, select(e.community_id, e.beneficiary_id, e.booked, zero, zero, zero,
                            e.confirmed_delta, zero, zero, e.pending_delta, e.confirmed_delta)
            .where(e.community_id == community_id, e.created_at == now,
                   e.kind == CommissionKind.CONFIRM.value), list(months.MONTH_FIGURES))
    return len(inserted)


def payout(session: Session, member: Member, amount: int, *, key: str, actor_id: int,
           now: datetime, tz: tzinfo) -> Distributor:
    """Mark `amount` paid: never more than the confirmed balance (DomainError
    "payout_too_much" otherwise, nothing written); the same key again pays nothing more."""
    row = distributors.row_of(session, id_of(member))
    if row is None:
        raise DomainError("not_a_distributor", target=member)
    if amount <= 0:
        raise DomainError("payout_too_much", target=member, amount=amount, confirmed=row.confirmed)
    if _seen(session, key):
        session.refresh(row)
        return row
    moved = session.execute(
        update(Distributor).where(col(Distributor.member_id) == member.id,
                                  col(Distributor.confirmed) >= amount)
        .values(confirmed=col(Distributor.confirmed) - amount, paid=col(Distributor.paid) + amount)
        .execution_options(synchronize_session=False))
    session.refresh(row)
    if not rows_matched(moved):
        raise DomainError("payout_too_much", target=member, amount=amount, confirmed=row.confirmed)
    entry = CommissionEntry(
        community_id=member.community_id, beneficiary_id=id_of(member), kind=CommissionKind.PAYOUT,
        confirmed_delta=-amount, paid_delta=amount, month=month_of(now, tz),
        booked=month_of(now, tz), idem_key=key[:128], actor_member_id=actor_id, created_at=now)
    session.add(entry)
    session.flush()
    months.book(session, entry)
    return row


def sums(session: Session, member_id: int) -> tuple[int, int, int]:
    """(pending, confirmed, paid) as the sums of the member's entries."""
    e = _ENTRIES.c
    found = session.execute(select(func.coalesce(func.sum(e.pending_delta), 0),
                                   func.coalesce(func.sum(e.confirmed_delta), 0),
                                   func.coalesce(func.sum(e.paid_delta), 0))
                            .where(e.beneficiary_id == member_id)).one()
    return int(found[0]), int(found[1]), int(found[2])

