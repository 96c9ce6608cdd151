"""Importing orders from another tool's CSV: good rows land, bad rows are named by line."""

from __future__ import annotations

from handlers.context import Ctx
from messages.types import Reply
from models.importing import Importer, import_orders
from models.rules.orders_csv import MissingColumns, decode, parse_orders
from models.types import id_of


def import_file(ctx: Ctx, raw: bytes) -> list[Reply]:
    try:
        rows, errors = parse_orders(decode(raw))
    except MissingColumns as missing:
        return [ctx.reply("import_missing", missing=missing.missing)]
    into = Importer(
        community_id=id_of(ctx.community), channel=ctx.msg.channel, chat=ctx.msg.chat,
        leader_id=id_of(ctx.member), programme=ctx.programme, today=ctx.today, now=ctx.now,
        tz=ctx.tz,
    )
    added, skipped = import_orders(ctx.session, rows, into=into)
    return [ctx.reply("imported", added=added, skipped=skipped, errors=errors)]
