"""Redemptions racing each other on PostgreSQL: four spawned processes (four webhook workers)
redeem the same reward at the same moment, round after round. The stock never goes below
zero and exactly as many redemptions succeed as there was stock; a member tapping four
times at once redeems once; every balance equals its ledger and its redemptions. Four settings
changed at once are all kept. SQLite has one writer and cannot race, so this runs on
PostgreSQL only."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app import App
from bot.console import ConsoleChannel
from models.tables import Coupon, Member, Redemption, Reward
from tests.conftest import say
from tests.groupbuy_helpers import ledgers_balance, session_of
from tests.race_helpers import Workers

ROUNDS = 6


def redeemed(app: App, number: int) -> tuple[int, int]:
    """(stock left, redemptions made) of reward #number."""
    with session_of(app) as session:
        reward = session.execute(select(Reward).where(Reward.number == number)).scalar_one()
        made = session.execute(select(func.count(Redemption.id))
                               .where(Redemption.reward_id == reward.id)).scalar_one()
        assert reward.stock is not None
        return reward.stock, int(made)


def test_never_over_the_stock_whatever_the_concurrency(app: App, console: ConsoleChannel,
                                                        workers: Workers):
    for number in range(1, ROUNDS + 1):
        stock = 1 + number % 3  # 2, 3, 1, ...: fewer units than the 4 redeemers
        names = [f"r{number}m{i}" for i in range(4)]
        say(console, f"leader@demo: /reward add 券{number} coupon=amount:50 points=100 stock={stock}",
            *(f"{n}: /start" for n in names),
            *(f"leader@demo: /grant @{n} 150 race" for n in names))
        replies = workers.round(tuple(f"{n}: /redeem {number}" for n in names))
        left, made = redeemed(app, number)
        assert (left, made) == (0, stock), replies
        assert sum("已兌換完" in r for r in replies) == 4 - stock, replies
        with session_of(app) as session:
            for n in names:
                balance = session.execute(select(Member.points_balance).where(
                    Member.display_name == n)).scalar_one()
                assert balance in (50, 150)
        ledgers_balance(app)


def test_four_taps_at_once_redeem_once(app: App, console: ConsoleChannel, workers: Workers):
    say(console, "leader@demo: /reward add 免運 coupon=shipping points=10", "amy: /start",
        "leader@demo: /grant @amy 1000 taps")
    for number in range(ROUNDS):
        workers.round(("amy: /redeem 1",) * 4)
        with session_of(app) as session:
            made = session.execute(select(func.count(Redemption.id))).scalar_one()
            coupons = session.execute(select(func.count(Coupon.id))).scalar_one()
            balance = session.execute(select(Member.points_balance).where(
                Member.display_name == "amy")).scalar_one()
        assert made == coupons == 1 and balance == 990, number
    ledgers_balance(app)


def test_settings_changed_at_once_are_all_kept(app: App, console: ConsoleChannel, workers: Workers):
    """Four owners' messages changing four keys at the same moment: the community's row is
    locked while each applies, so none overwrites another's change."""
    from models.programme import programme_from
    from models.tables import AuditLog, Community

    for number in range(1, ROUNDS + 1):
        workers.round((f"leader: /config set pickup_days {number + 1}",
                       f"leader: /config set frequency_cap_per_week {number}",
                       f"leader: /config set checkin.base {number + 5}",
                       f"leader: /config set rating_after_hours {number + 10}"))
        with session_of(app) as session:
            stored = session.execute(select(Community)).scalar_one().programme
            audited = session.execute(select(func.count(AuditLog.id))
                                      .where(AuditLog.action == "config")).scalar_one()
        p = programme_from(stored)
        assert (p.pickup_days, p.frequency_cap_per_week, p.checkin_base) == (
            number + 1, number, number + 5), stored
        assert stored["rating_after_hours"] == number + 10
        assert audited == 4 * number
