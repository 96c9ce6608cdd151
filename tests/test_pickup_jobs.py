"""The after-close jobs with the test clock: payment reminders, the last-day pickup reminder,
the rating request — each once per member and due time, never after payment or opt-out."""

from __future__ import annotations

from sqlalchemy import select, update

from models.db import UnitOfWork
from models.tables import Community, OutboxMessage
from scheduler.jobs import find
from scheduler.pickup import after_close
from tests.conftest import say
from tests.groupbuy_helpers import fetch, started


def closed_buy(console) -> None:
    """Amy holds two lines (2 + 1), Bob one; closed at 12:00 on 2026-03-10 in Taipei."""
    started(console, "amy", "bob", "leader")
    say(console, "leader@demo: /open 蘋果 | 100 | 10 | 2h", "amy@demo: +2", "bob@demo: +1",
        "amy@demo: +1", "leader@demo: /close")


def pushed(console, who: str, start: str) -> list[str]:
    return [line for line in console.pushes() if line.startswith(f"bot -> {who}: {start}")]


def configure(console, **programme: object) -> None:
    with UnitOfWork(console.deps.sessions) as uow:
        uow.session.execute(update(Community).values(programme=programme))
        uow.commit()


def test_one_payment_reminder_per_unpaid_member_a_day_after_close_and_one_more_a_day_later(console, clock):
    closed_buy(console)
    clock.advance(hours=23, minutes=59)
    assert after_close(console.deps) == 0
    clock.advance(minutes=1)
    assert after_close(console.deps) == 2
    assert sorted(console.pushes()) == ["bot -> amy: 提醒你：蘋果（#1，3 份）還沒付款，金額 NT$300。",
                                        "bot -> bob: 提醒你：蘋果（#1，1 份）還沒付款，金額 NT$100。"]
    assert after_close(console.deps) == 0
    clock.advance(hours=24)
    assert after_close(console.deps) == 2
    clock.advance(days=5)
    assert after_close(console.deps) == 0  # at most two


def test_no_payment_reminder_after_payment(console, clock):
    closed_buy(console)
    say(console, "leader@demo: /paid 1 3")
    clock.advance(hours=24)
    assert after_close(console.deps) == 1
    assert pushed(console, "amy", "") == []


def test_no_payment_reminder_after_opting_out_of_reminders(console, clock):
    closed_buy(console)
    say(console, "amy: /optout")
    clock.advance(hours=48)
    assert after_close(console.deps) == 1
    assert pushed(console, "amy", "") == []


def test_no_more_payment_reminders_than_the_programme_allows(console, clock):
    closed_buy(console)
    configure(console, payment_reminders={"after_hours": 2, "count": 1})
    clock.advance(hours=2)
    assert after_close(console.deps) == 2
    clock.advance(days=3)
    assert after_close(console.deps) == 0


def test_no_payment_reminder_while_the_buy_is_open(console, clock):
    started(console, "amy", "leader")
    say(console, "leader@demo: /open 蘋果 | 100 | 10 | 5d", "amy@demo: +1")
    clock.advance(days=3)
    assert after_close(console.deps) == 0


def arrived(console) -> None:
    closed_buy(console)
    say(console, "leader@demo: /paid all", "leader@demo: /arrived #1 大樓管理室 週五 20:00")
    console.pushes()


def test_the_pickup_reminder_comes_the_day_before_the_window_ends_to_who_has_not_picked_up(console, clock):
    arrived(console)
    say(console, "leader@demo: /picked @bob")
    clock.advance(days=2, hours=7, minutes=59)  # 2026-03-12 19:59
    after_close(console.deps)  # Bob is asked to rate his apples, nobody reminded
    assert [line for line in console.pushes() if "最後一天取貨" in line] == []
    clock.advance(minutes=1)
    assert after_close(console.deps) == 1
    [reminder] = console.pushes()
    assert reminder == ("bot -> amy: 最後一天取貨：蘋果（#1，3 份），地點 大樓管理室，"
                        "期限 2026-03-13 20:00。")
    assert after_close(console.deps) == 0
    clock.advance(days=1)
    assert after_close(console.deps) == 0  # the window has ended


def test_a_rating_is_asked_once_a_day_after_pickup_with_a_button_per_score(console, clock):
    arrived(console)
    say(console, "leader@demo: /picked @amy")
    clock.advance(hours=23)
    assert after_close(console.deps) == 0
    clock.advance(hours=1)
    assert after_close(console.deps) == 1
    body = fetch(console, select(OutboxMessage.body).where(OutboxMessage.dedupe_key.like("rateask:%")))
    assert [data for _, data in body[0]["buttons"]] == [f"/rate #1 {k}" for k in range(1, 6)]
    assert pushed(console, "amy", "蘋果（#1）還滿意嗎")
    clock.advance(days=1)
    assert after_close(console.deps) == 0


def test_no_rating_request_after_the_member_rated(console, clock):
    arrived(console)
    say(console, "leader@demo: /picked @amy", "amy: /rate #1 5")
    clock.advance(days=1)
    assert after_close(console.deps) == 0


def test_the_after_close_job_is_registered(console):
    assert find("after_close") is not None
