"""The numbers behind /report: set-based aggregates, the same SQL on SQLite and PostgreSQL.

Periods are cut in the community's time zone: the edges are computed here (local midnights
turned into UTC instants) and the database only compares timestamps, with one CASE that puts
each row in its bucket, so no dialect's date functions are needed. Each function returns a
`Chart` (labels and values) that messages/charts.py draws; the README defines each metric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select, union_all
from sqlmodel import Session, col

from models.tables import Coupon, CouponTemplate, GroupBuy, LineStatus, Member, Order, PointsEntry

COUNTED = (LineStatus.ALLOCATED, LineStatus.PAID, LineStatus.DELIVERED)  # an order: held, not lost
EARNED_KINDS = ("purchase", "checkin", "referral", "grant")  # not "opening": carried over
SPENT_KINDS = ("redeem", "refund", "reward")  # points used (refund: used points given back)
MONTHS, WEEKS, TOP = 12, 12, 10


@dataclass(frozen=True)
class Scope:
    """Whose numbers, as of when, in which time zone; `tiers` in the programme's order."""

    community_id: int
    now: datetime
    tz: tzinfo
    tiers: tuple[str, ...] = ()
    cache: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self.tz)


@dataclass(frozen=True)
class Chart:
    """One picture's data: `unit` is count, percent (values are ratios 0..1) or money (minor
    units). `parts` are the (numerator, denominator) of a rate, for the caption."""

    key: str
    style: str  # bars, line, hbars
    unit: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    parts: tuple[tuple[int, int], ...] = ()

    @property
    def empty(self) -> bool:
        return not any(self.values) and not any(d for _, d in self.parts)


def month_edges(scope: Scope, months: int = MONTHS) -> list[datetime]:
    """The first local midnight of each of the last `months` months, then of the next one."""
    year, month = scope.today.year, scope.today.month
    firsts = []
    for back in range(months - 1, -2, -1):
        y, m = divmod(year * 12 + month - 1 - back, 12)
        firsts.append(scope.midnight(date(y, m + 1, 1)))
    return firsts


def week_edges(scope: Scope, weeks: int = WEEKS) -> list[datetime]:
    """Mondays (local midnight) of the last `weeks` weeks, this one included, then the next."""
    monday = scope.today - timedelta(days=scope.today.weekday())
    return [scope.midnight(monday - timedelta(weeks=back)) for back in range(weeks - 1, -2, -1)]


def bucket(column: Any, edges: list[datetime]) -> ColumnElement[Any]:
    """0 .. len(edges)-2 for a timestamp in [edges[0], edges[-1]), else NULL."""
    whens = [(column < edge, index) for index, edge in enumerate(edges[1:])]
    return case(*whens, else_=None)


def _in(column: Any, edges: list[datetime]) -> ColumnElement[bool]:
    return and_(column >= edges[0], column < edges[-1])


def _month_labels(edges: list[datetime]) -> tuple[str, ...]:
    return tuple(f"{e.year}-{e.month:02d}" for e in edges[:-1])


def _pairs(rows: Any) -> dict[Any, int]:
    """(key, count) rows as a dict."""
    return {key: int(value) for key, value in rows}


def members_by_tier(session: Session, scope: Scope) -> Chart:
    """Members (not merged into another) per tier, in the programme's tier order."""
    rows = _pairs(session.execute(
        select(col(Member.tier), func.count()).where(
            col(Member.community_id) == scope.community_id, col(Member.merged_into_id).is_(None))
        .group_by(col(Member.tier))).all())
    keys = list(scope.tiers) + sorted(k for k in rows if k not in scope.tiers)
    return Chart("tiers", "bars", "count", tuple(keys), tuple(float(rows.get(k, 0)) for k in keys))


def new_members_weekly(session: Session, scope: Scope) -> Chart:
    """Members who joined in each of the last 12 weeks (Monday to Sunday, local)."""
    edges = week_edges(scope)
    slot = bucket(col(Member.joined_at), edges).label("slot")
    rows = _pairs(session.execute(
        select(slot, func.count()).where(
            col(Member.community_id) == scope.community_id, col(Member.merged_into_id).is_(None),
            _in(col(Member.joined_at), edges)).group_by(slot)).all())
    labels = tuple(f"{e.month:02d}-{e.day:02d}" for e in edges[:-1])
    return Chart("new_members", "bars", "count", labels,
                 tuple(float(rows.get(i, 0)) for i in range(len(labels))))


