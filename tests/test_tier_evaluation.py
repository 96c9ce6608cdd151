"""Downgrades happen only at period end, with a notice; upgrades at once on delivery."""

from __future__ import annotations

from scheduler.tiers import evaluate_tiers
from tests.conftest import say


def tier_of(console, name: str) -> str:
    from tests.test_conversations import member

    return member(console, name).tier


def buy(console, price: int) -> None:
    say(console, f"leader@demo: /open 禮盒 | {price} | - | 2h", "amy@demo: +1",
        "leader@demo: /delivered all", "leader@demo: /close")


def test_a_member_moves_up_at_once_and_down_only_at_period_end(console, clock):
    say(console, "amy: /start")
    buy(console, 3000)
    assert tier_of(console, "amy") == "silver"
    clock.advance(days=366)  # 2027-03-11: the purchase left the rolling 12 months
    assert evaluate_tiers(console.deps) == 0  # not the end of a period
    assert tier_of(console, "amy") == "silver"
    clock.advance(days=21)  # 2027-04-01
    assert evaluate_tiers(console.deps) == 1
    assert tier_of(console, "amy") == "bronze"
    notice = [line for line in console.pushes() if line.startswith("bot -> amy")]
    assert "調整為「銅」" in notice[0]
    assert evaluate_tiers(console.deps) == 0


def test_a_member_who_still_qualifies_keeps_the_tier(console, clock):
    say(console, "amy: /start")
    buy(console, 3000)
    clock.advance(days=22)  # 2026-04-01, within 12 months
    assert evaluate_tiers(console.deps) == 0
    assert tier_of(console, "amy") == "silver"


def test_a_tier_set_by_a_leader_is_kept_at_period_end(console, clock):
    say(console, "amy: /start", "leader@demo: /settier @amy gold vip")
    clock.advance(days=22)
    assert evaluate_tiers(console.deps) == 0
    assert tier_of(console, "amy") == "gold"
