"""Segment rules as leaders write them: `category=母嬰 orders>=2 last_order>30d tier>=silver`.

A rule is conditions joined by spaces, all of which must hold (AND). Each condition is
FIELD OPERATOR VALUE with no spaces inside (a value with spaces in quotes:
product="Green tea", or 「」); full-width forms (＞＝２, ≥, ≤) count as typed
in ASCII. `all` (全部) alone is every member. Fields (Chinese aliases in brackets):

    tier (等級/等级)            = != >= <= > <   bronze silver gold diamond, or their names (銀, 银)
    tag (標籤/标签)             = !=             an interest tag (automatic) or a manual one
    spend (消費/消费)           = != >= <= > <   12-month spend in whole dollars (NT$): spend>=3000
    orders (訂單/订单)          = != >= <= > <   order lines ever; ordersNd (orders90d>=2): in the last N days
    last_order (最後下單/最后下单) = >= <= > <   days since the last order: last_order>30d
    category (分類/分类)        = !=             bought in that category (!=: never)
    product (商品)              = !=             bought that product, by its group-buy title
    birthday_month (生日月)     = != >= <= > <   1–12, or this_month (本月); birthday=this_month
    joined (加入)               = >= <= > <      days since joining (joined<30d), or a date (>=2026-01-01)
    channel (平台/渠道)         = !=             telegram, line, wechat, console
    reachable (可達/可达)       =                yes / no: a push can reach the member somewhere
    opted_in (訂閱/订阅)        =                yes / no: promotions on for at least one channel

A bad rule raises RuleError with a `code` (a message key) and `details` for the message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

MAX_CONDITIONS = 20
MAX_ORDERS = 99_999
MAX_DAYS = 10_000
MAX_SPEND = 100_000_000  # whole dollars
MAX_TEXT_VALUE = 32
CHANNELS = ("telegram", "line", "wechat", "console")
OPS = ("=", "!=", ">=", "<=", ">", "<")
ORDERED, EQUALITY, YES_NO = OPS, ("=", "!="), ("=",)

DEFAULT_TIERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bronze", ("銅", "铜", "Bronze")),
    ("silver", ("銀", "银", "Silver")),
    ("gold", ("金", "Gold")),
    ("diamond", ("鑽石", "钻石", "Diamond")),
)

ALIASES: dict[str, str] = {
    "tier": "tier", "等級": "tier", "等级": "tier",
    "tag": "tag", "tags": "tag", "標籤": "tag", "标签": "tag",
    "spend": "spend", "消費": "spend", "消费": "spend",
    "orders": "orders", "訂單": "orders", "订单": "orders",
    "last_order": "last_order", "最後下單": "last_order", "最后下单": "last_order",
    "category": "category", "分類": "category", "分类": "category",
    "product": "product", "商品": "product",
    "birthday_month": "birthday_month", "birthday": "birthday_month", "生日月": "birthday_month",
    "生日": "birthday_month",
    "joined": "joined", "加入": "joined",
    "channel": "channel", "平台": "channel", "渠道": "channel",
    "reachable": "reachable", "可達": "reachable", "可达": "reachable",
    "opted_in": "opted_in", "訂閱": "opted_in", "订阅": "opted_in",
}
ALLOWED_OPS: dict[str, tuple[str, ...]] = {
    "tier": ORDERED, "tag": EQUALITY, "spend": ORDERED, "orders": ORDERED,
    "last_order": (">=", "<=", ">", "<", "="), "category": EQUALITY, "product": EQUALITY,
    "birthday_month": ORDERED, "joined": (">=", "<=", ">", "<", "="), "channel": EQUALITY,
    "reachable": YES_NO, "opted_in": YES_NO,
}
EVERYONE = ("all", "全部", "所有")
THIS_MONTH = 0  # birthday_month=this_month: the month of the `now` the query is run at
_YES = {"yes": True, "y": True, "true": True, "1": True, "是": True, "有": True,
        "no": False, "n": False, "false": False, "0": False, "否": False, "沒有": False,
        "没有": False}
_CONDITION = re.compile(r"^(?P<field>[^<>=!]+?)(?P<op>>=|<=|!=|==|=|>|<)(?P<value>.*)$")
_PERIOD = re.compile(r"^(?P<field>orders|訂單|订单)(?P<days>\d+)(?:d|天|日)$")
_DAYS = re.compile(r"^(?P<n>-?\d+)(?:d|天|日)?$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_TOKEN = re.compile(r'(?:[^\s"]|"[^"]*"?)+')  # a value with spaces in quotes: product="Green tea"
_NUMBER = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)$")


class RuleError(ValueError):
    """A rule that cannot be evaluated. `code` names the problem (the branch of the message
    template segment_bad_rule.j2); `details` fill it:

    empty, too_many (max), all_alone (token), syntax (token), unknown_field (field, token),
    bad_operator (field, op, allowed), missing_value (token), negative (token),
    too_large (token, max), not_positive (token), bad_number (token), bad_days (token),
    bad_date (token), bad_month (token), unknown_tier (value, choices),
    unknown_channel (value, choices), bad_yes_no (token), too_long (token, max).
    """

    def __init__(self, code: str, **details: str | int) -> None:
        super().__init__(code, details)
        self.code = code
        self.details: dict[str, str | int] = details


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on a member. `value` by field: tier → the tier keys that match (op 'in' or
    'not in'); spend → minor units; orders, last_order, joined (days) → days or counts;
    joined (a date) → a date; reachable, opted_in → bool; others → text or an int."""

    field: str
    op: str
    value: int | str | bool | date | tuple[str, ...]
    days: int | None = None  # orders counted over the last `days` days (None: ever)


