"""Distribution as members and leaders use it, through the console: applying, a leader's
decision (and the member told), commission on delivery, confirmation after the return window,
payouts, statements, the leaderboard, the monthly settlement and the qualification review.
Bad input gets a clear answer and changes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from models.tables import AuditLog, Distributor, Order, Statement
from scheduler.distribution import confirm_commissions, review_distributors, settle_month
from tests.conftest import say
from tests.distribution_helpers import configure, earned, sums, totals
from tests.groupbuy_helpers import english, fetch, member


def referred(console, friend: str, by: str) -> None:
    code = member(console, by).referral_code
    say(console, f"{friend}: /start ref_{code}")


def delivered(console, buyer: str, price: int) -> int:
    """`buyer` buys one unit of a new buy at `price` (whole NT$), delivered; the order id."""
    say(console, f"leader@demo: /open 蘋果 | {price} | 10 | 2h", f"{buyer}@demo: +1",
        "leader@demo: /delivered all")
    return int(fetch(console, select(Order.id).order_by(Order.id.desc()))[0])  # type: ignore[attr-defined]


def approved(console, *handles: str) -> None:
    for handle in handles:
        say(console, f"{handle}: /apply", f"leader@demo: /approve @{handle}")


def test_a_member_applies_and_the_leader_approves_and_the_member_is_told(console):
    english(console, "amy")
    say(console, "leader: /start")
    assert say(console, "amy: /apply I run a parents' group") == [
        "bot -> amy: Thanks! Your application to become a distributor was sent to the group "
        "leader; you will hear the decision here."]
    listed = say(console, "leader@demo: /applications")[0]
    assert "amy" in listed and "I run a parents' group" in listed
    out = say(console, "leader@demo: /approve @amy")
    assert out[0] == "bot -> leader@demo: amy：分銷商已核准。"
    assert out[1].startswith("bot -> amy: Your distributor application was approved!")
    assert say(console, "amy: /apply") == [
        "bot -> amy: You are already a distributor. /distributor shows your link, sales and commission."]
    assert fetch(console, select(AuditLog.action).where(AuditLog.allowed)) == ["applications", "approve"]


def test_a_rejected_member_hears_the_reason_and_may_apply_again(console):
    say(console, "amy: /start", "amy: /apply")
    out = say(console, "leader@demo: /reject @amy 請先完成一次團購")
    assert out[1] == "bot -> amy: 你的分銷商申請未通過：請先完成一次團購。"
    assert "已收到你的分銷商申請" in say(console, "amy: /apply")[0]


def test_a_reject_or_suspend_without_a_reason_is_the_usage_and_changes_nothing(console):
    say(console, "amy: /start", "amy: /apply")
    assert "用法：/reject @名稱 原因" in say(console, "leader@demo: /reject @amy")[0]
    assert fetch(console, select(Distributor.status)) == ["pending"]
    assert "沒有申請成為分銷商" in say(console, "bob@demo: hi", "leader@demo: /suspend @bob 違規")[-1]


def test_a_suspended_distributor_applying_again_is_refused(console):
    say(console, "amy: /start")
    approved(console, "amy")
    out = say(console, "leader@demo: /suspend @amy 私下販售", "amy: /apply")
    assert out[-1] == "bot -> amy: 你的分銷商資格已停權（私下販售），無法重新申請，請與團主聯絡。"
    assert fetch(console, select(Distributor.status)) == ["suspended"]
    assert "無法改為「已停權」" in say(console, "leader@demo: /suspend @amy again")[0]


def test_only_staff_approve_suspend_or_pay_and_the_refusal_is_audited(console):
    say(console, "amy: /start", "amy: /apply", "bob: /start")
    for command in ("/approve @amy", "/suspend @amy x", "/payout @amy 10", "/applications"):
        assert say(console, f"bob: {command}") == ["bot -> bob: 只有團主或管理員可以使用這個指令。"]
    assert fetch(console, select(Distributor.status)) == ["pending"]
    refused = fetch(console, select(AuditLog.action).where(AuditLog.allowed.is_(False)))  # type: ignore[attr-defined]
    assert refused == ["approve", "suspend", "payout", "applications"]


def test_a_plain_referrer_keeps_the_referral_reward_but_earns_no_commission(console):
    say(console, "amy: /start")
    referred(console, "bob", "amy")
    delivered(console, "bob", 1000)
    assert member(console, "amy").points_balance == 100
    assert earned(console) == []


def test_a_distributor_earns_on_delivery_sees_it_on_the_card_and_it_is_confirmed_after_7_days(
        console, clock):
    say(console, "amy: /start", "leader: /start")
    referred(console, "bob", "amy")
    approved(console, "amy")
    delivered(console, "bob", 1000)
    amy = member(console, "amy").id
    assert totals(console, amy) == (5_000, 0, 0) == sums(console, amy)  # 5 % of NT$1,000
    card = say(console, "amy: /distributor")[0]
    for shown in ("業績：NT$1,000", "第 1／3 級，5%", "再 NT$9,000 業績可達 8%", "待確認佣金：NT$50",
                  "本月排名：第 1 名", "直接邀請 1 人（一級），他們邀請 0 人（二級）"):
        assert shown in card, shown
    clock.advance(days=6)
    confirm_commissions(console.deps)
    assert totals(console, amy) == (5_000, 0, 0)
    clock.advance(days=1, minutes=1)
    confirm_commissions(console.deps)
    confirm_commissions(console.deps)  # a second run confirms nothing more
    assert totals(console, amy) == (0, 5_000, 0) == sums(console, amy)


def test_a_payout_never_exceeds_the_confirmed_balance(console, clock):
    say(console, "amy: /start", "leader: /start")
    referred(console, "bob", "amy")
    approved(console, "amy")
    delivered(console, "bob", 1000)
    amy = member(console, "amy").id
    assert "已確認佣金只有 NT$0" in say(console, "leader@demo: /payout @amy 50")[0]
    clock.advance(days=8)
    confirm_commissions(console.deps)
    assert "已確認佣金只有 NT$50" in say(console, "leader@demo: /payout @amy 50.01")[0]
    for wrong in ("-5", "0", "abc", "5 extra"):
        assert "用法：/payout" in say(console, f"leader@demo: /payout @amy {wrong}")[0], wrong
    assert totals(console, amy) == (0, 5_000, 0)
    out = say(console, "leader@demo: /payout @amy ３０")
    assert out[0].startswith("bot -> leader@demo: 已支付 amy 佣金 NT$30。剩餘已確認佣金：NT$20。")
    assert out[1] == ("bot -> amy: 團主已支付你佣金 NT$30。累計已支付：NT$30；已確認未支付：NT$20。")
    assert totals(console, amy) == (0, 2_000, 3_000) == sums(console, amy)


def test_a_refund_after_a_payout_carries_a_negative_balance(console, clock):
    say(console, "amy: /start", "leader: /start")
    referred(console, "bob", "amy")
    approved(console, "amy")
    order_id = delivered(console, "bob", 1000)
    clock.advance(days=8)
    confirm_commissions(console.deps)
    say(console, "leader@demo: /payout @amy 50", f"leader@demo: /cancelorder {order_id}")
    amy = member(console, "amy").id
    assert totals(console, amy) == (0, -5_000, 5_000) == sums(console, amy)
    assert "待支付餘額：-NT$50（負數" in say(console, "amy: /statement")[0]


def test_two_levels_with_the_ladder_and_the_cap(console):
    """ann → ben → cal → dee: dee's NT$1,000 pays cal 5 % and ben 2 %; ann nothing."""
    say(console, "ann: /start")
    referred(console, "ben", "ann")
    referred(console, "cal", "ben")
    referred(console, "dee", "cal")
    approved(console, "ann", "ben", "cal")
    order_id = delivered(console, "dee", 1000)
    ann, ben, cal = (member(console, h).id for h in ("ann", "ben", "cal"))
    assert earned(console, order_id) == [(cal, 1, 5_000), (ben, 2, 2_000)]
    assert totals(console, ann) == (0, 0, 0)


