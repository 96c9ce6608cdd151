"""Leader side of group buys: open, close, mark orders, export and import CSV."""

from __future__ import annotations

from pathlib import Path

from handlers import guided, openflow
from handlers.buychoice import choose_buy
from handlers.context import Ctx
from handlers.importing import MAX_UPLOAD, TOO_LARGE, import_file
from handlers.telling import tell_closed, tell_marks, tell_promoted
from messages.types import FILE_LINK_HINT, Reply
from models import buying, exporting, groupbuys, marking, orderlines
from models.buying import brief
from models.errors import DomainError, Usage
from models.marking import MARKS
from models.rules.orders_export import write_orders
from models.rules.text import whole_numbers
from models.tables import BuyStatus, GroupBuy, LineStatus, Member, Order
from models.types import id_of


def open_buy(ctx: Ctx) -> list[Reply]:
    if not ctx.msg.is_group:
        raise DomainError("open_in_group")
    if ctx.args.strip():
        return openflow.open_one_line(ctx)
    return guided.start(ctx, "open")


def close(ctx: Ctx) -> list[Reply]:
    """Close the buy; whoever is still on the waitlist is told it did not reach them."""
    buy, _ = choose_buy(ctx, ctx.args, command="close", statuses=(BuyStatus.OPEN,))
    ended = orderlines.close_buy(ctx.session, id_of(buy), now=ctx.now)
    if ended is None:  # closed a moment ago (a double tap)
        raise DomainError("buy_is_closed", buy=brief(buy))
    tell_closed(ctx, buy, buying.owners(ctx.session, ended))
    return [ctx.reply("closed", buy=buy)]


def _selected(ctx: Ctx, buy: GroupBuy, rest: str,
              statuses: tuple[LineStatus, ...]) -> list[tuple[Order, Member]]:
    """'all', or order numbers separated by spaces or commas; only this buy's lines."""
    words = rest.replace(",", " ").replace("，", " ").split()
    if not words:
        raise Usage("mark")
    lines = groupbuys.buy_orders(ctx.session, id_of(buy), statuses)
    if words == ["all"] or words == ["全部"]:
        return lines
    numbers = whole_numbers(words)
    if numbers is None:
        raise Usage("mark")
    wanted = dict(zip(numbers, words, strict=True))  # number → as typed, for the refusal
    chosen = [(o, m) for o, m in lines if o.id in wanted]
    if len(chosen) != len(wanted):
        missing = sorted(set(wanted) - {o.id for o, _ in chosen})
        raise DomainError("no_such_orders", ids=[_shown(wanted[n], 12) for n in missing])
    return chosen


def mark(ctx: Ctx, action: str) -> list[Reply]:
    """Each chosen line moves only from the status it is expected in; a line someone else
    moved a moment ago is left alone and not counted."""
    buy, rest = choose_buy(ctx, ctx.args, command=action, lines=MARKS[action], order_words=True)
    done = marking.mark_lines(ctx.session, buy=buy, action=action,
                              lines=_selected(ctx, buy, rest, MARKS[action]),
                              programme=ctx.programme, today=ctx.today, now=ctx.now)
    tell_marks(ctx, buy, action, done.marked)
    tell_promoted(ctx, buy, done.promoted)
    return [ctx.reply("marked", buy=buy, action=action, count=len(done.marked))]


def export(ctx: Ctx) -> list[Reply]:
    buy, _ = choose_buy(ctx, ctx.args, command="export",  # delivered buys too: accounting
                        lines=(*groupbuys.OPEN_LINES, LineStatus.DELIVERED))
    text = write_orders(exporting.rows(ctx.session, buy, ctx.locale, ctx.tz), ctx.locale)
    folder = ctx.deps.media_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"groupbuy-{ctx.community.slug}-{buy.number}-{ctx.now:%Y%m%d%H%M%S}.csv"
    path.write_text(text, encoding="utf-8-sig")  # with a BOM: Excel then reads it as UTF-8
    return [Reply(ctx.text("exported", buy=buy), file=str(path), private=ctx.can_reply_privately,
                  hints={FILE_LINK_HINT: ctx.text("file_link")})]


def import_orders(ctx: Ctx) -> list[Reply]:
    given = ctx.args.strip()
    if not given:
        raise Usage("import")
    if given == TOO_LARGE:
        raise DomainError("import_too_large", mb=MAX_UPLOAD // (1024 * 1024))
    raw = _read_upload(ctx, given)
    if raw is None:
        raise DomainError("import_not_found", path=_shown(given, 80))
    return import_file(ctx, raw)


def _shown(typed: str, width: int) -> str:
    """What the leader typed, cut to fit a chat line."""
    return typed if len(typed) <= width else typed[:width - 1] + "…"


def _read_upload(ctx: Ctx, given: str) -> bytes | None:
    """The file's bytes; None when there is no such readable file (or the name cannot be one).

    On a chat platform only a file the leader uploaded may be read.
    """
    try:
        path = Path(given).resolve()
        uploads = (ctx.deps.media_dir / "imports").resolve()
        if ctx.msg.channel != "console" and uploads not in path.parents:
            return None
        if not path.is_file():
            return None
        if path.stat().st_size > MAX_UPLOAD:  # not read into memory: refused as it is
            raise DomainError("import_too_large", mb=MAX_UPLOAD // (1024 * 1024))
        return path.read_bytes()
    except (OSError, ValueError):  # too long a name, a NUL, a directory, no permission
        return None
