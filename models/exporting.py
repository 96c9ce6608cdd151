"""A group buy's orders as the rows of the leader's export (models/rules/orders_export.py
writes them): money in major units, times in the community's time zone, statuses and
yes/no flags in the leader's language."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session, col

from models import groupbuys
from models.reporting import COUNTED
from models.rules.exports import COLUMNS, headers
from models.rules.orders_export import EXPORT_STATUSES, YES_NO, write_table
from models.tables import (
    ChannelAccount,
    CommissionEntry,
    Community,
    GroupBuy,
    Member,
    Order,
    PointsEntry,
    SpendEntry,
)
from models.types import id_of


def _major(minor: int) -> str:
    major, cents = divmod(abs(minor), 100)
    sign = "-" if minor < 0 else ""
    return f"{sign}{major}.{cents:02d}" if cents else f"{sign}{major}"


def _when(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).isoformat() if moment is not None else ""


def row(order: Order, member: Member, buy: GroupBuy, locale: str, tz: tzinfo) -> dict[str, str]:
    yes, no = YES_NO.get(locale, YES_NO["en"])
    statuses = EXPORT_STATUSES.get(locale, EXPORT_STATUSES["en"])
    picked = order.picked_up_at
    return {
        "order_id": str(order.id), "member": member.display_name, "product": buy.title,
        "quantity": str(order.quantity), "unit_price": _major(order.unit_price),
        "list_price": _major(order.list_price), "tier_discount": _major(order.tier_discount),
        "coupon_discount": _major(order.coupon_discount), "points_used": str(order.points_used),
        "net": _major(order.net), "status": statuses.get(str(order.status), str(order.status)),
        "paid": yes if order.paid_at is not None else no, "paid_at": _when(order.paid_at, tz),
        "picked_up": yes if picked is not None else no, "picked_up_at": _when(picked, tz),
        "ordered_at": _when(order.created_at, tz),
    }


def rows(session: Session, buy: GroupBuy, locale: str, tz: tzinfo) -> list[dict[str, str]]:
    """Every line of the buy, in order."""
    return [row(order, member, buy, locale, tz)
            for order, member in groupbuys.buy_orders(session, id_of(buy))]


# ---- community-wide exports: /export members|orders|points|commissions, `tuanbot export` ----

def export_csv(session: Session, community: Community, kind: str, locale: str,
               tier_name: Callable[[str], str]) -> str:
    """One of KINDS as CSV text (headers in `locale`, every cell escaped), times in the
    community's time zone, money in major units."""
    tz = ZoneInfo(community.timezone)
    cid = id_of(community)
    if kind == "members":
        found: Iterable[dict[str, str]] = _members(session, cid, tz, tier_name)
    elif kind == "orders":
        found = _orders(session, cid, locale, tz)
    elif kind == "points":
        found = _points(session, cid, tz)
    else:
        found = _commissions(session, cid, tz)
    return write_table(headers(kind, locale), COLUMNS[kind], found)


def _members(session: Session, cid: int, tz: tzinfo,
             tier_name: Callable[[str], str]) -> Iterator[dict[str, str]]:
    orders = (select(col(Order.member_id), func.count().label("n"))
              .where(col(Order.status).in_(COUNTED)).group_by(col(Order.member_id)).subquery())
    spend = (select(col(SpendEntry.member_id), func.sum(col(SpendEntry.amount)).label("total"))
             .group_by(col(SpendEntry.member_id)).subquery())
    handles = _handles(session, cid)
    rows = session.execute(
        select(Member, orders.c.n, spend.c.total)
        .outerjoin(orders, orders.c.member_id == col(Member.id))
        .outerjoin(spend, spend.c.member_id == col(Member.id))
        .where(col(Member.community_id) == cid, col(Member.merged_into_id).is_(None))
        .order_by(col(Member.id))).all()
    for member, count, total in rows:
        birthday = (f"{member.birthday_month:02d}-{member.birthday_day:02d}"
                    if member.birthday_month and member.birthday_day else "")
        yield {"member_id": str(member.id), "name": member.display_name,
               "handles": " ".join(handles.get(id_of(member), [])),
               "tier": tier_name(member.tier), "points": str(member.points_balance),
               "points_owed": str(member.points_debt), "orders": str(count or 0),
               "spend": _major(int(total or 0)), "birthday": birthday,
               "referral_code": member.referral_code,
               "referred_by": str(member.referred_by_id or ""),
               "joined_at": _when(member.joined_at, tz)}


def _handles(session: Session, cid: int) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for member_id, channel, handle in session.execute(
            select(col(ChannelAccount.member_id), col(ChannelAccount.channel),
                   col(ChannelAccount.handle))
            .where(col(ChannelAccount.community_id) == cid).order_by(col(ChannelAccount.id))):
        found.setdefault(member_id, []).append(f"{channel}:{handle or ''}".rstrip(":"))
    return found


def _orders(session: Session, cid: int, locale: str, tz: tzinfo) -> Iterator[dict[str, str]]:
    rows = session.execute(
        select(Order, Member, GroupBuy)
        .join(Member, col(Member.id) == col(Order.member_id))
        .join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
        .where(col(GroupBuy.community_id) == cid).order_by(col(Order.id))).all()
    for order, member, buy in rows:
        yield {**row(order, member, buy, locale, tz), "group_buy": str(buy.number)}


def _points(session: Session, cid: int, tz: tzinfo) -> Iterator[dict[str, str]]:
    rows = session.execute(
        select(PointsEntry, col(Member.display_name))
        .join(Member, col(Member.id) == col(PointsEntry.member_id))
        .where(col(Member.community_id) == cid).order_by(col(PointsEntry.id))).all()
    for entry, name in rows:
        yield {"entry_id": str(entry.id), "member_id": str(entry.member_id), "name": name,
               "at": _when(entry.created_at, tz), "kind": entry.kind, "points": str(entry.delta),
               "owed": str(entry.debt_delta), "reason": entry.reason,
               "expires_on": entry.expires_on.isoformat() if entry.expires_on else ""}


def _commissions(session: Session, cid: int, tz: tzinfo) -> Iterator[dict[str, str]]:
    """The commission ledger, entry by entry (accrue, confirm, reverse, payout): each entry's
    moves of the pending, confirmed and paid totals."""
    rows = session.execute(
        select(CommissionEntry, col(Member.display_name))
        .join(Member, col(Member.id) == col(CommissionEntry.beneficiary_id))
        .where(col(CommissionEntry.community_id) == cid).order_by(col(CommissionEntry.id))).all()
    for entry, name in rows:
        yield {"entry_id": str(entry.id), "at": _when(entry.created_at, tz),
               "member_id": str(entry.beneficiary_id), "name": name, "kind": str(entry.kind),
               "order_id": str(entry.order_id or ""), "level": str(entry.level or ""),
               "base": _major(entry.base), "pct": str(entry.pct or ""),
               "pending": _major(entry.pending_delta), "confirmed": _major(entry.confirmed_delta),
               "paid": _major(entry.paid_delta), "month": entry.month}
