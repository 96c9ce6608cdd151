"""A campaign run: the segment's members assigned A / B / holdout, the message rendered with a
recommendation and queued through the notification rules, every recipient recorded; a run is
claimed once, whatever restarts or second schedulers; purchases convert and earn the multiplier."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session

from handlers.campaignrun import run_due
from models import campaigns
from models.db import UnitOfWork
from models.rules.campaigns import parse_line
from models.segments import save_segment
from models.tables import (
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    GroupBuy,
    OutboxMessage,
)
from tests.segment_helpers import NOW, Shop

TZ_NOW = NOW.astimezone(ZoneInfo("Asia/Taipei"))
_numbers = count(900)


def _shop(session: Session, members: int = 40) -> tuple[Shop, list]:
    shop = Shop(session)
    people = [shop.member(f"m{i}", private=i % 10 != 0) for i in range(members)]
    for person in people[:5]:
        shop.bought(person, "尿布", "母嬰", days_ago=40)
    save_segment(session, community_id=shop.id, name="all", rule_text="orders>=0", by=None,
                 now=NOW)
    return shop, people


def _campaign(session: Session, shop: Shop, line: str) -> Campaign:
    return campaigns.create(session, community=shop.community, draft=parse_line(line, TZ_NOW),
                            created_by=None, now=NOW, local_now=TZ_NOW)[0]


def _open(session: Session, shop: Shop, title: str, category: str = "") -> GroupBuy:
    buy = GroupBuy(community_id=shop.id, number=next(_numbers), channel="telegram", chat_id="g",
                   title=title, price=35_000, category=category, opens_at=NOW - timedelta(hours=1),
                   deadline=NOW + timedelta(days=2))
    session.add(buy)
    session.flush()
    return buy


def test_a_run_queues_each_reachable_member_once_and_records_everyone(app, clock):
    clock.now = NOW
    with UnitOfWork(app.deps.sessions) as uow:
        shop, people = _shop(uow.session)
        _open(uow.session, shop, "尿布", "母嬰")
        _open(uow.session, shop, "蘋果", "水果")
        campaign = _campaign(uow.session, shop, "c1 segment=all holdout=20% | 嗨 {{name}}，{{buy}} || 哈囉 {{name}}")
        uow.commit()
    assert run_due(app.deps) == 1
    assert run_due(app.deps) == 0  # claimed: never twice
    with UnitOfWork(app.deps.sessions) as uow:
        rows = uow.session.execute(select(CampaignRecipient)).scalars().all()
        outbox = uow.session.execute(select(OutboxMessage)).scalars().all()
        found = uow.session.get(Campaign, campaign.id)
        assert found is not None and found.status is CampaignStatus.FINISHED
    assert len(rows) == len(people)
    holdout = [r for r in rows if r.variant == "H"]
    assert 0 < len(holdout) < len(people) and all(r.outbox_key is None for r in holdout)
    assert {r.variant for r in rows} == {"A", "B", "H"}
    assert len(outbox) == sum(1 for r in rows if r.outbox_key)
    assert all(o.kind == "promotion" for o in outbox)
    unreachable = [r for r in rows if r.skipped]
    assert unreachable and all(r.skipped == "unreachable" for r in unreachable)
    by_member = {o.member_id: o for o in outbox}
    diaper_buyer = next(r for r in rows if r.member_id == people[1].id)
    if diaper_buyer.variant == "A":
        text = by_member[people[1].id].body["text"]
        assert "尿布" in text and by_member[people[1].id].body["buttons"][0][1].startswith("/join #")
