"""Smaller group-buy behaviours: picking a buy by number, refusals kept out of the group."""

from __future__ import annotations

from tests.conftest import say


def test_plus_one_with_a_number_joins_that_group_buy(console):
    say(console, "amy: /start", "leader@demo: /open 蘋果 | 100 | 5 | 2h",
        "leader@demo: /open 香蕉 | 50 | 5 | 2h")
    say(console, "amy@demo: +1 #1")
    out = say(console, "amy: /orders")
    assert "#1 蘋果 × 1" in out[0] and "香蕉" not in out[0]


def test_a_refusal_goes_to_private_once_the_member_started_the_bot(console):
    say(console, "leader@demo: /open 蘋果 | 100 | 5 | 2h | - | - | 1")
    in_group = say(console, "bob@demo: +5")
    assert in_group[0].startswith("bot -> bob@demo: ")  # bob cannot be reached privately yet
    say(console, "amy: /start", "amy@demo: +1")
    refused = say(console, "amy@demo: +1")
    assert refused[0].startswith("bot -> amy: ") and "限購 1 份" in refused[0]


def test_with_two_group_buys_the_leader_is_asked_which_one(console):
    say(console, "leader@demo: /open 白菜 | 50 | 100 | 2h", "leader@demo: /open 牛肉 | 800 | 100 | 2h",
        "amy@demo: +1 #1", "bob@demo: +1")
    out = say(console, "leader@demo: /delivered all")
    assert "#2（牛肉）" in out[0] and "#1（白菜）" in out[0]
    assert "1 筆訂單標記為已到貨" in say(console, "leader@demo: /delivered all #2")[0]
    # order numbers are enough to know the group buy
    assert "#1 白菜：1 筆訂單標記為已付款" in say(console, "leader@demo: /paid 1")[0]


def test_a_member_cancels_in_the_group_buy_they_joined(console):
    say(console, "leader@demo: /open 白菜 | 50 | 100 | 2h", "leader@demo: /open 牛肉 | 800 | 100 | 2h",
        "amy@demo: +1 #1")
    assert "#1 白菜 的 1 份" in say(console, "amy@demo: /cancel")[0]


def test_tier_prices_in_taiwan_dollars_are_whole_dollars(console):
    say(console, "amy: /start", "leader@demo: /settier @amy silver loyal",
        "leader@demo: /open 小菜 | 33 | 10 | 2h", "amy@demo: +1")
    out = say(console, "amy: /orders")
    assert "NT$31 ·" in out[0] and "NT$31.35" not in out[0]


def test_members_hear_about_cancellations_referral_rewards_and_closed_waitlists(console):
    say(console, "amy: /start")
    from tests.test_conversations import member

    code = member(console, "amy").referral_code
    say(console, f"bob: /start ref_{code}", "cat: /start",
        "leader@demo: /open 蘋果 | 100 | 1 | 2h", "bob@demo: +1", "cat@demo: +1")
    closed = say(console, "leader@demo: /close")
    assert any(line.startswith("bot -> cat: #1 蘋果 已結單，很抱歉") for line in closed)
    delivered = say(console, "leader@demo: /delivered all")
    assert any(line.startswith("bot -> amy: 你邀請的 bob 第一筆訂單已送達") for line in delivered)
    order = [line for line in say(console, "bob: /orders")][0].split("編號 ")[1].split(" ")[0]
    refunded = say(console, f"leader@demo: /cancelorder {order}")
    assert any(line.startswith("bot -> bob: 你的訂單編號") and "退款" in line for line in refunded)


def test_coupon_names_follow_the_members_language(console):
    say(console, "amy: /start", "amy: /lang en", "amy: /birthday 03-20", "amy: /claim")
    assert "Bronze birthday coupon" in say(console, "amy: /coupons")[0]


def test_imported_orders_keep_their_own_dates(console, tmp_path):
    csv_file = tmp_path / "old.csv"
    csv_file.write_text("order_id,member,product,quantity,unit_price,status,ordered_at\n"
                        "A1,amy,茶,1,1000,已到貨,2025-06-01\n"
                        "A2,amy,茶,1,5000,已到貨,2024-01-01\n", encoding="utf-8")
    say(console, "amy: /start")
    assert "已匯入 2 筆訂單" in say(console, f"leader@demo: /import {csv_file}")[0]
    card = say(console, "amy: /me")[0]
    assert "近 12 個月消費：NT$1,000" in card  # the 2024 order is older than 12 months


def test_one_member_sending_two_joins_at_once_stays_within_the_limit(console):
    import threading

    import pytest

    from handlers.dispatch import handle
    from messages.types import Incoming
    from tests.conftest import DATABASE_URL

    if not DATABASE_URL.startswith("postgresql"):
        pytest.skip("in-memory SQLite has one shared connection: no real concurrency")
    say(console, "leader@demo: /open 蘋果 | 100 | 50 | 2h | - | - | 2", "amy@demo: /me")
    gate = threading.Barrier(4)

    def plus_two(n: int) -> None:
        gate.wait()
        handle(Incoming("console", "demo", "amy", "+2", f"burst-{n}", is_group=True,
                        handle="amy", sender_name="amy"), console.deps)

    threads = [threading.Thread(target=plus_two, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out = say(console, "amy: /orders")[0]
    assert out.count("× 2") == 1
