"""Orders from another tool's CSV: each row once, into a closed group buy per product and price.

The order keeps the other tool's date: spend, points and their expiry count from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlmodel import Session, col

from models import groupbuys, lookups, members
from models.fulfilment import deliver
from models.programme import Programme
from models.rules.orders_csv import ImportRow, order_date
from models.tables import BuyStatus, GroupBuy, LineStatus, Member, Order

STATUS = {"pending": LineStatus.ALLOCATED, "paid": LineStatus.PAID, "delivered": LineStatus.DELIVERED,
          "cancelled": LineStatus.CANCELLED}


@dataclass(frozen=True)
class Importer:
    """Where the rows go and who imports them."""

    community_id: int
    channel: str
    chat: str
    leader_id: int
    programme: Programme
    today: date
    now: datetime
    tz: tzinfo


def import_orders(session: Session, rows: list[ImportRow], *, into: Importer) -> tuple[int, int]:
    """Add the rows not imported before; (added, skipped)."""
    added = skipped = 0
    buys: dict[tuple[str, int], GroupBuy] = {}
    for row in rows:
        key = f"import:{into.community_id}:{row.external_id}"
        if session.execute(select(col(Order.id)).where(col(Order.source_key) == key)).first():
            skipped += 1
            continue
        buy = buys.get((row.product, row.unit_price)) or _buy_for(session, into, row)
        buys[(row.product, row.unit_price)] = buy
        _add(session, into, buy, _member(session, into, row.member), row, key)
        added += 1
    return added, skipped


def _buy_for(session: Session, into: Importer, row: ImportRow) -> GroupBuy:
    """Imported orders go into a closed group buy per product and price in this chat."""
    found = session.execute(select(GroupBuy).where(
        col(GroupBuy.community_id) == into.community_id, col(GroupBuy.chat_id) == into.chat,
        col(GroupBuy.title) == row.product[:100], col(GroupBuy.price) == row.unit_price,
        col(GroupBuy.category) == "imported")).scalars().first()
    if isinstance(found, GroupBuy):
        return found
    return groupbuys.open_buy(
        session, community_id=into.community_id, channel=into.channel, chat_id=into.chat,
        title=row.product[:100], price=row.unit_price, stock=None, category="imported",
        status=BuyStatus.CLOSED, opens_at=into.now, deadline=into.now + timedelta(seconds=1),
        created_by=into.leader_id, created_at=into.now, roster_published_rev=1,
    )


def _member(session: Session, into: Importer, name: str) -> Member:
    """'@handle' or a display name; someone unknown becomes a member without a chat account."""
    found = (lookups.by_handle(session, into.community_id, name) if name.startswith("@")
             else None)
    if found is None:
        found = session.execute(select(Member).where(
            col(Member.community_id) == into.community_id,
            col(Member.display_name) == name[:64])).scalars().first()
    if found is None:
        found = members.offline_member(session, into.community_id, name.lstrip("@"), into.now)
    return found


def _add(session: Session, into: Importer, buy: GroupBuy, member: Member, row: ImportRow,
         key: str) -> None:
    status = STATUS[row.status]
    day = order_date(row.ordered_at) if row.ordered_at else None
    if day is None or day > into.today:
        day = into.today
    when = into.now if day == into.today else datetime.combine(
        day, time(12), tzinfo=into.tz).astimezone(UTC)
    order = groupbuys.imported_line(session, buy, member, row.quantity, key, when,
                                    LineStatus.ALLOCATED if status == LineStatus.DELIVERED else status)
    if status == "delivered":
        deliver(session, order, buy, into.programme, day, when)
    session.add(order)
