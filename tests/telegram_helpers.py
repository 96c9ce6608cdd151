"""Factories for the Telegram protocol tests: a real PTB channel against the fake Bot API."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from sqlalchemy import func, select
from telegram import Update

from bot.app import App
from bot.telegram import CHANNEL, TelegramChannel
from bot.web import web_app
from messages.records import reply_record
from messages.types import Reply
from models import communities, members
from models.db import UnitOfWork
from models.outbox import enqueue
from models.tables import ChannelAccount, Member, OutboxMessage
from tests.conftest import Clock
from tests.fakes.telegram_api import FakeTelegramAPI, text_update

LEADER, AMY, BOB = 1001, 2001, 2002
GROUP = -100500

_update_ids = itertools.count(1)


def make_channel(app: App, fake: FakeTelegramAPI) -> TelegramChannel:
    settings = dataclasses.replace(
        app.settings, telegram_token="123:ABC", telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url,
    )
    return TelegramChannel(app.deps, settings)


def message(text: str, user_id: int, chat_id: int | None = None, **extra: Any) -> dict[str, Any]:
    """A text update with a fresh update id (and so a fresh message id)."""
    return text_update(next(_update_ids), text, user_id, chat_id, **extra)


async def feed(channel: TelegramChannel, update: dict[str, Any]) -> None:
    """Process one update to the end, replies included, as PTB would after getUpdates."""
    await channel.app.process_update(Update.de_json(update, channel.app.bot))


async def say(channel: TelegramChannel, text: str, user_id: int, chat_id: int | None = None,
              **extra: Any) -> dict[str, Any]:
    update = message(text, user_id, chat_id, **extra)
    await feed(channel, update)
    return update


def seed_leader(app: App, user_id: int = LEADER, username: str = "boss") -> int:
    """A community 'shop' owned by this Telegram user (who has not talked to the bot yet)."""
    with UnitOfWork(app.deps.sessions) as uow:
        community = communities.create(uow.session, "shop", "Shop 團購")
        owner = members.join(uow.session, community, CHANNEL, str(user_id), username, username,
                             app.deps.clock())
        communities.set_role(uow.session, community.id, owner.member.id, communities.OWNER)  # type: ignore[arg-type]
        uow.commit()
        return community.id  # type: ignore[return-value]


async def bound_group(app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock,
                      group: int = GROUP) -> None:
    """Seed the leader, let them /bind the group, forget the bot's answer; a minute later.

    The minute matters: the hand-moved clock stands still, and a group takes one message a
    second and twenty a minute, so tests move the clock between answers to the same group.
    """
    seed_leader(app)
    await say(channel, "/bind", LEADER, group, username="boss")
    assert "已綁定到 Shop 團購" in fake.sent(chat_id=group)[-1]["text"]
    fake.clear()
    clock.advance(minutes=1)


def texts(fake: FakeTelegramAPI, chat_id: int) -> list[str]:
    return [p["text"] for p in fake.sent("sendMessage", chat_id=chat_id)]


def member_of(app: App, user_id: int) -> Member:
    """The (only) member behind this Telegram user."""
    with app.deps.sessions() as session:
        return session.execute(
            select(Member).join(ChannelAccount, ChannelAccount.member_id == Member.id)
            .where(ChannelAccount.channel == CHANNEL, ChannelAccount.external_id == str(user_id))
        ).scalar_one()


def private_chat_of(app: App, user_id: int) -> str | None:
    with app.deps.sessions() as session:
        return session.execute(
            select(ChannelAccount.private_chat)
            .where(ChannelAccount.channel == CHANNEL, ChannelAccount.external_id == str(user_id))
        ).scalar_one()


def count(app: App, table: type, *where: Any) -> int:
    with app.deps.sessions() as session:
        query = select(func.count()).select_from(table)
        return int(session.execute(query.where(*where) if where else query).scalar_one())


def queue(app: App, chat_id: int, text: str, *, is_group: bool = False) -> None:
    """One push in the outbox, due now."""
    with UnitOfWork(app.deps.sessions) as uow:
        enqueue(uow.session, CHANNEL, str(chat_id), reply_record(Reply(text)), app.deps.clock(),
                       is_group=is_group)
        uow.commit()


def outbox(app: App, status: str = "pending") -> list[OutboxMessage]:
    with app.deps.sessions() as session:
        return list(session.execute(
            select(OutboxMessage).where(OutboxMessage.status == status).order_by(OutboxMessage.id)
        ).scalars())


@asynccontextmanager
async def webhook_server(channel: TelegramChannel, secret: str) -> AsyncIterator[str]:
    """The webhook app on a real uvicorn at 127.0.0.1 (random port); yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(web_app(channel, secret), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving
        sock.close()
