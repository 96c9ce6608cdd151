"""A leader's own coupons: `/coupon new`, `/coupon send NAME @name|SEGMENT`, `/coupon list`.

Sending a coupon is a promotion (Kind.PROMOTION): the coupon goes into the member's wallet
at once, but the message telling them respects their opt-out, quiet hours (it waits for the
morning) and the weekly cap; the leader's answer says when a member could not be told (for a
segment: how many were told).
"""

from __future__ import annotations

from handlers import couponflow, guided
from handlers.context import Ctx
from handlers.leader import actor
from handlers.notify import Message, Push, notify, notify_many
from messages.types import Reply
from models import communities, coupon_sends, coupons, lookups
from models.errors import DomainError, UnknownMember, Usage
from models.rules.notify import Kind
from models.rules.offers import OfferError, parse_offer
from models.tables import CouponTemplate
from models.types import id_of

NEW = ("new", "add", "新增", "建立")
SEND = ("send", "give", "發送", "发送", "送")
LIST = ("list", "列表")


def coupon(ctx: Ctx) -> list[Reply]:
    verb, _, rest = ctx.args.partition(" ")
    if verb.lower() in NEW:
        return _new(ctx, rest.split())
    if verb.lower() in SEND:
        return _send(ctx, rest.split())
    if verb.lower() in LIST:
        made = coupons.leader_templates(ctx.session, id_of(ctx.community))
        return [ctx.card("coupon_list", made=made)]
    raise Usage("coupon")


def _new(ctx: Ctx, words: list[str]) -> list[Reply]:
    """`/coupon new NAME TERMS…` in one line, or `/coupon new` alone: asked step by step."""
    if not words:
        return guided.start(ctx, "coupon")
    try:
        offer = parse_offer(words, ctx.today)
    except OfferError as wrong:
        raise DomainError("bad_offer", mistake=wrong.problem, word=wrong.word,
                          command="coupon") from None
    return couponflow.make(ctx, offer)


def _send(ctx: Ctx, words: list[str]) -> list[Reply]:
    """`/coupon send NAME @name` or `/coupon send NAME SEGMENT`: the last word says to whom."""
    if len(words) < 2 or words[-1] == "@":
        raise Usage("coupon")
    name, whom = " ".join(words[:-1]), words[-1]
    tmpl = coupons.leader_template(ctx.session, id_of(ctx.community), name)
    if tmpl is None:
        raise DomainError("no_such_coupon", name=name[:40],
                          names=[t.key[2:] for t, _ in
                                 coupons.leader_templates(ctx.session, id_of(ctx.community))][:10])
    if not whom.startswith("@"):
        return _send_to_segment(ctx, tmpl, whom)
    handle = whom
    target = lookups.by_handle(ctx.session, id_of(ctx.community), handle)
    if target is None:
        raise UnknownMember(name=handle[:40])
    key = f"coupon:{ctx.msg.channel}:{ctx.msg.event_key}:{target.id}"
    given, again = coupons.give(ctx.session, member=target, tmpl=tmpl, now=ctx.now, issue_key=key)
    if again:
        return [ctx.reply("coupon_sent_before", target=target, tmpl=tmpl, coupon=given)]
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), "coupon", True,
                      f"send {name} to {target.id} code {given.code}", ctx.member.id, ctx.now)
    told = notify(ctx.session, ctx.deps, target,
                  Message("coupon_gift", coupon=given, tmpl=tmpl), Kind.PROMOTION,
                  key=f"coupongift:{given.id}", prefer=ctx.msg.channel, community=ctx.community,
                  now=ctx.now)
    return [ctx.reply("coupon_sent", target=target, tmpl=tmpl, coupon=given, unreachable=not told)]


def _send_to_segment(ctx: Ctx, tmpl: CouponTemplate, segment: str) -> list[Reply]:
    """Every member of the segment gets the coupon; the messages go through notify_many (the
    same rule as notify: opt-out, quiet hours, weekly cap, reachability, dedupe)."""
    sent = coupon_sends.to_segment(ctx.session, community=ctx.community, tmpl=tmpl, name=segment,
                                   event_key=f"{ctx.msg.channel}:{ctx.msg.event_key}",
                                   now=ctx.now, local_now=ctx.local_now)
    if sent.again:
        return [ctx.reply("coupon_segment_before", tmpl=tmpl, segment=sent.segment)]
    pushes = [Push(member, Message("coupon_gift", coupon=given, tmpl=tmpl),
                   f"coupongift:{tmpl.id}:{member.id}:{given.code}", prefer=ctx.msg.channel)
              for member, given in sent.issued]
    told = notify_many(ctx.session, ctx.deps, ctx.community, pushes, Kind.PROMOTION, now=ctx.now)
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), "coupon", True,
                      f"send {tmpl.name} to segment {sent.segment}: {len(sent.issued)} of "
                      f"{sent.matched}, {told} told", ctx.member.id, ctx.now)
    return [ctx.reply("coupon_sent_segment", tmpl=tmpl, segment=sent.segment, matched=sent.matched,
                      issued=len(sent.issued), told=told)]
