"""The automatic pushes (programme key `automations`, each on or off with its parameters):
a welcome with a coupon for a new member, a win-back after N days without an order, a
reminder N days before earned points lapse, a keep-your-tier nudge before the period end
that would move a member down; and the daily interest tags.

Thin: the due members come from a set-based selection in models/automations.py, every push
goes through notify_many with a dedupe key (a re-run queues nothing twice), in the
community's time zone.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlmodel import Session

from handlers.context import Deps
from handlers.notify import Message, Push, notify_many
from messages.types import Button
from models import automations, coupons, reminders, tags
from models.programme import programme_for
from models.rules.coupons import AMOUNT_OFF
from models.rules.notify import Kind
from models.tables import Community, GroupBuy
from models.types import id_of
from scheduler.each import each_community

log = logging.getLogger(__name__)
CATCH_UP = timedelta(days=30)  # a win-back missed (job down, feature just turned on) still goes
SUGGESTED = 3  # open buys named in a win-back


def join_buttons(buys: list[GroupBuy]) -> tuple[Button, ...]:
    return tuple(Button(f"+1 #{b.number} {b.title}"[:40], f"/join 1 #{b.number}") for b in buys)


def refresh_tags(deps: Deps) -> int:
    """Every community's interest tags, recomputed (one transaction each)."""

    def refresh(session: Session, community: Community, local: datetime) -> int:
        minimum = programme_for(community).interest_tag_min_purchases
        return tags.recompute_interests(session, id_of(community), minimum, deps.clock())

    return each_community(deps, refresh)


def welcome_new_members(deps: Deps) -> int:
    def welcome(session: Session, community: Community, local: datetime) -> int:
        plan, now = programme_for(community).automations, deps.clock()
        if not plan.welcome:
            return 0
        due = automations.to_welcome(session, id_of(community),
                                     now - timedelta(days=plan.welcome_within_days))
        issued = {}
        if plan.welcome_coupon > 0 and due:
            name = deps.renderer.render(community.default_locale, "welcome_coupon_name")
            tmpl = coupons.template(session, id_of(community), "welcome", name=name,
                                    kind=AMOUNT_OFF, value=plan.welcome_coupon,
                                    valid_days=plan.welcome_valid_days)
            keys = [automations.welcome_key(id_of(m)) for m in due]
            issued = coupons.issue_many(session, tmpl, [id_of(m) for m in due], keys, now)
        pushes = []
        for member in due:
            gift = issued.get(id_of(member))
            until = gift.valid_until.astimezone(local.tzinfo).date() if gift else None
            pushes.append(Push(member, Message("welcome_gift", gift=gift, value=plan.welcome_coupon,
                                               until=until),
                               automations.welcome_key(id_of(member))))
        return notify_many(session, deps, community, pushes, Kind.PROMOTION)

    return _logged("welcome", each_community(deps, welcome))


def win_back(deps: Deps) -> int:
    def winback(session: Session, community: Community, local: datetime) -> int:
        plan, now = programme_for(community).automations, deps.clock()
        if not plan.winback:
            return 0
        lapsed = automations.lapsed(session, id_of(community), now, plan.winback_days, CATCH_UP)
        if not lapsed:
            return 0
        buys = reminders.open_buys(session, id_of(community), now)[:SUGGESTED]
        buttons = join_buttons(buys)
        pushes = [Push(lapse.member, Message("winback", days=(now - lapse.last_order_at).days,
                                             buys=buys, buttons=buttons),
                       f"winback:{lapse.last_order_id}") for lapse in lapsed]
        return notify_many(session, deps, community, pushes, Kind.PROMOTION)

    return _logged("win-back", each_community(deps, winback))


def remind_expiring_points(deps: Deps) -> int:
    def remind(session: Session, community: Community, local: datetime) -> int:
        plan = programme_for(community).automations
        if not plan.expiry_reminder:
            return 0
        today = local.date()
        due = automations.expiring(session, id_of(community), today,
                                   today + timedelta(days=plan.expiry_reminder_days))
        pushes = [Push(e.member, Message("points_expiring", points=e.points, until=e.on),
                       automations.expiring_key(id_of(e.member), e.on)) for e in due]
        return notify_many(session, deps, community, pushes, Kind.REMINDER)

    return _logged("points expiry", each_community(deps, remind))


def nudge_tiers(deps: Deps) -> int:
    """Within N days of the period end (tiers are evaluated on the 1st, scheduler/tiers.py):
    who would move down hears what to spend by the last day to keep the tier."""

    def nudge(session: Session, community: Community, local: datetime) -> int:
        programme = programme_for(community)
        plan = programme.automations
        first_of_next = (local.replace(day=28) + timedelta(days=4)).replace(day=1)
        period_end = datetime.combine(first_of_next.date(), time(), tzinfo=local.tzinfo)
        if not plan.tier_nudge or (period_end.date() - local.date()).days > plan.tier_nudge_days:
            return 0
        period = f"{local:%Y-%m}"
        last_day = period_end.date() - timedelta(days=1)
        due = automations.tiers_at_risk(session, id_of(community), programme, period_end,
                                        deps.clock(), period)
        pushes = []
        for risk in due:
            locale = risk.member.locale or community.default_locale
            tier = programme.tier_name(risk.member.tier, locale)
            pushes.append(Push(risk.member, Message("keep_tier", amount=risk.missing,
                                                    until=last_day, tier=tier),
                               automations.keep_tier_key(id_of(risk.member), period)))
        return notify_many(session, deps, community, pushes, Kind.REMINDER)

    return _logged("keep-your-tier", each_community(deps, nudge))


def _logged(what: str, queued: int) -> int:
    if queued:
        log.info("queued %d %s pushes", queued, what)
    return queued