@dataclass(frozen=True, slots=True)
class Rule:
    conditions: tuple[Condition, ...] = field(default_factory=tuple)
    text: str = ""  # as written (normalized)


def normalize(text: str) -> str:
    """Full-width forms to ASCII (NFKC), ≥ ≤ ≠ to >= <= !=, whitespace collapsed."""
    folded = unicodedata.normalize("NFKC", text)
    for fancy, plain in (("≥", ">="), ("≤", "<="), ("≠", "!="), ("“", '"'), ("”", '"'),
                         ("「", '"'), ("」", '"')):
        folded = folded.replace(fancy, plain)
    return " ".join(folded.split())


def parse_rule(text: str, *, tiers: Sequence[tuple[str, Sequence[str]]] = DEFAULT_TIERS,
               minor_per_unit: int = 100) -> Rule:
    """The rule in `text`, or RuleError. `tiers`: keys lowest first, each with its names."""
    cleaned = normalize(text)
    tokens = _TOKEN.findall(cleaned)
    if not tokens:
        raise RuleError("empty")
    if len(tokens) == 1 and tokens[0].lower() in EVERYONE:
        return Rule((), cleaned)
    if len(tokens) > MAX_CONDITIONS:
        raise RuleError("too_many", max=MAX_CONDITIONS)
    conditions = tuple(_condition(token, tiers, minor_per_unit) for token in tokens)
    return Rule(conditions, cleaned)


def _condition(token: str, tiers: Sequence[tuple[str, Sequence[str]]],
               minor_per_unit: int) -> Condition:
    match = _CONDITION.match(token)
    if match is None:
        if token.lower() in EVERYONE:
            raise RuleError("all_alone", token=token)
        raise RuleError("syntax", token=token)
    name, op, value = match["field"].strip().lower(), match["op"], match["value"].strip().strip('"')
    op = "=" if op == "==" else op
    days: int | None = None
    period = _PERIOD.match(name)
    if period is not None:
        name, days = "orders", _bounded(period["days"], token, MAX_DAYS)
        if days == 0:
            raise RuleError("not_positive", token=token)
    field_name = ALIASES.get(name)
    if field_name is None:
        raise RuleError("unknown_field", field=name[:MAX_TEXT_VALUE], token=token)
    if op not in ALLOWED_OPS[field_name]:
        raise RuleError("bad_operator", field=field_name, op=op,
                        allowed=" ".join(ALLOWED_OPS[field_name]))
    if not value:
        raise RuleError("missing_value", token=token)
    return _PARSERS[field_name](field_name, op, value, token,
                                _Context(tuple(tiers), minor_per_unit, days))


@dataclass(frozen=True, slots=True)
class _Context:
    tiers: tuple[tuple[str, Sequence[str]], ...]
    minor_per_unit: int
    days: int | None


