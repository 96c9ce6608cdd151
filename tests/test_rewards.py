"""The rewards catalogue (積分商城) through the console: the leader adds and takes off rewards,
members list and redeem them; points and stock never go below zero, a member's limit holds, a
double tap or a redelivery redeems once; and a state machine over redemptions and grants keeps
the ledger reconciled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import func, select

from bot.app import App
from bot.console import ConsoleChannel
from handlers.dispatch import handle
from messages.types import Incoming
from models import ledger
from models.tables import AuditLog, Coupon, Redemption, Reward
from tests.conftest import Clock, say
from tests.groupbuy_helpers import fetch, ledgers_balance, member, session_of

CATALOGUE = (
    "leader@demo: /reward add 100元折價券 coupon=amount:100 points=500 stock=2 limit=1",
    "leader@demo: /reward add 保溫杯 gift=保溫杯 points=800",
    "leader@demo: /reward add 九折券 coupon=percent:10 points=300",
    "leader@demo: /reward add 免運券 coupon=shipping points=100 limit=2",
)


def stock(app: App, number: int) -> int | None:
    with session_of(app) as session:
        return session.execute(select(Reward.stock).where(Reward.number == number)).scalar_one()


def balance(app: App, name: str) -> int:
    return member(app, name).points_balance


def test_the_leader_adds_rewards_of_every_kind(console, app):
    out = say(console, *CATALOGUE)
    tail = "。會員輸入 /rewards 就看得到。"
    assert out == [
        f"bot -> leader@demo: 已上架 #1：100元折價券 · 折抵 NT$100 · 500 點 · 庫存 2 · 每人限 1 次{tail}",
        f"bot -> leader@demo: 已上架 #2：保溫杯 · 贈品 · 800 點 · 不限數量{tail}",
        f"bot -> leader@demo: 已上架 #3：九折券 · 9 折 · 300 點 · 不限數量{tail}",
        f"bot -> leader@demo: 已上架 #4：免運券 · 免運 · 100 點 · 不限數量 · 每人限 2 次{tail}",
    ]
    assert [r.action for r in fetch(app, select(AuditLog))] == ["reward"] * 4


def test_members_list_the_catalogue_with_a_button_per_reward_in_their_language(console):
    say(console, *CATALOGUE, "amy: /start", "amy: /lang en", "bo: /start", "bo: /lang 简体",
        "leader@demo: /grant @amy 600 welcome")
    [en] = say(console, "amy: /rewards")
    assert en == ("bot -> amy: Rewards (your balance: 600 points):\n"
                  "#4 免運券 · 100 points · free shipping · max 2 each\n"
                  "#3 九折券 · 300 points · 10% off\n"
                  "#1 100元折價券 · 500 points · NT$100 off · 2 left · max 1 each\n"
                  "#2 保溫杯 · 800 points · gift\n"
                  "Redeem with /redeem N.\n"
                  "1. Redeem #4 (100 points)\n2. Redeem #3 (300 points)\n"
                  "3. Redeem #1 (500 points)\n4. Redeem #2 (800 points)")
    [hans] = say(console, "bo: 积分商城")
    assert hans.startswith("bot -> bo: 积分商城（你的积分：0 点）：\n#4 免運券 · 100 点 · 免运费")
    assert hans.endswith("4. 兑换 #2（800 点）")
    [hant] = say(console, "cy: /rewards")
    assert hant.startswith("bot -> cy: 積分商城（你的積分：0 點）：")


def test_the_buttons_run_the_redeem_command(console):
    say(console, *CATALOGUE, "amy: /start", "leader@demo: /grant @amy 600 welcome")
    msg = console.to_incoming("amy: /rewards")
    assert msg is not None
    [answer] = handle(msg, console.deps)  # the reply carries the buttons' data
    assert [b.data for b in answer.buttons] == ["/redeem 4", "/redeem 3", "/redeem 1", "/redeem 2"]


def test_a_member_redeems_points_for_a_coupon_in_one_step(console, app):
    say(console, *CATALOGUE, "amy: /start", "amy: /lang en", "leader@demo: /grant @amy 600 welcome")
    [out] = say(console, "amy: /redeem 1")
    code = fetch(app, select(Coupon.code))[0]
    assert out == (f"bot -> amy: You redeemed #1 100元折價券 for 500 points. Your coupon: 100元折價券 · "
                   f"NT$100 off · code {code} · until 2026-04-09. Balance: 100 points.")
    assert balance(app, "amy") == 100 and stock(app, 1) == 1
    assert code in say(console, "amy: /coupons")[0]
    ledgers_balance(app)


def test_too_few_points_sold_out_over_the_limit_and_unknown_change_nothing(console, app, clock):
    say(console, *CATALOGUE, "amy: /start", "bob: /start", "bob: /lang zh-Hans", "cy: /start",
        "cy: /lang en", "leader@demo: /grant @amy 2000 a", "leader@demo: /grant @bob 2000 b",
        "leader@demo: /grant @cy 2000 c")
    assert say(console, "dan: /redeem 2") == [
        "bot -> dan: #2 保溫杯 需要 800 點，你目前有 0 點，積分不足，沒有扣除。"]
    assert say(console, "amy: /redeem 1", "bob: /redeem 1")[1].startswith("bot -> bob: 你用 500 点兑换了")
    clock.advance(minutes=1)
    [sold_out] = say(console, "cy: /redeem 1")
    assert sold_out == ("bot -> cy: Sorry, #1 100元折價券 is sold out. Nothing was taken from your "
                        "points.")
    tap = say(console, "amy: /redeem 4", "amy: /redeem 4")[1]
    assert tap.startswith("bot -> amy: 已經兌換過了：你用 100 點兌換了 #4 免運券")
    clock.advance(minutes=1)
    say(console, "amy: /redeem 4")
    clock.advance(minutes=1)
    [over] = say(console, "amy: /redeem 4")
    assert over == "bot -> amy: #4 免運券 每人限兌換 2 次，你已經兌換過了，積分沒有扣除。"
    assert say(console, "cy: /redeem 99") == ["bot -> cy: There is no reward #99. /rewards lists them."]
    for wrong in ("/redeem", "/redeem abc", "/redeem -1", "/redeem 0", "/redeem 1 2"):
        assert say(console, f"cy: {wrong}") == [
            "bot -> cy: Usage: /redeem N (the reward's number in /rewards)."]
    assert balance(app, "cy") == 2000 and balance(app, "amy") == 2000 - 500 - 200
    assert stock(app, 1) == 0
    ledgers_balance(app)


def test_a_double_tap_or_a_redelivery_redeems_once(console, app, clock):
    say(console, *CATALOGUE, "amy: /start", "amy: /lang en", "leader@demo: /grant @amy 1000 a")
    first, second = say(console, "amy: /redeem 3", "amy: /redeem 3")
    assert second.startswith("bot -> amy: Already done: You redeemed #3")
    assert first.split("code ")[1][:10] == second.split("code ")[1][:10]
    msg = Incoming("console", "amy", "amy", "/redeem 4", "m-42", sender_name="amy", handle="amy")
    assert handle(msg, console.deps) and handle(msg, console.deps) == []  # redelivered: nothing
    assert balance(app, "amy") == 1000 - 300 - 100
    assert len(fetch(app, select(Redemption.id))) == 2
    clock.advance(minutes=1)
    assert "points" in say(console, "amy: /redeem 3")[0].lower()  # a minute later is a new one


def test_the_leader_takes_a_reward_off(console, app):
    say(console, *CATALOGUE, "amy: /start", "leader@demo: /grant @amy 1000 a")
    assert say(console, "leader@demo: /reward off 3") == ["bot -> leader@demo: #3 九折券 已下架。"]
    assert "九折券" not in say(console, "amy: /rewards")[0]
    assert say(console, "amy: /redeem 3") == ["bot -> amy: 沒有 #3 這個兌換商品。輸入 /rewards 查看。"]
    assert say(console, "leader@demo: /reward off 3") == [
        "bot -> leader@demo: 沒有 #3 這個兌換商品。輸入 /rewards 查看。"]
    assert balance(app, "amy") == 1000


@pytest.mark.parametrize(("line", "says"), [
    ("/reward add x coupon=foo:1 points=3", "「foo:1」不是優惠券種類"),
    ("/reward add x coupon=amount:100", "請寫需要多少積分：points=500"),
    ("/reward add x coupon=amount:100 points=-5", "points= 是 1 到 1,000,000"),
    ("/reward add x coupon=amount:100 points=５００ stock=0", "stock= 是 1 到 1,000,000"),
    ("/reward add x coupon=percent:150 points=5", "折扣百分比是 1 到 100"),
    ("/reward add coupon=shipping points=5", "名稱請在 24 個字以內"),
    ("/reward add x points=5", "請說明內容"),
    ("/reward", "用法：/reward add"),
    ("/reward sell 1", "用法：/reward add"),
    ("/reward off x", "用法：/reward add"),
])
def test_a_leader_mistake_is_named_and_nothing_is_added(console, app, line, says):
    [out] = say(console, f"leader@demo: {line}")
    assert says in out
    assert fetch(app, select(Reward.id)) == []


def test_members_cannot_add_or_take_off_rewards_and_the_attempt_is_audited(console, app):
    say(console, *CATALOGUE[:1])
    out = say(console, "amy@demo: /reward add x coupon=shipping points=1", "amy: /reward off 1")
    assert out == ["bot -> amy@demo: 只有團主或管理員可以使用這個指令。",
                   "bot -> amy: 只有團主或管理員可以使用這個指令。"]
    refused = fetch(app, select(AuditLog.action).where(AuditLog.allowed.is_(False)))  # type: ignore[attr-defined]
    assert refused == ["reward", "reward"]
    assert stock(app, 1) == 2 and len(fetch(app, select(Reward.id))) == 1


class RedeemMachine(RuleBasedStateMachine):
    """Grants, redemptions of rewards with and without stock or limits, and time passing."""

    app: App
    clock: Clock

    def __init__(self) -> None:
        super().__init__()
        self.console = ConsoleChannel(self.app.deps)
        self.round = next(_rounds)
        self.names = [f"m{self.round}x{i}" for i in range(3)]
        say(self.console, *(f"{n}: /start" for n in self.names))
        if self.round == 1:
            say(self.console, "leader@demo: /reward add 少 coupon=amount:10 points=30 stock=4",
                "leader@demo: /reward add 限 coupon=percent:5 points=70 limit=2",
                "leader@demo: /reward add 多 gift=杯 points=250")
        self.granted = {n: 0 for n in self.names}

    @rule(who=st.integers(0, 2), points=st.integers(1, 400))
    def grant(self, who: int, points: int) -> None:
        say(self.console, f"leader@demo: /grant @{self.names[who]} {points} gift {next(_rounds)}")
        self.granted[self.names[who]] += points

    @rule(who=st.integers(0, 2), number=st.integers(1, 4), minutes=st.integers(0, 2))
    def redeem(self, who: int, number: int, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        say(self.console, f"{self.names[who]}: /redeem {number}")

    @invariant()
    def points_reconcile_and_limits_hold(self) -> None:
        with self.app.deps.sessions() as session:
            for name in self.names:
                found = member(self.app, name)
                assert found.points_balance >= 0
                assert found.points_balance == ledger.ledger_sum(session, found.id)
                spent = session.execute(select(func.coalesce(func.sum(Redemption.points), 0))
                                        .where(Redemption.member_id == found.id)).scalar_one()
                assert found.points_balance == self.granted[name] - spent
                coupons = session.execute(select(func.count(Coupon.id))
                                          .where(Coupon.member_id == found.id)).scalar_one()
                redeemed = session.execute(select(func.count(Redemption.id))
                                           .where(Redemption.member_id == found.id)).scalar_one()
                assert coupons == redeemed
                limited = session.execute(select(func.count(Redemption.id)).join(
                    Reward, Reward.id == Redemption.reward_id).where(
                    Redemption.member_id == found.id, Reward.number == 2)).scalar_one()
                assert limited <= 2
            scarce = session.execute(select(Reward).where(Reward.number == 1)).scalar_one()
            taken = session.execute(select(func.count(Redemption.id))
                                    .where(Redemption.reward_id == scarce.id)).scalar_one()
            assert scarce.stock is not None and scarce.stock >= 0 and scarce.stock + taken == 4


_rounds = iter(range(1, 10**9))


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_points_never_go_below_zero_and_stock_and_limits_hold(app, clock):
    clock.now = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
    machine = type("Machine", (RedeemMachine,), {"app": app, "clock": clock})
    machine.TestCase.settings = settings(  # type: ignore[attr-defined]
        max_examples=12, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    machine.TestCase().runTest()  # type: ignore[attr-defined]

