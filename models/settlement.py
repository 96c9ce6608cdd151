"""Monthly settlement: statements (one INSERT … SELECT per community and month), the
statement's order lines for the leader's CSV, and the sales leaderboard.

A statement covers one local calendar month: the month's level-1 sales (counted in the month
of the sale, net of reversals), the commission earned on the month's sales (both levels),
what was confirmed, reversed and paid during the month, and the balances at the month's end —
confirmed and unpaid (negative: a reversal after a payout, carried into the next month), and
still pending. All of it from the distributors' months (CommissionMonth), which every ledger
entry keeps up to date, so building a month's statements reads a row per distributor and
month, never the ledger.
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
from models.tables_distribution import CommissionEntry, CommissionKind, CommissionMonth, Statement
from models.types import id_of

_E = table_of(CommissionEntry).c
_M = table_of(CommissionMonth).c
FIGURES = ("orders", "sales", "earned", "confirmed", "reversed", "paid", "balance", "pending")


def _figures(month: str) -> list[Any]:
    """The statement's figures over a distributor's months up to `month`: that month's own,
    and the balances at its end (the sums of the monthly changes)."""
    this = _M.month == month

    def of_month(value: Any) -> Any:
        return func.coalesce(func.sum(case((this, value), else_=0)), 0)

    return [of_month(_M.orders), of_month(_M.sales), of_month(_M.earned),
            of_month(_M.confirmed), of_month(_M.reversed), of_month(_M.paid),
            func.coalesce(func.sum(_M.confirmed_change), 0),
            func.coalesce(func.sum(_M.pending_change), 0)]


def build(session: Session, community_id: int, month: str, now: datetime) -> int:
    """Every distributor's statement for `month`, once: a statement already there is left
    alone (so a re-run adds nothing); a distributor with nothing in the month and nothing
    open gets none. One INSERT … SELECT over the distributors' months (CommissionMonth).
    Returns how many were added."""
    sums = _figures(month)
    figures = (select(_M.beneficiary_id, *(f.label(name) for f, name in
                                            zip(sums, FIGURES, strict=True)))
               .where(_M.community_id == community_id, _M.month <= month)
               .group_by(_M.beneficiary_id).having(or_(*(f != 0 for f in sums))).subquery())
    done = exists().where(col(Statement.beneficiary_id) == figures.c.beneficiary_id,
                          col(Statement.month) == month)
    rows = select(literal(community_id), figures.c.beneficiary_id, literal(month),
                  *(figures.c[name] for name in FIGURES),
                  literal(now, type_=_E.created_at.type)).where(~done)
    added = session.execute(insert(table_of(Statement)).from_select(
        ["community_id", "beneficiary_id", "month", *FIGURES, "created_at"], rows)
        .returning(table_of(Statement).c.id))
    return len(added.all())


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


def of_member(session: Session, member_id: int, month: str) -> Figures:
    """The member's statement for `month`: the stored one, else worked out as it stands."""
    stored = session.execute(select(Statement).where(col(Statement.beneficiary_id) == member_id,
                                                     col(Statement.month) == month)).scalar_one_or_none()
    if stored is not None:
        return Figures(month=month, final=True, **{f: int(getattr(stored, f)) for f in FIGURES})
    row = session.execute(select(*_figures(month))
                          .where(_M.beneficiary_id == member_id, _M.month <= month)).one()
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
    sales = func.sum(_M.sales)
    query = (select(_M.beneficiary_id, sales, func.sum(_M.orders))
             .where(_M.community_id == community_id)
             .group_by(_M.beneficiary_id).having(sales > 0)
             .order_by(sales.desc(), _M.beneficiary_id).limit(limit))
    if months is not None:
        query = query.where(_M.month.in_(months))
    rows = session.execute(query).all()
    people = {id_of(m): m for m in session.execute(
        select(Member).where(col(Member.id).in_([r[0] for r in rows]))).scalars()}
    return [(people[int(who)], int(total), int(count)) for who, total, count in rows]


def rank(session: Session, community_id: int, member_id: int, month: str) -> int | None:
    """The member's place on this month's board (ties as `leaderboard`); None without sales."""
    board = (select(_M.beneficiary_id.label("who"), _M.sales.label("sales"))
             .where(_M.community_id == community_id, _M.month == month, _M.sales > 0).subquery())
    mine = session.execute(select(board.c.sales).where(board.c.who == member_id)).scalar()
    if mine is None:
        return None
    ahead = session.execute(select(func.count()).select_from(board).where(
        or_(board.c.sales > mine, and_(board.c.sales == mine, board.c.who < member_id)))).scalar_one()
    return int(ahead) + 1
