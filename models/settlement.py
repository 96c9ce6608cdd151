"""Monthly settlement: statements (one INSERT … SELECT per community and month), the
statement's order lines for the leader's CSV, and the sales leaderboard.

A statement covers one local calendar month: the month's level-1 sales (counted in the month
of the sale, net of reversals written before the month ended), the commission earned on the
month's sales (both levels), what was confirmed, reversed and paid during the month, and the
balances at the month's end — confirmed and unpaid (negative: a reversal after a payout,
carried into the next month), and still pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, insert, literal, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models import commission
from models.db import table_of
from models.tables import Member, Order
from models.tables_distribution import CommissionEntry, CommissionKind, Statement
from models.types import id_of

_E = table_of(CommissionEntry).c
_ORDER = [k.value for k in commission.ORDER_KINDS]
FIGURES = ("orders", "sales", "earned", "confirmed", "reversed", "paid", "balance", "pending")


def _figures(month: str, start: datetime) -> list[Any]:
    """The statement's figures as aggregates over a beneficiary's entries before the end."""
    of_month = and_(_E.month == month, _E.kind.in_(_ORDER))
    since = _E.created_at >= start

    def total(when: Any, value: Any) -> Any:
        return func.coalesce(func.sum(case((when, value), else_=0)), 0)

    sale = and_(of_month, _E.level == 1)
    return [
        total(sale, case((_E.kind == CommissionKind.ACCRUE.value, 1), else_=-1)),
        total(sale, _E.base),
        total(of_month, _E.pending_delta + _E.confirmed_delta),
        total(and_(since, _E.kind == CommissionKind.CONFIRM.value), _E.confirmed_delta),
        total(and_(since, _E.kind == CommissionKind.REVERSE.value),
              -(_E.pending_delta + _E.confirmed_delta)),
        total(and_(since, _E.kind == CommissionKind.PAYOUT.value), _E.paid_delta),
        func.coalesce(func.sum(_E.confirmed_delta), 0),
        func.coalesce(func.sum(_E.pending_delta), 0),
    ]


def _active(month: str, start: datetime) -> Any:
    """Something happened in the month, or a balance is still open at its end."""
    return or_(func.max(case((or_(_E.month == month, _E.created_at >= start), 1), else_=0)) == 1,
               func.sum(_E.confirmed_delta) != 0, func.sum(_E.pending_delta) != 0)


def build(session: Session, community_id: int, month: str, start: datetime, end: datetime,
          now: datetime) -> int:
    """Every distributor's statement for `month` [start, end), once: a statement already
    there is left alone (so a re-run adds nothing). Returns how many were added."""
    done = exists().where(col(Statement.beneficiary_id) == _E.beneficiary_id,
                          col(Statement.month) == month)
    rows = (select(_E.community_id, _E.beneficiary_id, literal(month), *_figures(month, start),
                   literal(now, type_=_E.created_at.type))
            .where(_E.community_id == community_id, _E.created_at < end, ~done)
            .group_by(_E.community_id, _E.beneficiary_id).having(_active(month, start)))
    added = session.execute(insert(table_of(Statement)).from_select(
        ["community_id", "beneficiary_id", "month", *FIGURES, "created_at"], rows))
    return int(getattr(added, "rowcount", 0) or 0)


@dataclass(frozen=True)
class Figures:
    """A statement's figures (stored, or worked out live for a month still running)."""

    month: str
    orders: int
    sales: int
    earned: int
    confirmed: int
    reversed: int
    paid: int
    balance: int
    pending: int
    final: bool  # a stored statement (the month is over)


def of_member(session: Session, member_id: int, month: str, start: datetime,
              end: datetime) -> Figures:
    """The member's statement for `month`: the stored one, else worked out as it stands."""
    stored = session.execute(select(Statement).where(col(Statement.beneficiary_id) == member_id,
                                                     col(Statement.month) == month)).scalar_one_or_none()
    if stored is not None:
        return Figures(month=month, final=True, **{f: int(getattr(stored, f)) for f in FIGURES})
    row = session.execute(select(*_figures(month, start))
                          .where(_E.beneficiary_id == member_id, _E.created_at < end)).one()
    return Figures(month=month, final=False,
                   **{f: int(v) for f, v in zip(FIGURES, row, strict=True)})


