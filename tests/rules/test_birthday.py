"""Birthdays: month and day only; one coupon a year, claimable in the birthday month."""

from datetime import date

import pytest

from models.rules.birthday import InvalidBirthday, can_claim, coupon_key, parse_birthday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03-15", (3, 15)),
        ("3/15", (3, 15)),
        ("3.15", (3, 15)),
        ("3月15日", (3, 15)),
        ("3 月 15 號", (3, 15)),
        ("12月1", (12, 1)),
        ("0315", (3, 15)),
        ("  03-15  ", (3, 15)),
        ("01-01", (1, 1)),
        ("04-30", (4, 30)),
        ("12-31", (12, 31)),
    ],
)
def test_a_birthday_can_be_typed_in_the_usual_forms(text, expected):
    assert parse_birthday(text) == expected


def test_february_29_is_a_birthday():
    assert parse_birthday("02-29") == (2, 29)


def test_february_30_is_not_a_birthday():
    with pytest.raises(InvalidBirthday):
        parse_birthday("02-30")


@pytest.mark.parametrize(
    "text",
    ["13-01", "00-10", "04-31", "06-31", "01-32", "01-00", "tomorrow", "", "315"],
)
def test_anything_but_a_real_month_and_day_is_refused(text):
    with pytest.raises(InvalidBirthday):
        parse_birthday(text)


def test_the_coupon_can_be_claimed_on_the_first_and_last_day_of_the_birthday_month():
    assert can_claim(3, date(2026, 3, 1))
    assert can_claim(3, date(2026, 3, 31))


def test_the_coupon_cannot_be_claimed_outside_the_birthday_month():
    assert not can_claim(3, date(2026, 2, 28))
    assert not can_claim(3, date(2026, 4, 1))


def test_a_member_without_a_birthday_cannot_claim():
    assert not can_claim(None, date(2026, 3, 15))


def test_the_coupon_key_is_unique_per_member_and_year():
    keys = {coupon_key(m, y) for m in (1, 2, 12) for y in (2026, 2027)}
    assert len(keys) == 6
    assert coupon_key(1, 2026) == coupon_key(1, 2026)


def test_a_full_date_of_birth_keeps_only_month_and_day():
    assert parse_birthday("1990-05-05") == (5, 5)
    assert parse_birthday("2024-03-15") == (3, 15)
