"""The full /report on a large community: 100,000 members and 1,000,000 orders.

The data (members over two years, orders over the last 13 months in 2,000 group buys of 200
products, points entries and coupons) is bulk-inserted into a temporary SQLite file, outside
the timing. Timed: every chart of /report (the numbers and the PNG pictures) and the key
numbers of /report week and /report month, all as PNG bytes in memory. Prints the last line

    report: S s on SQLite

With DATABASE_URL set (PostgreSQL), the same on a database of its own first:

    report: S s on PostgreSQL

    python bench/report.py [MEMBERS ORDERS]
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from handlers.report import Page, pictures, summary  # noqa: E402
from messages.charts import font_family  # noqa: E402
from messages.render import Renderer  # noqa: E402
from models import communities  # noqa: E402
from models.db import make_engine  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.programme import programme_for  # noqa: E402
from models.reporting import Scope  # noqa: E402
from models.tables import (  # noqa: E402
    Community,
    Coupon,
    CouponTemplate,
    GroupBuy,
    Member,
    Order,
    PointsEntry,
)

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
BUYS, PRODUCTS, BATCH = 2_000, 200, 20_000
TIERS = ("bronze", "bronze", "bronze", "silver", "silver", "gold", "diamond")
STATUSES = ("delivered",) * 6 + ("paid", "allocated", "cancelled", "waitlisted")
PRODUCT_NAMES = [f"{name}{n}" for n in range(PRODUCTS // 10)
                 for name in ("有機蘋果", "梨", "芒果", "草莓", "雞蛋", "牛奶", "麵包", "茶葉", "米", "蜂蜜")]


def _insert(engine: Engine, table: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        for start in range(0, len(rows), BATCH):
            connection.execute(insert(table), rows[start:start + BATCH])


def _ago(rng: random.Random, days: int) -> datetime:
    return NOW - timedelta(seconds=rng.randrange(days * 86_400))


def build(engine: Engine, members: int, orders: int) -> int:
    """The community and its data, the big tables' indexes made after the rows (faster);
    returns the community's id."""
    indexes = [index for name in ("order", "pointsentry")
               for index in SQLModel.metadata.tables[name].indexes]
    for index in indexes:
        index.drop(engine)
    cid = _rows(engine, members, orders)
    for index in indexes:
        index.create(engine)
    return cid


def _rows(engine: Engine, members: int, orders: int) -> int:
    rng = random.Random(12)
    with Session(engine) as session:
        community = communities.create(session, "big", "Big")
        session.commit()
        cid = int(community.id or 0)
    _insert(engine, Member, [
        {"id": n, "community_id": cid, "display_name": f"m{n}", "tier": rng.choice(TIERS),
         "referral_code": f"B{n}", "joined_at": _ago(rng, 730), "points_balance": 0,
         "points_debt": 0, "opted_out": False, "checkin_streak": 0}
        for n in range(1, members + 1)])
    _insert(engine, GroupBuy, [
        {"id": n, "community_id": cid, "number": n, "channel": "console", "chat_id": "g",
         "title": PRODUCT_NAMES[n % len(PRODUCT_NAMES)], "price": 10_000 + n % 50 * 1_000,
         "status": "closed", "opens_at": NOW, "deadline": NOW, "created_at": NOW, "allocated": 0,
         "roster_rev": 1, "roster_published_rev": 1, "pickup_place": ""}
        for n in range(1, BUYS + 1)])
    for start in range(0, orders, 200_000):
        chunk = []
        for n in range(start + 1, min(orders, start + 200_000) + 1):
            net = rng.randrange(5_000, 200_000, 100)
            chunk.append({"id": n, "group_buy_id": rng.randrange(1, BUYS + 1),
                          "member_id": rng.randrange(1, members + 1), "quantity": 1,
                          "status": rng.choice(STATUSES), "source_key": f"o{n}",
                          "unit_price": net, "list_price": net, "net": net,
                          "created_at": _ago(rng, 395), "closed_out": False})
        _insert(engine, Order, chunk)
    _insert(engine, PointsEntry, [
        {"member_id": rng.randrange(1, members + 1), "delta": delta, "debt_delta": 0,
         "kind": kind, "reason": "", "idem_key": f"p{n}", "created_at": _ago(rng, 395)}
        for n in range(orders // 5)
        for kind, delta in [rng.choice((("purchase", 300), ("checkin", 5), ("redeem", -200)))]])
    with Session(engine) as session:
        template = CouponTemplate(community_id=cid, key="bday", name="生日", kind="amount",
                                  value=10_000)
        session.add(template)
        session.commit()
        template_id = int(template.id or 0)
    _insert(engine, Coupon, [
        {"template_id": template_id, "member_id": rng.randrange(1, members + 1), "code": f"C{n}",
         "issued_at": (issued := _ago(rng, 395)), "valid_from": issued,
         "valid_until": issued + timedelta(days=30),
         "redeemed_at": issued + timedelta(days=3) if rng.random() < 0.4 else None}
        for n in range(members // 2)])
    return cid


def report(engine: Engine, cid: int) -> tuple[float, int]:
    """Seconds to make the full report; how many pictures it made."""
    font_family()  # the font is registered once per process, as in the bot
    renderer = Renderer()
    start = time.perf_counter()
    with Session(engine) as session:
        community = session.get_one(Community, cid)
        programme = programme_for(community)
        page = Page(community, programme, community.default_locale, renderer)
        scope = Scope(cid, NOW, ZoneInfo(community.timezone),
                      tuple(t.key for t in programme.tiers))
        made = pictures(session, scope, page) + summary(session, scope, page, 7) + summary(
            session, scope, page, 30)
    elapsed = time.perf_counter() - start
    assert all(png.startswith(b"\x89PNG") for _, _, png in made)
    return elapsed, len(made)


def postgres(url: str, members: int, orders: int) -> float:
    base = make_url(url)
    name = f"{base.database}_report_{uuid.uuid4().hex[:6]}"
    admin = make_engine(base.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        cid = build(engine, members, orders)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        return report(engine, cid)[0]
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    members = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    orders = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        print(f"report: {postgres(url, members, orders):.2f} s on PostgreSQL", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'report.sqlite3'}")
        upgrade(engine)
        built = time.perf_counter()
        cid = build(engine, members, orders)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        print(f"data: {members:,} members, {orders:,} orders, {orders // 5:,} points entries, "
              f"{members // 2:,} coupons (built in {time.perf_counter() - built:.0f} s, untimed)")
        seconds, count = report(engine, cid)
        engine.dispose()
    print(f"{count} pictures (every /report chart, /report week and /report month)")
    print(f"report: {seconds:.2f} s on SQLite")


if __name__ == "__main__":
    main()
