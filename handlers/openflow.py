"""Opening a group buy: one line with `|` between fields, or step by step (state in the DB).

    /open 有機蘋果 | 350 | 100 | 12-01 20:00 | 水果 | 14 | 2 | 金 30m
          product  price stock  deadline      category cycle limit early-window
    The last field is either an early window ('金 30m': gold and up may join 30 minutes before
    everyone) or tier-only ('金 專屬', '金 专属', '金 限定', 'gold only': gold and up only, for
    the buy's whole life).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from handlers.context import Ctx
from handlers.leader import tier_key
from messages.types import Reply
from models import flows, groupbuys
from models.errors import DomainError, Usage
from models.rules import groupbuy as rules
from models.rules.text import parse_amount
from models.tables import Conversation

FIELDS = ("title", "price", "stock", "deadline", "category", "cycle", "limit", "early")
OPTIONAL = {"stock", "category", "cycle", "limit", "early"}
NONE_WORDS = {"", "-", "無", "无", "不限", "none", "no", "skip", "跳過", "跳过"}
MAX_PRICE = 100_000_000  # NT$1,000,000 in minor units: anything above is a typo


def _value(ctx: Ctx, name: str, raw: str) -> Any:
    """One field, checked; DomainError('open_bad_field') names what is wrong."""
    text = raw.strip()
    if name in OPTIONAL and text.lower() in NONE_WORDS:
        return None
    if name == "title":
        if not 1 <= len(text) <= 100:
            raise DomainError("open_bad_field", field=name)
        return text
    if name in ("price", "stock", "cycle", "limit"):
        amount = parse_amount(text.replace("NT$", "").replace("$", "").replace("元", ""))
        if amount is None:
            raise DomainError("open_bad_field", field=name)
        if name == "price":
            amount *= 100
            if amount > MAX_PRICE:
                raise DomainError("open_bad_field", field=name)
        elif amount > 100_000:
            raise DomainError("open_bad_field", field=name)
        return amount
    if name == "deadline":
        try:
            when = rules.future_deadline(text, ctx.local_now)
        except rules.PastDeadline as past:
            raise DomainError("deadline_past", when=rules.echo(past.when)) from None
        if when is None:
            raise DomainError("open_bad_field", field=name)
        return when.isoformat()
    if name == "category":
        return text[:32]
    return _early(ctx, text)


ONLY_WORDS = {"only", "專屬", "专属", "限定"}  # '金 專屬' / 'gold only': that tier and up, always


def _early(ctx: Ctx, text: str) -> list[Any]:
    """'金 30m' / 'gold 2h' → [tier key, minutes]; '金 專屬' / 'gold only' → [tier key, None]."""
    parts = text.split()
    if len(parts) == 2 and parts[1].lower() in ONLY_WORDS:
        key = tier_key(ctx, parts[0])
        if key is None:
            raise DomainError("open_bad_field", field="early")
        return [key, None]
    minutes = rules.parse_deadline(parts[1], ctx.local_now) if len(parts) == 2 else None
    key = tier_key(ctx, parts[0]) if parts else None
    if key is None or minutes is None:
        raise DomainError("open_bad_field", field="early")
    return [key, int((minutes - ctx.local_now).total_seconds() // 60)]


def create(ctx: Ctx, data: dict[str, Any]) -> list[Reply]:
    deadline = datetime.fromisoformat(data["deadline"])
    given: list[Any] | None = data.get("early")
    # [tier, None]: tier-only for the buy's whole life, no early window
    exclusive: str | None = given[0] if given and given[1] is None else None
    early = given if given and given[1] is not None else None
    opens_at = ctx.now + timedelta(minutes=early[1]) if early else ctx.now
    if opens_at >= deadline:
        raise DomainError("open_bad_field", field="early")
    buy = groupbuys.open_buy(
        ctx.session, community_id=ctx.community.id, channel=ctx.msg.channel, chat_id=ctx.msg.chat,
        title=data["title"], price=data["price"], stock=data.get("stock"),
        per_member_limit=data.get("limit"), category=data.get("category") or "",
        cycle_days=data.get("cycle"), early_tier=early[0] if early else None,
        exclusive_tier=exclusive, opens_at=opens_at, deadline=deadline, created_by=ctx.member.id,
        created_at=ctx.now,
    )
    return [ctx.reply("opened", buy=buy, early=ctx.tier_name(early[0]) if early else None,
                      exclusive=ctx.tier_name(exclusive) if exclusive else None,
                      opens=opens_at.astimezone(ctx.local_now.tzinfo).strftime("%H:%M"),
                      deadline=rules.echo(deadline), weekday=deadline.weekday())]


def open_one_line(ctx: Ctx) -> list[Reply]:
    parts = [p.strip() for p in ctx.args.split("|")]
    if len(parts) < 4 or len(parts) > len(FIELDS):
        raise Usage("open")
    data = {name: _value(ctx, name, raw) for name, raw in zip(FIELDS, parts, strict=False)}
    return create(ctx, data)


def ask(ctx: Ctx) -> list[Reply]:
    """The guided flow's first question (handlers/guided.py keeps its state)."""
    return [ctx.reply("open_ask", field=FIELDS[0], step=1, steps=len(FIELDS))]


def step(ctx: Ctx, flow: Conversation) -> list[Reply]:
    """The next answer in the guided flow; a bad one is asked again, nothing is lost."""
    name = FIELDS[flow.step]
    try:
        value = _value(ctx, name, ctx.msg.text)
    except DomainError as problem:
        again = ctx.reply("open_ask", field=name, step=flow.step + 1, steps=len(FIELDS))
        return [ctx.reply(problem.key, **problem.params), again]
    data = {**flow.data, name: value}
    if flow.step + 1 == len(FIELDS):
        try:
            opened = create(ctx, data)
        except DomainError as problem:  # e.g. an early window that reaches the deadline
            again = ctx.reply("open_ask", field=name, step=flow.step + 1, steps=len(FIELDS))
            return [ctx.reply(problem.key, **problem.params), again]
        flows.clear(ctx.session, ctx.msg.channel, ctx.msg.chat, ctx.msg.sender)
        return opened
    flows.advance(ctx.session, flow, data, ctx.now)
    ask_next = ctx.reply("open_ask", field=FIELDS[flow.step], step=flow.step + 1, steps=len(FIELDS))
    if name != "deadline":
        return [ask_next]
    when = datetime.fromisoformat(value)  # echoed in full for the leader to confirm
    return [ctx.reply("deadline_set", deadline=rules.echo(when), weekday=when.weekday()), ask_next]