def test_everyone_is_a_distributor_under_everyone_mode(console):
    configure(console, distribution={"mode": "everyone"})
    say(console, "amy: /start")
    referred(console, "bob", "amy")
    assert "你已成為分銷商（本社群符合資格的會員都是分銷商）" in say(console, "amy: /apply")[0]
    delivered(console, "bob", 1000)
    assert earned(console) == [(member(console, "amy").id, 1, 5_000)]


def test_spend_threshold_mode_makes_a_distributor_of_who_spent_enough(console):
    configure(console, distribution={"mode": "spend_threshold", "min_spend": 50_000})
    say(console, "amy: /start")
    assert "再完成 NT$500 的消費就可以了" in say(console, "amy: /apply")[0]
    assert "累積消費滿 NT$500 即自動成為分銷商" in say(console, "amy: /distributor")[0]
    delivered(console, "amy", 600)
    assert "你已成為分銷商" in say(console, "amy: /apply")[0]


def test_the_monthly_settlement_sends_statements_and_the_leader_gets_a_csv(console, clock):
    say(console, "amy: /start", "leader: /start")
    referred(console, "bob", "amy")
    approved(console, "amy")
    delivered(console, "bob", 1000)
    clock.advance(days=8)
    confirm_commissions(console.deps)
    clock.advance(days=14)  # 2026-04-01 12:00 in Taipei
    console.pushes()
    assert settle_month(console.deps) == 1
    assert settle_month(console.deps) == 0  # once per distributor and month
    pushes = console.pushes()
    assert any(p.startswith("bot -> amy: 2026-03 佣金對帳單\n業績：NT$1,000（1 筆訂單）") for p in pushes)
    assert any("2026-03 分銷商對帳單已完成（1 位）" in p for p in pushes if p.startswith("bot -> leader"))
    assert fetch(console, select(Statement.month, Statement.sales, Statement.confirmed)) == [
        ("2026-03", 100_000, 5_000)]
    out = say(console, "leader@demo: /settlement")
    path = Path(out[1].split(": ", 1)[1])
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:4] == ["類型", "月份", "分銷商", "訂單編號"]
    assert [r[0] for r in rows[1:]] == ["分銷商", "訂單"]
    assert rows[2][4:10] == ["bob", "1", "1000", "5", "50", "已確認"]
    assert "2026-04 尚未結束" in say(console, "leader@demo: /settlement 2026-04")[0]
    assert "用法：月份請寫成 YYYY-MM" in say(console, "amy: /statement 2026-13")[0]
    assert "用法：月份請寫成 YYYY-MM" in say(console, "amy: /statement 2099-01")[0]


