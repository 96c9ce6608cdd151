"""Every daily job over one community of 1,000,000 members, on SQLite in a file.

The data (members with a platform account each, ~1.5 orders each over two years, their
spend, one points lot each, group buys in 20 categories) is written with bulk inserts before
any clock starts. Then each job runs once, timed on its own: interest tags, welcome, win-back,
points-expiry reminders, keep-your-tier nudges, replenishment reminders, birthday coupons;
and once more (a re-run must queue nothing: every push has its dedupe key).
"Today" is 2026-03-18, 12:00 in Taipei: a points batch lapses on 03-31, tiers are evaluated
on 04-01, it is the birthday month of one member in twelve.

    python bench/daily.py [MEMBERS]

Last line: `daily: slowest job J S s` (goal: S <= 60 on SQLite).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bot.app import bootstrap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.context import Deps  # noqa: E402
from models.db import UnitOfWork  # noqa: E402
from models.programme import programme_from  # noqa: E402
from models.tables import OutboxMessage  # noqa: E402
from scheduler.automations import (  # noqa: E402
    nudge_tiers,
    refresh_tags,
    remind_expiring_points,
    welcome_new_members,
    win_back,
)
from scheduler.reminders import send_birthdays, send_replenishments  # noqa: E402

NOW = datetime(2026, 3, 18, 4, 0, tzinfo=UTC)  # 12:00 in Taipei
CATEGORIES = ["母嬰", "水果", "蔬菜", "零食", "飲料", "美妝", "清潔", "寵物", "冷凍", "烘焙",
              "茶葉", "咖啡", "米麵", "調味", "保健", "文具", "服飾", "家電", "海鮮", "肉品"]
PRODUCTS = 200
BUYS = 2_000


def stamp(moment: datetime) -> str:
    """How SQLAlchemy keeps an aware datetime on SQLite (UTC, no zone)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def generate(engine, members: int) -> None:  # type: ignore[no-untyped-def]
    """Bulk inserts, set-based inside SQLite (a recursive sequence), then ANALYZE."""
    now = stamp(NOW)
    tiers = programme_from(None).tiers
    tier_case = " ".join(f"WHEN s >= {t.min_spend} THEN '{t.key}'" for t in reversed(tiers[1:]))
    categories = ", ".join(f"('{c}', {n})" for n, c in enumerate(CATEGORIES))
    raw = engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    script = [
        f"""INSERT INTO community (id, slug, name, timezone, currency, default_locale, programme,
            created_at) VALUES (1, 'bench', 'Bench', 'Asia/Taipei', 'TWD', 'zh-Hant', '{{}}',
            '{now}')""",
        f"""WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < {BUYS}),
            cat(name, k) AS (VALUES {categories})
            INSERT INTO groupbuy (id, community_id, number, channel, chat_id, title, price, allocated,
              category, cycle_days, opens_at, deadline, status, created_at, roster_rev,
              roster_published_rev, pickup_place)
            SELECT n, 1, n, 'telegram', 'group', '商品' || (n * 7 % {PRODUCTS}), 10000, 0, cat.name,
              14 + (n * 7 % {PRODUCTS}) % 60, opened, strftime('%Y-%m-%d %H:%M:%S', opened, '+3 days')
              || '.000000', CASE WHEN n > {BUYS - 5} THEN 'open' ELSE 'closed' END, opened, 1, 0, ''
            FROM (SELECT n, strftime('%Y-%m-%d %H:%M:%S', '{now}',
                    '-' || (730 * ({BUYS} - n) / {BUYS}) || ' days') || '.000000' AS opened
                  FROM seq) JOIN cat ON cat.k = (n * 7 % {PRODUCTS}) % {len(CATEGORIES)}""",
        f"""WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {members})
            INSERT INTO member (id, community_id, display_name, birthday_month, tier, points_balance,
              points_debt, referral_code, opted_out, checkin_streak, joined_at)
            SELECT i, 1, 'm' || i, CASE WHEN i % 10 THEN i % 12 + 1 END, 'bronze', 100 + i % 500, 0,
              'R' || i, 0, 0, strftime('%Y-%m-%d %H:%M:%S', '{now}', '-' || (i % 1000) || ' days',
              '-' || (i % 600) || ' minutes') || '.000000'
            FROM seq""",
        """INSERT INTO channelaccount (member_id, community_id, channel, external_id, handle,
             private_chat, last_seen_at, opted_out, pushes_since_inbound)
           SELECT id, 1, 'telegram', id, display_name, CASE WHEN id % 5 THEN id END, joined_at,
             id % 20 = 0, 0 FROM member""",
        """INSERT INTO "order" (group_buy_id, member_id, quantity, status, source_key, unit_price,
              list_price, tier_discount, coupon_discount, points_used, points_value, net,
              created_at, delivered_at, replenish_on, closed_out)
            SELECT b.id, m.member_id, 1, m.st, 'o' || m.member_id || '-' || m.k, m.net, m.net, 0, 0,
              0, 0, m.net, b.opens_at, CASE WHEN m.st = 'delivered' THEN strftime(
              '%Y-%m-%d %H:%M:%S', b.opens_at, '+4 days') || '.000000' END,
              CASE WHEN m.st = 'delivered' THEN date(b.opens_at, '+' || (b.cycle_days + 2)
              || ' days') END, 0
            FROM (SELECT member.id AS member_id, k.column1 AS k,
                    10000 + (member.id * 2654435761 + k.column1) % 400000 AS net,
                    CASE (member.id * 31 + k.column1) % 10 WHEN 8 THEN 'paid'
                      WHEN 9 THEN 'cancelled' ELSE 'delivered' END AS st
                  FROM member JOIN (VALUES (0), (1), (2)) k ON k.column1 < member.id % 4) m
            JOIN groupbuy b ON b.id = (m.member_id * 7919) % 1800
              + m.k * (CASE WHEN m.member_id % 2 THEN 7 ELSE 20 END) * (1 + m.member_id % 3) + 1""",
        """INSERT INTO spendentry (member_id, amount, source_key, occurred_at)
           SELECT member_id, net, 's' || id, delivered_at FROM "order" WHERE status = 'delivered'""",
        f"""UPDATE member SET tier = t.tier FROM (
              SELECT member_id, CASE {tier_case} ELSE 'bronze' END AS tier
              FROM (SELECT member_id, sum(amount) AS s FROM spendentry
                    WHERE occurred_at >= '{stamp(NOW - timedelta(days=365))}' GROUP BY member_id)
            ) t WHERE member.id = t.member_id AND t.tier != 'bronze'""",
        """INSERT INTO pointsentry (member_id, delta, debt_delta, kind, reason, expires_on, idem_key,
             created_at)
           SELECT id, points_balance, 0, 'grant', '', date('2026-03-01', '+' || (id % 12) ||
             ' months', '+1 month', '-1 day'), 'p' || id, joined_at FROM member""",
        "INSERT INTO role (community_id, member_id, role) VALUES (1, 1, 'owner')",
        "ANALYZE",
    ]
    for statement in script:
        cursor.execute(statement)
    raw.commit()
    counts = [cursor.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
              for t in ("member", "order", "spendentry", "pointsentry")]
    raw.close()
    print(f"data: {counts[0]:,} members, {counts[1]:,} orders, {counts[2]:,} spend entries, "
          f"{counts[3]:,} points lots, {BUYS:,} group buys", flush=True)


