"""Member commands: the card, points, coupons, birthday, invites, check-in, language, opt-out."""

from __future__ import annotations

from dataclasses import replace

from handlers.context import Ctx
from handlers.glance import Glance
from messages.qr import qr_png
from messages.render import LOCALES, locale_from
from messages.types import Reply
from models import coupons, ledger, linking, privacy, profile, referrals
from models.errors import DomainError, Usage
from models.rules import birthday as birthday_rules
from models.rules import points as points_rules
from models.rules import tiers as tier_rules
from models.types import id_of


def start(ctx: Ctx) -> list[Reply]:
    """Join; `/start ref_CODE` attributes the referral, or says why it does not count."""
    referrer, refused = None, None
    if ctx.args.strip():
        outcome, referrer = referrals.attribute_payload(ctx.session, ctx.membership, ctx.args)
        refused = None if referrer is not None else outcome
    return [ctx.reply(
        "welcome", is_new=ctx.membership.is_new, tier=ctx.tier_name(),
        referrer=referrer.display_name if referrer else None, refused=refused,
        min_purchase=ctx.programme.referral.min_purchase,
    )]


def me(ctx: Ctx | Glance) -> list[Reply]:
    """The card; it only reads, so it runs on the light lane (handlers.glance) as well."""
    spend, invites = ctx.standing()
    tiers = ctx.programme.tiers
    current = tier_rules.find(ctx.member.tier, tiers)
    gap = tier_rules.gap_to_next(ctx.member.tier, spend, invites, tiers)
    nxt = tier_rules.find(gap.tier, tiers) if gap else None
    next_name = ctx.tier_name(gap.tier) if gap else None
    answer = ctx.card(
        "me", tier=ctx.tier_name(), current=current, spend=spend, invites=invites, gap=gap,
        next=nxt, next_name=next_name,
        balance=ctx.member.points_balance, debt=ctx.member.points_debt,
    )
    facts: dict[str, object] = {  # for a channel that draws cards; the text says it all too
        "kind": "member", "name": ctx.member.display_name, "tier": ctx.tier_name(),
        "points": ctx.member.points_balance, "debt": ctx.member.points_debt, "spend": spend,
        "next_tier": next_name,
    }
    return [replace(answer, card=facts)]


def points(ctx: Ctx) -> list[Reply]:
    entries = ledger.recent(ctx.session, id_of(ctx.member), 10)
    lots = ledger.lots(ctx.session, id_of(ctx.member))
    expiring = points_rules.expiring_within(lots, ctx.today, 30)
    return [ctx.card(
        "points", balance=ctx.member.points_balance, debt=ctx.member.points_debt,
        entries=entries, expiring=expiring,
    )]


def coupon_wallet(ctx: Ctx) -> list[Reply]:
    held = coupons.wallet(ctx.session, id_of(ctx.member), ctx.now)
    names = {t.key: ctx.tier_name(t.key) for t in ctx.programme.tiers}
    return [ctx.card("coupons", coupons=held, tier_names=names)]


def birthday(ctx: Ctx) -> list[Reply]:
    if not ctx.args:
        if ctx.member.birthday_month:
            return [ctx.card("birthday_is", month=ctx.member.birthday_month,
                             day=ctx.member.birthday_day)]
        raise Usage("birthday")
    try:
        month, day = birthday_rules.parse_birthday(ctx.args)
    except birthday_rules.InvalidBirthday:
        raise Usage("birthday", invalid=ctx.args[:20]) from None
    profile.set_birthday(ctx.session, member=ctx.member, month=month, day=day)
    return [ctx.card("birthday_set", month=month, day=day)]


def claim(ctx: Ctx) -> list[Reply]:
    coupon, value = profile.claim_birthday(
        ctx.session, member=ctx.member, programme=ctx.programme, today=ctx.today, now=ctx.now,
        coupon_name=ctx.text("birthday_coupon_name", tier=ctx.tier_name()))
    until = coupon.valid_until.astimezone(ctx.local_now.tzinfo).date()
    return [ctx.card("claimed", coupon=coupon, value=value, until=until, tier=ctx.tier_name())]


def invite(ctx: Ctx) -> list[Reply]:
    link = ctx.deps.referral_link(ctx.msg.channel, ctx.member.referral_code)
    image = qr_png(link, ctx.deps.media_dir / "qr")
    people = referrals.invited(ctx.session, id_of(ctx.member))
    bought = sum(1 for p in people if p.first_purchase_at is not None)
    text = ctx.text("invite", link=link, code=ctx.member.referral_code, people=people,
                    bought=bought)
    return [Reply(text, image=str(image), private=ctx.can_reply_privately,
                  hints={"referral": ctx.member.referral_code, "link": link})]


def checkin(ctx: Ctx) -> list[Reply]:
    member, programme = ctx.member, ctx.programme
    done = profile.check_in(ctx.session, member=member, programme=programme, today=ctx.today)
    if done is None:
        return [ctx.reply("checkin_already", streak=member.checkin_streak,
                          balance=member.points_balance)]
    every = programme.checkin_bonus_every
    to_bonus = every - (done.streak % every) if every else None
    return [ctx.reply("checkin_ok", points=done.points, streak=done.streak,
                      balance=member.points_balance, to_bonus=to_bonus,
                      bonus=programme.checkin_bonus)]


def lang(ctx: Ctx) -> list[Reply]:
    chosen = locale_from(ctx.args)
    if chosen is None:
        raise Usage("lang", locales=LOCALES)
    profile.set_locale(ctx.session, member=ctx.member, locale=chosen)
    return [ctx.reply("lang_set")]


def optout(ctx: Ctx) -> list[Reply]:
    """Promotions and reminders off on the channel this is sent from."""
    privacy.record_consent(ctx.session, account=ctx.membership.account, granted=False,
                           source="command", now=ctx.now)
    return [ctx.card("optout", channel=ctx.msg.channel)]


def optin(ctx: Ctx) -> list[Reply]:
    privacy.record_consent(ctx.session, account=ctx.membership.account, granted=True,
                           source="command", now=ctx.now)
    return [ctx.card("optin", channel=ctx.msg.channel)]


def link(ctx: Ctx) -> list[Reply]:
    """`/link` gives a one-time code; `/link CODE` on another platform joins the accounts."""
    if ctx.msg.is_group:  # a code shown in a group could be typed by anyone
        raise DomainError("link_in_private")
    code = ctx.args.strip()
    if not code:
        issued = linking.new_code(ctx.session, ctx.member, ctx.now)
        return [ctx.card("link_code", code=issued.code, minutes=10)]
    kept = linking.redeem(ctx.session, code, ctx.msg.channel, ctx.msg.sender,
                          ctx.msg.handle, ctx.now, ctx.programme.tiers)
    return [ctx.card("linked", kept=kept, balance=kept.points_balance,
                     tier=ctx.programme.tier_name(kept.tier, kept.locale or ctx.locale))]
