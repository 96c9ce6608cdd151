"""Points: earning, expiry at month end a year on, FIFO consumption, check-in streaks."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.points import (
    Entry,
    Lot,
    checkin_points,
    expired_by,
    expiring_within,
    expiry_date,
    next_streak,
    open_lots,
    purchase_points,
)


@pytest.mark.parametrize(
    ("earned", "expires"),
    [
        (date(2026, 3, 15), date(2027, 3, 31)),
        (date(2026, 1, 1), date(2027, 1, 31)),
        (date(2026, 1, 31), date(2027, 1, 31)),
        (date(2026, 12, 5), date(2027, 12, 31)),
        (date(2026, 4, 30), date(2027, 4, 30)),
        (date(2027, 2, 10), date(2028, 2, 29)),
        (date(2028, 2, 29), date(2029, 2, 28)),
    ],
)
def test_points_expire_at_the_end_of_the_twelfth_month_after_earning(earned, expires):
    assert expiry_date(earned) == expires


def test_expiry_can_be_configured_in_months():
    assert expiry_date(date(2026, 11, 20), months=3) == date(2027, 2, 28)


def test_bronze_earns_one_point_per_rate_unit_rounded_down():
    assert purchase_points(12_345, 100, 100) == 123


def test_gold_member_earns_one_and_a_half_points():
    assert purchase_points(10_000, 100, 150) == 150


def test_campaign_multiplier_stacks_on_the_tier_multiplier():
    assert purchase_points(10_000, 100, 150, 200) == 300
    assert purchase_points(999, 100, 120, 150) == 17  # 17.982 rounds down


@pytest.mark.parametrize("amount", [0, -1, -10_000])
def test_a_non_positive_amount_earns_nothing(amount):
    assert purchase_points(amount, 100, 200, 300) == 0


def test_a_non_positive_rate_earns_nothing():
    assert purchase_points(10_000, 0, 100) == 0


JAN, FEB, MAR = date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)


def test_a_spend_consumes_the_oldest_points_first():
    lots = open_lots([Entry(100, FEB), Entry(50, JAN), Entry(-70, None)])
    assert lots == [Lot(FEB, 80)]


def test_a_spend_runs_through_several_lots_in_expiry_order():
    lots = open_lots([Entry(30, JAN), Entry(40, FEB), Entry(50, MAR), Entry(-60, None)])
    assert lots == [Lot(FEB, 10), Lot(MAR, 50)]


def test_points_that_never_expire_are_consumed_last():
    lots = open_lots([Entry(100, None), Entry(50, MAR), Entry(-80, None)])
    assert lots == [Lot(None, 70)]


def test_a_debt_is_carried_and_settled_by_the_next_earnings():
    entries = [Entry(20, JAN), Entry(-50, None), Entry(10, FEB), Entry(40, MAR)]
    assert open_lots(entries) == [Lot(MAR, 20)]


def test_a_debt_larger_than_one_earning_swallows_it_whole():
    assert open_lots([Entry(-50, None), Entry(30, FEB)]) == []


TODAY = date(2027, 1, 1)


def test_expiring_within_includes_today_and_the_last_day_of_the_window():
    lots = [Lot(date(2027, 1, 1), 5), Lot(date(2027, 1, 31), 7), Lot(date(2027, 2, 1), 9)]
    assert expiring_within(lots, TODAY, 30) == [Lot(date(2027, 1, 1), 5), Lot(date(2027, 1, 31), 7)]


def test_expiring_within_merges_lots_of_the_same_date_soonest_first():
    lots = [Lot(FEB, 5), Lot(JAN, 3), Lot(FEB, 4), Lot(None, 100)]
    assert expiring_within(lots, TODAY, 90) == [Lot(JAN, 3), Lot(FEB, 9)]


def test_already_expired_lots_are_not_expiring_within():
    assert expiring_within([Lot(date(2026, 12, 31), 5)], TODAY, 30) == []


def test_points_are_expired_only_after_their_expiry_date():
    lots = [Lot(date(2026, 12, 30), 2), Lot(date(2026, 12, 31), 3), Lot(TODAY, 5), Lot(None, 7)]
    assert expired_by(lots, TODAY) == 5


def test_a_second_checkin_the_same_day_is_refused():
    assert next_streak(TODAY, 4, TODAY) is None


def test_a_checkin_the_next_day_extends_the_streak():
    assert next_streak(date(2026, 12, 31), 4, TODAY) == 5


def test_a_missed_day_restarts_the_streak():
    assert next_streak(date(2026, 12, 30), 4, TODAY) == 1


def test_the_first_checkin_ever_starts_a_streak():
    assert next_streak(None, 0, TODAY) == 1


@pytest.mark.parametrize(("streak", "points"), [(1, 5), (6, 5), (7, 25), (8, 5), (14, 25)])
def test_every_seventh_day_of_a_streak_earns_the_bonus(streak, points):
    assert checkin_points(streak, base=5, bonus_every=7, bonus=20) == points


def test_no_bonus_when_bonus_every_is_zero():
    assert checkin_points(7, base=5, bonus_every=0, bonus=20) == 5


@st.composite
def ledgers(draw):
    entries, balance = [], 0
    for _ in range(draw(st.integers(0, 30))):
        if balance > 0 and draw(st.booleans()):
            delta = -draw(st.integers(1, balance))
            entries.append(Entry(delta, None))
        else:
            delta = draw(st.integers(1, 1_000))
            day = draw(st.none() | st.dates(date(2026, 1, 1), date(2028, 12, 31)))
            entries.append(Entry(delta, day))
        balance += delta
    return entries


@given(ledgers())
def test_open_lots_always_add_up_to_the_balance(entries):
    lots = open_lots(entries)
    assert sum(lot.points for lot in lots) == sum(entry.delta for entry in entries)
    assert all(lot.points > 0 for lot in lots)