def statements(session: Session, community_id: int, month: str) -> list[tuple[Statement, Member]]:
    rows = session.execute(
        select(Statement, Member).join(Member, col(Member.id) == col(Statement.beneficiary_id))
        .where(col(Statement.community_id) == community_id, col(Statement.month) == month)
        .order_by(col(Statement.sales).desc(), col(Statement.beneficiary_id))).all()
    return [(s, m) for s, m in rows]


def lines(session: Session, community_id: int, month: str) -> list[dict[str, Any]]:
    """Each order's commission of the month, per level: who earned, on whose order, the net,
    the rate, what stands now, and its state (pending, confirmed or reversed)."""
    reversed_ = (select(_E.order_id, _E.level, _E.beneficiary_id,
                        func.sum(_E.pending_delta + _E.confirmed_delta).label("back"))
                 .where(_E.kind == CommissionKind.REVERSE.value, _E.community_id == community_id)
                 .group_by(_E.order_id, _E.level, _E.beneficiary_id).subquery())
    earner, buyer = aliased(Member), aliased(Member)
    mark = commission.watermark(session, community_id)
    rows = session.execute(
        select(_E.order_id, _E.level, _E.base, _E.pct, _E.pending_delta, _E.confirm_after,
               col(earner.display_name), col(buyer.display_name),
               func.coalesce(reversed_.c.back, 0))
        .join(earner, col(earner.id) == _E.beneficiary_id)
        .join(Order, col(Order.id) == _E.order_id).join(buyer, col(buyer.id) == col(Order.member_id))
        .outerjoin(reversed_, and_(reversed_.c.order_id == _E.order_id,
                                   reversed_.c.level == _E.level,
                                   reversed_.c.beneficiary_id == _E.beneficiary_id))
        .where(_E.community_id == community_id, _E.month == month,
               _E.kind == CommissionKind.ACCRUE.value)
        .order_by(col(earner.display_name), _E.order_id, _E.level)).all()
    return [{"distributor": who, "order_id": order_id, "buyer": by, "level": level, "net": base,
             "pct": pct, "commission": amount + back,
             "state": "reversed" if back else "confirmed" if due <= mark else "pending"}
            for order_id, level, base, pct, amount, due, who, by, back in rows]


def leaderboard(session: Session, community_id: int, months: list[str] | None,
                limit: int = 10) -> list[tuple[Member, int, int]]:
    """(distributor, level-1 sales, orders) for these months (None: all time), the most sales
    first; a tie goes to the member who joined first (the lower member number)."""
    sales = func.sum(_E.base)
    query = (select(_E.beneficiary_id, sales,
                    func.sum(case((_E.kind == CommissionKind.ACCRUE.value, 1), else_=-1)))
             .where(_E.community_id == community_id, _E.level == 1, _E.kind.in_(_ORDER))
             .group_by(_E.beneficiary_id).having(sales > 0)
             .order_by(sales.desc(), _E.beneficiary_id).limit(limit))
    if months is not None:
        query = query.where(_E.month.in_(months))
    rows = session.execute(query).all()
    people = {id_of(m): m for m in session.execute(
        select(Member).where(col(Member.id).in_([r[0] for r in rows]))).scalars()}
    return [(people[int(who)], int(total), int(count)) for who, total, count in rows]


def rank(session: Session, community_id: int, member_id: int, month: str) -> int | None:
    """The member's place on this month's board (ties as `leaderboard`); None without sales."""
    sales = func.sum(_E.base)
    board = (select(_E.beneficiary_id.label("who"), sales.label("sales"))
             .where(_E.community_id == community_id, _E.level == 1, _E.kind.in_(_ORDER),
                    _E.month == month)
             .group_by(_E.beneficiary_id).having(sales > 0).subquery())
    mine = session.execute(select(board.c.sales).where(board.c.who == member_id)).scalar()
    if mine is None:
        return None
    ahead = session.execute(select(func.count()).select_from(board).where(
        or_(board.c.sales > mine, and_(board.c.sales == mine, board.c.who < member_id)))).scalar_one()
    return int(ahead) + 1
