"""Text as members type it: full-width forms, stray spaces, control characters, amounts."""

import pytest

from models.rules.text import normalize, parse_amount


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("＋１", "+1"),
        ("／ｍｅ", "/me"),
        ("ｐｏｉｎｔｓ　１２３", "points 123"),
        ("  +1  ", "+1"),
        ("grant  @amy\t\t50\n\nthanks", "grant @amy 50 thanks"),
        ("+\u200b1", "+1"),
        ("a\x00b\x07c", "abc"),
        ("", ""),
    ],
)
def test_normalize_folds_full_width_collapses_spaces_and_drops_control_characters(raw, expected):
    assert normalize(raw) == expected


def test_normalize_keeps_chinese_text():
    assert normalize("我要 +１ 兩份") == "我要 +1 兩份"


@pytest.mark.parametrize(
    ("text", "amount"),
    [("1200", 1200), ("1,200", 1200), ("１２００", 1200), ("１，２００", 1200), (" 50 ", 50),
     ("999999999999", 999_999_999_999)],
)
def test_an_amount_can_be_typed_with_commas_or_full_width_digits(text, amount):
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    "text", ["-5", "+5", "1.5", "", " ", "abc", "12abc", "1 200", "1000000000000", "٣"]
)
def test_anything_but_a_whole_number_of_up_to_twelve_digits_is_not_an_amount(text):
    assert parse_amount(text) is None


def test_zero_is_not_an_amount():
    assert parse_amount("0") is None
