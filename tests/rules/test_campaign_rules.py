"""Campaigns as a leader writes them on one line, their schedules, and who gets which variant."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from models.rules.campaigns import (
    CampaignError,
    Schedule,
    next_run,
    parse_holdout,
    parse_line,
    parse_multiplier,
    parse_schedule,
    variant,
)

TZ = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=TZ)


def test_one_line_reads_name_options_and_two_variants():
    draft = parse_line("會員日 segment=媽媽回購 at=2026-12-08T10:00 holdout=10% multiplier=2"
                       " | 嗨 {{name}} || 哈囉 {{name}}", NOW)
    assert draft.name == "會員日" and draft.segment == "媽媽回購"
    assert draft.messages == ("嗨 {{name}}", "哈囉 {{name}}")
    assert (draft.holdout_pct, draft.multiplier_pct) == (10, 200)
    assert draft.at == datetime(2026, 12, 8, 10, 0, tzinfo=TZ) and draft.schedule is None


def test_a_campaign_without_a_time_goes_at_once_without_holdout_or_multiplier():
    draft = parse_line("快閃 segment=all | hello", NOW)
    assert (draft.at, draft.schedule, draft.holdout_pct, draft.multiplier_pct) == (None, None, 0, 100)


def test_a_monthly_member_day_repeats_on_its_day():
    draft = parse_line("會員日 segment=all every=month:8@10:00 | hi", NOW)
    assert draft.schedule == Schedule("month", 8, time(10, 0))


def test_the_next_run_of_a_monthly_schedule_is_this_months_day_when_still_ahead():
    assert next_run(Schedule("month", 8, time(10)), NOW) == datetime(2026, 12, 8, 10, tzinfo=TZ)


def test_a_missed_run_is_followed_by_the_next_one_ahead_not_by_every_missed_one():
    late = datetime(2027, 3, 20, 9, 0, tzinfo=TZ)  # three member days missed
    assert next_run(Schedule("month", 8, time(10)), late) == datetime(2027, 4, 8, 10, tzinfo=TZ)


def test_a_monthly_day_past_a_short_months_end_falls_on_its_last_day():
    feb = datetime(2027, 2, 1, tzinfo=TZ)
    assert next_run(Schedule("month", 31, time(10)), feb) == datetime(2027, 2, 28, 10, tzinfo=TZ)


def test_a_weekly_schedule_runs_on_its_weekday():
    assert next_run(parse_schedule("week:1@09:30"), NOW) == datetime(2026, 12, 7, 9, 30, tzinfo=TZ)


@pytest.mark.parametrize("text", ["month:0@10:00", "month:32@10:00", "week:8@10:00",
                                  "month:8@25:00", "yearly@10:00", "month:8"])
def test_an_impossible_schedule_is_refused(text):
    assert parse_schedule(text) is None


@pytest.mark.parametrize("text", ["0%", "100%", "95", "-5", "abc", "0"])
def test_a_holdout_outside_one_to_ninety_percent_is_refused(text):
    with pytest.raises(CampaignError) as refused:
        parse_holdout(text)
    assert refused.value.problem == "holdout"


def test_a_holdout_may_be_written_with_or_without_percent_or_full_width():
    assert [parse_holdout(t) for t in ("10%", "10", "１０％", "90")] == [10, 10, 10, 90]


@pytest.mark.parametrize(("text", "pct"), [("2", 200), ("x1.5", 150), ("×3", 300), ("1", 100)])
def test_a_points_multiplier_is_read_as_percent(text, pct):
    assert parse_multiplier(text) == pct


@pytest.mark.parametrize("text", ["0.5", "6", "10", "x", "-2"])
def test_a_multiplier_below_one_or_above_five_is_refused(text):
    with pytest.raises(CampaignError):
        parse_multiplier(text)


def test_a_send_time_in_the_past_is_refused():
    with pytest.raises(CampaignError) as refused:
        parse_line("x segment=s at=2026-11-30T10:00 | hi", NOW)
    assert refused.value.problem == "past"


@pytest.mark.parametrize(("line", "problem"), [
    ("x segment=s colour=red | hi", "option"),
    ("x at=2026-12-08T10:00 | hi", "segment"),
    ("x segment=s | a || b || c", "message"),
    ("x segment=s | a || ", "message"),
    ("x segment=s every=month:8@10:00 at=2026-12-08T10:00 | hi", "at_and_every"),
    ("x segment=s every=month:40@10:00 | hi", "every"),
    ("x segment=s at=someday | hi", "when"),
    ("x segment=s", "usage"),
])
def test_a_bad_line_names_what_is_wrong(line, problem):
    with pytest.raises(CampaignError) as refused:
        parse_line(line, NOW)
    assert refused.value.problem == problem


def test_a_member_always_gets_the_same_variant_in_a_campaign():
    assert {variant(7, 42, 10, 2) for _ in range(5)} == {variant(7, 42, 10, 2)}


def test_the_holdout_and_variants_get_their_shares():
    counts = Counter(variant(3, member, 10, 2) for member in range(20_000))
    assert 1_800 < counts["H"] < 2_200
    assert abs(counts["A"] - counts["B"]) < 600


def test_one_message_means_everyone_outside_the_holdout_gets_a():
    assert set(variant(3, m, 20, 1) for m in range(2_000)) == {"A", "H"}
