"""Points never go below zero: a refund takes back what is left and owes the rest.

The rule (README, "Points"): refunding an order takes its earned points back from the
balance as far as it goes; what the balance cannot cover is a points debt ("points owed",
「待扣回積分」), shown on /me and /points and paid first by the next earnings, each
repayment a ledger entry. So the cached balance is always the sum of the ledger, the debt
the sum of its debt column, neither is ever below zero, and a debt exists only while the
balance is zero.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.tables import PointsEntry
from tests.conftest import say
from tests.groupbuy_helpers import fetch, ledgers_balance, member, orders_of

APPLES = "/open 有機蘋果 | 350 | 10 | 2h"


def spent_then_refunded(console) -> None:  # type: ignore[no-untyped-def]
    """amy earns 35 on #1, spends them on #2, then #1 is refunded."""
    say(console, "amy: /start", f"leader@demo: {APPLES}", "amy@demo: +1", "leader@demo: /close",
        "leader@demo: /delivered all")
    assert member(console, "amy").points_balance == 35
    say(console, "leader@demo: /open 梨 | 100 | 10 | 2h", "amy@demo: +1", "amy: /usepoints 35")
    assert member(console, "amy").points_balance == 0
    first, second = orders_of(console, "amy")
    assert second.points_used == 35
    say(console, f"leader@demo: /cancelorder {first.id}")
    assert orders_of(console, "amy")[0].status == "refunded"


def test_a_refund_of_points_already_spent_leaves_zero_and_a_debt_not_minus_35(console):
    spent_then_refunded(console)
    amy = member(console, "amy")
    assert (amy.points_balance, amy.points_debt) == (0, 35)
    ledgers_balance(console)
    entries = fetch(console, select(PointsEntry.kind, PointsEntry.delta, PointsEntry.debt_delta)
                    .order_by(PointsEntry.id))
    assert entries == [("purchase", 35, 0), ("redeem", -35, 0), ("reversal", 0, 35)]


def test_the_next_earnings_pay_the_debt_first_each_repayment_a_ledger_entry(console, clock):
    spent_then_refunded(console)
    say(console, "amy: /checkin")  # +5: all of it pays the debt
    amy = member(console, "amy")
    assert (amy.points_balance, amy.points_debt) == (0, 30)
    say(console, "amy@demo: /cancel")  # #2 is cancelled: its 35 points come back, 30 pay the debt
    amy = member(console, "amy")
    assert (amy.points_balance, amy.points_debt) == (5, 0)
    repayments = fetch(console, select(PointsEntry.delta, PointsEntry.debt_delta)
                       .where(PointsEntry.kind == "repay").order_by(PointsEntry.id))
    assert repayments == [(-5, -5), (-30, -30)]
    ledgers_balance(console)


@pytest.mark.parametrize(("locale", "owed"), [
    ("zh-Hant", "待扣回積分：35"), ("zh-Hans", "待扣回积分：35"), ("en", "Points owed: 35")])
def test_points_owed_are_shown_on_me_and_points_in_every_locale(console, locale, owed):
    spent_then_refunded(console)
    say(console, f"amy: /lang {locale}")
    card, = say(console, "amy: /me")
    points, = say(console, "amy: /points")
    assert owed in card and owed in points
    assert "35" in points.split("\n", 3)[-1]  # the reversal line says what it left owing


def test_nobody_without_a_debt_sees_a_debt_line(console):
    say(console, "amy: /start", "leader@demo: /grant @amy 10 hello")
    assert "待扣回" not in say(console, "amy: /me")[0]
    assert "待扣回" not in say(console, "amy: /points")[0]


def test_a_leaders_deduction_still_cannot_go_below_zero(console):
    say(console, "amy: /start", "leader@demo: /grant @amy 10 hello")
    out = say(console, "leader@demo: /deduct @amy 20 oops")
    assert "積分不足：目前餘額 10" in out[0]
    amy = member(console, "amy")
    assert (amy.points_balance, amy.points_debt) == (10, 0)
