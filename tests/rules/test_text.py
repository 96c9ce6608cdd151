"""Text as members type it: full-width forms, stray spaces, control characters, amounts."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.text import fold, normalize, parse_amount


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


# Digits: ASCII and full-width only --------------------------------------------------------


@pytest.mark.parametrize("raw", ["+²", "+¹", "+₃", "+①", "+⑴", "+⒈", "+𝟑", "+½", "+🄂"])
def test_superscripts_circled_and_other_digit_lookalikes_are_not_folded_into_digits(raw):
    assert normalize(raw) == raw


@pytest.mark.parametrize("text", ["¹²³", "１²", "①", "٣", "३", "𝟏𝟐"])
def test_an_amount_in_digit_lookalikes_or_other_scripts_is_not_an_amount(text):
    assert parse_amount(text) is None


def test_text_around_a_digit_lookalike_is_still_folded():
    assert normalize("＋１ ² ／ｍｅ") == "+1 ² /me"


def test_no_character_but_ascii_and_full_width_digits_becomes_an_ascii_digit():
    digits = set("0123456789")
    became = [hex(c) for c in range(0x80, 0x110000)
              if not 0xFF10 <= c <= 0xFF19 and not 0xD800 <= c <= 0xDFFF
              and digits & set(fold(chr(c)))]
    assert became == []


@given(st.text())
def test_folding_never_invents_a_digit_that_was_not_typed_as_one(text):
    typed = sum(ch in "0123456789" or "０" <= ch <= "９" for ch in text)
    assert sum(ch in "0123456789" for ch in fold(text)) == typed
