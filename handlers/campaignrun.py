"""Running a campaign: the segment's members in chunks, each assigned A, B or the holdout
(deterministically), the leader's message rendered for each (compiled once, a plain dict per
member, with the recommended open buy and its join button), queued through `notify_rendered` as a
promotion, and every recipient recorded with the outcome for the report.

    run_due(deps)   # the scheduler's job, every minute: claims due runs, one transaction each
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.context import Deps
from handlers.notify import Message, notify, notify_rendered
from handlers.personalise import Personaliser, texts_of
from messages.types import Reply
from models import audience, campaigns, communities
from models.audience import Card
from models.db import UnitOfWork
from models.rules.campaigns import HOLDOUT, variant
from models.rules.notify import Kind
from models.rules.recommend import OpenBuy
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
             members: Sequence[Card], now: datetime) -> Outcome:
    """One run to these members (the segment's, evaluated now, by id): assign, render, queue,
    record."""
    common = audience.shared(session, id_of(community), now)
    person = Personaliser(deps, community, texts_of(campaign), common, now)
    window = now + person.programme.campaign_window
    outcome = Outcome()
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
    holdout_pct = campaign.holdout_pct
    cards = {card.member_id: card for card in members}
    chunk = list(cards)
    assigned = {m: variant(campaign_id, m, holdout_pct, variants) for m in chunk}
    sending = [m for m in chunk if assigned[m] != HOLDOUT]
    inputs = _inputs(session, person, sending)

    keys = {m: f"campaign:{campaign_id}:{run}:{m}" for m in sending}
    targets = [(m, key, None) for m, key in keys.items()]

    def render(index: int) -> str:
        member_id = targets[index][0]
        return person.body(assigned[member_id], cards[member_id], *inputs(member_id))

    reasons = notify_rendered(session, person.deps, person.community, targets, render,
                              Kind.PROMOTION, now=person.now)
    results = {m: reason for (m, _, _), reason in zip(targets, reasons, strict=True)}
    now = person.now
    rows = [(campaign_id, run, m, assigned[m], now, window,
             keys[m] if results.get(m) == "" else None, (results.get(m) or "")[:16])
            for m in chunk]
    campaigns.record(session, rows)
    outcome.recipients += len(rows)
    outcome.holdout += len(chunk) - len(sending)
    outcome.queued += sum(1 for m in keys if results.get(m) == "")
    outcome.skipped += sum(1 for m in keys if results.get(m))


def _inputs(session: Session, person: Personaliser, ids: Sequence[int]
            ) -> Callable[[int], tuple[int, OpenBuy | None]]:
    """(12-month spend, recommended buy) per member, loaded for the whole chunk at once."""
    spend = audience.spend_12m(session, ids, person.now) if "missing" in person.uses else {}
    wants_buy = "buy" in person.uses and bool(person.common.open_buys)
    history = audience.held_codes(session, ids, person.today) if wants_buy else {}
    recommender = person.recommender
    if wants_buy and person.joined is None:  # everyone's, once per run
        person.joined = {member_id: recommender.joined_bits(buys) for member_id, buys
                         in audience.joined(session, None, person.common).items()}
    joined = person.joined or {}
    pick = recommender.pick_coded

    def inputs(member_id: int) -> tuple[int, OpenBuy | None]:
        buy = pick(history.get(member_id, ()), joined.get(member_id, 0)) if wants_buy else None
        return spend.get(member_id, 0), buy

    return inputs


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
    members = audience.segment_cards(session, query) if query is not None else []
    outcome = send_run(session, deps, community, campaign, run, members, now) if members else Outcome()
    campaigns.record_run(session, campaign_id, run, now, members=outcome.recipients,
                         sent=outcome.queued, holdout=outcome.holdout, skipped=outcome.skipped)
    if not members:
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
    person = Personaliser(deps, community, texts_of(campaign), common, now)
    campaign_id, count = id_of(campaign), len(campaigns.variants(campaign))
    found = []
    for which in campaigns.variants(campaign):
        sample = next((m for m in ids if variant(campaign_id, m, campaign.holdout_pct, count)
                       == which), None)
        cards = audience.cards(session, [sample]) if sample is not None else []
        if cards:
            inputs = _inputs(session, person, [cards[0].member_id])
            found.append((which, cards[0], person.reply(which, cards[0], *inputs(cards[0].member_id))))
    return found
