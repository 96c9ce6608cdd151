"""Found by playing the merged product through the console as leaders and members would."""

from __future__ import annotations

import pytest

from bot.console import ConsoleChannel
from tests.conftest import say

# each of these starts a line of /config, in every language
CONFIG_LINES = {
    "en": ("Time zone:", "Interest tags:", "Distribution", "Change one (owner):"),
    "zh-Hant": ("時區：", "興趣標籤：", "分銷", "修改（團主）："),
    "zh-Hans": ("时区：", "兴趣标签：", "分销", "修改（团长）："),
}


@pytest.mark.parametrize("locale", sorted(CONFIG_LINES))
def test_config_puts_every_part_of_the_programme_on_its_own_line(
        console: ConsoleChannel, locale: str) -> None:
    say(console, f"leader: /lang {locale}")
    [shown] = say(console, "leader: /config")
    starts = [line.split(" ", 1)[0] for line in shown.splitlines()]
    for head in CONFIG_LINES[locale]:
        assert any(line.startswith(head) for line in shown.splitlines()), (head, starts)


def _code(console: ConsoleChannel, who: str) -> str:
    [text, _qr] = say(console, f"{who}: /invite")
    return text.split("ref=", 1)[1].split()[0]


def test_an_erased_members_invitation_code_invites_nobody(console: ConsoleChannel) -> None:
    say(console, "amy: /start", "amy: /lang en")
    code = _code(console, "amy")
    say(console, "amy: /forget", "amy: yes")
    [welcome] = say(console, f"carl: /start ref_{code}")
    assert "找不到這個邀請碼" in welcome  # carl speaks the community's language


def test_a_group_buy_roster_names_an_erased_member_as_erased(console: ConsoleChannel) -> None:
    say(console, "amy: /start", "leader@demo: /open Apple | 100 | 50 | tomorrow 20:00",
        "amy@demo: +1", "amy: /forget", "amy: 是")
    roster = say(console, "bob@demo: +1")[-1]
    assert "1. （已刪除的會員） ×1" in roster and "2. bob ×1" in roster


def test_the_leaderboard_names_an_erased_distributor_as_erased(console: ConsoleChannel) -> None:
    say(console, "amy: /start", "amy: /apply", "leader: /approve @amy")
    code = _code(console, "amy")
    say(console, f"carl: /start ref_{code}", "leader@demo: /open Apple | 100 | 50 | tomorrow 20:00",
        "carl@demo: +1", "leader@demo: /paid all", "leader@demo: /delivered all",
        "amy: /forget", "amy: 是")
    [board] = say(console, "leader: /leaderboard")
    assert "1. （已刪除的會員） NT$100" in board


def test_a_negative_number_answering_a_guided_step_is_asked_again_not_taken_for_cancel(
        console: ConsoleChannel) -> None:
    say(console, "leader: /lang en", "leader: /coupon new", "leader: TEN")
    again = "\n".join(say(console, "leader: -5"))  # alone, '-5' is also "five fewer"
    assert "Stopped" not in again and "(2/5)" in again
    out = say(console, "leader: 10", "leader: 30", "leader: -", "leader: -")
    assert "Coupon “TEN” made: NT$10 off" in out[-1]


def test_slash_cancel_still_stops_a_guided_flow(console: ConsoleChannel) -> None:
    say(console, "leader: /lang en", "leader: /coupon new", "leader: TEN")
    assert "Stopped: no coupon was made." in say(console, "leader: /cancel")[0]
    assert "Stopped" not in say(console, "leader: hello")[0]


def test_a_guided_answer_that_starts_with_a_command_word_is_an_answer(
        console: ConsoleChannel) -> None:
    """'生日' and '積分' alone are /birthday and /points; inside a flow they are what was asked."""
    say(console, "leader: /lang en", "leader: /segment new all orders>=0", "leader: /campaign new")
    assert "(2/7)" in say(console, "leader: 生日")[0]
    assert "(3/7)" in say(console, "leader: all")[0]
    assert "(4/7)" in say(console, "leader: 積分 加倍 週末")[0]
    out = say(console, "leader: -", "leader: -", "leader: now", "leader: -")
    assert "Campaign 生日 saved: segment all" in out[-1]
    [preview] = [o for o in say(console, "leader: /campaign preview 生日") if "variant A" in o]
    assert "積分 加倍 週末" in preview


def test_a_command_word_outside_a_flow_is_still_the_command(console: ConsoleChannel) -> None:
    say(console, "amy: /start", "amy: /lang en")
    assert "Points balance" in say(console, "amy: 積分")[0]


@pytest.mark.parametrize("line", ["amy: /redeem 99999999999999", "leader: /reward off 99999999999999"])
def test_a_reward_number_too_big_to_exist_gets_the_usage_not_a_number_nobody_typed(
        console: ConsoleChannel, line: str) -> None:
    say(console, "amy: /start", "amy: /lang en", "leader: /lang en")
    [answer] = say(console, line)
    assert "Usage: /re" in answer and "2147483648" not in answer


def test_a_coupon_without_a_kind_is_told_the_coupon_syntax_not_the_rewards(
        console: ConsoleChannel) -> None:
    say(console, "leader: /lang en")
    [answer] = say(console, "leader: /coupon new A")
    assert "amount:100, percent:10, shipping or gift:NAME" in answer and "coupon=" not in answer
    [answer] = say(console, "leader: /reward add A points=5")
    assert "coupon=amount:100, coupon=percent:10, coupon=shipping or gift=NAME" in answer


@pytest.mark.parametrize(("ladder", "named"), [
    ("0:5,10000:3", "commission_ladder：3% 必須高於前一級（5%）"),
    ("0:5,10000:5", "commission_ladder：5% 必須高於前一級（5%）"),
    ("100:5,1000:8", "commission_ladder：第一級要從業績 NT$0 開始"),
])
def test_a_commission_ladder_that_cannot_work_is_named_in_the_leaders_language(
        console: ConsoleChannel, ladder: str, named: str) -> None:
    [answer] = say(console, f"leader: /config set commission_ladder {ladder}")
    assert named in answer and "must" not in answer
    [shown] = say(console, "leader: /config")
    assert "NT$0 起 5%、NT$10,000 起 8%" in shown  # nothing changed


def test_a_reward_of_one_point_reads_one_point_in_english(console: ConsoleChannel) -> None:
    say(console, "leader: /lang en", "amy: /start", "amy: /lang en")
    [added] = say(console, "leader: /reward add Sticker gift=Sticker points=1")
    assert "· 1 point ·" in added
    listed = say(console, "amy: /rewards")[0]
    assert "· 1 point ·" in listed and "1 points" not in listed
    [short] = say(console, "amy: /redeem 1")
    assert "takes 1 point;" in short
