"""Payment and pickup rules: when reminders are due, how an arrival notice and a rating read."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.pickup import (
    ReminderPlan,
    arrival,
    average_tenths,
    parse_score,
    payment_reminder_due,
    pickup_reminder_due,
)

CLOSED = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
PLAN = ReminderPlan(after=timedelta(hours=24), gap=timedelta(hours=24), count=2)
TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=TAIPEI)


def test_no_payment_reminder_before_the_first_is_due():
    assert payment_reminder_due(CLOSED, CLOSED + timedelta(hours=23, minutes=59), PLAN) is None


def test_the_first_payment_reminder_is_due_a_day_after_close():
    assert payment_reminder_due(CLOSED, CLOSED + timedelta(hours=24), PLAN) == 1
    assert payment_reminder_due(CLOSED, CLOSED + timedelta(hours=47), PLAN) == 1


def test_the_second_payment_reminder_is_due_one_gap_after_the_first():
    assert payment_reminder_due(CLOSED, CLOSED + timedelta(hours=48), PLAN) == 2


def test_there_are_never_more_payment_reminders_than_configured():
    assert payment_reminder_due(CLOSED, CLOSED + timedelta(days=30), PLAN) == 2
    once = ReminderPlan(after=timedelta(hours=24), gap=timedelta(hours=24), count=1)
    assert payment_reminder_due(CLOSED, CLOSED + timedelta(days=30), once) == 1


def test_no_payment_reminder_when_reminders_are_switched_off():
    off = ReminderPlan(after=timedelta(hours=24), gap=timedelta(hours=24), count=0)
    assert payment_reminder_due(CLOSED, CLOSED + timedelta(days=3), off) is None


@given(st.integers(min_value=0, max_value=24 * 400), st.integers(min_value=0, max_value=5),
       st.integers(min_value=1, max_value=96))
def test_the_due_attempt_never_exceeds_the_count_and_never_goes_back(hours, count, gap):
    plan = ReminderPlan(after=timedelta(hours=24), gap=timedelta(hours=gap), count=count)
    now = CLOSED + timedelta(hours=hours)
    due = payment_reminder_due(CLOSED, now, plan) or 0
    later = payment_reminder_due(CLOSED, now + timedelta(hours=1), plan) or 0
    assert 0 <= due <= count and due <= later


def test_the_pickup_reminder_is_due_in_the_last_day_of_the_window_only():
    until = NOW + timedelta(days=3)
    assert not pickup_reminder_due(until, until - timedelta(days=1, minutes=1))
    assert pickup_reminder_due(until, until - timedelta(days=1))
    assert pickup_reminder_due(until, until - timedelta(minutes=1))
    assert not pickup_reminder_due(until, until)


@pytest.mark.parametrize(("text", "score"), [
    ("1", 1), ("5", 5), (" 4 ", 4), ("５", 5), ("五", 5), ("一", 1), ("3分", 3), ("4星", 4)])
def test_a_rating_is_a_whole_number_from_one_to_five(text, score):
    assert parse_score(text) == score


@pytest.mark.parametrize("text", ["0", "6", "６", "六", "零", "-1", "4.5", "²", "⁵", "", "好", "10",
                                  "05", "1 2"])
def test_anything_else_is_no_rating(text):
    assert parse_score(text) is None


def test_an_arrival_names_the_place_and_the_end_of_pickup():
    place, until = arrival("大樓管理室 週五 20:00", NOW, default_days=3)
    assert place == "大樓管理室" and until == datetime(2026, 3, 13, 20, 0, tzinfo=TAIPEI)


def test_an_arrival_may_separate_place_and_time_with_a_bar():
    place, until = arrival("社區大門 B 棟 | 3/12 18:00", NOW, default_days=3)
    assert place == "社區大門 B 棟" and until == datetime(2026, 3, 12, 18, 0, tzinfo=TAIPEI)


def test_an_arrival_without_a_time_gets_the_default_window():
    place, until = arrival("社區大門", NOW, default_days=3)
    assert place == "社區大門" and until == NOW + timedelta(days=3)


def test_an_arrival_without_a_place_is_none():
    assert arrival("週五 20:00", NOW, default_days=3) is None
    assert arrival("  ", NOW, default_days=3) is None


def test_the_average_rating_is_kept_in_tenths_rounded_half_up():
    assert average_tenths([5, 4]) == 45
    assert average_tenths([5, 4, 4]) == 43
    assert average_tenths([1, 2]) == 15
    assert average_tenths([]) is None