def _bounded(text: str, token: str, most: int) -> int:
    """A whole number as written (1,200 too), 0 ≤ n ≤ most; else RuleError."""
    if _NUMBER.match(text) is None:
        raise RuleError("bad_number", token=token)
    if text.startswith("-"):
        raise RuleError("negative", token=token)
    digits = text.replace(",", "")
    if len(digits) > 12 or int(digits) > most:
        raise RuleError("too_large", token=token, max=most)
    return int(digits)


def _tier(name: str, op: str, value: str, token: str, ctx: _Context) -> Condition:
    wanted = value.lower()
    index = next((i for i, (key, names) in enumerate(ctx.tiers)
                  if wanted == key.lower() or wanted in (n.lower() for n in names)), None)
    if index is None:
        raise RuleError("unknown_tier", value=value[:MAX_TEXT_VALUE],
                        choices=", ".join(key for key, _ in ctx.tiers))
    keys = [key for key, _ in ctx.tiers]
    picked = {
        "=": keys[index:index + 1], "!=": keys[:index] + keys[index + 1:],
        ">=": keys[index:], ">": keys[index + 1:], "<=": keys[:index + 1], "<": keys[:index],
    }[op]
    return Condition("tier", "in", tuple(picked))


def _text(name: str, op: str, value: str, token: str, ctx: _Context) -> Condition:
    if len(value) > MAX_TEXT_VALUE * 3:
        raise RuleError("too_long", token=token[:MAX_TEXT_VALUE], max=MAX_TEXT_VALUE * 3)
    return Condition(name, op, value)


def _spend(name: str, op: str, value: str, token: str, ctx: _Context) -> Condition:
    amount = value.removeprefix("NT$").removeprefix("nt$").removeprefix("$")
    return Condition(name, op, _bounded(amount, token, MAX_SPEND) * ctx.minor_per_unit)


def _orders(name: str, op: str, value: str, token: str, ctx: _Context) -> Condition:
    return Condition(name, op, _bounded(value, token, MAX_ORDERS), ctx.days)


def _days(text: str, token: str) -> int:
    match = _DAYS.match(text.lower())
    if match is None:
        raise RuleError("bad_days", token=token)
    return _bounded(match["n"], token, MAX_DAYS)


def _last_order(name: str, op: str, value: str, token: str, ctx: _Context) -> Condition:
    return Condition(name, op, _days(value, token))


def _birthday(name: str, op: str, value: str, token: str, ctx: _Context) -> Condition:
    if value.lower() in ("this_month", "thismonth", "本月", "當月", "当月"):
        return Condition(name, op, THIS_MONTH)
    month = _bounded(value, token, 12) if _NUMBER.match(value) else None
    if month is None or month < 1:
        raise RuleError("bad_month", token=token)
    return Condition(name, op, month)


def _joined(name: str, op: str, value: str, token: str, ctx: _Context) -> Condition:
    found = _DATE.match(value)
    if found is None:
        return Condition(name, op, _days(value, token))
    try:
        return Condition(name, op, date(int(found[1]), int(found[2]), int(found[3])))
    except ValueError:
        raise RuleError("bad_date", token=token) from None


def _channel(name: str, op: str, value: str, token: str, ctx: _Context) -> Condition:
    wanted = value.lower()
    if wanted not in CHANNELS:
        raise RuleError("unknown_channel", value=value[:MAX_TEXT_VALUE], choices=", ".join(CHANNELS))
    return Condition(name, op, wanted)


def _yes_no(name: str, op: str, value: str, token: str, ctx: _Context) -> Condition:
    answer = _YES.get(value.lower())
    if answer is None:
        raise RuleError("bad_yes_no", token=token)
    return Condition(name, op, answer)


_PARSERS = {
    "tier": _tier, "tag": _text, "spend": _spend, "orders": _orders,
    "last_order": _last_order, "category": _text, "product": _text,
    "birthday_month": _birthday, "joined": _joined, "channel": _channel,
    "reachable": _yes_no, "opted_in": _yes_no,
}


def tier_choices(tier_names: Mapping[str, Mapping[str, str]],
                 order: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The `tiers` argument from a programme's tier keys (lowest first) and their names."""
    return tuple((key, tuple(tier_names.get(key, {}).values())) for key in order)
