"""Distributors: applying, a leader's decision, suspension, the qualification review, and
who is an active distributor under the programme's mode.

Every status change is one conditional UPDATE on the expected status (the loser of a race,
or a second tap, sees 0 rows). Modes (models/programme.py Distribution): "apply" — only an
approved row counts; "everyone" (人人分銷) — every member not suspended or rejected;
"spend_threshold" (滿額分銷) — every member whose delivered spend reached the threshold.
Under the last two a member who qualifies gets an approved row the first time it matters.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models.db import dialect_name, table_of
from models.errors import DomainError
from models.programme import APPLY, EVERYONE, Programme
from models.tables import Member, SpendEntry
from models.tables_distribution import CommissionEntry, CommissionKind, Distributor
from models.tables_distribution import DistributorStatus as Status
from models.types import id_of

# what each decision may change, and from which statuses
FROM = {
    Status.APPROVED: (Status.PENDING, Status.REJECTED, Status.SUSPENDED),
    Status.REJECTED: (Status.PENDING,),
    Status.SUSPENDED: (Status.APPROVED,),
}


def row_of(session: Session, member_id: int) -> Distributor | None:
    return session.execute(select(Distributor).where(col(Distributor.member_id) == member_id)
                           ).scalar_one_or_none()


def _spend(session: Session, member_ids: list[int]) -> dict[int, int]:
    rows = session.execute(select(col(SpendEntry.member_id), func.sum(col(SpendEntry.amount)))
                           .where(col(SpendEntry.member_id).in_(member_ids))
                           .group_by(col(SpendEntry.member_id))).all()
    return {int(m): int(total) for m, total in rows}


def _insert(session: Session, community_id: int, member_id: int, status: Status, note: str,
            now: datetime) -> None:
    """A row for the member unless one exists (concurrent inserts: one wins, none fails)."""
    insert_once = sqlite_insert if dialect_name(session) == "sqlite" else pg_insert
    decided = now if status == Status.APPROVED else None
    session.execute(insert_once(table_of(Distributor)).values(
        community_id=community_id, member_id=member_id, status=status.value, note=note[:200],
        reason="", applied_at=now, decided_at=decided, pending=0, confirmed=0, paid=0,
    ).on_conflict_do_nothing(index_elements=["member_id"]))


def qualifies(session: Session, member_id: int, programme: Programme) -> bool:
    """Whether the mode makes this member a distributor without a leader's approval."""
    plan = programme.distribution
    if plan.mode == EVERYONE:
        return True
    if plan.mode == APPLY:
        return False
    return _spend(session, [member_id]).get(member_id, 0) >= plan.min_spend


def active_among(session: Session, community_id: int, member_ids: list[int],
                 programme: Programme, now: datetime) -> set[int]:
    """Which of these members earn commission now (approved rows; auto rows as the mode
    makes them)."""
    if not member_ids:
        return set()
    plan = programme.distribution
    if plan.mode != APPLY:
        spend = _spend(session, member_ids)
        for member_id in member_ids:
            if plan.mode == EVERYONE or spend.get(member_id, 0) >= plan.min_spend:
                _insert(session, community_id, member_id, Status.APPROVED, "", now)
    approved = session.execute(select(col(Distributor.member_id)).where(
        col(Distributor.member_id).in_(member_ids), col(Distributor.status) == Status.APPROVED,
        col(Distributor.community_id) == community_id)).scalars()
    return set(approved)


def apply(session: Session, member: Member, note: str, programme: Programme,
          now: datetime) -> Distributor:
    """The member applies (or, under an automatic mode, simply is one). DomainError:
    suspended, already pending or approved, or short of the spend threshold."""
    row = row_of(session, id_of(member))
    if row is not None and row.status == Status.SUSPENDED:
        raise DomainError("distributor_suspended", reason=row.reason)
    if row is not None and row.status in (Status.PENDING, Status.APPROVED):
        raise DomainError(f"distributor_already_{row.status.value}")
    if programme.distribution.mode != APPLY and not qualifies(session, id_of(member), programme):
        missing = programme.distribution.min_spend - _spend(session, [id_of(member)]).get(id_of(member), 0)
        raise DomainError("distributor_below_threshold", short=missing)
    status = Status.PENDING if programme.distribution.mode == APPLY else Status.APPROVED
    if row is None:
        _insert(session, member.community_id, id_of(member), status, note, now)
    else:  # rejected before: applying again
        session.execute(update(Distributor).where(col(Distributor.id) == row.id,
                                                  col(Distributor.status) == Status.REJECTED)
                        .values(status=status, note=note[:200], reason="", applied_at=now,
                                decided_at=now if status == Status.APPROVED else None,
                                decided_by_id=None)
                        .execution_options(synchronize_session=False))
    found = row_of(session, id_of(member))
    assert found is not None
    session.refresh(found)
    return found


