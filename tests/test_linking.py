"""One member across platforms: /link joins accounts; nothing is counted twice."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from handlers.dispatch import handle
from messages.types import Incoming
from models import ledger
from models.tables import ChannelAccount, Member
from tests.conftest import say


def incoming(channel: str, user: str, text: str, n: int) -> Incoming:
    return Incoming(channel, user, user, text, f"{user}-{n}", handle=user, sender_name=user)


def session_of(console) -> Session:
    return Session(console.deps.sessions.kw["bind"])  # type: ignore[attr-defined]


def member_of(console, channel: str, user: str) -> Member:
    with session_of(console) as session:
        return session.execute(
            select(Member).join(ChannelAccount, ChannelAccount.member_id == Member.id)
            .where(ChannelAccount.channel == channel, ChannelAccount.external_id == user)
        ).scalar_one()


def code_from(replies) -> str:
    text = replies[0].text
    return text.split("：")[1].split("（")[0].strip() if "：" in text else text.split(": ")[1].split()[0]


def test_a_link_code_joins_a_second_platform_account_and_merges_points(console):
    say(console, "amy: /checkin", "leader@demo: /grant @amy 40 welcome")
    deps = console.deps
    handle(incoming("line", "U-amy", "/checkin", 1), deps)  # a separate member on LINE
    assert member_of(console, "line", "U-amy").id != member_of(console, "console", "amy").id
    code = code_from(handle(incoming("console", "amy", "/link", 2), deps))
    replies = handle(incoming("line", "U-amy", f"/link {code}", 3), deps)
    assert "連結完成" in replies[0].text
    kept = member_of(console, "line", "U-amy")
    assert kept.id == member_of(console, "console", "amy").id
    assert kept.points_balance == 5 + 40 + 5
    with session_of(console) as session:
        assert ledger.ledger_sum(session, kept.id) == kept.points_balance
        members = session.execute(select(func.count()).select_from(Member)
                                  .where(Member.merged_into_id.is_(None))).scalar_one()
    assert members == 2  # leader and amy


def test_a_link_code_works_once(console):
    deps = console.deps
    say(console, "amy: /start")
    code = code_from(handle(incoming("console", "amy", "/link", 1), deps))
    handle(incoming("line", "U-1", f"/link {code}", 1), deps)
    again = handle(incoming("line", "U-2", f"/link {code}", 1), deps)
    assert "已使用或已過期" in again[0].text


def test_an_expired_link_code_is_refused(console, clock):
    deps = console.deps
    say(console, "amy: /start")
    code = code_from(handle(incoming("console", "amy", "/link", 1), deps))
    clock.advance(minutes=11)
    assert "已過期" in handle(incoming("line", "U-1", f"/link {code}", 1), deps)[0].text


def test_a_new_platform_account_is_attached_without_a_second_member(console):
    deps = console.deps
    say(console, "amy: /start")
    code = code_from(handle(incoming("console", "amy", "/link", 1), deps))
    with session_of(console) as session:
        before = session.execute(select(func.count()).select_from(Member)).scalar_one()
    handle(incoming("wechat", "o-amy", f"/link {code}", 1), deps)
    assert member_of(console, "wechat", "o-amy").id == member_of(console, "console", "amy").id
    with session_of(console) as session:
        after = session.execute(select(func.count()).select_from(Member)).scalar_one()
    assert after == before + 1  # the throwaway member the first contact created, merged away


def test_link_codes_are_never_shown_or_used_in_a_group(console):
    say(console, "carl@demo: hi", "leader@demo: >carl /grant 500 vip")
    out = say(console, "carl@demo: /link")
    assert "私訊" in out[0] and "連結碼：" not in out[0]
    code = code_from(handle(incoming("console", "carl", "/link", 9), console.deps))
    refused = say(console, f"dan@demo: /link {code}")
    assert "私訊" in refused[0]
    assert member_of(console, "console", "carl").points_balance == 500


def test_a_code_cannot_join_two_accounts_of_the_same_platform(console):
    say(console, "amy: /start", "bob: /start")
    code = code_from(handle(incoming("console", "amy", "/link", 1), console.deps))
    refused = handle(incoming("console", "bob", f"/link {code}", 1), console.deps)
    assert "另一個 App" in refused[0].text
    assert member_of(console, "console", "bob").id != member_of(console, "console", "amy").id
