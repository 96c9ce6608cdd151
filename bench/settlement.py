"""Monthly confirmation and settlement over 1,000,000 delivered orders.

A temporary SQLite file gets 100,000 members (10,000 of them approved distributors, half of
those referred by another distributor, so about half the orders also pay level 2) and
1,000,000 delivered orders spread over March 2026 (Asia/Taipei), with the commission
ledger's accruals as delivery writes them (level 1 at 5 %, level 2 at 2 %, pending until 7
days after delivery) and the distributors' cached totals. Generating all that is bulk SQL and
is not timed.

Timed, on 2026-04-01 12:00 Taipei: the confirmation job's work (models/commission.py
`confirm`: the watermark, one INSERT … SELECT of a confirm entry per distributor, one UPDATE
of the cached totals and of the distributors' months; committed) and the settlement's
(models/settlement.py `build`: one INSERT … SELECT of every distributor's March statement from
their months), committed. Baseline, same run, same rows: a plain
`SELECT beneficiary_id, SUM(pending_delta) FROM commissionentry GROUP BY beneficiary_id`
(timed before and after, the mean). Sending each distributor their statement (a push per
distributor through notify) is not timed. Prints the last line

    settlement: S s, ratio to bare aggregate: X

    python bench/settlement.py [ORDERS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

import models.tables  # noqa: E402, F401
from models import commission, settlement  # noqa: E402
from models.db import UnitOfWork, make_engine, session_factory  # noqa: E402
from models.migrate import upgrade  # noqa: E402
from models.tables import Distributor  # noqa: E402

MEMBERS, DISTRIBUTORS = 100_000, 10_000
TAIPEI = ZoneInfo("Asia/Taipei")
MARCH = "2026-03"
NOW = datetime(2026, 4, 1, 4, 0, tzinfo=UTC)  # 12:00 in Taipei, the 1st
START = "2026-02-28 16:00:00"  # 2026-03-01 00:00 in Taipei, as SQLite stores UTC


def populate(engine: Engine, orders: int) -> None:
    """Members, distributors, orders and their accruals, in bulk (not timed)."""
    spread = 30 * 86_400 / orders  # seconds between deliveries: all of March
    stamp = "strftime('%Y-%m-%d %H:%M:%S', :start, '+' || CAST({} AS INTEGER) || ' seconds') || '.000000'"
    at = stamp.format(f"i * {spread}")
    with engine.begin() as db:
        db.execute(text("INSERT INTO community (id, slug, name, timezone, currency, default_locale,"
                        " programme, created_at) VALUES (1, 'bench', 'bench', 'Asia/Taipei', 'TWD',"
                        " 'zh-Hant', '{}', '2026-01-01 00:00:00.000000')"))
        db.execute(text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :members) "
            "INSERT INTO member (id, community_id, display_name, tier, points_balance, points_debt,"
            " referral_code, referred_by_id, opted_out, checkin_streak, joined_at) "
            "SELECT i, 1, 'm' || i, 'bronze', 0, 0, 'R' || i,"
            " CASE WHEN i > :d THEN (i - 1) % :d + 1 WHEN i % 2 = 0 THEN i / 2 END,"
            " 0, 0, '2026-01-01 00:00:00.000000' FROM n"), {"members": MEMBERS, "d": DISTRIBUTORS})
        db.execute(text(
            "INSERT INTO distributor (community_id, member_id, status, note, reason, applied_at,"
            " decided_at, pending, confirmed, paid) SELECT 1, id, 'approved', '', '',"
            " '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', 0, 0, 0"
            " FROM member WHERE id <= :d"), {"d": DISTRIBUTORS})
        db.execute(text(
            "INSERT INTO groupbuy (id, community_id, number, channel, chat_id, title, price, allocated,"
            " category, opens_at, deadline, status, created_at, roster_rev, roster_published_rev,"
            " pickup_place) VALUES (1, 1, 1, 'console', 'bench', 'bench', 10000, 0, '',"
            " '2026-01-01 00:00:00.000000', '2026-01-02 00:00:00.000000', 'closed',"
            " '2026-01-01 00:00:00.000000', 0, 0, '')"))
        db.execute(text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :orders) "
            "INSERT INTO \"order\" (id, group_buy_id, member_id, quantity, status, source_key,"
            " unit_price, list_price, tier_discount, coupon_discount, points_used, points_value, net,"
            f" created_at, delivered_at, closed_out) SELECT i, 1, :d + 1 + i % (:members - :d), 1,"
            " 'delivered', 'bench:' || i, 10000 + i * 37 % 90000, 10000 + i * 37 % 90000, 0, 0, 0, 0,"
            f" 10000 + i * 37 % 90000, {at}, {at}, 0 FROM n"),
            {"orders": orders, "d": DISTRIBUTORS, "members": MEMBERS, "start": START})
        for level, pct, upline in ((1, 5, "b.referred_by_id"), (2, 2, "r.referred_by_id")):
            db.execute(text(
                "INSERT INTO commissionentry (community_id, beneficiary_id, order_id, level, kind,"
                " base, pct, pending_delta, confirmed_delta, paid_delta, month, booked, confirm_after,"
                " idem_key, created_at) "
                f"SELECT 1, {upline}, o.id, {level}, 'accrue', o.net, {pct}, o.net * {pct} / 100, 0, 0,"
                f" :month, :month, strftime('%Y-%m-%d %H:%M:%S', o.delivered_at, '+7 days') || '.000000',"
                f" 'commission:' || o.id || char(58) || '{level}', o.delivered_at "
                "FROM \"order\" o JOIN member b ON b.id = o.member_id"
                " JOIN member r ON r.id = b.referred_by_id"
                f" WHERE {upline} IS NOT NULL ORDER BY o.id"), {"month": MARCH})
        db.execute(text(
            "UPDATE distributor SET pending = (SELECT COALESCE(SUM(pending_delta), 0)"
            " FROM commissionentry e WHERE e.beneficiary_id = distributor.member_id)"))
        db.execute(text(  # each distributor's month, as every entry keeps it
            "INSERT INTO commissionmonth (community_id, beneficiary_id, month, orders, sales, earned,"
            " confirmed, reversed, paid, pending_change, confirmed_change) SELECT 1, beneficiary_id,"
            " month, SUM(level = 1), SUM(CASE WHEN level = 1 THEN base ELSE 0 END),"
            " SUM(pending_delta), 0, 0, 0, SUM(pending_delta), 0 FROM commissionentry"
            " GROUP BY beneficiary_id, month"))
        db.execute(text("INSERT INTO commissionclock (community_id, confirmed_through)"
                        " VALUES (1, :start || '.000000')"), {"start": START})
    with engine.connect() as db:
        db.execute(text("ANALYZE"))


def bare(engine: Engine) -> tuple[float, int]:
    started = time.perf_counter()
    with engine.connect() as db:
        rows = db.execute(text("SELECT beneficiary_id, SUM(pending_delta) FROM commissionentry"
                               " GROUP BY beneficiary_id")).all()
    return time.perf_counter() - started, len(rows)


def settle(engine: Engine) -> tuple[float, float, int, int]:
    sessions = session_factory(engine)
    started = time.perf_counter()
    with UnitOfWork(sessions) as uow:  # the hourly confirmation job's transaction
        confirmed = commission.confirm(uow.session, 1, NOW, TAIPEI)
        uow.commit()
    confirming = time.perf_counter() - started
    with UnitOfWork(sessions) as uow:  # the settlement job's
        built = settlement.build(uow.session, 1, MARCH, NOW)
        uow.commit()
    return time.perf_counter() - started, confirming, confirmed, built


def check(engine: Engine) -> None:
    """The cached totals are the sums of the entries, for every distributor."""
    with UnitOfWork(session_factory(engine)) as uow:
        wrong = uow.session.execute(text(
            "SELECT COUNT(*) FROM distributor d WHERE pending != (SELECT COALESCE(SUM(pending_delta),"
            " 0) FROM commissionentry e WHERE e.beneficiary_id = d.member_id) OR confirmed !="
            " (SELECT COALESCE(SUM(confirmed_delta), 0) FROM commissionentry e"
            " WHERE e.beneficiary_id = d.member_id)")).scalar_one()
        assert wrong == 0, f"{wrong} distributors' totals differ from their entries"
        assert uow.session.execute(select(func.count()).select_from(Distributor)).scalar_one() == DISTRIBUTORS


def main() -> None:
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'settlement.sqlite3'}")
        upgrade(engine)
        began = time.perf_counter()
        populate(engine, orders)
        with engine.connect() as db:
            entries = db.execute(text("SELECT COUNT(*) FROM commissionentry")).scalar_one()
        print(f"generated {MEMBERS:,} members, {DISTRIBUTORS:,} distributors, {orders:,} orders,"
              f" {entries:,} commission entries in {time.perf_counter() - began:.1f} s (not timed)")
        before, groups = bare(engine)
        took, confirming, confirmed, built = settle(engine)
        after, _ = bare(engine)
        check(engine)
        baseline = (before + after) / 2
        print(f"bare aggregate: {baseline:.3f} s ({groups:,} groups; {before:.3f} s before,"
              f" {after:.3f} s after)")
        print(f"confirmed for {confirmed:,} distributors in {confirming:.2f} s,"
              f" {built:,} statements in {took - confirming:.2f} s")
        engine.dispose()
    print(f"settlement: {took:.2f} s, ratio to bare aggregate: {took / baseline:.2f}")


if __name__ == "__main__":
    main()
