"""A leader's campaign message reaches nothing but its placeholders (rendered sandboxed)."""

from __future__ import annotations

import pytest

from messages.leader_text import MAX_LENGTH, LeaderTextError, check

VALUES = {"name": "Amy", "tier": "金", "points": "120", "missing": "NT$500 to 鑽石",
          "buy": "#3 蘋果"}


def test_placeholders_are_filled_for_the_member():
    text = check("嗨 {{name}}（{{ tier }}），你有 {{points}} 點，{{missing}}；推薦 {{buy}}")
    assert text.render(VALUES) == "嗨 Amy（金），你有 120 點，NT$500 to 鑽石；推薦 #3 蘋果"
    assert text.uses == {"name", "tier", "points", "missing", "buy"}


def test_chinese_placeholder_names_mean_the_same():
    assert check("{{名字}} {{等级}} {{積分}} {{推薦}}").render(VALUES) == "Amy 金 120 #3 蘋果"


def test_a_message_without_placeholders_is_fine():
    assert check("週末特價！").render(VALUES) == "週末特價！"


@pytest.mark.parametrize("text", [
    "{{ name.__class__ }}", "{{ name|upper }}", "{{ ''.__class__.__mro__ }}", "{{ 7*7 }}",
    "{{ name() }}", "{{ buy['x'] }}", "{{ 'a' }}", "{{ name ~ tier }}",
    "{% for x in range(3) %}x{% endfor %}", "{% raw %}{{name}}{% endraw %}",
    "{% include '/etc/passwd' %}", "{{ lipsum.__globals__ }}", "{{ cycler }}",
])
def test_any_expression_or_statement_is_refused(text):
    with pytest.raises(LeaderTextError) as refused:
        check(text)
    assert refused.value.problem in ("expression", "placeholder")


def test_an_unknown_placeholder_is_refused_by_name():
    with pytest.raises(LeaderTextError) as refused:
        check("hi {{nickname}}")
    assert (refused.value.problem, refused.value.detail) == ("placeholder", "nickname")


def test_a_broken_template_is_refused():
    with pytest.raises(LeaderTextError) as refused:
        check("hi {{name")
    assert refused.value.problem == "syntax"


def test_five_thousand_characters_are_refused():
    with pytest.raises(LeaderTextError) as refused:
        check("好" * 5_000)
    assert refused.value.problem == "too_long"


def test_the_longest_allowed_message_is_accepted():
    assert check("好" * MAX_LENGTH).render(VALUES) == "好" * MAX_LENGTH


def test_a_value_that_looks_like_a_template_is_printed_not_evaluated():
    assert check("{{name}}").render({**VALUES, "name": "{{ 7*7 }}"}) == "{{ 7*7 }}"


@pytest.mark.parametrize("text", [
    "嗨 {{name}}（{{ tier }}），你有 {{points}} 點，{{missing}}；推薦 {{buy}}",
    "{{名字}}{{名字}} {# a comment #} end", "  spaced  {{buy}}  ", "no placeholders", "",
    "{{name}}\n第二行 {{points}}\n", "{0} {name} { {{name}} } {}", "}} {{points}} { x",
])
def test_filling_in_the_parts_gives_exactly_what_the_sandbox_renders(text):
    checked = check(text)
    assert checked.render(VALUES) == checked.render_sandboxed(VALUES)
