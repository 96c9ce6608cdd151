"""After a buy closes: payment reminders to who has not paid, a reminder the day before the
pickup window ends to who has not picked up, and a one-tap rating request after delivery.

Thin and idempotent: each push goes through handlers.notify with a dedupe key (per buy,
member and attempt), so a re-run queues nothing twice and never more reminders than the
programme allows; notify applies opt-out, quiet hours and reachability.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.context import Deps
from handlers.notify import Message, notify
from handlers.rating import rate_buttons
from models import pickup, ratings
from models.programme import programme_for
from models.rules.deadline import echo
from models.rules.notify import Kind
from models.rules.pickup import payment_reminder_due
from models.tables import Community
from scheduler.each import each_community

log = logging.getLogger(__name__)
STALE = timedelta(days=14)  # nothing is asked about a buy closed (or delivered) longer ago


def after_close(deps: Deps) -> int:
    """One pass over every community; how many pushes were queued."""
    queued = each_community(deps, lambda s, c, local: after_close_in(s, deps, c, local))
    if queued:
        log.info("queued %d payment, pickup and rating messages", queued)
    return queued


def after_close_in(session: Session, deps: Deps, community: Community, local: datetime) -> int:
    """One community's payment, pickup and rating messages, queued."""
    return (payment_reminders(session, deps, community, local)
            + pickup_reminders(session, deps, community, local)
            + rating_requests(session, deps, community, local))


def payment_reminders(session: Session, deps: Deps, community: Community, local: datetime) -> int:
    plan = programme_for(community).payment_reminders
    latest = plan.after + plan.gap * max(0, plan.count - 1)
    queued = 0
    for owed in pickup.due_payments(session, community.id or 0, local - latest - STALE):
        closed = owed.buy.closed_at or owed.buy.deadline
        attempt = payment_reminder_due(closed, local, plan)
        if attempt is None:
            continue
        queued += notify(session, deps, owed.member,
                         Message("payment_reminder", buy=owed.buy, units=owed.units,
                                 amount=owed.amount),
                         Kind.REMINDER, key=f"payremind:{owed.buy.id}:{owed.member.id}:{attempt}",
                         prefer=owed.buy.channel, community=community, now=local)
    return queued


def pickup_reminders(session: Session, deps: Deps, community: Community, local: datetime) -> int:
    queued = 0
    for owed in pickup.due_pickups(session, community.id or 0, local, local + timedelta(days=1)):
        until = owed.buy.pickup_until
        queued += notify(session, deps, owed.member,
                         Message("pickup_reminder", buy=owed.buy, units=owed.units,
                                 place=owed.buy.pickup_place,
                                 until=echo(until.astimezone(local.tzinfo)) if until else ""),
                         Kind.REMINDER, key=f"pickremind:{owed.buy.id}:{owed.member.id}",
                         prefer=owed.buy.channel, community=community, now=local)
    return queued


def rating_requests(session: Session, deps: Deps, community: Community, local: datetime) -> int:
    after = programme_for(community).rating_after
    queued = 0
    for buy, member in ratings.due_asks(session, community.id or 0, local, after,
                                        local - after - STALE):
        queued += notify(session, deps, member,
                         Message("rate_ask", buttons=rate_buttons(buy), buy=buy),
                         Kind.REMINDER, key=f"rateask:{buy.id}:{member.id}", prefer=buy.channel,
                         community=community, now=local)
    return queued
