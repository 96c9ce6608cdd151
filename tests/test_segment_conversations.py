"""Leaders define and look at segments in the chat; a bad rule or a non-admin changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from messages.render import LOCALES, Renderer
from models.rules.segments import RuleError, parse_rule
from models.tables import AuditLog, MemberTag, Segment
from tests.conftest import say
from tests.rules.test_segment_rules import BAD_RULES


def rows(console, table) -> int:
    with Session(console.deps.sessions.kw["bind"]) as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def two_apple_buyers(console) -> None:
    for _ in range(2):
        say(console, "leader@demo: /open 蘋果 | 100 | 10 | 2h | 水果 | 14",
            "amy@demo: +1", "bob@demo: +1", "leader@demo: /close")
    say(console, "cat@demo: hello")


def test_a_leader_saves_a_segment_and_sees_its_count_and_members(console):
    two_apple_buyers(console)
    [saved] = say(console, "leader: /segment new 水果迷 category=水果 orders>=2")
    assert "分群「水果迷」已儲存：category=水果 orders>=2" in saved
    assert "目前 2 位會員，例如 amy、bob" in saved
    [shown] = say(console, "leader: /segment 水果迷")
    assert "目前 2 位會員" in shown
    [listed] = say(console, "leader: /segments")
    assert "水果迷 – category=水果 orders>=2 – 2 位" in listed


def test_saving_a_name_again_replaces_its_rule(console):
    two_apple_buyers(console)
    say(console, "leader: /segment new 水果迷 category=水果")
    [again] = say(console, "leader: /segment new 水果迷 orders=0")
    assert "已更新" in again and "目前 2 位會員" in again  # cat and the leader
    assert rows(console, Segment) == 1


def test_a_bad_rule_gets_a_localized_answer_and_nothing_is_saved(console):
    [answer] = say(console, "leader: /segment new 媽媽 category=母嬰 colour=red")
    assert "沒有「colour」這個欄位" in answer and "沒有儲存任何東西" in answer
    [answer] = say(console, "leader: /lang en", "leader: /segment new moms orders>=100000")[1:]
    assert '"orders>=100000": at most 99999' in answer
    [answer] = say(console, "leader: /segment new moms tier>=platinum")
    assert 'no tier "platinum"' in answer
    assert rows(console, Segment) == 0


def test_a_member_cannot_define_segments_and_the_refusal_is_audited(console):
    say(console, "amy: /start")
    [answer] = say(console, "amy: /segment new x orders>=1")
    assert "只有團主" in answer or "權限" in answer or "管理" in answer
    assert rows(console, Segment) == 0
    with Session(console.deps.sessions.kw["bind"]) as session:
        refused = session.execute(select(AuditLog).where(AuditLog.action == "segment")).scalars().all()
    assert [a.allowed for a in refused] == [False]


def test_an_unknown_segment_and_a_missing_rule(console):
    assert "沒有「無」這個分群" in say(console, "leader: /segment 無")[0]
    assert say(console, "leader: /segment new 無")[0].startswith("bot -> leader: 用法：/segment")
    assert say(console, "leader: /segment")[0].startswith("bot -> leader: 用法：/segment")
    assert say(console, "leader: /segment new a=b orders>=1")[0].startswith("bot -> leader: 用法：/segment")


def test_a_segment_is_deleted(console):
    say(console, "leader: /segment new 全體 all")
    assert "已刪除分群「全體」" in say(console, "leader: /segment delete 全體")[0]
    assert rows(console, Segment) == 0


def test_a_leader_tags_and_untags_a_member_and_a_segment_sees_it(console):
    say(console, "amy@demo: hi", "bob@demo: hi")
    assert "已為 amy 加上標籤「VIP」" in say(console, "leader@demo: /tag @amy VIP")[0]
    assert "已經有標籤" in say(console, "leader@demo: /tag @amy VIP")[0]
    assert "目前 1 位會員，例如 amy" in say(console, "leader: /segment new vip tag=VIP")[0]
    assert "已移除" in say(console, "leader@demo: /tag @amy -VIP")[0]
    assert rows(console, MemberTag) == 0
    assert say(console, "leader@demo: /tag @amy")[0].startswith("bot -> leader: 用法：/tag")


@pytest.mark.parametrize(("text", "code"), BAD_RULES)
def test_every_refusal_renders_in_every_language(text, code):
    with pytest.raises(RuleError) as refused:
        parse_rule(text)
    for locale in LOCALES:
        answer = Renderer().render(locale, "segment_bad_rule", problem=refused.value.code,
                                   details=refused.value.details)
        first = answer.splitlines()[0]
        assert not first.endswith((f": {code}.", f"：{code}。")), first  # not the fallback


def test_in_a_group_the_count_and_names_go_to_the_leader_in_private(console):
    two_apple_buyers(console)
    say(console, "leader: /start")
    [answer] = say(console, "leader@demo: /segment new fruit category=水果")
    assert answer.startswith("bot -> leader: ") and "amy" in answer