def decide(session: Session, target: Member, to: Status, reason: str, actor_id: int | None,
           now: datetime, programme: Programme) -> Distributor:
    """Approve, reject or suspend, from the statuses that allow it (FROM); DomainError
    "distributor_cannot" with the current status otherwise, nothing changed."""
    if to == Status.SUSPENDED and qualifies(session, id_of(target), programme):
        _insert(session, target.community_id, id_of(target), Status.APPROVED, "", now)
    row = row_of(session, id_of(target))
    if row is None:
        raise DomainError("distributor_none", target=target)
    moved = session.execute(
        update(Distributor).where(col(Distributor.id) == row.id,
                                  col(Distributor.status).in_(FROM[to]))
        .values(status=to, reason=reason[:200], decided_by_id=actor_id, decided_at=now)
        .returning(col(Distributor.id)).execution_options(synchronize_session=False)).first()
    session.refresh(row)
    if moved is None:
        raise DomainError("distributor_cannot", target=target, status=row.status.value,
                          wanted=to.value)
    return row


def pending(session: Session, community_id: int, limit: int = 30) -> list[tuple[Distributor, Member]]:
    rows = session.execute(
        select(Distributor, Member).join(Member, col(Member.id) == col(Distributor.member_id))
        .where(col(Distributor.community_id) == community_id,
               col(Distributor.status) == Status.PENDING)
        .order_by(col(Distributor.applied_at), col(Distributor.id)).limit(limit)).all()
    return [(d, m) for d, m in rows]


def review(session: Session, community_id: int, days: int, now: datetime,
           reason: str = "review") -> list[Member]:
    """Suspend every approved distributor with no delivered sale in the last `days` days
    (approved at least that long ago), in one UPDATE; the members suspended."""
    cutoff = now - timedelta(days=days)
    sold = exists().where(col(CommissionEntry.beneficiary_id) == col(Distributor.member_id),
                          col(CommissionEntry.kind) == CommissionKind.ACCRUE,
                          col(CommissionEntry.level) == 1,
                          col(CommissionEntry.created_at) >= cutoff)
    moved = session.execute(
        update(Distributor).where(col(Distributor.community_id) == community_id,
                                  col(Distributor.status) == Status.APPROVED,
                                  col(Distributor.decided_at) < cutoff, ~sold)
        .values(status=Status.SUSPENDED, reason=reason, decided_by_id=None, decided_at=now)
        .returning(col(Distributor.member_id)).execution_options(synchronize_session=False))
    suspended = sorted(int(m) for m in moved.scalars())
    return list(session.execute(select(Member).where(col(Member.id).in_(suspended))
                                .order_by(col(Member.id))).scalars())


def downline(session: Session, member_id: int) -> tuple[int, int]:
    """How many members this one invited (level 1), and how many those invited (level 2)."""
    first = select(col(Member.id)).where(col(Member.referred_by_id) == member_id)
    level1 = session.execute(select(func.count()).select_from(first.subquery())).scalar_one()
    level2 = session.execute(select(func.count(col(Member.id))).where(
        col(Member.referred_by_id).in_(first), col(Member.id) != member_id)).scalar_one()
    return int(level1), int(level2)


def merge(session: Session, keep_id: int, gone_id: int) -> None:
    """Two members became one (their entries already moved to `keep_id`): one row stays —
    keep's, or gone's if keep had none — and its cached totals are the sums of the entries."""
    keep, gone = row_of(session, keep_id), row_of(session, gone_id)
    if gone is not None and keep is not None:
        session.execute(delete(Distributor).where(col(Distributor.id) == gone.id)
                        .execution_options(synchronize_session=False))
    elif gone is not None:
        session.execute(update(Distributor).where(col(Distributor.id) == gone.id)
                        .values(member_id=keep_id).execution_options(synchronize_session=False))
    e = CommissionEntry
    totals = session.execute(select(func.coalesce(func.sum(col(e.pending_delta)), 0),
                                    func.coalesce(func.sum(col(e.confirmed_delta)), 0),
                                    func.coalesce(func.sum(col(e.paid_delta)), 0))
                             .where(col(e.beneficiary_id) == keep_id)).one()
    session.execute(update(Distributor).where(col(Distributor.member_id) == keep_id)
                    .values(pending=int(totals[0]), confirmed=int(totals[1]), paid=int(totals[2]))
                    .execution_options(synchronize_session=False))
