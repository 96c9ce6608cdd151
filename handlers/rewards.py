"""The rewards catalogue: `/reward add|off` (staff), `/rewards` and `/redeem N` (members)."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.leader import actor
from messages.types import Button, Reply
from models import communities, shop
from models.errors import DomainError, Usage
from models.rules.offers import OfferError, parse_offer
from models.rules.text import DB_INT_MAX, whole_numbers
from models.types import id_of

ADD = ("add", "新增", "上架")
OFF = ("off", "remove", "下架")
MAX_BUTTONS = 10  # a longer catalogue is listed, the first ones get a button


def reward(ctx: Ctx) -> list[Reply]:
    """`/reward add NAME coupon=… points=N [stock=N] [limit=N]` or `/reward off N`."""
    verb, _, rest = ctx.args.partition(" ")
    if verb.lower() in ADD:
        return _add(ctx, rest.split())
    if verb.lower() in OFF:
        number = _number(rest)
        if number is None:
            raise Usage("reward")
        taken = shop.take_off(ctx.session, id_of(ctx.community), number)
        _audit(ctx, "reward", f"off #{taken.number} {taken.name}")
        return [ctx.reply("reward_off", reward=taken)]
    raise Usage("reward")


def _add(ctx: Ctx, words: list[str]) -> list[Reply]:
    try:
        offer = parse_offer(words, ctx.today)
    except OfferError as wrong:
        raise DomainError("bad_offer", mistake=wrong.problem, word=wrong.word,
                          command="reward") from None
    added = shop.add(ctx.session, community_id=id_of(ctx.community), offer=offer,
                        actor_id=ctx.member.id, now=ctx.now, tz=ctx.tz)
    _audit(ctx, "reward", f"add #{added.number} {added.name} {offer.kind}:{offer.value} "
                          f"points={added.points} stock={added.stock} limit={added.per_member_limit}")
    return [ctx.reply("reward_added", reward=added, offer=offer)]


def catalogue(ctx: Ctx) -> list[Reply]:
    """`/rewards`: what the member can redeem, with a button for each (numbered text where a
    channel has no buttons)."""
    items = shop.catalogue(ctx.session, id_of(ctx.community))
    buttons = tuple(
        Button(ctx.text("redeem_button", reward=item), f"/redeem {item.number}")
        for item, _ in items if item.stock is None or item.stock > 0)[:MAX_BUTTONS]
    return [ctx.card("rewards", items=items, balance=ctx.member.points_balance, buttons=buttons)]


def redeem(ctx: Ctx) -> list[Reply]:
    """`/redeem N` (or `/redeem #N`): points for the reward, the coupon into the wallet."""
    number = _number(ctx.args)
    if number is None:
        raise Usage("redeem")
    done = shop.redeem(
        ctx.session, community_id=id_of(ctx.community), number=number, member=ctx.member,
        key=f"{ctx.msg.channel}:{ctx.msg.event_key}", now=ctx.now, today=ctx.today)
    return [ctx.card("redeemed", reward=done.reward, coupon=done.coupon, tmpl=done.template,
                     balance=done.balance, again=done.again)]


def _number(text: str) -> int | None:
    numbers = whole_numbers(text.strip().lstrip("#").split())
    return numbers[0] if numbers and len(numbers) == 1 and 0 < numbers[0] <= DB_INT_MAX else None


def _audit(ctx: Ctx, action: str, detail: str) -> None:
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), action, True, detail,
                      ctx.member.id, ctx.now)
