"""Importing a leader's CSV file: orders from another tool, or points grants and opening
balances (told apart by the header: a points column makes it a points file). Good rows land,
bad rows are named by line; a file too large or not UTF-8 (points) changes nothing."""

from __future__ import annotations

from handlers.context import Ctx
from messages.types import Reply
from models.errors import DomainError
from models.importing import Importer, import_orders
from models.points_import import file_key, import_points
from models.rules.orders_csv import MissingColumns, decode, parse_orders
from models.rules.points_csv import NotUtf8, is_points_header, parse_points, text_of
from models.types import id_of

MAX_UPLOAD = 5 * 1024 * 1024  # bytes; a bigger file is refused whole
TOO_LARGE = "--too-large"  # what an adapter puts after /import for a file it did not fetch


def import_file(ctx: Ctx, raw: bytes) -> list[Reply]:
    if len(raw) > MAX_UPLOAD:
        raise DomainError("import_too_large", mb=MAX_UPLOAD // (1024 * 1024))
    text = decode(raw)
    header = next((line for line in text.splitlines() if line.strip()), "")
    if is_points_header(header.removeprefix("\ufeff")):
        return _points(ctx, raw)
    try:
        rows, errors = parse_orders(text)
    except MissingColumns as missing:
        return [ctx.reply("import_missing", missing=missing.missing)]
    into = Importer(
        community_id=id_of(ctx.community), channel=ctx.msg.channel, chat=ctx.msg.chat,
        leader_id=id_of(ctx.member), programme=ctx.programme, today=ctx.today, now=ctx.now,
        tz=ctx.tz,
    )
    added, skipped = import_orders(ctx.session, rows, into=into)
    return [ctx.reply("imported", added=added, skipped=skipped, errors=errors)]


def _points(ctx: Ctx, raw: bytes) -> list[Reply]:
    """Points grants and opening balances: UTF-8 only."""
    try:
        rows, errors = parse_points(text_of(raw))
    except NotUtf8:
        raise DomainError("import_encoding") from None
    except MissingColumns as missing:
        return [ctx.reply("import_missing", missing=missing.missing)]
    done = import_points(ctx.session, rows, community_id=id_of(ctx.community),
                         file_hash=file_key(raw), actor_id=id_of(ctx.member), today=ctx.today,
                         now=ctx.now, expiry_months=ctx.programme.points_expiry_months)
    every = sorted(errors + done.errors, key=lambda e: e.line)
    return [ctx.reply("points_imported", added=done.applied, skipped=done.skipped,
                      points=done.points, errors=every)]
