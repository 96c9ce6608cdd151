"""Group-buy rules: reading '+1', deadlines, early windows, splitting stock, replenishment."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.groupbuy import (
    BadQuantity,
    Split,
    join_quantity,
    opens_for,
    parse_deadline,
    replenish_on,
    split,
    within_member_limit,
)

TAIPEI = ZoneInfo("Asia/Taipei")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=TAIPEI)


# '+1' and friends ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "quantity"), [
    ("+1", 1), ("+2", 2), ("＋１", 1), ("＋ ２", 2), ("+ 1", 1), (" +3 ", 3), ("加1", 1),
    ("加 1", 1), ("加一", 1), ("加二", 2), ("加兩", 2), ("加两", 2), ("加十", 10), ("+10", 10),
    ("+9999", 9999), ("+999999", 999999), ("+01", 1),
])
def test_a_join_reads_as_its_quantity(text, quantity):
    assert join_quantity(text) == quantity


@pytest.mark.parametrize("text", ["+0", "+-1", "＋０", "加0", "+ -5", "+00"])
def test_a_join_for_nothing_or_less_is_a_bad_quantity(text):
    with pytest.raises(BadQuantity):
        join_quantity(text)


@pytest.mark.parametrize("text", [
    "1", "+", "加", "+1.5", "me +1", "++1", "+1+1", "加油", "+abc", "1+1", "+一百", "",
])
def test_other_text_is_not_a_join(text):
    assert join_quantity(text) is None


@given(st.integers(1, 10**6))
def test_every_positive_count_round_trips_in_ascii_and_full_width(n):
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in str(n))
    assert join_quantity(f"+{n}") == n
    assert join_quantity(f"＋{full_width}") == n


# Deadlines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2h", NOON + timedelta(hours=2)),
    ("90m", NOON + timedelta(minutes=90)),
    ("90min", NOON + timedelta(minutes=90)),
    ("3d", NOON + timedelta(days=3)),
    ("2 小時", NOON + timedelta(hours=2)),
    ("30分鐘", NOON + timedelta(minutes=30)),
    ("1天", NOON + timedelta(days=1)),
    ("２ｈ", NOON + timedelta(hours=2)),
    ("20:00", datetime(2026, 3, 10, 20, 0, tzinfo=TAIPEI)),
    ("12-01 20:00", datetime(2026, 12, 1, 20, 0, tzinfo=TAIPEI)),
    ("12/1 20:00", datetime(2026, 12, 1, 20, 0, tzinfo=TAIPEI)),
    ("03-10 18:30", datetime(2026, 3, 10, 18, 30, tzinfo=TAIPEI)),
    ("01-05 09:00", datetime(2027, 1, 5, 9, 0, tzinfo=TAIPEI)),  # already past: next year
])
def test_a_deadline_reads_as_a_local_time(text, expected):
    assert parse_deadline(text, NOON) == expected


def test_a_time_earlier_today_is_read_as_today_so_it_can_be_refused_as_past():
    assert parse_deadline("09:00", NOON) == datetime(2026, 3, 10, 9, 0, tzinfo=TAIPEI)
    assert parse_deadline("09:00", NOON) < NOON  # type: ignore[operator]


@pytest.mark.parametrize("text", ["0m", "0h", "24:00", "12:60", "13-01 10:00", "02-30 10:00",
                                  "tomorrow", "", "2 weeks", "1000d", "-2h"])
def test_an_unreadable_deadline_is_none(text):
    assert parse_deadline(text, NOON) is None


def test_a_deadline_keeps_the_communitys_time_zone():
    when = parse_deadline("2h", NOON)
    assert when is not None and when.astimezone(UTC) == datetime(2026, 3, 10, 6, 0, tzinfo=UTC)


# Early window -------------------------------------------------------------------------------

OPENS = datetime(2026, 3, 10, 13, 0, tzinfo=TAIPEI)


@pytest.mark.parametrize(("tier_rank", "early_rank", "expected"), [
    (2, 2, OPENS - timedelta(minutes=60)),   # gold, window for gold
    (3, 2, OPENS - timedelta(minutes=60)),   # diamond is above gold
    (1, 2, OPENS),                           # silver waits
    (0, 2, OPENS),                           # bronze waits
    (3, None, OPENS),                        # no window: everyone at once
])
def test_the_early_window_opens_sooner_for_that_tier_and_above(tier_rank, early_rank, expected):
    assert opens_for(tier_rank, early_rank, OPENS, 60) == expected


# Splitting stock ----------------------------------------------------------------------------


@pytest.mark.parametrize(("requested", "left", "expected"), [
    (1, 3, Split(1, 0)), (3, 3, Split(3, 0)), (2, 1, Split(1, 1)), (5, 0, Split(0, 5)),
    (2, -1, Split(0, 2)), (7, None, Split(7, 0)),
])
def test_stock_left_is_taken_and_the_rest_waits(requested, left, expected):
    assert split(requested, left) == expected


@given(st.integers(1, 10_000), st.one_of(st.none(), st.integers(-5, 10_000)))
def test_a_split_never_takes_more_than_is_left_nor_loses_a_unit(requested, left):
    result = split(requested, left)
    assert result.allocated + result.waitlisted == requested
    assert result.allocated >= 0 and result.waitlisted >= 0
    if left is not None:
        assert result.allocated <= max(left, 0)


@pytest.mark.parametrize(("held", "wanted", "limit", "ok"), [
    (0, 2, 2, True), (1, 1, 2, True), (1, 2, 2, False), (2, 1, 2, False), (50, 50, None, True),
])
def test_the_per_member_limit_counts_what_is_already_held(held, wanted, limit, ok):
    assert within_member_limit(held, wanted, limit) is ok


# Replenishment ------------------------------------------------------------------------------


@pytest.mark.parametrize(("cycle", "quantity", "expected"), [
    (14, 1, date(2026, 3, 22)), (14, 2, date(2026, 4, 5)), (30, 3, date(2026, 6, 6)),
    (1, 1, date(2026, 3, 10)),  # the lead days never put it before the delivery
    (None, 1, None), (0, 1, None), (-3, 1, None), (14, 0, None),
])
def test_replenishment_is_delivered_plus_cycle_times_quantity_less_two_days(cycle, quantity,
                                                                            expected):
    assert replenish_on(date(2026, 3, 10), cycle, quantity) == expected


def test_the_lead_days_can_be_configured():
    assert replenish_on(date(2026, 3, 10), 10, 1, lead_days=5) == date(2026, 3, 15)


@pytest.mark.parametrize("text, quantity", [
    ("+1！", 1), ("+1。", 1), ("+1 謝謝", 1), ("+1謝謝", 1), ("+1 🙏", 1), ("+1 please", 1),
    ("+1份", 1), ("+ 2 份", 2), ("加一！", 1), ("加2份", 2),
])
def test_a_join_may_carry_a_unit_and_a_thank_you(text, quantity):
    assert join_quantity(text) == quantity


@pytest.mark.parametrize("text", ["加一點鹽", "加油", "加1個蛋在湯裡", "+1.5", "+1,000"])
def test_chatter_that_starts_like_a_join_is_not_one(text):
    assert join_quantity(text) is None


def test_a_date_just_gone_is_past_not_next_year():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    now = datetime(2026, 11, 25, 6, 31, tzinfo=ZoneInfo("Asia/Taipei"))
    deadline = parse_deadline("11-24 06:00", now)
    assert deadline is not None and deadline < now
