"""Campaigns: create, list, cancel, claim a due run, record who got what, and the multiplier a
recipient's purchase earns. The report is in models/campaign_report.py.

A run is claimed with one conditional UPDATE on (status, next_run_at) in the run's own
transaction, which also queues every message and records every recipient: a scheduler that
dies mid-run leaves nothing behind and the run is taken again; two schedulers never both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from models import audience, communities
from models.bulk import Rows
from models.db import table_of
from models.errors import DomainError
from models.rules.campaigns import MAX_MESSAGE, VARIANT_A, VARIANT_B, Draft, next_run, parse_schedule
from models.tables import Campaign, CampaignRecipient, CampaignRun, CampaignStatus, Community, Member
from models.types import id_of, rows_matched

LIVE = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
_SAME = {"synchronize_session": False}


def find(session: Session, community_id: int, name: str) -> Campaign | None:
    return session.execute(select(Campaign).where(
        col(Campaign.community_id) == community_id, col(Campaign.name) == name)).scalar()


def listing(session: Session, community_id: int, limit: int = 30) -> list[Campaign]:
    """Scheduled and running first (soonest first), then the latest finished or cancelled."""
    rows = session.execute(select(Campaign).where(col(Campaign.community_id) == community_id)
                           .order_by(col(Campaign.id).desc()).limit(limit)).scalars().all()
    live = sorted((c for c in rows if c.status in LIVE),
                  key=lambda c: c.next_run_at or c.created_at)
    return live + [c for c in rows if c.status not in LIVE]


def first_run(draft: Draft, now: datetime, local_now: datetime) -> datetime:
    if draft.at is not None:
        return draft.at
    if draft.schedule is not None:
        return next_run(draft.schedule, local_now)
    return now


def audience_size(session: Session, community: Community, segment: str,
                  local_now: datetime) -> int:
    """How many members the segment holds now; refused when there is no such segment or
    nobody in it (a campaign to nobody sends nothing, so it is not saved)."""
    query = audience.segment_select(session, community, segment, local_now)
    if query is None:
        raise DomainError("campaign_bad", problem="no_segment", value=segment, max=MAX_MESSAGE)
    size = audience.count(session, query)
    if size == 0:
        raise DomainError("campaign_bad", problem="empty_segment", value=segment, max=MAX_MESSAGE)
    return size


def create(session: Session, *, community: Community, draft: Draft, created_by: int | None,
           now: datetime, local_now: datetime) -> tuple[Campaign, int]:
    """A new campaign, scheduled, and how many members its segment holds now; its name must be
    new in the community, its segment known and not empty."""
    community_id = id_of(community)
    if find(session, community_id, draft.name) is not None:
        raise DomainError("campaign_bad", problem="exists", value=draft.name, max=MAX_MESSAGE)
    size = audience_size(session, community, draft.segment, local_now)
    campaign = Campaign(
        community_id=community_id, name=draft.name, segment=draft.segment,
        message_a=draft.messages[0], message_b=draft.messages[1] if len(draft.messages) > 1 else None,
        holdout_pct=draft.holdout_pct, multiplier_pct=draft.multiplier_pct,
        schedule=draft.schedule.text() if draft.schedule else "",
        next_run_at=first_run(draft, now, local_now), created_by=created_by, created_at=now)
    session.add(campaign)
    session.flush()
    return campaign, size


def cancel(session: Session, campaign: Campaign, now: datetime) -> bool:
    """Cancelled unless it finished (or was cancelled) first: one conditional UPDATE."""
    done = session.execute(
        update(Campaign).where(col(Campaign.id) == campaign.id, col(Campaign.status).in_(LIVE))
        .values(status=CampaignStatus.CANCELLED, ended_at=now, next_run_at=None)
        .execution_options(**_SAME))
    if not rows_matched(done):
        session.refresh(campaign)
        return False
    campaign.status, campaign.ended_at, campaign.next_run_at = CampaignStatus.CANCELLED, now, None
    return True


def due(session: Session, now: datetime, limit: int = 20) -> list[tuple[int, datetime]]:
    """(campaign id, the run's time) of runs that have come, oldest first."""
    rows = session.execute(
        select(col(Campaign.id), col(Campaign.next_run_at))
        .where(col(Campaign.status).in_(LIVE), col(Campaign.next_run_at) <= now)
        .order_by(col(Campaign.next_run_at), col(Campaign.id)).limit(limit)).all()
    return [(campaign_id, at) for campaign_id, at in rows if at is not None]


def following(campaign: Campaign, now: datetime, tz: tzinfo) -> datetime | None:
    """When a repeating campaign runs after a run at `now` (None: it ran its only run)."""
    schedule = parse_schedule(campaign.schedule) if campaign.schedule else None
    return None if schedule is None else next_run(schedule, now.astimezone(tz))


def claim(session: Session, campaign_id: int, due_at: datetime, now: datetime,
          next_at: datetime | None) -> int | None:
    """Take the run due at `due_at`: the run's number, or None when another scheduler (or a
    cancel) came first. A repeating campaign is then due at `next_at`, else finished."""
    values: dict[str, Any] = {
        "runs": col(Campaign.runs) + 1, "last_run_at": now, "next_run_at": next_at,
        "status": CampaignStatus.RUNNING if next_at else CampaignStatus.FINISHED,
        "ended_at": None if next_at else now}
    row = session.execute(
        update(Campaign).where(col(Campaign.id) == campaign_id, col(Campaign.status).in_(LIVE),
                               col(Campaign.next_run_at) == due_at)
        .values(**values).returning(col(Campaign.runs)).execution_options(**_SAME)).first()
    return None if row is None else int(row[0])


def get(session: Session, campaign_id: int) -> Campaign | None:
    return session.get(Campaign, campaign_id)


RECIPIENT_COLUMNS = ("campaign_id", "run", "member_id", "variant", "sent_at", "window_until",
                     "outbox_key", "skipped")
_RECORD = Rows(insert(table_of(CampaignRecipient)), RECIPIENT_COLUMNS)


def record(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Who a run went to (tuples in RECIPIENT_COLUMNS order: variant, when, the outbox key or
    why not): multi-row INSERTs."""
    if rows:
        _RECORD.run(session, rows)


def record_run(session: Session, campaign_id: int, run: int, ran_at: datetime, *, members: int,
               sent: int, holdout: int, skipped: int) -> None:
    """How the run went (members 0: its segment was empty, nothing was sent)."""
    session.add(CampaignRun(campaign_id=campaign_id, run=run, ran_at=ran_at, members=members,
                            sent=sent, holdout=holdout, skipped=skipped))
    session.flush()


def leaders(session: Session, campaign: Campaign) -> list[Member]:
    """Who hears how a run went: the leader who made the campaign while they are staff of its
    community, else its owners."""
    staff = communities.staff(session, campaign.community_id)
    maker = [member for member, _ in staff if member.id == campaign.created_by]
    return maker or [member for member, role in staff if role == communities.OWNER]


def variants(campaign: Campaign) -> tuple[str, ...]:
    return (VARIANT_A, VARIANT_B) if campaign.message_b else (VARIANT_A,)


def multiplier_pct(session: Session, member_id: int, bought_at: datetime) -> int:
    """The points multiplier a purchase at `bought_at` earns: the highest of the campaigns
    sent to the member (a message queued, not the holdout) whose window holds it; 100 if none."""
    found = session.execute(
        select(func.max(col(Campaign.multiplier_pct)))
        .join(CampaignRecipient, col(CampaignRecipient.campaign_id) == col(Campaign.id))
        .where(col(CampaignRecipient.member_id) == member_id,
               col(CampaignRecipient.outbox_key).is_not(None),
               col(CampaignRecipient.sent_at) <= bought_at,
               col(CampaignRecipient.window_until) > bought_at)).scalar()
    return max(100, int(found or 100))
