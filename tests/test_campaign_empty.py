"""Every campaign run is recorded (how many members its segment held, how many were sent); a run
whose segment is empty when it fires is recorded as sent to nobody and the leader who made the
campaign (else the owners) is told once, in their language, however often the job runs again."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from handlers.campaignrun import run_due
from models import campaigns, communities
from models.db import UnitOfWork
from models.rules.campaigns import parse_line
from models.segments import save_segment
from models.tables import Campaign, CampaignRecipient, CampaignRun, OutboxMessage
from tests.segment_helpers import NOW, Shop

TZ_NOW = NOW.astimezone(ZoneInfo("Asia/Taipei"))
NOBODY = {"en": "had nobody in it", "zh-Hant": "沒有任何會員", "zh-Hans": "没有任何会员"}


def _emptied_campaign(app, *, locale: str = "zh-Hant", maker: bool = True) -> tuple[int, int]:
    """A campaign made while its segment held a buyer, the segment's rule changed since so
    that it holds nobody; (the campaign's id, the owner's member id)."""
    with UnitOfWork(app.deps.sessions) as uow:
        session = uow.session
        shop = Shop(session)
        owner = shop.member("lee")
        owner.locale = locale
        communities.set_role(session, shop.id, owner.id or 0, communities.OWNER)
        buyer = shop.member("amy")
        shop.bought(buyer, "尿布", "母嬰")
        save_segment(session, community_id=shop.id, name="buyers", rule_text="orders>=1", by=None,
                     now=NOW)
        campaign, size = campaigns.create(
            session, community=shop.community, draft=parse_line(
                "c1 segment=buyers | hi {{name}}", TZ_NOW),
            created_by=owner.id if maker else None, now=NOW, local_now=TZ_NOW)
        assert size == 1
        save_segment(session, community_id=shop.id, name="buyers", rule_text="orders>=5", by=None,
                     now=NOW)
        uow.commit()
        return campaign.id or 0, owner.id or 0


@pytest.mark.parametrize("locale", ["en", "zh-Hant", "zh-Hans"])
def test_a_run_to_an_empty_segment_is_recorded_as_sent_to_nobody_and_its_leader_told_once(
        app, clock, locale):
    clock.now = NOW
    campaign_id, owner_id = _emptied_campaign(app, locale=locale)
    assert run_due(app.deps) == 1
    assert run_due(app.deps) == 0  # the job again: nothing more
    with UnitOfWork(app.deps.sessions) as uow:
        runs = uow.session.execute(select(CampaignRun)).scalars().all()
        outbox = uow.session.execute(select(OutboxMessage)).scalars().all()
        recipients = uow.session.execute(select(CampaignRecipient)).scalars().all()
        campaign = uow.session.get(Campaign, campaign_id)
    assert [(r.campaign_id, r.run, r.members, r.sent) for r in runs] == [(campaign_id, 1, 0, 0)]
    assert recipients == []
    assert [(o.member_id, o.kind) for o in outbox] == [(owner_id, "service")]
    text = outbox[0].body["text"]
    assert "c1" in text and "buyers" in text and NOBODY[locale] in text
    assert campaign is not None and campaign.runs == 1


def test_an_empty_run_of_a_campaign_nobody_made_tells_the_owners(app, clock):
    clock.now = NOW
    _, owner_id = _emptied_campaign(app, maker=False)
    assert run_due(app.deps) == 1
    with UnitOfWork(app.deps.sessions) as uow:
        told = uow.session.execute(select(OutboxMessage.member_id)).scalars().all()
    assert told == [owner_id]


def test_a_run_that_reached_its_segment_is_recorded_with_its_counts_and_nobody_is_told(
        app, clock):
    clock.now = NOW
    with UnitOfWork(app.deps.sessions) as uow:
        shop = Shop(uow.session)
        people = [shop.member(f"m{i}", private=i % 4 != 0) for i in range(20)]
        save_segment(uow.session, community_id=shop.id, name="all", rule_text="orders>=0",
                     by=None, now=NOW)
        campaign, _ = campaigns.create(uow.session, community=shop.community, draft=parse_line(
            "c2 segment=all holdout=20% | hi {{name}}", TZ_NOW), created_by=people[0].id,
            now=NOW, local_now=TZ_NOW)
        uow.commit()
    assert run_due(app.deps) == 1
    with UnitOfWork(app.deps.sessions) as uow:
        run = uow.session.execute(select(CampaignRun)).scalar_one()
        recipients = uow.session.execute(select(CampaignRecipient)).scalars().all()
        outbox = uow.session.execute(select(OutboxMessage)).scalars().all()
    held = sum(1 for r in recipients if r.variant == "H")
    assert (run.campaign_id, run.run, run.members, run.holdout) == (campaign.id, 1, 20, held)
    assert run.sent == len(outbox) == sum(1 for r in recipients if r.outbox_key)
    assert run.skipped == sum(1 for r in recipients if r.skipped)
    assert all(o.kind == "promotion" for o in outbox)
