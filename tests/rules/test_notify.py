"""The decision every push obeys, with plain values."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from models.rules.notify import WECHAT_WINDOW, Account, Kind, Quiet, decide, quiet_until

TAIPEI = ZoneInfo("Asia/Taipei")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=TAIPEI)
QUIET = Quiet(time(22, 0), time(8, 0))
TG = Account("telegram", "42")
WINDOWS = {"wechat": WECHAT_WINDOW}


def test_a_promotion_in_quiet_hours_waits_until_they_end():
    late = NOON.replace(hour=23, minute=30)
    decision = decide(Kind.PROMOTION, [TG], local_now=late, quiet=QUIET)
    assert decision.account == TG
    assert decision.not_before == datetime(2026, 3, 11, 8, 0, tzinfo=TAIPEI)


def test_a_reminder_after_midnight_waits_until_eight_the_same_morning():
    early = NOON.replace(hour=3)
    assert decide(Kind.REMINDER, [TG], local_now=early, quiet=QUIET).not_before == \
        NOON.replace(hour=8)


def test_a_service_message_goes_at_once_even_in_quiet_hours():
    late = NOON.replace(hour=23)
    assert decide(Kind.SERVICE, [TG], local_now=late, quiet=QUIET).not_before is None


def test_outside_quiet_hours_a_push_goes_at_once():
    assert decide(Kind.PROMOTION, [TG], local_now=NOON, quiet=QUIET).not_before is None


def test_service_messages_ignore_the_weekly_cap():
    decision = decide(Kind.SERVICE, [TG], local_now=NOON, promotions_this_week=9, weekly_cap=3)
    assert decision.account == TG


def test_a_fourth_promotion_in_a_week_is_not_sent_under_a_cap_of_three():
    assert decide(Kind.PROMOTION, [TG], local_now=NOON, promotions_this_week=3,
                  weekly_cap=3).reason == "weekly cap"
    assert decide(Kind.PROMOTION, [TG], local_now=NOON, promotions_this_week=2,
                  weekly_cap=3).account == TG
    assert decide(Kind.REMINDER, [TG], local_now=NOON, promotions_this_week=3,
                  weekly_cap=3).account == TG


def test_opting_out_on_one_channel_stops_promotions_and_reminders_there_only():
    out = Account("telegram", "42", opted_out=True)
    line = Account("line", "U1")
    for kind in (Kind.PROMOTION, Kind.REMINDER):
        assert decide(kind, [out], local_now=NOON).reason == "opted out"
        assert decide(kind, [out, line], local_now=NOON, prefer="telegram").account == line
    assert decide(Kind.SERVICE, [out], local_now=NOON).account == out


def test_a_member_who_never_started_the_bot_is_not_pushed():
    assert decide(Kind.SERVICE, [Account("telegram", None)], local_now=NOON).reason == \
        "unreachable"
    assert decide(Kind.SERVICE, [], local_now=NOON).reason == "unreachable"


def test_the_preferred_channel_comes_first():
    line = Account("line", "U1")
    assert decide(Kind.SERVICE, [TG, line], local_now=NOON, prefer="line").account == line
    assert decide(Kind.SERVICE, [TG, line], local_now=NOON).account == TG


def test_a_wechat_member_silent_for_49_hours_is_not_pushed():
    silent = Account("wechat", "o1", last_inbound=NOON - timedelta(hours=49))
    assert decide(Kind.SERVICE, [silent], local_now=NOON, windows=WINDOWS).reason == \
        "unreachable"
    recent = Account("wechat", "o1", last_inbound=NOON - timedelta(hours=47))
    assert decide(Kind.SERVICE, [recent], local_now=NOON, windows=WINDOWS).account == recent


def test_a_wechat_member_who_got_five_messages_since_writing_is_not_pushed():
    full = Account("wechat", "o1", last_inbound=NOON - timedelta(hours=1), sent_since_inbound=5)
    assert decide(Kind.SERVICE, [full], local_now=NOON, windows=WINDOWS).account is None


def test_a_push_already_queued_under_its_key_is_not_queued_again():
    assert decide(Kind.SERVICE, [TG], local_now=NOON, already_queued=True).reason == "duplicate"


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1),
                    timezones=st.just(UTC)),
       st.times(), st.times())
def test_a_held_push_leaves_at_the_first_moment_outside_quiet_hours(now, start, end):
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    local = now.astimezone(TAIPEI)
    until = quiet_until(local, Quiet(start, end))
    if until is None:
        return
    assert local < until <= local + timedelta(days=1)
    assert until.time() == end
    assert quiet_until(until, Quiet(start, end)) is None