def order_buckets(session: Session, scope: Scope,
                  edges: list[datetime]) -> dict[int, tuple[int, int, int, int]]:
    """Per bucket: (buyers, buyers with two orders or more, orders, revenue in minor units)."""
    slot = bucket(col(Order.created_at), edges)
    per_member = (
        select(slot.label("slot"), col(Order.member_id),
               func.count().label("n"), func.sum(col(Order.net)).label("net"))
        .join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
        .where(col(GroupBuy.community_id) == scope.community_id,
               col(Order.status).in_(COUNTED), _in(col(Order.created_at), edges))
        .group_by(slot, col(Order.member_id))).subquery()
    rows = session.execute(select(
        per_member.c.slot, func.count(), func.sum(case((per_member.c.n >= 2, 1), else_=0)),
        func.sum(per_member.c.n), func.sum(per_member.c.net)).group_by(per_member.c.slot)).all()
    return {int(s): (int(b), int(r or 0), int(n or 0), int(v or 0)) for s, b, r, n, v in rows}


def _monthly_orders(session: Session, scope: Scope) -> tuple[list[datetime], dict[int, Any]]:
    if "monthly_orders" not in scope.cache:
        edges = month_edges(scope)
        scope.cache["monthly_orders"] = (edges, order_buckets(session, scope, edges))
    found: tuple[list[datetime], dict[int, Any]] = scope.cache["monthly_orders"]
    return found


def repurchase_monthly(session: Session, scope: Scope) -> Chart:
    """Per month: members with two orders or more in the month ÷ members with one or more."""
    edges, rows = _monthly_orders(session, scope)
    parts = tuple((rows.get(i, (0, 0))[1], rows.get(i, (0, 0))[0]) for i in range(MONTHS))
    return Chart("repurchase", "line", "percent", _month_labels(edges),
                 tuple(r / b if b else 0.0 for r, b in parts), parts)


