"""Preparing a campaign: 100,000 members with 1,000,000 purchases in a temporary SQLite file.

Timed, as the scheduler's job does it (handlers/campaignrun.py `run_due`): claim the run,
evaluate the segment (set-based SQL), load what the recommendation needs for every recipient in
bulk (co-purchase counts once, histories with the segment), assign A / B / holdout, render the leader's
message for each recipient (name, tier, points, what is missing for the next tier, the
recommended open buy with its join button), decide opt-out / cap / reachability in bulk,
enqueue every message and record every recipient with multi-row INSERTs, commit.

The data is generated first in a child process (bulk inserts, not timed, and not counted in
the peak RSS, which is this process's own: resource.getrusage ru_maxrss).

    python bench/campaign.py [MEMBERS] [PURCHASES]
"""

from __future__ import annotations

import multiprocessing
import random
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bot.app import bootstrap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.campaignrun import run_due  # noqa: E402
from models import campaigns  # noqa: E402
from models.db import UnitOfWork  # noqa: E402
from models.rules.campaigns import parse_line  # noqa: E402
from models.segments import save_segment  # noqa: E402
from models.tables import Community, OutboxMessage  # noqa: E402

NOW = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)  # 10:00 in Taipei, member day
PRODUCTS, CATEGORIES, PAST_BUYS, OPEN_BUYS = 300, 20, 3_000, 12
TIERS = ("bronze",) * 6 + ("silver",) * 3 + ("gold", "diamond")
MESSAGE = ("{{name}}，會員日快樂！您是{{tier}}會員，有 {{points}} 點；{{missing}}。"
           "今天推薦：{{buy}} || Hi {{name}} ({{tier}}, {{points}} pts) – {{buy}}; {{missing}}")


