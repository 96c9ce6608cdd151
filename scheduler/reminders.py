"""Reminder jobs: birthday coupons at the start of the birthday month (with a greeting) and
replenishment reminders (delivered + cycle × quantity − lead days, none if re-bought).

Thin and idempotent: every push goes through handlers.notify with a dedupe key, so a re-run
queues nothing twice; notify applies the member's opt-out on the channel, quiet hours in the
community's time zone and reachability; the outbox sends at each platform's pace.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date, datetime, timedelta

from sqlmodel import Session

from handlers.context import Deps
from handlers.notify import Message, Push, notify_many
from models import communities, coupons, reminders
from models.programme import Programme, programme_for
from models.rules import birthday as birthday_rules
from models.rules.coupons import AMOUNT_OFF
from models.rules.notify import Kind
from models.tables import Community, GroupBuy
from models.types import id_of
from scheduler.automations import join_buttons
from scheduler.each import each_community

log = logging.getLogger(__name__)
STALE = timedelta(days=30)  # a reminder more than a month late is no longer useful


def send_reminders(deps: Deps) -> int:
    """One pass over every community; returns how many pushes were queued (those inside
    quiet hours leave when the quiet hours end)."""

    def remind(session: Session, community: Community, local: datetime) -> int:
        programme = programme_for(community)
        return (_birthdays(session, deps, community, programme, local)
                + _replenishments(session, deps, community, local, programme))

    queued = each_community(deps, remind)
    if queued:
        log.info("queued %d reminders", queued)
    return queued


def send_birthdays(deps: Deps) -> int:
    """The birthday part of `send_reminders` alone (bench/daily.py times it)."""
    return each_community(deps, lambda session, community, local: _birthdays(
        session, deps, community, programme_for(community), local))


def send_replenishments(deps: Deps) -> int:
    """The replenishment part of `send_reminders` alone."""
    return each_community(deps, lambda session, community, local: _replenishments(
        session, deps, community, local, programme_for(community)))


def _birthdays(session: Session, deps: Deps, community: Community, programme: Programme,
               local: datetime) -> int:
    """At the start of the birthday month: the coupon, and a greeting if they can be reached.
    Members who have this year's coupon are not selected again."""
    now, pushes = deps.clock(), []
    due = reminders.birthday_members(session, id_of(community), local.month, local.year)
    for tier in programme.tiers:
        group = [m for m in due if m.tier == tier.key]
        if not group:
            continue
        value = programme.birthday_coupon.get(tier.key, 0)
        tmpl = coupons.template(
            session, id_of(community), f"birthday_{tier.key}",
            name=deps.renderer.render(community.default_locale, "birthday_coupon_name",
                                      tier=programme.tier_name(tier.key, community.default_locale)),
            kind=AMOUNT_OFF, value=value, valid_days=programme.birthday_coupon_valid_days)
        keys = [birthday_rules.coupon_key(id_of(m), local.year) for m in group]
        issued = coupons.issue_many(session, tmpl, [id_of(m) for m in group], keys, now)
        for member, key in zip(group, keys, strict=True):
            coupon = issued.get(id_of(member))
            if coupon is None:
                continue
            until = coupon.valid_until.astimezone(local.tzinfo).date()
            name = programme.tier_name(tier.key, member.locale or community.default_locale)
            greeting = Message("birthday_greeting", coupon=coupon, value=value, until=until,
                               tier=name)
            pushes.append(Push(member, greeting, f"greet:{key}"))
    return notify_many(session, deps, community, pushes, Kind.REMINDER)


def _replenishments(session: Session, deps: Deps, community: Community, local: datetime,
                    programme: Programme) -> int:
    """Each due line: a reminder, with the +1 button of an open buy of the same product (or
    else category) when there is one; otherwise the owner hears how many members are due
    for each product (demand for the next buy), once per product per day."""
    today = local.date()
    due = reminders.due_replenishments(session, id_of(community), today, today - STALE,
                                       now=deps.clock())
    if not due:
        return 0
    buys = reminders.open_buys(session, id_of(community), deps.clock())
    pushes, demand = [], Counter[str]()
    for order, buy, member in due:
        match = same_product(buy, buys)
        buttons = join_buttons([match]) if match else ()
        pushes.append(Push(member, Message("replenish", order=order, buy=buy, open_buy=match,
                                           buttons=buttons),
                           f"replenish:{order.id}", prefer=buy.channel))
        if match is None:
            demand[buy.title] += 1
    queued = notify_many(session, deps, community, pushes, Kind.REMINDER)
    if programme.automations.replenish_demand:
        _tell_demand(session, deps, community, demand, today)
    return queued


def same_product(bought: GroupBuy, open_now: list[GroupBuy]) -> GroupBuy | None:
    """The open buy of the same product, else of the same category, else None."""
    for buy in open_now:
        if buy.title == bought.title:
            return buy
    if not bought.category:
        return None
    return next((buy for buy in open_now if buy.category == bought.category), None)


def _tell_demand(session: Session, deps: Deps, community: Community, demand: Counter[str],
                 today: date) -> None:
    owners = [m for m, role in communities.staff(session, id_of(community))
              if role == communities.OWNER]
    pushes = [Push(owner, Message("replenish_demand", product=title, count=count),
                   f"demand:{community.id}:{today.isoformat()}:{title}")
              for title, count in sorted(demand.items()) for owner in owners]
    notify_many(session, deps, community, pushes, Kind.REMINDER)
