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


def invited_buyers(console, how_many: int) -> None:
    """Friends pal0… join through amy's link and each buys once (a qualified invite)."""
    from tests.test_conversations import member

    code = member(console, "amy").referral_code
    for i in range(how_many):
        say(console, f"pal{i}: /start ref_{code}")
        say(console, "leader@demo: /open 小物 | 10 | - | 2h", f"pal{i}@demo: +1",
            "leader@demo: /delivered all", "leader@demo: /close")


def test_an_invite_earned_tier_lapses_when_the_invites_leave_the_rolling_12_months(console, clock):
    say(console, "amy: /start")
    invited_buyers(console, 3)
    assert tier_of(console, "amy") == "gold"  # three invited members who bought
    clock.advance(days=22)  # 2026-04-01: the invites still count
    assert evaluate_tiers(console.deps) == 0 and tier_of(console, "amy") == "gold"
    clock.advance(days=366)  # 2027-04-02: their purchases left the rolling 12 months
    assert evaluate_tiers(console.deps) == 1
    assert tier_of(console, "amy") == "bronze"


def test_an_invite_counts_for_the_12_months_after_the_friends_first_purchase(console, clock):
    from models import tiers as tier_ops
    from tests.test_conversations import member

    say(console, "amy: /start")
    invited_buyers(console, 2)
    clock.advance(days=300)
    invited_buyers(console, 3)  # pal0 and pal1 again (already members: no new invite), and pal2
    assert tier_of(console, "amy") == "gold"  # 3 invites, all within 12 months
    clock.advance(days=90)  # the first two friends' first purchases are now over 12 months old
    with console.deps.sessions() as session:
        assert tier_ops.standing(session, member(console, "amy").id, clock.now)[1] == 1
