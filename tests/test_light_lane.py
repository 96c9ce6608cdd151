"""The light lane (handlers.glance): a read-only member command answered on one DB-API
transaction, the same answer as the full path gives, handed back to the full path for
anything it does not do, and over long polling stored with its answer in one transaction."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from bot import inbox, light, policy
from bot.app import App
from bot.console import ConsoleChannel
from handlers.dispatch import handle
from messages.types import Incoming, Reply
from models import sendlog
from models.db import Runner, UnitOfWork
from models.rules.pacing import Limits
from models.tables import ChannelAccount, InboundEvent, Member, OutboxMessage, SendLog
from tests.conftest import Clock, say, sessions_begun
from tests.groupbuy_helpers import units

LEASE = timedelta(seconds=30)


def _event(app: App, key: str) -> InboundEvent | None:
    with UnitOfWork(app.deps.sessions) as uow:
        return uow.session.execute(
            select(InboundEvent).where(InboundEvent.event_key == key)).scalar_one_or_none()


async def _answer_now(app: App, msg: Incoming) -> list[Reply]:
    sent: list[Reply] = []

    async def deliver(_msg: Incoming, reply: Reply) -> None:
        sent.append(reply)

    await light.answer_now(app.deps, msg, inbox.Outlet(deliver, lease=LEASE), ready=True)
    return sent


def test_a_known_members_card_is_answered_without_an_orm_session(console: ConsoleChannel) -> None:
    say(console, "amy@demo: hello", "amy: /start", "leader@demo: /grant @amy 120 welcome gift")
    msg = console.to_incoming("amy@demo: /me")
    assert msg is not None
    with sessions_begun() as begun:
        light = handle(msg, console.deps)
    assert begun == [] and len(light) == 1


def test_the_light_lanes_card_is_the_full_paths_card(console: ConsoleChannel) -> None:
    say(console, "amy@demo: hello", "amy: /start", "leader@demo: /grant @amy 120 welcome gift")
    msg = console.to_incoming("amy@demo: 我的")  # typed without a slash: the full path
    assert msg is not None
    with sessions_begun() as begun:
        handle(msg, console.deps)
    assert begun
    full = say(console, "amy@demo: 我的")
    assert say(console, "amy@demo: /me") == full
    assert "120" in full[0]


def test_a_first_contact_in_the_group_is_made_a_member_on_the_light_lane_as_the_full_path_would(
        console: ConsoleChannel, app: App) -> None:
    msg = console.to_incoming("newbie@demo: /me")
    assert msg is not None
    with sessions_begun() as begun:
        light = handle(msg, console.deps)
    assert begun == [] and len(light) == 1 and "newbie" in light[0].text
    full = say(console, "oldie@demo: 我的")  # typed without a slash: the full path makes oldie
    assert full[0].replace("oldie", "newbie") == f"bot -> newbie@demo: {light[0].text}"
    with UnitOfWork(app.deps.sessions) as uow:
        made = {account.external_id: (account, uow.session.get(Member, account.member_id))
                for account in uow.session.execute(select(ChannelAccount).where(
                    ChannelAccount.external_id.in_(["newbie", "oldie"]))).scalars()}
    (new_account, new_member), (old_account, old_member) = made["newbie"], made["oldie"]
    assert new_member is not None and old_member is not None
    assert (new_member.tier, new_member.points_balance, new_account.handle,
            new_account.opted_out, new_account.private_chat) == (
        old_member.tier, old_member.points_balance, "newbie", old_account.opted_out,
        old_account.private_chat)
    assert new_member.referral_code and new_member.referral_code != old_member.referral_code


def test_a_first_contact_in_private_is_left_to_the_full_path(console: ConsoleChannel) -> None:
    msg = console.to_incoming("newbie: /me")
    assert msg is not None
    with sessions_begun() as begun:
        assert len(handle(msg, console.deps)) == 1
    assert begun  # referral codes, the private chat noted: the full path's


def test_a_card_asked_for_in_a_new_private_chat_is_left_to_the_full_path_which_notes_it(
        console: ConsoleChannel, app: App) -> None:
    say(console, "amy@demo: hello")
    say(console, "amy: /me")  # her first private message: the chat is remembered
    with UnitOfWork(app.deps.sessions) as uow:
        account = uow.session.execute(select(ChannelAccount).where(
            ChannelAccount.external_id == "amy")).scalar_one()
        assert account.private_chat == "amy"


@pytest.mark.asyncio
async def test_a_polled_card_is_stored_with_its_answer_and_a_redelivery_is_not_answered(
        app: App, console: ConsoleChannel) -> None:
    say(console, "amy@demo: hello")
    msg = Incoming("console", "demo", "amy", "/me", "m1", is_group=True, event_key="poll-1")
    first = await _answer_now(app, msg)
    stored = _event(app, "poll-1")
    assert len(first) == 1 and stored is not None
    assert stored.processed_at is not None and stored.replies and stored.payload
    assert stored.replies[0]["text"] == first[0].text
    assert await _answer_now(app, msg) == []


@pytest.mark.asyncio
async def test_a_polled_card_the_process_never_sent_is_sent_by_the_sweeper_after_its_lease(
        app: App, console: ConsoleChannel, clock: Clock) -> None:
    say(console, "amy@demo: hello")
    msg = Incoming("console", "demo", "amy", "/me", "m2", is_group=True, event_key="poll-2")
    kept = light.answer_at_once(app.deps, msg, LEASE)  # stored and answered; then a crash
    assert kept is not None and len(kept) == 1
    sent: list[Reply] = []

    async def deliver(_msg: Incoming, reply: Reply) -> None:
        sent.append(reply)

    outlets = {"console": inbox.Outlet(deliver, lease=LEASE)}
    assert await inbox.recover(app.deps, outlets, unclaimed_for=LEASE) == 0  # leased still
    clock.now += LEASE + timedelta(seconds=1)
    assert await inbox.recover(app.deps, outlets, unclaimed_for=LEASE) == 1
    assert [r.text for r in sent] == [kept[0].text]


@pytest.mark.asyncio
async def test_a_polled_command_that_writes_is_taken_first_as_before(
        app: App, console: ConsoleChannel) -> None:
    say(console, "amy@demo: hello")
    msg = Incoming("console", "demo", "amy", "/checkin", "m3", is_group=True, event_key="poll-3")
    assert light.answer_at_once(app.deps, msg, LEASE) is None
    assert _event(app, "poll-3") is None  # nothing written: `take` stores it
    assert len(await _answer_now(app, msg)) == 1


def _console_outlet(console: ConsoleChannel) -> inbox.Outlet:
    async def deliver(msg: Incoming, reply: Reply) -> None:
        await policy.answer(console, msg, reply)

    def clear(tx: Runner, msg: Incoming, reply: Reply) -> Reply:
        return policy.reserve_in(tx, console, msg, reply)

    return inbox.Outlet(deliver, lease=LEASE, clear=clear)


def _sends(app: App) -> int:
    with UnitOfWork(app.deps.sessions) as uow:
        return len(uow.session.execute(select(SendLog)).all())


@pytest.mark.asyncio
async def test_a_polled_cards_send_is_reserved_once_in_the_transaction_that_keeps_it(
        app: App, console: ConsoleChannel) -> None:
    app.deps.limits["console"] = Limits()  # Telegram's: every send is logged
    say(console, "amy@demo: hello")
    before = _sends(app)
    msg = Incoming("console", "demo", "amy", "/me", "m4", is_group=True, event_key="poll-4")
    await light.answer_now(app.deps, msg, _console_outlet(console), ready=True)
    assert len(console.printed) == 1 and "amy" in console.printed[0]
    assert _sends(app) == before + 1


@pytest.mark.asyncio
async def test_a_polled_card_during_a_429_pause_waits_in_the_outbox(
        app: App, console: ConsoleChannel, clock: Clock) -> None:
    say(console, "amy@demo: hello")
    with UnitOfWork(app.deps.sessions) as uow:
        sendlog.pause(uow.session, "console", clock.now + timedelta(seconds=30))
        uow.commit()
    msg = Incoming("console", "demo", "amy", "/me", "m5", is_group=True, event_key="poll-5")
    await light.answer_now(app.deps, msg, _console_outlet(console), ready=True)
    assert console.printed == []
    with UnitOfWork(app.deps.sessions) as uow:
        queued = uow.session.execute(select(OutboxMessage)).scalars().all()
    assert len(queued) == 1 and "amy" in json.dumps(queued[0].body, ensure_ascii=False)
    assert policy.CLEARED not in json.dumps(queued[0].body)  # a mark for this send only


APPLES = "/open 有機蘋果 | 350 | 3 | 2h"


@pytest.mark.asyncio
async def test_a_polled_plus_one_is_stored_with_its_work_in_one_transaction_and_a_redelivery_is_not(
        app: App, console: ConsoleChannel) -> None:
    say(console, "leader@demo: " + APPLES, "amy@demo: hello")
    msg = Incoming("console", "demo", "amy", "+1", "m6", is_group=True, event_key="poll-6")
    checkouts: list[object] = []

    def checked_out(*_: object) -> None:
        checkouts.append(1)

    event.listen(app.engine.pool, "checkout", checked_out)
    try:
        assert await _answer_now(app, msg) == []  # the group sees the roster
    finally:
        event.remove(app.engine.pool, "checkout", checked_out)
    assert len(checkouts) == 1
    stored = _event(app, "poll-6")
    assert stored is not None and stored.answered_at is not None and not stored.replies
    assert units(app, "allocated") == {"amy": 1}
    assert await _answer_now(app, msg) == []
    assert units(app, "allocated") == {"amy": 1}


@pytest.mark.asyncio
async def test_a_polled_plus_one_with_no_open_buy_is_stored_answered_with_nothing_to_send(
        app: App, console: ConsoleChannel) -> None:
    say(console, "amy@demo: hello")
    msg = Incoming("console", "demo", "amy", "+1", "m7", is_group=True, event_key="poll-7")
    assert await _answer_now(app, msg) == []
    stored = _event(app, "poll-7")
    assert stored is not None and stored.answered_at is not None and not stored.replies


@pytest.mark.asyncio
async def test_a_polled_join_refused_is_stored_with_its_refusal_to_send_again_if_it_never_left(
        app: App, console: ConsoleChannel) -> None:
    say(console, "amy@demo: hello")
    msg = Incoming("console", "demo", "amy", "/join #9", "m8", is_group=True, event_key="poll-8")
    [refusal] = await _answer_now(app, msg)
    stored = _event(app, "poll-8")
    assert stored is not None and stored.replies and stored.replies[0]["text"] == refusal.text
    assert stored.answered_at is None and stored.claimed_until is not None  # until delivered
