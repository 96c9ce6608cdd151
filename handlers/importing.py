"""Importing orders from another tool's CSV: good rows land, bad rows are named by line."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from handlers.context import Ctx
from messages.types import Reply
from models import groupbuys, members
from models.fulfilment import deliver
from models.programme import Programme
from models.rules.orders_csv import ImportRow, MissingColumns, decode, order_date, parse_orders
from models.tables import GroupBuy, Member, Order

STATUS = {"pending": "allocated", "paid": "paid", "delivered": "delivered",
          "cancelled": "cancelled"}


def import_file(ctx: Ctx, raw: bytes) -> list[Reply]:
    try:
        rows, errors = parse_orders(decode(raw))
    except MissingColumns as missing:
        return [ctx.reply("import_missing", missing=missing.missing)]
    added = skipped = 0
    buys: dict[tuple[str, int], GroupBuy] = {}
    for row in rows:
        key = f"import:{ctx.community.id}:{row.external_id}"
        if ctx.session.execute(select(Order.id).where(Order.source_key == key)).first():
            skipped += 1
            continue
        buy = buys.get((row.product, row.unit_price)) or _buy_for(ctx, row)
        buys[(row.product, row.unit_price)] = buy
        _add(ctx, buy, _member(ctx, row.member), row, key, ctx.programme)
        added += 1
    return [ctx.reply("imported", added=added, skipped=skipped, errors=errors)]


def _buy_for(ctx: Ctx, row: ImportRow) -> GroupBuy:
    """Imported orders go into a closed group buy per product and price in this chat."""
    found = ctx.session.execute(select(GroupBuy).where(
        GroupBuy.community_id == ctx.community.id, GroupBuy.chat_id == ctx.msg.chat,
        GroupBuy.title == row.product[:100], GroupBuy.price == row.unit_price,
        GroupBuy.category == "imported")).scalars().first()
    if found is not None:
        return found
    return groupbuys.open_buy(
        ctx.session, community_id=ctx.community.id, channel=ctx.msg.channel,
        chat_id=ctx.msg.chat, title=row.product[:100], price=row.unit_price, stock=None,
        category="imported", status="closed", opens_at=ctx.now,
        deadline=ctx.now + timedelta(seconds=1), created_by=ctx.member.id, created_at=ctx.now,
        roster_published_rev=1,
    )


def _member(ctx: Ctx, name: str) -> Member:
    """'@handle' or a display name; someone unknown becomes a member without a chat account."""
    community_id = ctx.community.id
    assert community_id is not None
    found = members.by_handle(ctx.session, community_id, name) if name.startswith("@") else None
    if found is None:
        found = ctx.session.execute(select(Member).where(
            Member.community_id == community_id, Member.display_name == name[:64])
        ).scalars().first()
    if found is None:
        found = members.offline_member(ctx.session, community_id, name.lstrip("@"), ctx.now)
    return found


def _add(ctx: Ctx, buy: GroupBuy, member: Member, row: ImportRow, key: str,
         programme: Programme) -> None:
    """The order keeps the other tool's date: spend, points and their expiry count from it."""
    status = STATUS[row.status]
    day = order_date(row.ordered_at) if row.ordered_at else None
    if day is None or day > ctx.today:
        day = ctx.today
    when = ctx.now if day == ctx.today else datetime.combine(
        day, time(12), tzinfo=ctx.local_now.tzinfo).astimezone(UTC)
    order = groupbuys.imported_line(ctx.session, buy, member, row.quantity, key, when,
                                    "allocated" if status == "delivered" else status)
    if status == "delivered":
        deliver(ctx.session, order, buy, programme, day, when)
    ctx.session.add(order)
