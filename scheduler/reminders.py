"""Reminder jobs: birthday coupons at the start of the birthday month (with a greeting) and
replenishment reminders (delivered + cycle × quantity − lead days, none if re-bought).

Thin and idempotent: every push has a dedupe key, so a re-run queues nothing twice. Pushes
respect opt-out (replenishment), quiet hours in the community's time zone, the weekly cap,
and leave through the outbox at each platform's pace.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.context import Deps
from messages.records import reply_record
from messages.types import Reply
from models import coupons, events, members, reminders
from models.programme import Programme, programme_for
from models.rules import birthday as birthday_rules
from models.rules.coupons import AMOUNT_OFF
from models.rules.pushes import in_quiet_hours, parse_clock, under_cap
from models.tables import Community, Member
from scheduler.each import each_community

log = logging.getLogger(__name__)
STALE = timedelta(days=30)  # a reminder more than a month late is no longer useful


def send_reminders(deps: Deps) -> int:
    """One pass over every community; returns how many pushes were queued."""

    def remind(session: Session, community: Community, local: datetime) -> int:
        programme = programme_for(community)
        quiet = programme.raw.get("quiet_hours") or {}
        if quiet and in_quiet_hours(local.time(), parse_clock(quiet["start"]),
                                    parse_clock(quiet["end"])):
            return 0
        return (_birthdays(session, deps, community, programme, local)
                + _replenishments(session, deps, community, programme, local))

    queued = each_community(deps, remind)
    if queued:
        log.info("queued %d reminders", queued)
    return queued


def _push(session: Session, deps: Deps, community: Community, member: Member, template: str,
          key: str, kind: str, prefer: str | None = None, **context: object) -> bool:
    where = members.push_target(session, member.id, prefer)  # type: ignore[arg-type]
    if where is None:
        return False
    text = deps.renderer.render(member.locale or community.default_locale, template,
                                member=member, community=community,
                                currency=community.currency, **context)
    return events.enqueue(session, where[0], where[1], reply_record(Reply(text)), deps.clock(),
                          community_id=community.id, dedupe_key=key, member_id=member.id,
                          kind=kind) is not None


def _birthdays(session: Session, deps: Deps, community: Community, programme: Programme,
               local: datetime) -> int:
    """At the start of the birthday month: the coupon, and a greeting if they can be reached."""
    queued = 0
    for member in reminders.birthday_members(session, community.id, local.month):  # type: ignore[arg-type]
        value = programme.birthday_coupon.get(member.tier, 0)
        name = programme.tier_name(member.tier, member.locale or community.default_locale)
        tmpl = coupons.template(
            session, community.id, f"birthday_{member.tier}",  # type: ignore[arg-type]
            name=deps.renderer.render(community.default_locale, "birthday_coupon_name", tier=name),
            kind=AMOUNT_OFF, value=value, valid_days=programme.birthday_coupon_valid_days)
        key = birthday_rules.coupon_key(member.id, local.year)  # type: ignore[arg-type]
        coupon = coupons.issue(session, member, tmpl, deps.clock(), issue_key=key)
        if coupon is None:
            continue
        until = coupon.valid_until.astimezone(local.tzinfo).date()
        queued += _push(session, deps, community, member, "birthday_greeting", f"greet:{key}",
                        "notice", coupon=coupon, value=value, until=until, tier=name)
    return queued


def _replenishments(session: Session, deps: Deps, community: Community, programme: Programme,
                    local: datetime) -> int:
    queued = 0
    today = local.date()
    cap = programme.raw.get("frequency_cap_per_week")
    week_ago = deps.clock() - timedelta(days=7)
    for order, buy, member in reminders.due_replenishments(
            session, community.id, today, today - STALE):  # type: ignore[arg-type]
        if not under_cap(reminders.promos_since(session, member.id, week_ago), cap):  # type: ignore[arg-type]
            continue
        queued += _push(session, deps, community, member, "replenish", f"replenish:{order.id}",
                        "promo", prefer=buy.channel, order=order, buy=buy)
    return queued
