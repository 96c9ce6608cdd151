"""Champions through the console and the job: the month's (and on a quarter's first day the
quarter's) top distributor by confirmed sales, rewarded once, told privately, announced in
the community's groups through the outbox after quiet hours; ties broken as announced."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.console import ConsoleChannel
from models.tables import Champion, Coupon, OutboxMessage, PointsEntry
from scheduler.champions import crown_champions
from tests.conftest import Clock, say
from tests.distribution_helpers import configure
from tests.test_conversations import member

APRIL_1_1AM = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)  # 01:00 in Taipei, quiet hours
APRIL_1_8AM = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
_buys = iter(range(1, 1000))


def sells(console: ConsoleChannel, distributor: str, friend: str, price: int) -> None:
    """`friend` joins through the distributor's link and buys one item, delivered."""
    code = member(console, distributor).referral_code
    say(console, f"{friend}: /start ref_{code}",
        f"leader@demo: /open 貨{next(_buys)} | {price} | - | 2h", f"{friend}@demo: +1",
        "leader@demo: /delivered all", "leader@demo: /close")


def shop(console: ConsoleChannel, **config: object) -> None:
    configure(console, distribution={"mode": "everyone"}, **config)
    say(console, "amy: /start", "bob: /start")


def rows(console: ConsoleChannel, statement):  # type: ignore[no-untyped-def]
    with console.deps.sessions() as session:
        return session.execute(statement).all()


def test_the_months_and_quarters_top_distributor_is_crowned_rewarded_and_announced(
        console: ConsoleChannel, clock: Clock):
    shop(console)
    sells(console, "amy", "ann", 2000)
    sells(console, "bob", "ben", 1500)
    sells(console, "amy", "abe", 300)
    clock.now = APRIL_1_1AM
    assert crown_champions(console.deps) == 2  # March, and the first quarter
    crowned = rows(console, select(Champion.period, Champion.member_id, Champion.sales,
                                   Champion.reward_kind).order_by(Champion.period))
    amy = member(console, "amy").id
    assert crowned == [("2026-03", amy, 230_000, "points"), ("2026-Q1", amy, 230_000, "coupon")]
    assert rows(console, select(PointsEntry.delta).where(PointsEntry.kind == "champion")) == [(500,)]
    assert rows(console, select(Coupon.issue_key).where(Coupon.member_id == amy)) == [
        ("champion:1:2026-Q1",)]
    told = console.pushes()
    assert any(line.startswith("bot -> amy: 恭喜你成為 2026 年 3 月銷售冠軍") for line in told)
    assert not any(line.startswith("bot -> @demo") for line in told)  # quiet hours: 08:00
    groups = rows(console, select(OutboxMessage.is_group, OutboxMessage.not_before)
                  .where(OutboxMessage.kind == "announce"))
    assert groups == [(True, APRIL_1_8AM)] * 2
    clock.now = APRIL_1_8AM
    posted = [line for line in console.pushes() if line.startswith("bot -> @demo")]
    assert len(posted) == 2
    assert "2026 年 3 月銷售冠軍：amy" in posted[0] and "NT$2,300" in posted[0]
    assert "同額時先成交者優先，再相同則先加入的會員優先" in posted[0]
    assert "2026 年第 1 季最佳分銷商：amy" in posted[1]


def test_the_job_run_again_crowns_and_pays_nobody_twice(console: ConsoleChannel, clock: Clock):
    shop(console)
    sells(console, "bob", "ben", 900)
    clock.now = APRIL_1_1AM
    assert crown_champions(console.deps) == 2
    balance = member(console, "bob").points_balance
    clock.advance(hours=1)
    assert crown_champions(console.deps) == 0
    assert member(console, "bob").points_balance == balance
    assert len(rows(console, select(OutboxMessage.id).where(OutboxMessage.kind == "announce"))) == 2


def test_equal_sales_go_to_the_earlier_first_sale_not_the_lower_member_number(
        console: ConsoleChannel, clock: Clock):
    shop(console)
    sells(console, "bob", "ben", 1000)  # bob sold first
    clock.advance(hours=1)
    sells(console, "amy", "ann", 1000)
    clock.now = APRIL_1_1AM
    crown_champions(console.deps)
    [(who,)] = rows(console, select(Champion.member_id).where(Champion.period == "2026-03"))
    assert who == member(console, "bob").id


def test_sales_inside_their_return_window_or_refunded_do_not_count(console: ConsoleChannel,
                                                                    clock: Clock):
    shop(console)
    sells(console, "bob", "ben", 500)
    clock.now = datetime(2026, 3, 27, 4, 0, tzinfo=UTC)  # 7 days before the 1st is the 25th
    sells(console, "amy", "ann", 5000)  # within its return window on April 1st
    clock.now = APRIL_1_1AM
    crown_champions(console.deps)
    [(who, sales)] = rows(console, select(Champion.member_id, Champion.sales)
                          .where(Champion.period == "2026-03"))
    assert (who, sales) == (member(console, "bob").id, 50_000)


def test_a_refunded_sale_counts_for_nothing(console: ConsoleChannel, clock: Clock):
    shop(console)
    sells(console, "bob", "ben", 500)
    sells(console, "amy", "ann", 5000)
    [(key,)] = rows(console, select(PointsEntry.idem_key).where(
        PointsEntry.idem_key.like("order:%:earn"),  # type: ignore[attr-defined]
        PointsEntry.member_id == member(console, "ann").id))
    out = say(console, f"leader@demo: /cancelorder #2 {key.split(':')[1]}")
    assert "1 筆訂單標記為已取消" in out[0]
    clock.now = APRIL_1_1AM
    crown_champions(console.deps)
    [(who,)] = rows(console, select(Champion.member_id).where(Champion.period == "2026-03"))
    assert who == member(console, "bob").id


def test_no_confirmed_sales_no_champion_and_a_period_set_to_null_has_none(
        console: ConsoleChannel, clock: Clock):
    shop(console, champions={"quarter": None})
    clock.now = APRIL_1_1AM
    assert crown_champions(console.deps) == 0
    sells(console, "amy", "ann", 100)
    clock.now = datetime(2026, 5, 1, 1, 0, tzinfo=UTC)  # May 1st: April's champion only
    assert crown_champions(console.deps) == 1
    assert rows(console, select(Champion.period)) == [("2026-04",)]
    clock.now = datetime(2026, 5, 9, 1, 0, tzinfo=UTC)  # after the first week: nothing
    assert crown_champions(console.deps) == 0
