"""A group buy's orders as the rows of the leader's export (models/rules/orders_export.py
writes them): money in major units, times in the community's time zone, statuses and
yes/no flags in the leader's language."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlmodel import Session

from models import groupbuys
from models.rules.orders_export import EXPORT_STATUSES, YES_NO
from models.tables import GroupBuy, Member, Order
from models.types import id_of


def _major(minor: int) -> str:
    major, cents = divmod(minor, 100)
    return f"{major}.{cents:02d}" if cents else str(major)


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
