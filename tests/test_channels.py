"""Every adapter is a Channel, and every adapter's answers go through the one policy."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from bot.app import App
from bot.channel import Channel
from bot.console import ConsoleChannel
from bot.line import LineChannel
from bot.telegram import TelegramChannel
from bot.wechat import WechatChannel
from messages.types import Incoming, Reply
from models.db import UnitOfWork
from models.rules.pacing import Limits
from models.tables import OutboxMessage, SendLog
from tests.fakes.line_api import FakeLineAPI
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.wechat_api import FakeWechatAPI
from tests.telegram_helpers import make_channel as telegram_channel

ONE_A_SECOND = Limits(per_bot=1, per_chat=0, per_group=0)


def test_every_adapter_is_a_channel():
    wanted = {"name", "supports", "transient", "answer", "send", "post_roster"}
    for adapter in (TelegramChannel, LineChannel, WechatChannel, ConsoleChannel):
        assert wanted <= set(dir(adapter)), adapter
        assert {"answer", "send", "post_roster"} <= set(Channel.__dict__)


def rows(app: App, table: type) -> int:
    with UnitOfWork(app.deps.sessions) as uow:
        return int(uow.session.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def tg_api() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
def line_api() -> Iterator[FakeLineAPI]:
    with FakeLineAPI() as api:
        yield api


@pytest.fixture
def wx_api() -> Iterator[FakeWechatAPI]:
    with FakeWechatAPI() as api:
        yield api


@pytest_asyncio.fixture
async def adapters(app: App, tg_api: FakeTelegramAPI, line_api: FakeLineAPI,
                   wx_api: FakeWechatAPI) -> AsyncIterator[dict[str, Channel]]:
    settings = dataclasses.replace(
        app.settings, line_channel_secret="s", line_access_token="test-access-token",
        line_api_base_url=line_api.base_url, wechat_token="w", wechat_app_id=wx_api.app_id,
        wechat_app_secret=wx_api.secret, wechat_api_base_url=wx_api.base_url)
    telegram = telegram_channel(app, tg_api)
    line, wechat = LineChannel(app.deps, settings), WechatChannel(app.deps, settings)
    async with telegram.app:
        yield {"telegram": telegram, "line": line, "wechat": wechat}
    await line.close()
    await wechat.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["telegram", "line", "wechat"])
async def test_private_answers_count_against_the_bots_budget_and_the_rest_wait(
    app: App, adapters: dict[str, Channel], name: str
):
    channel = adapters[name]
    app.deps.limits[name] = ONE_A_SECOND
    user = {"telegram": "2001", "line": "U" + "a" * 32, "wechat": "o" + "a" * 27}[name]
    msg = Incoming(channel=name, chat=user, sender=user, text="/me", message_id="1")
    deliver = channel.outlet.deliver  # type: ignore[attr-defined]  # the inbox's answer path
    await deliver(msg, Reply("first"))
    await deliver(msg, Reply("second"))
    assert rows(app, SendLog) == 1  # the first left now (or was refused), and was counted
    with UnitOfWork(app.deps.sessions) as uow:
        [waiting] = uow.session.execute(select(OutboxMessage)).scalars().all()
    assert (waiting.channel, waiting.chat_id, waiting.body["text"]) == (name, user, "second")
