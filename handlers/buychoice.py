"""Which buy a leader's command means: '#N', else the order numbers' buy, else the only
candidate; several candidates are never guessed between: the leader is asked, with a button
per buy whose data is the command again with '#N' (a tap runs it).

`choose_buy(ctx, args, command=..., statuses=...)` is the one entry for every leader command
that acts on one buy; it returns the buy and the rest of the arguments, or raises a
DomainError the dispatcher answers.
"""

from __future__ import annotations

import re

from handlers.context import Ctx
from messages.types import Button
from models import groupbuys
from models.buying import brief
from models.errors import DomainError
from models.rules.text import DB_INT_MAX, whole_numbers
from models.tables import BuyStatus, GroupBuy, LineStatus
from models.types import id_of

ANY_STATUS = (BuyStatus.OPEN, BuyStatus.CLOSED)
_NUMBER = re.compile(r"[#＃]\s*([0-9０-９]{1,7})")
_DATA_BYTES = 64  # Telegram's callback_data limit; a longer tap would be cut


class WhichBuy(DomainError):
    """Several buys could be meant: answered where it was asked, so a tap acts there."""

    key = "which_buy"
    here = True


def named_number(args: str) -> tuple[int | None, str]:
    """'#12' (or '＃１２') anywhere in the arguments, and the rest without it."""
    match = _NUMBER.search(args)
    if match is None:
        return None, args.strip()
    rest = (args[: match.start()] + " " + args[match.end():]).strip()
    return int(match.group(1).translate(_FULL_DIGITS)), " ".join(rest.split())


_FULL_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def choose_buy(ctx: Ctx, args: str, *, command: str,
               statuses: tuple[BuyStatus, ...] = ANY_STATUS,
               lines: tuple[LineStatus, ...] | None = None,
               order_words: bool = False) -> tuple[GroupBuy, str]:
    """The buy `args` name for `/command`, and the rest of `args`.

    '#N': that buy of the community (in a group: of this chat), in `statuses`. Else, with
    `order_words`, the one buy the order numbers belong to. Else this chat's (in private:
    the community's) buys in `statuses` with a line in `lines`: one is taken, several are
    asked about, none is refused.
    """
    number, rest = named_number(args)
    if number is not None:
        return _numbered(ctx, number, statuses), rest
    if order_words:
        owner = _owner_of_orders(ctx, rest)
        if owner is not None:
            return _in_status(owner, statuses), rest
    chat = (ctx.msg.channel, ctx.msg.chat) if ctx.msg.is_group else None
    found = groupbuys.choices(ctx.session, id_of(ctx.community), chat, statuses, lines)
    if len(found) == 1:
        return found[0], rest
    if not found:
        raise DomainError("no_open_buy" if BuyStatus.OPEN in statuses else "no_closed_buy")
    raise WhichBuy(buys=[brief(b) for b in found], command=command,
                   buttons=tuple(buy_button(b, command, rest) for b in found))


def buy_button(buy: GroupBuy, command: str, rest: str) -> Button:
    data = f"/{command} #{buy.number} {rest}".strip()
    if len(data.encode()) > _DATA_BYTES:
        data = f"/{command} #{buy.number}"
    return Button(f"#{buy.number} {buy.title}"[:40], data)


def _numbered(ctx: Ctx, number: int, statuses: tuple[BuyStatus, ...]) -> GroupBuy:
    buy = groupbuys.by_number(ctx.session, id_of(ctx.community), number)
    elsewhere = buy is not None and ctx.msg.is_group and (
        buy.channel, buy.chat_id) != (ctx.msg.channel, ctx.msg.chat)
    if buy is None or elsewhere:
        raise no_such_buy(ctx, number)
    return _in_status(buy, statuses)


def _in_status(buy: GroupBuy, statuses: tuple[BuyStatus, ...]) -> GroupBuy:
    if buy.status not in statuses:
        raise DomainError(f"buy_is_{buy.status}", buy=brief(buy))
    return buy


def no_such_buy(ctx: Ctx, number: int) -> DomainError:
    """'no buy #99 here; open now: #1 蘋果, #2 鳳梨酥' (the open ones of this chat)."""
    chat = (ctx.msg.channel, ctx.msg.chat) if ctx.msg.is_group else None
    open_now = groupbuys.choices(ctx.session, id_of(ctx.community), chat, (BuyStatus.OPEN,))
    return DomainError("no_such_buy", number=number, buys=[brief(b) for b in open_now])


def _owner_of_orders(ctx: Ctx, rest: str) -> GroupBuy | None:
    """The one buy the order numbers typed belong to; None when they are no numbers or
    belong to several buys. Numbers that are no order anywhere are refused as such."""
    words = rest.replace(",", " ").replace("，", " ").split()
    numbers = whole_numbers(words)
    if not numbers:
        return None
    owners = groupbuys.buys_of_orders(ctx.session, id_of(ctx.community),
                                      {n for n in numbers if n <= DB_INT_MAX})
    if not owners:
        raise DomainError("no_such_orders", ids=[w[:12] for w in words])
    return owners[0] if len(owners) == 1 else None