def stamp(moment: datetime) -> str:
    """How the UTCDateTime column stores a moment on SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(path: str, members: int, purchases: int) -> None:
    """Bulk inserts with the bare sqlite3 driver (the schema is already migrated)."""
    rng = random.Random(8)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    community = db.execute("SELECT id FROM community WHERE slug='bench'").fetchone()[0]
    joined = stamp(NOW - timedelta(days=800))
    db.executemany(
        "INSERT INTO member (id, community_id, display_name, locale, tier, points_balance,"
        " points_debt, referral_code, opted_out, checkin_streak, joined_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 0, ?, 0, 0, ?)",
        ((m, community, f"會員{m}", rng.choice((None, None, "en", "zh-Hans")), rng.choice(TIERS),
          rng.randrange(0, 5_000), f"B{m}", joined) for m in range(1, members + 1)))
    seen = stamp(NOW - timedelta(days=3))
    db.executemany(
        "INSERT INTO channelaccount (member_id, community_id, channel, external_id, handle,"
        " private_chat, last_seen_at, opted_out, pushes_since_inbound) VALUES (?, ?, 'telegram',"
        " ?, ?, ?, ?, ?, 0)",
        ((m, community, str(10_000_000 + m), f"u{m}",
          str(10_000_000 + m) if rng.random() < 0.9 else None, seen, int(rng.random() < 0.03))
         for m in range(1, members + 1)))
    _buys(db, rng, community)
    _orders(db, rng, members, purchases)
    db.execute(  # tiers as the programme's default ladder gives them from 12-month spend
        "UPDATE member SET tier = CASE WHEN s.total >= 2000000 THEN 'diamond'"
        " WHEN s.total >= 800000 THEN 'gold' WHEN s.total >= 300000 THEN 'silver'"
        " ELSE 'bronze' END FROM (SELECT member_id, SUM(amount) AS total FROM spendentry"
        " WHERE occurred_at >= ? GROUP BY member_id) AS s WHERE s.member_id = member.id",
        (stamp(NOW - timedelta(days=365)),))
    db.commit()
    db.close()


def _buys(db: sqlite3.Connection, rng: random.Random, community: int) -> None:
    rows = []
    for number in range(1, PAST_BUYS + OPEN_BUYS + 1):
        product = rng.randrange(PRODUCTS)
        is_open = number > PAST_BUYS
        opened = NOW - timedelta(hours=2) if is_open else NOW - timedelta(days=rng.randrange(3, 720))
        rows.append((number, community, number, "telegram", "-100", f"商品{product}", 35_000,
                     f"類別{product % CATEGORIES}", rng.choice((7, 14, 30, 60)), stamp(opened),
                     stamp(opened + timedelta(days=2)), "open" if is_open else "closed",
                     stamp(opened)))
    db.executemany(
        "INSERT INTO groupbuy (id, community_id, number, channel, chat_id, title, price, allocated,"
        " category, cycle_days, opens_at, deadline, status, created_at, roster_rev,"
        " roster_published_rev, pickup_place) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?,"
        " 1, 0, '')", rows)


def _orders(db: sqlite3.Connection, rng: random.Random, members: int, purchases: int) -> None:
    cycles = dict(db.execute("SELECT id, cycle_days FROM groupbuy").fetchall())
    opened = {i: datetime.fromisoformat(s).replace(tzinfo=UTC) for i, s in
              db.execute("SELECT id, opens_at FROM groupbuy").fetchall()}
    for start in range(0, purchases, 100_000):
        orders, spend = [], []
        for n in range(start, min(purchases, start + 100_000)):
            member = rng.randrange(1, members + 1)
            open_now = rng.random() < 0.01
            buy = PAST_BUYS + rng.randrange(1, OPEN_BUYS + 1) if open_now else rng.randrange(1, PAST_BUYS + 1)
            quantity, created = rng.choice((1, 1, 1, 2, 3)), opened[buy] + timedelta(hours=1)
            net = 35_000 * quantity
            if open_now:
                orders.append((buy, member, quantity, "allocated", f"o{n}", net, stamp(created),
                               None, None))
                continue
            delivered = created + timedelta(days=3)
            due = delivered.date() + timedelta(days=cycles[buy] * quantity - 2)
            orders.append((buy, member, quantity, "delivered", f"o{n}", net, stamp(created),
                           stamp(delivered), due.isoformat()))
            spend.append((member, net, f"s{n}", stamp(delivered)))
        db.executemany(
            "INSERT INTO \"order\" (group_buy_id, member_id, quantity, status, source_key,"
            " unit_price, list_price, tier_discount, coupon_discount, points_used, points_value,"
            " net, created_at, delivered_at, replenish_on, closed_out) VALUES (?, ?, ?, ?, ?,"
            " 35000, 35000, 0, 0, 0, 0, ?, ?, ?, ?, 0)",
            [(b, m, q, s, k, net, c, d, r) for b, m, q, s, k, net, c, d, r in orders])
        db.executemany("INSERT INTO spendentry (member_id, amount, source_key, occurred_at)"
                       " VALUES (?, ?, ?, ?)", spend)
    db.execute("ANALYZE")


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    purchases = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    with tempfile.TemporaryDirectory() as home:
        path = Path(home) / "bench.sqlite3"
        app = bootstrap(Settings(database_url=f"sqlite:///{path}", home=Path(home), seed_demo=False),
                        clock=lambda: NOW)
        with UnitOfWork(app.deps.sessions) as uow:
            uow.session.add(Community(slug="bench", name="bench", programme={}))
            uow.commit()
        started = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(
            target=generate, args=(str(path), members, purchases))
        child.start()
        child.join()
        assert child.exitcode == 0, "data generation failed"
        print(f"generated {members:,} members, {purchases:,} purchases in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        with UnitOfWork(app.deps.sessions) as uow:
            community = uow.session.execute(select(Community).where(Community.slug == "bench")).scalar_one()
            save_segment(uow.session, community_id=community.id or 0, name="回購",
                         rule_text="orders>=8", by=None, now=NOW)
            local = NOW.astimezone(__import__("zoneinfo").ZoneInfo(community.timezone))
            draft = parse_line(f"會員日 segment=回購 holdout=10% | {MESSAGE}", local)
            campaigns.create(uow.session, community=community, draft=draft, created_by=None,
                             now=NOW, local_now=local)
            uow.commit()
        started, cpu = time.perf_counter(), time.process_time()
        assert run_due(app.deps) == 1
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        with UnitOfWork(app.deps.sessions) as uow:
            queued = uow.session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
            sample = uow.session.execute(select(OutboxMessage.body).limit(1)).scalar_one()
        app.engine.dispose()
    print(f"queued {queued:,} messages in {elapsed:.2f} s ({cpu:.2f} s of CPU in this process;"
          f" the machine is shared: wall time counts); e.g. {sample['text']!r} {sample['buttons']}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"campaign: {queued / elapsed:,.0f} msgs/s, peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main()
