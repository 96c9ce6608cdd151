"""Deadlines as leaders write them, read in the community's time zone and echoed back in full.

The clock: Tuesday 2026-03-10 12:00 in Taipei.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.deadline import PastDeadline, echo, future_deadline, parse_deadline

TAIPEI = ZoneInfo("Asia/Taipei")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=TAIPEI)  # a Tuesday


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TAIPEI)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-20 20:00", at(12, 20, 20)), ("2026/12/20 20:00", at(12, 20, 20)),
    ("12/20 20:00", at(12, 20, 20)), ("12-20 20:00", at(12, 20, 20)),
    ("12月20日 20:00", at(12, 20, 20)), ("12月20號 晚上8點", at(12, 20, 20)),
    ("2027-01-05 09:30", at(1, 5, 9, 30, year=2027)),
])
def test_a_date_and_time_reads_as_that_local_time(text, expected):
    assert parse_deadline(text, NOON) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("明天 20:00", at(3, 11, 20)), ("明天20:00", at(3, 11, 20)), ("明日 8:30", at(3, 11, 8, 30)),
    ("今晚8點", at(3, 10, 20)), ("今晚8点", at(3, 10, 20)), ("今晚 8:30", at(3, 10, 20, 30)),
    ("今天晚上8點半", at(3, 10, 20, 30)), ("今天 20:00", at(3, 10, 20)),
    ("明晚9點", at(3, 11, 21)), ("明早9點", at(3, 11, 9)), ("明天下午3點", at(3, 11, 15)),
    ("明天中午12點", at(3, 11, 12)), ("明天中午1點", at(3, 11, 13)),
    ("後天 20:00", at(3, 12, 20)), ("后天 20:00", at(3, 12, 20)), ("大後天 20:00", at(3, 13, 20)),
    ("今晚12點", at(3, 11, 0)), ("今晚八點", at(3, 10, 20)), ("晚上八點半", at(3, 10, 20, 30)),
    ("晚上8點30分", at(3, 10, 20, 30)), ("晚上20點", at(3, 10, 20)), ("20點", at(3, 10, 20)),
    ("明天20:00前", at(3, 11, 20)), ("明天 20:00 截止", at(3, 11, 20)),
    ("tomorrow 20:00", at(3, 11, 20)), ("tonight 8pm", at(3, 10, 20)), ("8:30pm", at(3, 10, 20, 30)),
    ("20:00", at(3, 10, 20)), ("２０：００", at(3, 10, 20)),
])
def test_a_day_word_and_a_time_read_as_that_local_time(text, expected):
    assert parse_deadline(text, NOON) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("週五 20:00", at(3, 13, 20)), ("周五 20:00", at(3, 13, 20)), ("禮拜五 20:00", at(3, 13, 20)),
    ("礼拜五 20:00", at(3, 13, 20)), ("星期五 20:00", at(3, 13, 20)), ("週五晚上8點", at(3, 13, 20)),
    ("週日 20:00", at(3, 15, 20)), ("禮拜天 20:00", at(3, 15, 20)), ("星期一 20:00", at(3, 16, 20)),
    ("週二 20:00", at(3, 10, 20)),  # today is Tuesday: today's 20:00
    ("這週五 20:00", at(3, 13, 20)), ("下週五 20:00", at(3, 20, 20)), ("下禮拜一 9點", at(3, 16, 9)),
    ("下星期二 20:00", at(3, 17, 20)), ("fri 20:00", at(3, 13, 20)), ("Friday 20:00", at(3, 13, 20)),
])
def test_a_weekday_is_the_coming_one_and_next_weeks_is_in_next_week(text, expected):
    assert parse_deadline(text, NOON) == expected


@pytest.mark.parametrize("text", [
    "02-30 20:00", "2026-02-30 20:00", "25:00", "24:00", "12:60", "13/01 20:00", "13-01 10:00",
    "明天", "後天", "週五", "12-20", "早上13點", "晚上25點", "今晚", "明天 25:00", "週八 20:00",
    "下下週五 20:00", "20:٠٠", "²⁰:00", "８點半半", "yesterday", "",
])
def test_an_impossible_or_incomplete_deadline_is_unreadable(text):
    assert parse_deadline(text, NOON) is None


def test_a_time_already_gone_today_is_refused_as_past():
    with pytest.raises(PastDeadline) as refused:
        future_deadline("09:00", NOON)
    assert refused.value.when == at(3, 10, 9)


def test_a_date_a_few_days_back_is_refused_as_past_not_read_as_next_year():
    with pytest.raises(PastDeadline) as refused:
        future_deadline("03-07 20:00", NOON)
    assert refused.value.when == at(3, 7, 20)


def test_a_date_long_gone_this_year_is_next_years():
    assert future_deadline("01-05 09:00", NOON) == at(1, 5, 9, year=2027)


def test_the_echo_gives_the_full_date_and_time():
    assert echo(at(12, 20, 20)) == "2026-12-20 20:00"


# Properties ---------------------------------------------------------------------------------

NOWS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31),
                    timezones=st.just(TAIPEI))
PHRASES = st.one_of(
    st.builds(lambda m, d, h, mi: f"{m:02d}-{d:02d} {h:02d}:{mi:02d}", st.integers(0, 14),
              st.integers(0, 32), st.integers(0, 25), st.integers(0, 61)),
    st.builds(lambda w, h: f"{w} {h}:00", st.sampled_from(
        ["今天", "明天", "後天", "週一", "週五", "週日", "禮拜三", "下週四", "今晚", "明早"]),
        st.integers(0, 25)),
    st.builds(lambda n, u: f"{n}{u}", st.integers(0, 999), st.sampled_from(["m", "h", "d"])),
)


@given(PHRASES, NOWS)
def test_a_deadline_accepted_is_never_in_the_past_and_round_trips_through_its_echo(text, now):
    try:
        when = future_deadline(text, now)
    except PastDeadline as refused:
        assert refused.when <= now
        return
    if when is None:
        return
    assert when > now
    assert when.tzinfo == TAIPEI
    assert parse_deadline(echo(when), now) == when.replace(second=0, microsecond=0)


@given(st.integers(0, 6), st.integers(0, 23), st.integers(0, 59), NOWS)
def test_a_weekday_lands_on_that_weekday_within_the_coming_week(weekday, hour, minute, now):
    word = "一二三四五六日"[weekday]
    when = parse_deadline(f"週{word} {hour}:{minute:02d}", now)
    assert when is not None and when.weekday() == weekday
    assert 0 <= (when.date() - now.date()).days <= 6
    after = parse_deadline(f"下週{word} {hour}:{minute:02d}", now)
    assert after is not None and after.weekday() == weekday
    assert 1 <= (after.date() - now.date()).days <= 13
    assert after.date() - timedelta(days=weekday) > now.date() - timedelta(days=now.weekday())


@given(st.integers(1, 23), NOWS)
def test_tomorrow_is_the_next_calendar_day_at_that_hour(hour, now):
    when = parse_deadline(f"明天 {hour}:00", now)
    assert when is not None and when.date() == now.date() + timedelta(days=1)
    assert (when.hour, when.minute) == (hour, 0)
