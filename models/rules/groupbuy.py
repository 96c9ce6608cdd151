"""Group-buy rules: reading '+1', deadlines, who may join when, how stock is split."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# Deadlines as leaders write them live in models/rules/deadline.py; re-exported here.
from models.rules.deadline import PastDeadline as PastDeadline
from models.rules.deadline import echo as echo
from models.rules.deadline import future_deadline as future_deadline
from models.rules.deadline import parse_deadline as parse_deadline
from models.rules.text import CHINESE_NUMERAL, chinese_number, fold

# "Me too" as groups write it, right before the '+N' / '加N' (see the README, group buys).
# A closed list: "小明+1" is a join for someone else, "同意+1" agrees with a message.
_ME_TOO = "(?:同上|我也要|我也|也要|我要|跟團|跟团|跟|同|也|我|再)"
_JOIN = re.compile(
    rf"^(?:{_ME_TOO}\s*[,，、:：~～]?\s*)?(?P<sign>\+|➕|加)\s*"
    rf"(?P<n>-?[0-9]+|{CHINESE_NUMERAL})\s*"
    r"(?:份|個|个|組|组|盒|包|箱|斤|袋|瓶|件)?(?P<tail>.*)$", re.S)
_THANKS = re.compile("謝謝|谢谢|感謝|感谢|感恩|thank you|thanks|thx", re.I)
_NOT_AFTER = frozenset("0123456789+-一二兩两三四五六七八九十廿百千萬万零〇的")  # "+1的人好多"


MAX_DIGITS = 12  # more digits is a typo (or an attack), never an order
MAX_LINE_AMOUNT = 2**31 - 1  # a line's price (minor units) must fit an integer column
DEFAULT_MEMBER_CAP = 20  # units one member may hold in a buy whose leader set no limit


class BadQuantity(ValueError):
    """A quantity that is not a whole number of at least one, or has absurdly many digits."""


def _only_marks(text: str) -> bool:
    """Punctuation, symbols (emoji) and spaces only: '！', '。', ' 🙏'."""
    return all(unicodedata.category(ch)[0] in "PSZ" for ch in text)


def _polite(tail: str) -> bool:
    """Nothing after the count but punctuation, emoji and perhaps a thank-you."""
    return _only_marks(_THANKS.sub("", tail, count=1))


def join_quantity(text: str) -> int | None:
    """'+1', '＋１', '+1 謝謝', '+2份', '加1', '加兩份', '+十二', '同上+1', '我也+1' → the quantity.

    After '+' and ASCII digits anything may follow ('+1 thanks, see you'); after '加N' or a
    Chinese numeral only punctuation, emoji or a thank-you, so '加一點鹽' stays chatter.
    Only ASCII and full-width digits are digits ('+²', '+٣' are not joins). '+0' and '+-1'
    look like joins but ask for nothing: BadQuantity.
    """
    if "+" not in text and "加" not in text and "＋" not in text and "➕" not in text:
        return None  # most chatter: no regex, no folding
    match = _JOIN.match(fold(text).strip())
    if match is None:
        return None
    raw, tail = match["n"], match["tail"]
    if tail[:1] in _NOT_AFTER or (tail[:1] in ".,/" and tail[1:2].isdigit()):
        return None
    chinese = chinese_number(raw)
    if (match["sign"] == "加" or chinese is not None) and not _polite(tail):
        return None
    if chinese is not None:
        return chinese
    if len(raw.lstrip("-")) > MAX_DIGITS:
        raise BadQuantity(raw[:MAX_DIGITS + 1])
    quantity = int(raw)
    if quantity < 1:
        raise BadQuantity(raw)
    return quantity


def opens_for(tier_rank: int, early_rank: int | None, opens_at: datetime,
              early_minutes: int) -> datetime:
    """When a member of this tier may join: early tiers `early_minutes` before everyone."""
    if early_rank is not None and tier_rank >= early_rank:
        return opens_at - timedelta(minutes=early_minutes)
    return opens_at


@dataclass(frozen=True, slots=True)
class Split:
    allocated: int
    waitlisted: int


def split(requested: int, stock_left: int | None) -> Split:
    """Take what stock is left; the rest waits in line. None stock: unlimited."""
    if stock_left is None:
        return Split(requested, 0)
    taken = max(0, min(requested, stock_left))
    return Split(taken, requested - taken)


def within_member_limit(already: int, requested: int, limit: int | None) -> bool:
    return limit is None or already + requested <= limit


def member_cap(limit: int | None, unit_price: int,
               default: int | None = DEFAULT_MEMBER_CAP) -> int | None:
    """The most units one member may hold in a buy: the leader's per-member limit, else the
    community's default cap (read by `configured_cap`; None: no cap), lowered where needed so
    a member's units never cost more than an amount column holds (a NT$1,000,000 item cannot
    be ordered 9,999 times)."""
    chosen = default if limit is None else limit
    if unit_price <= 0:
        return chosen
    money_cap = MAX_LINE_AMOUNT // unit_price
    return money_cap if chosen is None else min(chosen, money_cap)


def configured_cap(value: object) -> int | None:
    """The programme's "member_cap": a whole number ≥ 1; "none" (or 0) for no default cap;
    absent or unreadable: DEFAULT_MEMBER_CAP."""
    if isinstance(value, str) and value.strip().lower() in ("none", "0"):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 1 else None
    return DEFAULT_MEMBER_CAP


def replenish_on(delivered: date, cycle_days: int | None, quantity: int,
                 lead_days: int = 2) -> date | None:
    """Delivered date + consumption cycle × quantity − lead days (None without a cycle)."""
    if not cycle_days or cycle_days <= 0 or quantity <= 0:
        return None
    return delivered + timedelta(days=max(0, cycle_days * quantity - lead_days))
