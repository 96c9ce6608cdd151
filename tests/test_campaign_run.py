"""A campaign run: the segment's members assigned A / B / holdout, the message rendered with a
recommendation and queued through the notification rules, every recipient recorded; a run is
claimed once, whatever restarts or second schedulers; purchases convert and earn the multiplier."""

from __future__ import annotations

import contextlib
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
    LineStatus,
    Order,
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
        campaign = _campaign(uow.session, shop,
                             "c1 segment=all holdout=20% | 嗨 {{name}}，{{buy}} || 哈囉 {{name}}")
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


def test_a_run_that_fails_midway_leaves_nothing_and_is_sent_once_later(app, clock, monkeypatch):
    clock.now = NOW
    with UnitOfWork(app.deps.sessions) as uow:
        shop, people = _shop(uow.session)
        campaign = _campaign(uow.session, shop, "c2 segment=all | hi {{name}}")
        uow.commit()
    from handlers import campaignrun

    def broken(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(campaignrun, "notify_rendered", broken)
    with contextlib.suppress(RuntimeError):
        run_due(app.deps)
    with UnitOfWork(app.deps.sessions) as uow:
        assert uow.session.execute(select(CampaignRecipient)).first() is None
        found = uow.session.get(Campaign, campaign.id)
        assert found is not None and found.runs == 0 and found.status is CampaignStatus.SCHEDULED
    monkeypatch.undo()
    assert run_due(app.deps) == 1
    assert run_due(app.deps) == 0
    with UnitOfWork(app.deps.sessions) as uow:
        keys = uow.session.execute(select(OutboxMessage.dedupe_key)).scalars().all()
    assert len(keys) == len(set(keys)) == sum(1 for i in range(len(people)) if i % 10 != 0)


def test_two_schedulers_claiming_the_same_run_send_it_once(app, clock, db):
    """Two transactions take the run at the same moment: one wins, the other sees 0 rows."""
    if db.dialect.name != "postgresql":
        return  # one shared in-memory connection on SQLite: the race needs two connections
    import threading

    clock.now = NOW
    with UnitOfWork(app.deps.sessions) as uow:
        shop, people = _shop(uow.session, members=200)
        _campaign(uow.session, shop, "c3 segment=all holdout=10% | hi {{name}}")
        uow.commit()
    barrier, results = threading.Barrier(2), []

    def scheduler() -> None:
        barrier.wait()
        results.append(run_due(app.deps))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [0, 1]
    with UnitOfWork(app.deps.sessions) as uow:
        rows = uow.session.execute(select(CampaignRecipient)).scalars().all()
    assert len(rows) == len(people)


def test_the_report_counts_each_variant_and_the_verdict_reads_in_every_language(app, clock):
    from models.campaign_report import report as counts
    from models.rules import abtest

    clock.now = NOW
    with UnitOfWork(app.deps.sessions) as uow:
        shop, people = _shop(uow.session, members=300)
        buy = _open(uow.session, shop, "茶", "飲品")
        campaign = _campaign(uow.session, shop, "c4 segment=all holdout=20% | hi {{name}} || yo")
        uow.commit()
    run_due(app.deps)
    with UnitOfWork(app.deps.sessions) as uow:
        rows = uow.session.execute(select(CampaignRecipient)).scalars().all()
        bought = {"A": 0, "B": 0, "H": 0}
        for row in rows:  # every second B member buys, every tenth A and holdout member
            every = 2 if row.variant == "B" else 10
            if row.member_id % every == 0:
                uow.session.add(Order(group_buy_id=buy.id, member_id=row.member_id, quantity=1,
                                      status=LineStatus.ALLOCATED, source_key=f"r{row.id}",
                                      unit_price=35_000, list_price=35_000, net=35_000,
                                      created_at=NOW + timedelta(days=1)))
                bought[row.variant] += 1
        uow.commit()
    with UnitOfWork(app.deps.sessions) as uow:
        found = counts(uow.session, uow.session.get(Campaign, campaign.id))
    assert {v: c.converted for v, c in found.items()} == bought
    assert {v: c.revenue for v, c in found.items()} == {v: n * 35_000 for v, n in bought.items()}
    arms = {v: abtest.Arm(v, c.assigned, c.converted) for v, c in found.items()}
    verdict = abtest.verdict(arms["A"], arms["B"])
    assert verdict.better == "B" and verdict.significant
    texts = {locale: app.deps.renderer.render(
        locale, "campaign_report", campaign=campaign, currency="TWD", verdict=verdict,
        lifts={"A": 0, "B": 400}, arms=[(c, arms[v].rate * 100) for v, c in found.items()])
        for locale in ("en", "zh-Hant", "zh-Hans")}
    assert f"B sold to {verdict.lift_pct} % more members than A; the difference is significant" in texts["en"]
    assert f"B 的購買率比 A 高 {verdict.lift_pct} %；差異顯著" in texts["zh-Hant"]
    assert f"B 的购买率比 A 高 {verdict.lift_pct} %；差异显著" in texts["zh-Hans"]


def test_the_audience_is_loaded_in_bulk_and_each_member_gets_their_own_recommendation(app):
    from models import audience
    from models.rules.recommend import Recommender, recommend

    with UnitOfWork(app.deps.sessions) as uow:
        session = uow.session
        shop = Shop(session)
        amy, bob, cat, dan = (shop.member(n) for n in ("amy", "bob", "cat", "dan"))
        shop.bought(amy, "尿布", "母嬰", days_ago=40).replenish_on = (NOW - timedelta(days=1)).date()
        shop.bought(bob, "尿布", "母嬰", days_ago=5).replenish_on = (NOW + timedelta(days=20)).date()
        diapers, tea = _open(session, shop, "尿布", "母嬰"), _open(session, shop, "茶", "飲品")
        apples = _open(session, shop, "蘋果", "水果")
        for buyer in (shop.member("x"), shop.member("y")):
            shop.bought(buyer, "茶", "飲品", status=LineStatus.ALLOCATED, buy=tea, days_ago=0)
        shop.bought(dan, "茶", "飲品", status=LineStatus.ALLOCATED, buy=tea, days_ago=0)
        shop.bought(shop.member("z"), "蘋果", "水果", status=LineStatus.ALLOCATED, buy=apples,
                    days_ago=0)
        session.flush()
        common = audience.shared(session, shop.id, NOW)
        ids = sorted(m.id for m in (amy, bob, cat, dan))
        history, joined = audience.histories(session, ids, common), audience.joined(session, ids, common)

        def pick(member):
            found = recommend(common.open_buys, history.get(member.id, ()),
                              joined.get(member.id, ()), common.co_bought, NOW.date())
            return found.buy_id if found else None

        assert pick(amy) == diapers.id  # due again
        assert pick(bob) == tea.id  # still has diapers at home: the most joined instead
        assert pick(cat) == tea.id  # no history: the most joined
        assert pick(dan) == apples.id  # already in the tea buy: the next most joined
        assert {b.buy_id: b.joined for b in common.open_buys}[tea.id] == 3
        ranked = Recommender(common.open_buys, common.co_bought, common.codes)
        cards = {c.member_id: c for c in audience.cards(session, ids, today=NOW.date())}
        for member in (amy, bob, cat, dan):
            lines = cards[member.id].lines  # what a run reads
            coded = ranked.pick_coded(lines.split(",") if lines else (),
                                      ranked.joined_bits(joined.get(member.id, ())))
            assert (coded.buy_id if coded else None) == pick(member)