def test_the_leaderboard_breaks_ties_for_the_earlier_member_and_says_so(console):
    say(console, "amy: /start", "cat: /start")
    referred(console, "bob", "amy")
    referred(console, "dan", "cat")
    approved(console, "cat", "amy")
    delivered(console, "dan", 500)
    delivered(console, "bob", 500)
    board = say(console, "amy: /leaderboard")[0]
    assert "同額時先加入的會員在前" in board
    assert board.index("1. amy NT$500") < board.index("2. cat NT$500")


def test_the_review_suspends_a_distributor_without_sales_for_90_days_with_a_notice(console, clock):
    say(console, "amy: /start", "cat: /start")
    referred(console, "bob", "amy")
    approved(console, "amy", "cat")
    clock.advance(days=80)
    delivered(console, "bob", 100)
    clock.advance(days=11)
    console.pushes()
    assert review_distributors(console.deps) == 1
    assert console.pushes() == ["bot -> cat: 你的分銷商資格已停權：90 天內沒有完成的銷售。"
                                "團主恢復資格前不會再產生佣金；已獲得的佣金仍屬於你。"]
    assert fetch(console, select(Distributor.status).order_by(Distributor.id)) == [
        "approved", "suspended"]
    assert review_distributors(console.deps) == 0


def test_a_configuration_with_three_levels_or_a_cap_below_the_first_rate_is_refused_and_not_stored(app):
    from models import communities, members
    from models.db import UnitOfWork
    from models.programme import ProgrammeError

    for config in ({"commission_levels": 3}, {"commission_level3_pct": 1},
                   {"commission_cap_pct": 3}, {"commission_ladder": [[0, 8], [1_000_000, 5]]},
                   {"commission_level2_pct": -2}):
        with UnitOfWork(app.deps.sessions) as uow:
            demo = members.community_by_slug(uow.session, "demo")
            try:
                communities.set_programme(uow.session, demo, config)
            except ProgrammeError:
                uow.commit()
            else:
                raise AssertionError(f"{config} was stored")
        with app.deps.sessions() as session:
            assert members.community_by_slug(session, "demo").programme == {}
    with UnitOfWork(app.deps.sessions) as uow:
        communities.set_programme(uow.session, members.community_by_slug(uow.session, "demo"),
                                  {"commission_cap_pct": 15})
        uow.commit()
