"""A leader's own coupons: `/coupon new` (amount, percent, free shipping, gift; validity;
per-member limit; minimum spend), `/coupon send NAME @name` through notify, and how percent
and minimum-spend coupons apply at order and when an order is shortened."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.app import App
from models.tables import AuditLog, Coupon, CouponTemplate, Order, OutboxMessage
from tests.conftest import say
from tests.groupbuy_helpers import fetch, session_of

OPEN = "leader@demo: /open 蘋果 | 333 | 100 | 明天 20:00"
MADE = (
    "leader@demo: /coupon new 週年慶 percent:10 limit=1 min=600",
    "leader@demo: /coupon new 滿千 amount:100 min=1000",
    "leader@demo: /coupon new 免運 shipping until=2026-12-31",
    "leader@demo: /coupon new 週年禮 gift:保溫杯 days=7",
)


def code_of(app: App, name: str, member: str = "amy") -> str:
    with session_of(app) as session:
        from models.tables import ChannelAccount

        return session.execute(
            select(Coupon.code).join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
            .join(ChannelAccount, ChannelAccount.member_id == Coupon.member_id)
            .where(CouponTemplate.name.startswith(name), ChannelAccount.handle == member)  # type: ignore[attr-defined]
        ).scalar_one()


def line(app: App) -> Order:
    with session_of(app) as session:
        return session.execute(select(Order).order_by(Order.id.desc()).limit(1)).scalar_one()  # type: ignore[union-attr]


def coupon(app: App, code: str) -> Coupon:
    with session_of(app) as session:
        return session.execute(select(Coupon).where(Coupon.code == code)).scalar_one()


def test_the_leader_makes_coupons_of_every_kind(console, app):
    out = say(console, *MADE)
    made, send = "bot -> leader@demo: 已建立優惠券", "用 /coupon send 名稱 @會員 發送。"
    assert out == [
        f"{made}「週年慶」：9 折 · 滿 NT$600 可用 · 發送後 30 天內有效 · 每人限 1 張。{send}",
        f"{made}「滿千」：折抵 NT$100 · 滿 NT$1,000 可用 · 發送後 30 天內有效。{send}",
        f"{made}「免運」：免運 · 有效至 2026-12-31。{send}",
        f"{made}「週年禮: 保溫杯」：贈品 · 發送後 7 天內有效。{send}",
    ]
    assert say(console, "leader@demo: /coupon list")[0].splitlines()[1:] == [
        "週年禮 · 贈品 · 已發 0 張", "免運 · 免運 · 已發 0 張",
        "滿千 · 折抵 NT$100 · 滿 NT$1,000 · 已發 0 張", "週年慶 · 9 折 · 滿 NT$600 · 已發 0 張"]
    assert fetch(app, select(AuditLog.action)) == ["coupon"] * 4


def test_a_coupon_until_a_date_works_all_that_day_in_the_community_time_zone(console, app):
    say(console, *MADE, "amy: /start", "leader@demo: /coupon send 免運 @amy")
    until = coupon(app, code_of(app, "免運")).valid_until
    assert until.astimezone(UTC) == datetime(2026, 12, 31, 15, 59, 59, 999999, tzinfo=UTC)


def test_sending_is_a_promotion_told_in_the_member_language(console, app):
    say(console, *MADE, "amy: /start", "amy: /lang en", "bo: /start", "bo: /lang zh-Hans")
    out = say(console, "leader@demo: /coupon send 週年慶 @amy", "leader@demo: /coupon send 滿千 @bo")
    code = code_of(app, "週年慶")
    assert out[0] == f"bot -> leader@demo: 已發送「週年慶」給 amy（代碼 {code}）。"
    assert out[1] == (f"bot -> amy: 🎁 Demo 團購社群 gave you a coupon: 週年慶 · 10% off on orders from "
                      f"NT$600 · code {code} · until 2026-04-09. Use it with /usecoupon {code}.")
    assert out[3].startswith(
        "bot -> bo: 🎁 Demo 團購社群 送你一张优惠券：滿千 · 抵扣 NT$100 · 满 NT$1,000 可用")
    assert fetch(app, select(OutboxMessage.kind)) == ["promotion", "promotion"]


def test_a_member_who_opted_out_gets_the_coupon_but_no_message(console, app):
    say(console, *MADE, "amy: /start", "amy: /optout")
    out = say(console, "leader@demo: /coupon send 滿千 @amy")
    assert len(out) == 1 and "目前無法通知" in out[0]
    assert code_of(app, "滿千") in say(console, "amy: /coupons")[0]


def test_the_per_member_limit_holds_and_a_refusal_sends_nothing(console, app, clock):
    say(console, *MADE, "amy: /start", "leader@demo: /coupon send 週年慶 @amy")
    clock.advance(minutes=2)
    assert say(console, "leader@demo: /coupon send 週年慶 @amy") == [
        "bot -> leader@demo: 這位會員的「週年慶」已達每人上限 1 張，沒有發送。"]
    assert len(fetch(app, select(Coupon.id))) == 1
    assert len(fetch(app, select(OutboxMessage.id))) == 1


@pytest.mark.parametrize(("line", "says"), [
    ("/coupon send 沒這張 @amy", "沒有叫「沒這張」的優惠券。現有：週年禮、免運、滿千、週年慶。"),
    ("/coupon send 滿千 @nobody", "在本社群找不到 @nobody"),
    ("/coupon send 滿千", "用法：/coupon new"),
    ("/coupon new 滿千 amount:5", "已經有叫「滿千」的優惠券了"),
    ("/coupon new 壞 percent:0", "折扣百分比是 1 到 100"),
    ("/coupon new 壞 amount:100 points=5", "優惠券沒有 points= 或 stock="),
    ("/coupon new 壞 amount:100 until=2026-02-30", "until= 要寫今天以後的日期"),
    ("/coupon new 壞 amount:100 until=2025-12-31", "until= 要寫今天以後的日期"),
    ("/coupon new 壞 amount:100 min=-5", "「min=-5」不是金額"),
    ("/coupon new 壞 amount:100 days=3 until=2026-12-31", "days= 和 until= 只能擇一"),
    ("/coupon burn", "用法：/coupon new"),
])
def test_leader_mistakes_are_named_and_change_nothing(console, app, line, says):
    say(console, *MADE, "amy: /start")
    [out] = say(console, f"leader@demo: {line}")
    assert says in out
    assert fetch(app, select(Coupon.id)) == [] and len(fetch(app, select(CouponTemplate.id))) == 4


def test_a_member_cannot_make_or_send_coupons_but_coupon_alone_is_the_wallet(console, app):
    say(console, *MADE[:1])
    out = say(console, "amy@demo: /coupon new 我的 amount:100", "amy: /coupon send 週年慶 @amy",
              "amy: /lang en", "amy: /coupon")
    assert out[0] == "bot -> amy@demo: 只有團主或管理員可以使用這個指令。"
    assert out[1] == "bot -> amy: 只有團主或管理員可以使用這個指令。"
    assert out[3] == "bot -> amy: You have no coupons right now."
    refused = fetch(app, select(AuditLog.action).where(AuditLog.allowed.is_(False)))  # type: ignore[attr-defined]
    assert refused == ["coupon", "coupon"] and fetch(app, select(Coupon.id)) == []


def test_a_percent_coupon_rounds_down_to_whole_dollars_at_order(console, app):
    say(console, OPEN, *MADE, "amy: /start", "amy@demo: +3", "leader@demo: /coupon send 週年慶 @amy")
    say(console, f"amy: /usecoupon {code_of(app, '週年慶')}")
    got = line(app)
    assert (got.list_price, got.coupon_discount, got.net) == (99_900, 9_900, 90_000)  # NT$99.9 → 99


def test_a_coupon_below_its_minimum_is_refused_and_stays_unused(console, app):
    say(console, OPEN, *MADE, "amy: /start", "amy: /lang en", "amy@demo: +3",
        "leader@demo: /coupon send 滿千 @amy")
    code = code_of(app, "滿千")
    assert say(console, f"amy: /usecoupon {code}") == [
        f"bot -> amy: Coupon {code} needs an order of at least NT$1,000 (after your tier price)."]
    assert coupon(app, code).redeemed_at is None and line(app).coupon_id is None
    say(console, "amy@demo: +1", f"amy: /usecoupon {code}")
    assert (line(app).quantity, line(app).coupon_discount, line(app).net) == (1, 0, 33_300)


def test_a_line_shortened_below_the_minimum_gives_the_coupon_back(console, app):
    say(console, OPEN, *MADE, "amy: /start", "amy@demo: +3", "leader@demo: /coupon send 週年慶 @amy")
    code = code_of(app, "週年慶")
    say(console, f"amy: /usecoupon {code}", "amy@demo: -1")
    kept = line(app)
    assert (kept.quantity, kept.coupon_discount, kept.net) == (2, 6_600, 60_000)
    assert kept.coupon_id is not None and coupon(app, code).redeemed_at is not None
    say(console, "amy@demo: -1")
    shortened = line(app)
    assert (shortened.quantity, shortened.coupon_id, shortened.coupon_discount, shortened.net) == (
        1, None, 0, 33_300)
    assert coupon(app, code).redeemed_at is None  # back in the wallet
    assert code in say(console, "amy: /coupons")[0]


def test_free_shipping_and_gift_coupons_go_on_a_line_and_take_nothing_off(console, app):
    say(console, OPEN, *MADE, "amy: /start", "amy@demo: +1", "leader@demo: /coupon send 免運 @amy")
    say(console, f"amy: /usecoupon {code_of(app, '免運')}")
    got = line(app)
    assert got.coupon_id is not None and (got.coupon_discount, got.net) == (0, 33_300)


def test_a_double_tap_sends_once(console, app, clock):
    say(console, *MADE, "amy: /start")
    _, _, again = say(console, "leader@demo: /coupon send 滿千 @amy",
                      "leader@demo: /coupon send 滿千 @amy")
    code = code_of(app, "滿千")
    assert again == f"bot -> leader@demo: 剛剛已發送「滿千」給 amy（代碼 {code}），不會重複發送。"
    clock.advance(minutes=2)
    say(console, "leader@demo: /coupon send 滿千 @amy")  # no limit: a second one later is fine
    assert len(fetch(app, select(Coupon.id))) == 2 and len(fetch(app, select(OutboxMessage.id))) == 2


SEGMENT = ("amy: /start", "bo: /start", "cy: /start", "cy: /optout", "dan@demo: hi",
           *(f"leader@demo: /tag @{who} vip" for who in ("amy", "bo", "cy", "dan")),
           "leader@demo: /segment new vips tag=vip",
           "leader@demo: /coupon new 滿千 amount:100 limit=1")


def test_a_coupon_to_a_segment_reaches_every_member_and_tells_those_it_may(console, app, clock):
    say(console, *SEGMENT, "bo: /lang zh-Hans", "leader@demo: /coupon send 滿千 @bo")
    clock.advance(minutes=5)
    out = say(console, "leader@demo: /coupon send 滿千 vips")
    assert out[0] == ("bot -> leader@demo: 已發送「滿千」給分群 vips："
                      "4 位會員中 3 位收到（其他人已達每人上限）；"
                      "已通知 1 位（其餘已退訂優惠、無法私訊或本週推播已達上限，優惠券仍在他們的錢包裡）。")
    assert out[1].startswith("bot -> amy: 🎁 Demo 團購社群 送你一張優惠券：滿千 · 折抵 NT$100")
    assert len(out) == 2  # cy opted out, dan never started the bot, bo holds the most already
    holders = fetch(app, select(Coupon.member_id).order_by(Coupon.member_id))
    assert len(holders) == 4 and len(set(holders)) == 4
    assert fetch(app, select(OutboxMessage.kind)) == ["promotion", "promotion"]
    say(console, "leader: /start", "leader: /lang en")
    assert say(console, "leader: /coupon send 滿千 vips") == [
        "bot -> leader: “滿千” was sent to segment vips a moment ago: not sent twice."]
    assert say(console, "leader: /coupon send 滿千 nobody") == [
        'bot -> leader: There is no segment "nobody". /segments lists them.']
    assert len(fetch(app, select(Coupon.id))) == 4


def test_coupon_new_alone_asks_step_by_step_and_a_bad_answer_is_asked_again(console, app):
    out = say(console, "leader@demo: /coupon new", "leader@demo: 週年慶", "leader@demo: 150%",
              "leader@demo: 15%", "leader@demo: 2026-02-30", "leader@demo: 2026-12-31",
              "leader@demo: 1", "leader@demo: 300")
    me = "bot -> leader@demo: "
    assert out[0] == f"{me}（1/5）請輸入優惠券名稱（24 字以內）。輸入 /cancel 放棄。"
    assert out[1].startswith(f"{me}（2/5）請輸入內容")
    assert out[2] == f"{me}優惠券沒有儲存：折扣百分比是 1 到 100（「percent:150」）。輸入 /coupon 看用法。"
    assert out[3].startswith(f"{me}（2/5）") and out[4].startswith(f"{me}（3/5）")
    assert "until= 要寫今天以後的日期" in out[5] and out[6].startswith(f"{me}（3/5）")
    assert out[-1] == (f"{me}已建立優惠券「週年慶」：8.5 折 · 滿 NT$300 可用 · 有效至 2026-12-31 · "
                       "每人限 1 張。用 /coupon send 名稱 @會員 發送。")
    [made] = fetch(app, select(CouponTemplate))
    assert (made.kind, made.value, made.per_member_limit, made.min_spend) == ("percent", 15, 1, 30_000)


def test_the_guided_coupon_skips_and_stops(console, app):
    say(console, "leader: /start", "leader: /lang en")
    out = say(console, "leader: /coupon new", "leader: 免運", "leader: shipping", "leader: -",
              "leader: -", "leader: -")
    assert out[-1] == ("bot -> leader: Coupon “免運” made: free shipping · valid 30 days from sending. "
                       "Send it with /coupon send NAME @member.")
    stopped = say(console, "leader: /coupon new", "leader: 免運", "leader: 其他", "leader: /cancel")
    assert stopped[1:3] == ["bot -> leader: There is already a coupon called “免運”. Pick another name.",
                            "bot -> leader: (1/5) Send the coupon's name (at most 24 characters). "
                            "/cancel stops."]
    assert stopped[-1] == "bot -> leader: Stopped: no coupon was made."
    assert len(fetch(app, select(CouponTemplate.id))) == 1
