"""Reminder jobs: birthday coupons at the start of the birthday month (with a greeting) and
replenishment reminders (delivered + cycle × quantity − lead days, none if re-bought).

Thin and idempotent: every push goes through handlers.notify with a dedupe key, so a re-run
queues nothing twice; notify applies the member's opt-out on the channel, quiet hours in the
community's time zone and reachability; the outbox sends at each platform's pace.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.context import Deps
from handlers.notify import Message, notify
from models import coupons, reminders
from models.programme import Programme, programme_for
from models.rules import birthday as birthday_rules
from models.rules.coupons import AMOUNT_OFF
from models.rules.notify import Kind
from models.tables import Community
from models.types import id_of
from scheduler.each import each_community

log = logging.getLogger(__name__)
STALE = timedelta(days=30)  # a reminder more than a month late is no longer useful


def send_reminders(deps: Deps) -> int:
    """One pass over every community; returns how many pushes were queued (those inside
    quiet hours leave when the quiet hours end)."""
    queued = each_community(deps, lambda s, c, local: remind_in(s, deps, c, local))
    if queued:
        log.info("queued %d reminders", queued)
    return queued


def remind_in(session: Session, deps: Deps, community: Community, local: datetime) -> int:
    """One community's birthday coupons and replenishment reminders, queued."""
    programme = programme_for(community)
    return (_birthdays(session, deps, community, programme, local)
            + _replenishments(session, deps, community, local))


def _birthdays(session: Session, deps: Deps, community: Community, programme: Programme,
               local: datetime) -> int:
    """At the start of the birthday month: the coupon, and a greeting if they can be reached."""
    queued = 0
    for member in reminders.birthday_members(session, id_of(community), local.month):
        value = programme.birthday_coupon.get(member.tier, 0)
        name = programme.tier_name(member.tier, member.locale or community.default_locale)
        tmpl = coupons.template(
            session, id_of(community), f"birthday_{member.tier}",
            name=deps.renderer.render(community.default_locale, "birthday_coupon_name", tier=name),
            kind=AMOUNT_OFF, value=value, valid_days=programme.birthday_coupon_valid_days)
        key = birthday_rules.coupon_key(id_of(member), local.year)
        coupon = coupons.issue(session, member, tmpl, deps.clock(), issue_key=key)
        if coupon is None:
            continue
        until = coupon.valid_until.astimezone(local.tzinfo).date()
        greeting = Message("birthday_greeting", coupon=coupon, value=value, until=until,
                           tier=name)
        queued += notify(session, deps, member, greeting, Kind.REMINDER, key=f"greet:{key}",
                         community=community)
    return queued


def _replenishments(session: Session, deps: Deps, community: Community,
                    local: datetime) -> int:
    queued = 0
    today = local.date()
    for order, buy, member in reminders.due_replenishments(
            session, id_of(community), today, today - STALE):
        queued += notify(session, deps, member, Message("replenish", order=order, buy=buy),
                         Kind.REMINDER, key=f"replenish:{order.id}", prefer=buy.channel,
                         community=community)
    return queued
