"""A known member's '+1' in the group on the light lane (handlers.glance: one DB-API
transaction, no ORM Session): the same join and the same confirmation as the full path,
and anything it does not do handed back to the full path with nothing of its own kept."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.app import App
from bot.console import ConsoleChannel
from handlers.dispatch import handle
from models.db import UnitOfWork
from models.tables import GroupBuy, OutboxMessage
from tests.conftest import say, sessions_begun
from tests.groupbuy_helpers import count, units

APPLES = "/open 有機蘋果 | 350 | 3 | 2h"


def _confirmations(app: App) -> dict[str, str]:
    """Chat → text of each queued private confirmation."""
    with UnitOfWork(app.deps.sessions) as uow:
        rows = uow.session.execute(select(OutboxMessage)).scalars().all()
    return {row.chat_id: row.body["text"] for row in rows}


def test_a_known_members_plus_one_joins_without_an_orm_session(
        console: ConsoleChannel, app: App) -> None:
    say(console, f"leader@demo: {APPLES}", "amy@demo: hello", "amy: /start")
    msg = console.to_incoming("amy@demo: +1")
    assert msg is not None
    with sessions_begun() as begun:
        assert handle(msg, console.deps) == []  # the group sees the roster
    assert begun == []
    assert units(console, "allocated") == {"amy": 1}
    assert "已為你保留 1 份" in _confirmations(app)["amy"]


def test_the_light_lanes_confirmation_is_the_full_paths(console: ConsoleChannel, app: App) -> None:
    say(console, f"leader@demo: {APPLES}", "amy@demo: hi", "amy: /start", "bob@demo: hi",
        "bob: /start")
    msg = console.to_incoming("bob@demo: +1 #1")  # names its buy: the full path
    assert msg is not None
    with sessions_begun() as begun:
        handle(msg, console.deps)
    assert begun
    say(console, "amy@demo: +1")
    texts = _confirmations(app)
    assert texts["amy"] == texts["bob"] and "NT$350" in texts["amy"]


def test_a_member_who_never_started_the_bot_joins_with_no_confirmation_queued(
        console: ConsoleChannel) -> None:
    say(console, f"leader@demo: {APPLES}", "amy@demo: hello")
    msg = console.to_incoming("amy@demo: +1")
    assert msg is not None
    with sessions_begun() as begun:
        handle(msg, console.deps)
    assert begun == [] and units(console, "allocated") == {"amy": 1}
    assert count(console, OutboxMessage) == 0


def test_a_first_contacts_plus_one_makes_the_member_and_joins_on_the_light_lane(
        console: ConsoleChannel) -> None:
    say(console, f"leader@demo: {APPLES}")
    msg = console.to_incoming("amy@demo: +2")
    assert msg is not None
    with sessions_begun() as begun:
        assert handle(msg, console.deps) == []
    assert begun == []
    assert units(console, "allocated") == {"amy": 2}
    assert count(console, OutboxMessage) == 0  # she never started the bot: nowhere to confirm


def test_a_redelivered_plus_one_joins_once(console: ConsoleChannel) -> None:
    say(console, f"leader@demo: {APPLES}", "amy@demo: hello")
    msg = console.to_incoming("amy@demo: +1")
    assert msg is not None
    handle(msg, console.deps)
    assert handle(msg, console.deps) == []
    assert units(console, "allocated") == {"amy": 1}


def test_free_stock_with_members_waiting_serves_the_queue_before_a_new_plus_one(
        console: ConsoleChannel, app: App) -> None:
    say(console, f"leader@demo: {APPLES}")
    for name in ("amy", "bob", "cat", "dan"):
        say(console, f"{name}@demo: +1")
    with UnitOfWork(app.deps.sessions) as uow:  # a unit freed that nobody served yet
        uow.session.execute(update(GroupBuy).values(stock=GroupBuy.stock + 1))
        uow.commit()
    say(console, "eve@demo: hello")
    msg = console.to_incoming("eve@demo: +1")
    assert msg is not None
    with sessions_begun() as begun:
        handle(msg, console.deps)
    assert begun  # handed to the full path, which serves the waitlist
    assert units(console, "allocated") == {"amy": 1, "bob": 1, "cat": 1, "dan": 1}
    assert units(console, "waitlisted") == {"eve": 1}


def test_a_refused_plus_one_on_the_light_lane_is_answered_as_the_full_path_answers_it(
        console: ConsoleChannel) -> None:
    say(console, "leader@demo: /open 有機蘋果 | 350 | 30 | 2h", "amy@demo: hello")
    assert say(console, "amy@demo: +25") == ["bot -> amy@demo: #1 有機蘋果 每人限購 20 份。"]
    assert units(console, "allocated") == {}
    say(console, "amy@demo: +10")  # nothing of the refused one was kept
    assert units(console, "allocated") == {"amy": 10}
