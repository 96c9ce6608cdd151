"""Running a campaign: the segment's members in chunks, each assigned A, B or the holdout
(deterministically), the leader's message rendered for each (compiled once, a plain dict per
member, with the recommended open buy and its join button), queued through `notify_rendered` as a
promotion, and every recipient recorded with the outcome for the report.

    run_due(deps)   # the scheduler's job, every minute: claims due runs, one transaction each
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.context import Deps
from handlers.notify import Message, notify, notify_rendered
from handlers.personalise import Personaliser, texts_of, uses_of
from messages.types import Reply
from models import audience, campaigns, communities
from models.audience import Card
from models.db import UnitOfWork
from models.rules.campaigns import HOLDOUT, variant
from models.rules.notify import Kind
from models.tables import Campaign, Community
from models.types import id_of

log = logging.getLogger(__name__)
CHUNK = 5_000


@dataclass
class Outcome:
    recipients: int = 0
    queued: int = 0
    holdout: int = 0
    skipped: int = 0


def _chunks(members: Sequence[Card]) -> Iterator[Sequence[Card]]:
    for start in range(0, len(members), CHUNK):
        yield members[start:start + CHUNK]


def send_run(session: Session, deps: Deps, community: Community, campaign: Campaign, run: int,
             query: audience.SegmentQuery, now: datetime) -> Outcome:
    """One run to the segment's members (`query`, evaluated now), by id: assign, render,
    queue, record. Nothing when it is empty."""
    texts = texts_of(campaign)
    uses = uses_of(texts)
    members = audience.segment_cards(
        session, query, spend_at=now if "missing" in uses else None,
        today=now.astimezone(ZoneInfo(community.timezone)).date() if "buy" in uses else None)
    outcome = Outcome()
    if not members:
        return outcome
    common = audience.shared(session, id_of(community), now)
    person = Personaliser(deps, community, texts, common, now,
                          audience.joined(session, None, common) if "buy" in uses else {})
    window = now + person.programme.campaign_window
    for chunk in _chunks(members):
        _send_chunk(session, person, campaign, run, chunk, window, outcome)
    return outcome


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a run is prepared: each chunk holds a few hundred
    thousand small acyclic objects (rows, cards, histories, decisions), all alive until it
    ends, which the collector's full passes kept walking for nothing (a third of the run's
    CPU in bench/campaign.py). Reference counting still frees everything as it goes; the
    collector resumes after (unless someone else had paused it)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _send_chunk(session: Session, person: Personaliser, campaign: Campaign, run: int,
                members: Sequence[Card], window: datetime, outcome: Outcome) -> None:
    campaign_id, variants = id_of(campaign), len(campaigns.variants(campaign))
    holdout_pct, now = campaign.holdout_pct, person.now
    assigned = [variant(campaign_id, card.member_id, holdout_pct, variants) for card in members]
    sending = [(card, which) for card, which in zip(members, assigned, strict=True)
               if which != HOLDOUT]
    prefix = f"campaign:{campaign_id}:{run}:"
    targets = [(card.member_id, f"{prefix}{card.member_id}", None) for card, _ in sending]
    body = person.body

    def render(index: int) -> str:
        card, which = sending[index]
        return body(which, card)

    reasons = notify_rendered(session, person.deps, person.community, targets, render,
                              Kind.PROMOTION, now=now, new_keys=True)  # the run is claimed once
    sent = iter(zip(targets, reasons, strict=True))
    rows: list[tuple[Any, ...]] = []
    for card, which in zip(members, assigned, strict=True):
        if which == HOLDOUT:
            rows.append((campaign_id, run, card.member_id, which, now, window, None, ""))
            continue
        (_, key, _), reason = next(sent)
        rows.append((campaign_id, run, card.member_id, which, now, window,
                     None if reason else key, reason[:16]))
    campaigns.record(session, rows)
    queued = reasons.count("")
    outcome.recipients += len(rows)
    outcome.holdout += len(members) - len(sending)
    outcome.queued += queued
    outcome.skipped += len(reasons) - queued


def run_due(deps: Deps) -> int:
    """Claim and send every run that has come (a missed one once): one transaction per run,
    so a restart or a second scheduler never sends a run twice. How many runs were sent."""
    now = deps.clock()
    with UnitOfWork(deps.sessions) as uow:
        found = campaigns.due(uow.session, now)
    sent = 0
    for campaign_id, due_at in found:
        with UnitOfWork(deps.sessions) as uow, collector_paused():
            if _run_one(uow.session, deps, campaign_id, due_at, now):
                uow.commit()
                sent += 1
    return sent


def _run_one(session: Session, deps: Deps, campaign_id: int, due_at: datetime,
             now: datetime) -> bool:
    campaign = campaigns.get(session, campaign_id)
    community = communities.get(session, campaign.community_id) if campaign else None
    if campaign is None or community is None:
        return False
    tz = ZoneInfo(community.timezone)
    run = campaigns.claim(session, campaign_id, due_at, now, campaigns.following(campaign, now, tz))
    if run is None:
        return False
    query = audience.segment_select(session, community, campaign.segment, now.astimezone(tz))
    outcome = (send_run(session, deps, community, campaign, run, query, now) if query is not None
               else Outcome())
    campaigns.record_run(session, campaign_id, run, now, members=outcome.recipients,
                         sent=outcome.queued, holdout=outcome.holdout, skipped=outcome.skipped)
    if not outcome.recipients:
        _tell_empty(session, deps, community, campaign, run, due_at.astimezone(tz))
    log.info("campaign %s run %d: %s", campaign_id, run, outcome)
    return True


def _tell_empty(session: Session, deps: Deps, community: Community, campaign: Campaign,
                run: int, due: datetime) -> None:
    """Its segment held nobody (or is gone): nothing was sent, and the leader who made the
    campaign (else the owners) hears so, once per run (the dedupe key)."""
    message = Message("campaign_empty", campaign=campaign, when=due.strftime("%Y-%m-%d %H:%M"))
    for leader in campaigns.leaders(session, campaign):
        notify(session, deps, leader, message, Kind.SERVICE, community=community, now=deps.clock(),
               key=f"campaign_empty:{campaign.id}:{run}:{leader.id}")


def preview_for(session: Session, deps: Deps, community: Community, campaign: Campaign,
                now: datetime) -> list[tuple[str, Card, Reply]]:
    """Each variant as its first member in the segment (by id) would get it now; [] when
    the segment is gone or empty."""
    local_now = now.astimezone(ZoneInfo(community.timezone))
    query = audience.segment_select(session, community, campaign.segment, local_now)
    ids = audience.member_ids(session, query) if query is not None else []
    common = audience.shared(session, id_of(community), now)
    campaign_id, count = id_of(campaign), len(campaigns.variants(campaign))
    samples = {which: next((m for m in ids if variant(campaign_id, m, campaign.holdout_pct, count)
                            == which), None) for which in campaigns.variants(campaign)}
    chosen = sorted({m for m in samples.values() if m is not None})
    person = Personaliser(deps, community, texts_of(campaign), common, now,
                          audience.joined(session, chosen, common))
    cards = {c.member_id: c for c in audience.cards(session, chosen, spend_at=now,
                                                       today=local_now.date())}
    return [(which, cards[m], person.reply(which, cards[m])) for which, m in samples.items()
            if m in cards]
