# ruff: noqa: F811  (the LINE fixtures are imported from tests.test_line)
"""LINE's delivery rules: a stable retry key per push, multicast for identical messages, and
a stop (not a retry loop) when the monthly quota is used up. Real line-bot-sdk, real HTTP,
the fake Messaging API (which, like LINE, answers 409 to a retry key it already accepted)."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import select

from bot.app import App
from bot.line import CHANNEL, LineChannel
from messages.records import reply_record
from messages.types import Reply
from models import communities, members, outbox, reachability, sendlog
from models.db import UnitOfWork
from models.tables import OutboxMessage
from scheduler.delivery import DeliveryWorker
from scheduler.stops import tell_sending_stopped
from tests.conftest import Clock
from tests.fakes.line_api import FakeLineAPI
from tests.test_line import AMY, BOB, LEADER, channel, fake  # noqa: F401 (fixtures)

CAROL = "U" + "c3" * 16
MONTHLY = "You have reached your monthly limit."


def queue(app: App, clock: Clock, *to: str, text: str = "sale") -> list[OutboxMessage]:
    with UnitOfWork(app.deps.sessions) as uow:
        rows = [outbox.enqueue(uow.session, CHANNEL, chat, reply_record(Reply(text)), clock(),
                               kind="promotion") for chat in to]
        uow.commit()
    return [row for row in rows if row is not None]


def rows(app: App) -> list[OutboxMessage]:
    with app.deps.sessions() as session:
        return list(session.execute(select(OutboxMessage).where(OutboxMessage.channel == CHANNEL)
                                    .order_by(OutboxMessage.id)).scalars())  # type: ignore[arg-type]


def telegram_owner(app: App) -> None:
    """The demo community's owner also on Telegram (the console owner has no private chat)."""
    with UnitOfWork(app.deps.sessions) as uow:
        community = members.community_by_slug(uow.session, "demo")
        assert community is not None
        owner = members.join(uow.session, community, "telegram", "777", "777", "Boss",
                             app.deps.clock())
        communities.set_role(uow.session, community.id, owner.member.id, communities.OWNER)  # type: ignore[arg-type]
        reachability.mark_private_reachable(uow.session, "telegram", "777", "777")
        uow.commit()


def worker(app: App, channel: LineChannel, clock: Clock, **options) -> DeliveryWorker:
    return DeliveryWorker(app.deps.sessions, CHANNEL, channel.send, clock, **options)


@pytest.mark.asyncio
async def test_a_push_whose_answer_was_lost_is_retried_with_its_key_and_delivered_once(
    app: App, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    [row] = queue(app, clock, AMY)
    fake.lose_next_answer("push")  # LINE carried it out; the answer never arrived
    pusher = worker(app, channel, clock)
    assert await pusher.drain_once() == 0
    clock.advance(minutes=1)
    assert await pusher.drain_once() == 1
    calls = [c for c in fake.message_calls() if c.endpoint == "push"]
    assert [c.status for c in calls] == [200, 409]  # the second attempt: already accepted
    assert {c.headers["x-line-retry-key"] for c in calls} == {row.retry_key}
    assert fake.texts("push", to=AMY) == ["sale"]  # delivered once
    assert [r.status for r in rows(app)] == ["sent"]


@pytest.mark.asyncio
async def test_every_push_has_a_retry_key_of_its_own(app: App, channel: LineChannel,
                                                     fake: FakeLineAPI, clock: Clock):
    queue(app, clock, AMY, text="one")
    queue(app, clock, AMY, text="two")
    assert await worker(app, channel, clock).drain_once() == 2
    keys = [c.headers["x-line-retry-key"] for c in fake.message_calls()]
    assert len(set(keys)) == 2 and {r.retry_key for r in rows(app)} == set(keys)


@pytest.mark.asyncio
async def test_identical_messages_to_many_members_leave_in_one_multicast(
    app: App, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    queue(app, clock, AMY, BOB, CAROL, text="member day: 10% off")
    queue(app, clock, LEADER, text="hello boss")  # personalised: its own push
    multi = worker(app, channel, clock, multicast=channel.multicast, batch=500)
    assert await multi.drain_once() == 4
    [call] = fake.sent("multicast")
    assert sorted(call["to"]) == sorted([AMY, BOB, CAROL])
    assert fake.texts("push", to=LEADER) == ["hello boss"] and fake.sent("push", to=AMY) == []
    assert {r.status for r in rows(app)} == {"sent"}


@pytest.mark.asyncio
async def test_a_multicast_whose_answer_was_lost_is_not_delivered_twice(
    app: App, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    queue(app, clock, AMY, BOB, CAROL)
    fake.lose_next_answer("multicast")
    multi = worker(app, channel, clock, multicast=channel.multicast, batch=500)
    assert await multi.drain_once() == 0
    clock.advance(minutes=1)
    assert await multi.drain_once() == 3
    calls = [c for c in fake.message_calls() if c.endpoint == "multicast"]
    assert [c.status for c in calls] == [200, 409]
    assert len({c.headers["x-line-retry-key"] for c in calls}) == 1
    assert len(fake.sent("multicast")) == 1 and {r.status for r in rows(app)} == {"sent"}


@pytest.mark.asyncio
async def test_the_monthly_quota_stops_pushes_until_next_month_and_tells_the_owner_once(
    app: App, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    telegram_owner(app)
    queue(app, clock, AMY, BOB, CAROL)
    fake.fail_next("push", 429, message=MONTHLY)
    told: list[int] = []

    def tell(channel_name, until):
        told.append(tell_sending_stopped(app.deps, channel_name, until))

    pushers = [worker(app, channel, clock, on_stop=tell) for _ in range(2)]
    assert await pushers[0].drain_once() == 0
    for pusher in pushers:  # not a retry loop: nothing is tried again this month
        clock.advance(hours=6)
        assert await pusher.drain_once() == 0
    assert len(fake.message_calls()) == 1
    assert told == [1]  # the demo's owner, once
    with app.deps.sessions() as session:
        assert sendlog.stopped(session, CHANNEL, clock()) == f"LINE: {MONTHLY}"
    notices = [r for r in all_rows(app) if (r.dedupe_key or "").startswith("stopped:line:")]
    assert len(notices) == 1 and notices[0].kind == "service" and notices[0].channel == "telegram"
    assert "LINE" in notices[0].body["text"]
    assert {r.status for r in rows(app)} == {"pending"}  # kept for next month
    clock.advance(days=31)  # the quota starts anew
    assert await pushers[1].drain_once() == 3


def all_rows(app: App) -> list[OutboxMessage]:
    with app.deps.sessions() as session:
        return list(session.execute(select(OutboxMessage)).scalars())


def test_the_runner_tells_owners_through_notify(app: App, clock: Clock):
    telegram_owner(app)
    assert partial(tell_sending_stopped, app.deps)("line", clock()) == 1
    assert partial(tell_sending_stopped, app.deps)("line", clock()) == 0  # once a month