def order_value_monthly(session: Session, scope: Scope) -> Chart:
    """Per month: revenue (net of the orders) ÷ orders, in minor units."""
    edges, rows = _monthly_orders(session, scope)
    parts = tuple((rows.get(i, (0, 0, 0, 0))[3], rows.get(i, (0, 0, 0, 0))[2])
                  for i in range(MONTHS))
    return Chart("order_value", "bars", "money", _month_labels(edges),
                 tuple(float(v // n) if n else 0.0 for v, n in parts), parts)


def top_products(session: Session, scope: Scope) -> Chart:
    """The 10 products (group buy titles) with the most revenue over the last 12 months."""
    edges = month_edges(scope)
    per_buy = (select(col(Order.group_buy_id).label("buy"), func.sum(col(Order.net)).label("net"))
               .where(col(Order.status).in_(COUNTED), _in(col(Order.created_at), edges))
               .group_by(col(Order.group_buy_id)).subquery())  # by time first, then by buy
    revenue = func.sum(per_buy.c.net).label("revenue")
    rows = session.execute(
        select(col(GroupBuy.title), revenue)
        .join(per_buy, per_buy.c.buy == col(GroupBuy.id))
        .where(col(GroupBuy.community_id) == scope.community_id)
        .group_by(col(GroupBuy.title)).order_by(revenue.desc(), col(GroupBuy.title)).limit(TOP)
    ).all()
    return Chart("top_products", "hbars", "money", tuple(str(t) for t, _ in rows),
                 tuple(float(v or 0) for _, v in rows))


def points_redemption_monthly(session: Session, scope: Scope) -> Chart:
    """Per month: points spent (net of spent points given back) ÷ points earned."""
    edges = month_edges(scope)
    slot = bucket(col(PointsEntry.created_at), edges).label("slot")
    kind, delta = col(PointsEntry.kind), col(PointsEntry.delta)
    rows = session.execute(
        select(slot, func.sum(case((kind.in_(SPENT_KINDS), -delta), else_=0)),
               func.sum(case(((delta > 0) & kind.in_(EARNED_KINDS), delta), else_=0)))
        .join(Member, col(Member.id) == col(PointsEntry.member_id))
        .where(col(Member.community_id) == scope.community_id,
               _in(col(PointsEntry.created_at), edges)).group_by(slot)).all()
    found = {int(s): (max(int(sp or 0), 0), int(er or 0)) for s, sp, er in rows}
    parts = tuple(found.get(i, (0, 0)) for i in range(MONTHS))
    return Chart("points_redemption", "line", "percent", _month_labels(edges),
                 tuple(s / e if e else 0.0 for s, e in parts), parts)


def coupon_usage_monthly(session: Session, scope: Scope) -> Chart:
    """Per month: coupons issued in the month and redeemed since ÷ coupons issued in it."""
    edges = month_edges(scope)
    slot = bucket(col(Coupon.issued_at), edges).label("slot")
    rows = session.execute(
        select(slot, func.sum(case((col(Coupon.redeemed_at).is_not(None), 1), else_=0)),
               func.count())
        .join(CouponTemplate, col(CouponTemplate.id) == col(Coupon.template_id))
        .where(col(CouponTemplate.community_id) == scope.community_id,
               _in(col(Coupon.issued_at), edges)).group_by(slot)).all()
    found = {int(s): (int(r or 0), int(n)) for s, r, n in rows}
    parts = tuple(found.get(i, (0, 0)) for i in range(MONTHS))
    return Chart("coupon_usage", "line", "percent", _month_labels(edges),
                 tuple(r / n if n else 0.0 for r, n in parts), parts)


@dataclass(frozen=True)
class KeyNumbers:
    """One period's key numbers (see the README): money in minor units."""

    new_members: int = 0
    active_members: int = 0
    orders: int = 0
    revenue: int = 0
    buyers: int = 0
    repeat_buyers: int = 0

    @property
    def order_value(self) -> int:
        return self.revenue // self.orders if self.orders else 0

    @property
    def repurchase(self) -> float:
        return self.repeat_buyers / self.buyers if self.buyers else 0.0


def period_edges(scope: Scope, days: int) -> list[datetime]:
    """[previous period, this period]: `days` local days each, this one ending tonight."""
    end = scope.today + timedelta(days=1)
    return [scope.midnight(end - timedelta(days=days * back)) for back in (2, 1, 0)]


def key_numbers(session: Session, scope: Scope, days: int) -> tuple[KeyNumbers, KeyNumbers]:
    """(previous, this) period of `days` days: new and active members, orders, revenue, and
    buyers with and without a second order."""
    edges = period_edges(scope, days)
    joined = bucket(col(Member.joined_at), edges).label("slot")
    new = _pairs(session.execute(select(joined, func.count()).where(
        col(Member.community_id) == scope.community_id, col(Member.merged_into_id).is_(None),
        _in(col(Member.joined_at), edges)).group_by(joined)).all())
    active = _active(session, scope, edges)
    orders = order_buckets(session, scope, edges)
    found = []
    for index in (0, 1):
        b, r, n, v = orders.get(index, (0, 0, 0, 0))
        found.append(KeyNumbers(int(new.get(index, 0)), active.get(index, 0), n, v, b, r))
    return found[0], found[1]


def _active(session: Session, scope: Scope, edges: list[datetime]) -> dict[int, int]:
    """Per bucket: members with an order or a check-in in it."""
    ordered = (select(bucket(col(Order.created_at), edges).label("slot"),
                      col(Order.member_id).label("member_id"))
               .join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
               .where(col(GroupBuy.community_id) == scope.community_id,
                      col(Order.status).in_(COUNTED), _in(col(Order.created_at), edges)))
    checked = (select(bucket(col(PointsEntry.created_at), edges).label("slot"),
                      col(PointsEntry.member_id).label("member_id"))
               .join(Member, col(Member.id) == col(PointsEntry.member_id))
               .where(col(Member.community_id) == scope.community_id,
                      col(PointsEntry.kind) == literal("checkin"),
                      _in(col(PointsEntry.created_at), edges)))
    both = union_all(ordered, checked).subquery()
    rows = session.execute(select(both.c.slot, func.count(func.distinct(both.c.member_id)))
                           .group_by(both.c.slot)).all()
    return {int(s): int(n) for s, n in rows}
