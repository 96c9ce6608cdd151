from datetime import time

from models.rules.pushes import in_quiet_hours, parse_clock, under_cap


def test_quiet_hours_wrap_around_midnight():
    start, end = parse_clock("22:00"), parse_clock("08:00")
    assert in_quiet_hours(time(23, 30), start, end)
    assert in_quiet_hours(time(7, 59), start, end)
    assert not in_quiet_hours(time(8, 0), start, end)
    assert not in_quiet_hours(time(21, 59), start, end)


def test_quiet_hours_within_a_day():
    assert in_quiet_hours(time(13, 0), time(12, 0), time(14, 0))
    assert not in_quiet_hours(time(14, 0), time(12, 0), time(14, 0))


def test_equal_start_and_end_means_never_quiet():
    assert not in_quiet_hours(time(3, 0), time(0, 0), time(0, 0))


def test_the_weekly_cap_counts_what_was_already_sent():
    assert under_cap(2, 3)
    assert not under_cap(3, 3)
    assert under_cap(100, None)
