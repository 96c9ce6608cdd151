"""The join cap and the deadline echo, through the console.

The demo community speaks zh-Hant unless a member switches with `/lang en`. The clock
starts on Tuesday 2026-03-10 12:00 in Taipei (04:00 UTC) and moves only by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from bot.console import ConsoleChannel
from models.tables import Community, GroupBuy, Order
from tests.conftest import say
from tests.groupbuy_helpers import count, english, session_of, the_buy, units

PEARS = "/open 梨 | 80 | - | 2h"


def programme(console: ConsoleChannel, config: dict[str, object]) -> None:
    with session_of(console) as session:
        session.execute(update(Community).where(Community.slug == "demo").values(programme=config))
        session.commit()


# What counts as an order --------------------------------------------------------------------


@pytest.mark.parametrize(("text", "wanted"), [
    ("同上+1", 1), ("我也+1", 1), ("跟+1", 1), ("我也要 +2", 2), ("+1 謝謝", 1), ("+三", 3),
    ("加兩份", 2), ("+十二", 12), ("同上+1 #1", 1),
])
def test_a_me_too_or_a_chinese_numeral_joins_with_that_quantity(console, text, wanted):
    say(console, f"leader@demo: {PEARS}")
    say(console, f"amy@demo: {text}")
    assert units(console, "allocated") == {"amy": wanted}


@pytest.mark.parametrize("text", ["同上", "我也要", "加一點鹽", "+²", "+٣", "小明+1", "+1的人好多"])
def test_chatter_that_looks_like_a_join_gets_no_answer_and_orders_nothing(console, text):
    say(console, f"leader@demo: {PEARS}")
    assert say(console, f"amy@demo: {text}") == []
    assert count(console, Order) == 0


# The per-member cap -------------------------------------------------------------------------


def test_an_absurd_quantity_is_refused_with_the_default_cap_and_nothing_is_written(console):
    say(console, f"leader@demo: {PEARS}")
    assert say(console, "amy@demo: +500") == ["bot -> amy@demo: #1 梨 每人限購 20 份。"]
    english(console, "bob")
    assert say(console, "bob@demo: +500") == ["bot -> bob: #1 梨 allows at most 20 per member."]
    assert count(console, Order) == 0 and the_buy(console).allocated == 0


def test_the_default_cap_counts_what_is_already_held(console):
    say(console, f"leader@demo: {PEARS}", "amy@demo: +20")
    assert say(console, "amy@demo: +1") == ["bot -> amy@demo: #1 梨 每人限購 20 份，你已有 20 份。"]
    assert units(console, "allocated") == {"amy": 20}


def test_the_leaders_per_member_limit_wins_over_the_default_cap(console):
    say(console, "leader@demo: /open 梨 | 80 | - | 2h | - | - | 50", "amy@demo: +30")
    assert units(console, "allocated") == {"amy": 30}


def test_a_community_sets_its_own_default_cap(console):
    programme(console, {"member_cap": 5})
    say(console, f"leader@demo: {PEARS}")
    assert say(console, "amy@demo: +6") == ["bot -> amy@demo: #1 梨 每人限購 5 份。"]
    say(console, "amy@demo: +5")
    assert units(console, "allocated") == {"amy": 5}


# The deadline echo --------------------------------------------------------------------------


@pytest.mark.parametrize(("deadline", "echo", "utc"), [
    ("明天 20:00", "2026-03-11 20:00（週三）", datetime(2026, 3, 11, 12, 0, tzinfo=UTC)),
    ("今晚8點", "2026-03-10 20:00（週二）", datetime(2026, 3, 10, 12, 0, tzinfo=UTC)),
    ("週五 20:00", "2026-03-13 20:00（週五）", datetime(2026, 3, 13, 12, 0, tzinfo=UTC)),
    ("禮拜五 20:00", "2026-03-13 20:00（週五）", datetime(2026, 3, 13, 12, 0, tzinfo=UTC)),
    ("12/20 20:00", "2026-12-20 20:00（週日）", datetime(2026, 12, 20, 12, 0, tzinfo=UTC)),
    ("2026-12-20 20:00", "2026-12-20 20:00（週日）", datetime(2026, 12, 20, 12, 0, tzinfo=UTC)),
])
def test_the_opened_reply_echoes_the_deadline_as_a_date_time_and_weekday(console, deadline, echo,
                                                                         utc):
    out = say(console, f"leader@demo: /open 梨 | 80 | - | {deadline}")
    assert f"\n截止 {echo}。\n" in out[0]
    assert the_buy(console).deadline == utc


def test_the_opened_reply_echoes_the_weekday_in_english(console):
    english(console, "leader")
    out = say(console, "leader@demo: /open Pears | 80 | - | fri 20:00")
    assert "\nDeadline 2026-03-13 20:00 (Fri).\n" in out[0]


def test_the_guided_flow_echoes_the_deadline_before_the_next_question(console):
    say(console, "leader@demo: /open", "leader@demo: 梨", "leader@demo: 80", "leader@demo: -")
    out = say(console, "leader@demo: 週五晚上8點")
    assert out == [
        "bot -> leader@demo: 截止時間：2026-03-13 20:00（週五），請確認日期；輸入 /cancel 重來。",
        "bot -> leader@demo: （5/8）請輸入分類（或 -）。輸入 /cancel 放棄。",
    ]


@pytest.mark.parametrize(("deadline", "answer"), [
    ("02-30 20:00", "截止時間（例如 12-01 20:00、明天 20:00、週五 20:00、2h）的格式不正確。"),
    ("25:00", "截止時間（例如 12-01 20:00、明天 20:00、週五 20:00、2h）的格式不正確。"),
    ("13/01 20:00", "截止時間（例如 12-01 20:00、明天 20:00、週五 20:00、2h）的格式不正確。"),
    ("明天", "截止時間（例如 12-01 20:00、明天 20:00、週五 20:00、2h）的格式不正確。"),
    ("03-07 20:00", "截止時間 2026-03-07 20:00 已經過了。"),
    ("11:00", "截止時間 2026-03-10 11:00 已經過了。"),
])
def test_an_impossible_or_past_deadline_is_refused_and_nothing_is_opened(console, deadline,
                                                                         answer):
    assert say(console, f"leader@demo: /open 梨 | 80 | - | {deadline}") == [
        f"bot -> leader@demo: {answer}"]
    assert count(console, GroupBuy) == 0


def test_a_plus_one_marks_the_roster_changed_and_a_refused_one_does_not(console):
    say(console, "leader@demo: /open 梨 | 80 | 1 | 2h | - | - | 1")
    revisions = [the_buy(console).roster_rev]
    for line in ("amy@demo: +1", "bob@demo: +1", "cat@demo: +1"):  # stock, then the waitlist
        say(console, line)
        revisions.append(the_buy(console).roster_rev)
    assert revisions == sorted(set(revisions)), revisions
    for refused in ("amy@demo: +1", "bob@demo: +2", "cat@demo: +0"):  # the limit; a bad quantity
        say(console, refused)
        assert the_buy(console).roster_rev == revisions[-1], refused
    assert units(console, "allocated") == {"amy": 1}
    assert units(console, "waitlisted") == {"bob": 1, "cat": 1}