JOBS: list[tuple[str, Callable[[Deps], int]]] = [
    ("tags", refresh_tags),
    ("welcome", welcome_new_members),
    ("win-back", win_back),
    ("expiry reminders", remind_expiring_points),
    ("tier nudges", nudge_tiers),
    ("replenishment", send_replenishments),
    ("birthdays", send_birthdays),
]


def main(members: int) -> None:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(database_url=f"sqlite:///{Path(home) / 'daily.sqlite3'}",
                            home=Path(home), seed_demo=False)
        app = bootstrap(settings, clock=lambda: NOW)
        start = time.perf_counter()
        generate(app.engine, members)
        print(f"generated in {time.perf_counter() - start:.1f} s (not timed)", flush=True)
        slowest = ("", 0.0)
        for name, job in JOBS:
            start = time.perf_counter()
            done = job(app.deps)
            seconds = time.perf_counter() - start
            start = time.perf_counter()
            again = job(app.deps)
            rerun = time.perf_counter() - start
            print(f"{name}: {done:,} in {seconds:.1f} s; re-run {again:,} in {rerun:.1f} s",
                  flush=True)
            if seconds > slowest[1]:
                slowest = (name, seconds)
        with UnitOfWork(app.deps.sessions) as uow:
            queued = uow.session.execute(select(func.count(OutboxMessage.id))).scalar_one()
        print(f"outbox: {queued:,} pushes queued")
        app.engine.dispose()
    print(f"daily: slowest job {slowest[0]} {slowest[1]:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
