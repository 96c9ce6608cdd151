"""Shared helpers for the distribution tests: the programme's mode, approved distributors,
and the commission ledger as the tests read it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from bot.app import App
from bot.console import ConsoleChannel
from models import commission
from models.db import UnitOfWork
from models.tables import CommissionEntry, CommissionKind, Community, Distributor, DistributorStatus

ORDER_KINDS = (CommissionKind.ACCRUE, CommissionKind.REVERSE)


def configure(app: App | ConsoleChannel, **config: Any) -> None:
    """Set the demo community's programme configuration (replacing what was there)."""
    with UnitOfWork(app.deps.sessions) as uow:
        uow.session.execute(update(Community).where(Community.slug == "demo").values(programme=config))
        uow.commit()


def everyone_distributes(app: App | ConsoleChannel, **distribution: Any) -> None:
    """人人分銷: every member is a distributor (what the older tests of commission assumed)."""
    configure(app, distribution={"mode": "everyone", **distribution})


def approve(app: App | ConsoleChannel, *member_ids: int) -> None:
    """Approved distributors, as a leader's /approve would leave them."""
    now = app.deps.clock()
    with UnitOfWork(app.deps.sessions) as uow:
        for member_id in member_ids:
            community_id = uow.session.execute(
                select(Community.id).where(Community.slug == "demo")).scalar_one()
            uow.session.add(Distributor(community_id=community_id, member_id=member_id,
                                        status=DistributorStatus.APPROVED, applied_at=now,
                                        decided_at=now))
        uow.commit()


def earned(app: App | ConsoleChannel, order_id: int | None = None) -> list[tuple[int, int, int]]:
    """(beneficiary, level, commission still standing) per beneficiary and level, as the
    order entries say (all orders, or one)."""
    query = (select(CommissionEntry.beneficiary_id, CommissionEntry.level,
                    func.sum(CommissionEntry.pending_delta + CommissionEntry.confirmed_delta))
             .where(CommissionEntry.kind.in_(ORDER_KINDS))  # type: ignore[attr-defined]
             .group_by(CommissionEntry.beneficiary_id, CommissionEntry.level)
             .order_by(CommissionEntry.level, CommissionEntry.beneficiary_id))
    if order_id is not None:
        query = query.where(CommissionEntry.order_id == order_id)
    with app.deps.sessions() as session:
        return [(int(b), int(level), int(total)) for b, level, total in session.execute(query).all()]


def totals(app: App | ConsoleChannel, member_id: int) -> tuple[int, int, int]:
    """(pending, confirmed, paid) cached on the distributor's row; zeros without one."""
    with app.deps.sessions() as session:
        row = session.execute(select(Distributor).where(Distributor.member_id == member_id)
                              ).scalar_one_or_none()
        return (row.pending, row.confirmed, row.paid) if row else (0, 0, 0)


def sums(app: App | ConsoleChannel, member_id: int) -> tuple[int, int, int]:
    with app.deps.sessions() as session:
        return commission.sums(session, member_id)
