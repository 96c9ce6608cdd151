"""Each distributor's months (CommissionMonth), kept with every commission entry: what an
entry adds to the month of its sale and to the month it was written, the upsert, and the same
figures summed from the entries (for a check, and to rebuild after two members merge)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models.db import dialect_name, table_of
from models.tables_distribution import CommissionEntry, CommissionKind, CommissionMonth

ORDER_KINDS = (CommissionKind.ACCRUE, CommissionKind.REVERSE)
MONTH_FIGURES = ("orders", "sales", "earned", "confirmed", "reversed", "paid", "pending_change",
                 "confirmed_change")
_MONTHS = table_of(CommissionMonth)


def changes(entry: CommissionEntry) -> list[tuple[str, dict[str, int]]]:
    """What the entry adds to its distributor's months: (month of the sale, …), (month the
    entry was written, …) — see CommissionMonth."""
    sale = entry.kind in ORDER_KINDS
    first = sale and entry.level == 1
    return [
        (entry.month, {"orders": (entry.base > 0) - (entry.base < 0) if first else 0,
                       "sales": entry.base if first else 0,
                       "earned": entry.pending_delta + entry.confirmed_delta if sale else 0}),
        (entry.booked, {
            "confirmed": entry.confirmed_delta if entry.kind == CommissionKind.CONFIRM else 0,
            "reversed": -(entry.pending_delta + entry.confirmed_delta)
            if entry.kind == CommissionKind.REVERSE else 0,
            "paid": entry.paid_delta, "pending_change": entry.pending_delta,
            "confirmed_change": entry.confirmed_delta}),
    ]


def upsert(session: Session, rows: Any, columns: list[str]) -> None:
    """Add `rows` (a VALUES dict or a SELECT of community, beneficiary, month, *columns) to
    the distributors' months, creating a month the first time."""
    insert_once = sqlite_insert if dialect_name(session) == "sqlite" else pg_insert
    keys = ["community_id", "beneficiary_id", "month", *columns]
    statement = (insert_once(_MONTHS).values(rows) if isinstance(rows, dict)
                 else insert_once(_MONTHS).from_select(keys, rows))
    session.execute(statement.on_conflict_do_update(
        index_elements=["beneficiary_id", "month"],
        set_={c: _MONTHS.c[c] + statement.excluded[c] for c in columns}))


def book(session: Session, entry: CommissionEntry) -> None:
    for month, figures in changes(entry):
        if any(figures.values()):
            zeros = dict.fromkeys(MONTH_FIGURES, 0)
            upsert(session, {"community_id": entry.community_id,
                              "beneficiary_id": entry.beneficiary_id, "month": month,
                              **zeros, **figures}, list(MONTH_FIGURES))


def month_sums(session: Session, member_id: int) -> dict[str, dict[str, int]]:
    """The member's months as the sums over their entries (what CommissionMonth caches)."""
    months: dict[str, dict[str, int]] = {}
    entries = session.execute(select(CommissionEntry).where(
        col(CommissionEntry.beneficiary_id) == member_id)).scalars()
    for entry in entries:
        for month, figures in changes(entry):
            into = months.setdefault(month, dict.fromkeys(MONTH_FIGURES, 0))
            for name, value in figures.items():
                into[name] += value
    return {m: f for m, f in months.items() if any(f.values())}


def rebuild_months(session: Session, member_id: int, community_id: int, gone_id: int) -> None:
    """Two members became one (`gone_id`'s entries now `member_id`'s): the months again,
    from the entries."""
    session.execute(delete(CommissionMonth)
                    .where(col(CommissionMonth.beneficiary_id).in_([member_id, gone_id]))
                    .execution_options(synchronize_session=False))
    for month, figures in month_sums(session, member_id).items():
        upsert(session, {"community_id": community_id, "beneficiary_id": member_id,
                          "month": month, **figures}, list(MONTH_FIGURES))
