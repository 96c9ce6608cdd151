"""Segment rules as leaders write them: parsed into conditions, or refused with a reason."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.rules.segments import Condition, RuleError, parse_rule


def test_the_issue_example_parses_into_four_conditions():
    rule = parse_rule("category=母嬰 orders>=2 last_order>30d tier>=silver")
    assert rule.conditions == (
        Condition("category", "=", "母嬰"),
        Condition("orders", ">=", 2),
        Condition("last_order", ">", 30),
        Condition("tier", "in", ("silver", "gold", "diamond")),
    )


def test_tier_comparisons_follow_the_tier_order():
    assert parse_rule("tier<=silver").conditions[0].value == ("bronze", "silver")
    assert parse_rule("tier<silver").conditions[0].value == ("bronze",)
    assert parse_rule("tier>gold").conditions[0].value == ("diamond",)
    assert parse_rule("tier!=gold").conditions[0].value == ("bronze", "silver", "diamond")


@pytest.mark.parametrize("name", ["silver", "Silver", "銀", "银", "SILVER"])
def test_a_tier_is_named_by_its_key_or_any_localized_name(name):
    assert parse_rule(f"tier={name}").conditions[0].value == ("silver",)


def test_full_width_digits_and_operators_count_as_ascii():
    assert parse_rule("orders＞＝２ last_order＞３０d") == parse_rule("orders>=2 last_order>30d")
    assert parse_rule("spend≥3000").conditions[0] == Condition("spend", ">=", 300_000)


def test_spend_is_written_in_dollars_and_kept_in_minor_units():
    assert parse_rule("spend>=3,000").conditions[0].value == 300_000
    assert parse_rule("spend>=NT$3000").conditions[0].value == 300_000


def test_orders_in_a_period_are_written_with_the_days_after_the_field():
    assert parse_rule("orders90d>=2").conditions[0] == Condition("orders", ">=", 2, 90)
    assert parse_rule("訂單30天>=1").conditions[0] == Condition("orders", ">=", 1, 30)


def test_chinese_field_names_are_aliases():
    chinese = parse_rule("分類=母嬰 等級>=銀 最後下單>30天")
    assert chinese.conditions == parse_rule("category=母嬰 tier>=silver last_order>30d").conditions


def test_birthday_this_month_and_a_month_number():
    assert parse_rule("birthday=this_month").conditions[0] == Condition("birthday_month", "=", 0)
    assert parse_rule("birthday_month=12").conditions[0] == Condition("birthday_month", "=", 12)


def test_joined_takes_days_or_a_date():
    assert parse_rule("joined<30d").conditions[0] == Condition("joined", "<", 30)
    assert parse_rule("joined>=2026-01-05").conditions[0] == Condition("joined", ">=", date(2026, 1, 5))


def test_channel_reachable_and_opt_in():
    rule = parse_rule("channel=LINE reachable=yes opted_in=否")
    assert rule.conditions == (Condition("channel", "=", "line"), Condition("reachable", "=", True),
                               Condition("opted_in", "=", False))


def test_all_alone_is_everyone():
    assert parse_rule("all").conditions == () and parse_rule("全部").conditions == ()


BAD_RULES = [
    ("", "empty"),
    ("   ", "empty"),
    ("colour=red", "unknown_field"),
    ("category>母嬰", "bad_operator"),
    ("reachable!=yes", "bad_operator"),
    ("orders>=-2", "negative"),
    ("orders>=100000", "too_large"),
    ("last_order>10001d", "too_large"),
    ("last_order>-3d", "negative"),
    ("last_order>soon", "bad_days"),
    ("spend>=lots", "bad_number"),
    ("joined>=2026-02-30", "bad_date"),
    ("tier>=platinum", "unknown_tier"),
    ("channel=fax", "unknown_channel"),
    ("birthday_month=13", "too_large"),
    ("birthday_month=0", "bad_month"),
    ("reachable=maybe", "bad_yes_no"),
    ("orders>=", "missing_value"),
    ("母嬰", "syntax"),
    ("orders0d>=1", "not_positive"),
    ("category=母嬰 all", "all_alone"),
    (" ".join(["orders>=1"] * 21), "too_many"),
    ('product="' + "x" * 100 + '"', "too_long"),
]


@pytest.mark.parametrize(("text", "code"), BAD_RULES)
def test_a_bad_rule_is_refused_with_a_reason(text, code):
    with pytest.raises(RuleError) as refused:
        parse_rule(text)
    assert refused.value.code == code


def test_the_refusal_names_what_was_wrong():
    with pytest.raises(RuleError) as refused:
        parse_rule("category=母嬰 colour=red")
    assert refused.value.details == {"field": "colour", "token": "colour=red"}
    with pytest.raises(RuleError) as refused:
        parse_rule("category>母嬰")
    assert refused.value.details["allowed"] == "= !="


@given(st.text(max_size=60))
def test_any_text_parses_or_is_refused_never_crashes(text):
    try:
        rule = parse_rule(text)
    except RuleError as refused:
        assert refused.code
    else:
        assert len(rule.conditions) <= 20


def test_a_value_with_spaces_is_written_in_quotes():
    assert parse_rule('product="Green tea" tag=x').conditions[0] == Condition("product", "=", "Green tea")
    assert parse_rule("product=「有機 蘋果」").conditions[0] == Condition("product", "=", "有機 蘋果")
