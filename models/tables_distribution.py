"""Distribution (分銷): distributors, the append-only commission ledger, the confirmation
watermark and the monthly statements.

The ledger: every entry moves money between three cached totals on the distributor's row,
each always the sum of its column over the entries —
  accrue   (an order delivered)        pending   +a
  confirm  (the return window passed)  pending   -a, confirmed +a   (one entry per
           distributor per confirmation run, for every accrual it covers)
  reverse  (cancel or refund)          pending -a, or confirmed -a once confirmed
  payout   (a leader paid)             confirmed -a, paid +a
`confirmed` is what is owed and not yet paid; a reversal after a payout takes it below zero,
and that negative balance is carried into the next statement.

An accrual is confirmed once its `confirm_after` is at or before the community's watermark
(`CommissionClock.confirmed_through`): the confirmation job moves the watermark forward and
writes one confirm entry per distributor for everything between the old and the new mark.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import EnumText, timestamp


class DistributorStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class CommissionKind(StrEnum):
    ACCRUE = "accrue"
    CONFIRM = "confirm"
    REVERSE = "reverse"
    PAYOUT = "payout"


class Distributor(SQLModel, table=True):
    """A member's standing as a distributor, and their cached commission totals."""

    __table_args__ = (Index("ix_distributor_status", "community_id", "status"),)
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    member_id: int = Field(foreign_key="member.id", unique=True)
    status: DistributorStatus = Field(
        default=DistributorStatus.PENDING,
        sa_column=Column(EnumText(DistributorStatus), nullable=False))
    note: str = Field(default="", max_length=200)  # the member's, when applying
    reason: str = Field(default="", max_length=200)  # the leader's (or the review's)
    decided_by_id: int | None = Field(default=None, foreign_key="member.id")
    applied_at: datetime = timestamp()
    decided_at: datetime | None = timestamp(nullable=True)
    pending: int = 0
    confirmed: int = 0  # confirmed and not yet paid (negative: a reversal after a payout)
    paid: int = 0


class CommissionEntry(SQLModel, table=True):
    """One movement of commission (see the module's docstring); never updated or deleted."""

    __table_args__ = (
        # covering what the confirmation sums, so it reads the index alone
        Index("ix_commissionentry_due", "community_id", "confirm_after", "kind", "beneficiary_id",
              "pending_delta"),
        Index("ix_commissionentry_sales", "beneficiary_id", "month"),
        Index("ix_commissionentry_time", "community_id", "created_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    beneficiary_id: int = Field(foreign_key="member.id")
    order_id: int | None = Field(default=None, foreign_key="order.id", index=True)
    level: int = 0  # 1 or 2 on an order's entries; 0 on confirm and payout
    kind: CommissionKind = Field(sa_column=Column(EnumText(CommissionKind), nullable=False))
    base: int = 0  # the order's net counted as this distributor's sales (reversal: negative)
    pct: int = 0
    pending_delta: int = 0
    confirmed_delta: int = 0
    paid_delta: int = 0
    month: str = Field(max_length=7)  # YYYY-MM of the sale (local time); of the entry otherwise
    booked: str = Field(max_length=7)  # YYYY-MM (local time) the entry was written
    confirm_after: datetime | None = timestamp(nullable=True)
    idem_key: str = Field(max_length=128, unique=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = timestamp()


class CommissionMonth(SQLModel, table=True):
    """A distributor's month, kept up to date with every entry (so a statement, the ladder,
    the card and the leaderboard read one row, not the ledger). By the month of the sale:
    orders, sales (level 1), earned (both levels); by the month the entry was written:
    confirmed, reversed, paid, and the month's change of pending and of confirmed (the
    balances at a month's end are the sums of those changes up to it). Always equal to the
    same sums over the entries (models/commission.py `month_sums`)."""

    __table_args__ = (UniqueConstraint("beneficiary_id", "month"),
                      Index("ix_commissionmonth_month", "community_id", "month"))
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    beneficiary_id: int = Field(foreign_key="member.id")
    month: str = Field(max_length=7)
    orders: int = 0
    sales: int = 0
    earned: int = 0
    confirmed: int = 0
    reversed: int = 0
    paid: int = 0
    pending_change: int = 0
    confirmed_change: int = 0


class CommissionClock(SQLModel, table=True):
    """How far a community's commissions are confirmed (see the module's docstring)."""

    community_id: int = Field(foreign_key="community.id", primary_key=True)
    confirmed_through: datetime = timestamp()


class Statement(SQLModel, table=True):
    """A distributor's month, built once on the 1st of the next month."""

    __table_args__ = (UniqueConstraint("beneficiary_id", "month"),
                      Index("ix_statement_month", "community_id", "month"))
    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    beneficiary_id: int = Field(foreign_key="member.id")
    month: str = Field(max_length=7)
    orders: int = 0  # level-1 sales of the month, counted net of reversals
    sales: int = 0
    earned: int = 0  # commission on the month's sales (both levels), net of reversals
    confirmed: int = 0  # confirmed during the month
    reversed: int = 0  # reversed during the month (a positive amount)
    paid: int = 0  # paid during the month
    balance: int = 0  # confirmed and unpaid at the month's end (negative: carried)
    pending: int = 0  # still pending at the month's end
    created_at: datetime = timestamp()
