"""`/coupon new` with nothing after it: the coupon asked step by step (state in the DB, through
handlers/guided.py), each answer checked with the same parser as the one-line form.

    name → what it is (100 = NT$100 off, 10% = 10 % off, shipping, gift:保溫杯)
         → validity (days, or a last date) → per-member limit → minimum spend
"""

from __future__ import annotations

from typing import Any

from handlers.context import Ctx
from handlers.leader import actor
from messages.types import Reply
from models import communities, coupons, flows
from models.errors import DomainError
from models.rules.offers import Offer, OfferError, parse_offer
from models.shop import last_moment
from models.tables import Conversation
from models.types import id_of

FIELDS = ("name", "kind", "validity", "limit", "min")
SKIP = {"-", "無", "无", "none", "skip", "跳過", "跳过", "不限"}


def make(ctx: Ctx, offer: Offer) -> list[Reply]:
    """Save the coupon (one line or the last step), audited."""
    if offer.points is not None or offer.stock is not None:
        raise DomainError("bad_offer", mistake="points_on_coupon", word="", command="coupon")
    until = last_moment(offer.until, ctx.tz) if offer.until else None
    made = coupons.create_leader_template(ctx.session, id_of(ctx.community), offer, until)
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), "coupon", True,
                      f"new {offer.name} {offer.kind}:{offer.value} min={offer.min_spend} "
                      f"limit={offer.limit} days={offer.days} until={offer.until}",
                      ctx.member.id, ctx.now)
    return [ctx.reply("coupon_made", tmpl=made)]


def ask(ctx: Ctx) -> list[Reply]:
    return [_ask(ctx, 0)]


def _ask(ctx: Ctx, index: int) -> Reply:
    return ctx.reply("coupon_ask", coupon_field=FIELDS[index], step=index + 1, steps=len(FIELDS))


def _term(field: str, text: str) -> list[str]:
    """One answer as the one-line form's words."""
    typed = text.strip()
    if field == "name":
        return typed.split()
    if typed.lower() in SKIP:
        return []
    if field == "kind":
        if typed in ("免運", "免运", "運費", "运费"):
            return ["shipping"]
        if typed.endswith("%"):
            return [f"percent:{typed[:-1]}"]
        return [f"amount:{typed}"] if typed.replace(",", "").isdigit() else [typed]
    if field == "validity":
        return [f"until={typed}" if "-" in typed or "/" in typed else f"days={typed}"]
    return [f"{field}={typed}"]


def step(ctx: Ctx, flow: Conversation) -> list[Reply]:
    """The next answer; a bad one is named and asked again, nothing is lost."""
    field = FIELDS[flow.step]
    data: dict[str, Any] = {**flow.data, field: _term(field, ctx.msg.text)}
    words = [w for name in FIELDS for w in data.get(name, [])]
    try:
        if field == "name" and not data["name"]:
            raise OfferError("bad_name")
        offer = parse_offer(words if "kind" in data else [*words, "shipping"], ctx.today)
    except OfferError as wrong:
        return [ctx.reply("bad_offer", mistake=wrong.problem, word=wrong.word, command="coupon"),
                _ask(ctx, flow.step)]
    if field == "name" and coupons.leader_template(ctx.session, id_of(ctx.community),
                                                   offer.name) is not None:
        return [ctx.reply("coupon_exists", name=offer.name), _ask(ctx, flow.step)]
    if flow.step + 1 < len(FIELDS):
        flows.advance(ctx.session, flow, data, ctx.now)
        return [_ask(ctx, flow.step)]
    flows.clear(ctx.session, ctx.msg.channel, ctx.msg.chat, ctx.msg.sender)
    return make(ctx, offer)
