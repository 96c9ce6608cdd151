"""Authentic (signed) but malformed bodies never give 500 and never log a traceback: each is
refused with a 4xx, or ignored with one log line."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.app import App
from bot.line import LineChannel
from bot.web import web_app
from bot.wechat import WechatChannel
from models.tables import InboundEvent
from tests.conftest import Clock
from tests.fakes.line_api import FakeLineAPI
from tests.fakes.telegram_api import FakeTelegramAPI, text_update
from tests.fakes.wechat_api import FakeWechatAPI
from tests.telegram_helpers import count, make_channel
from tests.test_line import AMY, event, line_settings, signed, webhook_body
from tests.test_wechat import make_channel as make_wechat
from tests.test_wechat import post as post_wechat
from tests.test_wechat import text_msg

SECRET = "s3cret-token"
DEEP = b"[" * 100_000


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.fixture
def telegram_fake() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as api:
        yield api


@pytest.fixture
def line_fake() -> Iterator[FakeLineAPI]:
    from tests.test_line import TOKEN

    with FakeLineAPI(token=TOKEN) as api:
        yield api


@pytest_asyncio.fixture
async def client(app: App, telegram_fake: FakeTelegramAPI, line_fake: FakeLineAPI,
                 ) -> AsyncIterator[httpx.AsyncClient]:
    """/telegram and /line of the real Starlette app, in process."""
    telegram = make_channel(app, telegram_fake)
    line = LineChannel(app.deps, line_settings(app, line_fake))
    async with telegram.app:
        transport = httpx.ASGITransport(app=web_app(telegram, SECRET, line=line))
        async with httpx.AsyncClient(transport=transport, base_url="http://bot.test") as http:
            yield http
    await line.close()


async def to_telegram(client: httpx.AsyncClient, body: bytes | dict[str, Any]) -> int:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    answer = await client.post("/telegram", content=content,
                               headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    return answer.status_code


def telegram_message(**changes: Any) -> dict[str, Any]:
    update = text_update(7, "/me", 4242)
    update["message"].update(changes)
    return update


@pytest.mark.asyncio
@pytest.mark.parametrize("body", [
    DEEP,
    telegram_message(chat=None),
    telegram_message(date=1e20),
    telegram_message(chat=5),
    telegram_message(entities=5),
    telegram_message(**{"from": "amy"}),
    {"update_id": "x", "message": []},
    [1, 2, 3],
], ids=["nested-100000-deep", "from-but-no-chat", "date-1e20", "chat-a-number",
        "entities-a-number", "from-a-string", "message-a-list", "not-an-object"])
async def test_a_malformed_telegram_update_is_refused_without_a_traceback(
    app: App, client: httpx.AsyncClient, body: Any, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.INFO):
        assert await to_telegram(client, body) == 400
    assert tracebacks(caplog) == []
    assert count(app, InboundEvent) == 0


@pytest.mark.asyncio
async def test_a_telegram_message_with_ids_no_platform_gives_is_ignored(
    app: App, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
):
    update = text_update(8, "/me", 4242)
    update["message"]["chat"]["id"] = int("9" * 80)
    with caplog.at_level(logging.INFO):
        assert await to_telegram(client, update) == 200
    assert tracebacks(caplog) == []
    assert count(app, InboundEvent) == 0


async def to_line(client: httpx.AsyncClient, body: bytes) -> int:
    return (await client.post("/line", content=body, headers=signed(body))).status_code


@pytest.mark.asyncio
async def test_a_deeply_nested_line_body_is_refused(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.INFO):
        assert await to_line(client, DEEP) == 400
        assert await to_line(client, b'{"events": ' + DEEP + b"}") == 400
    assert tracebacks(caplog) == []


def odd(name: str, **changes: Any) -> dict[str, Any]:
    found = event(name, text="/me") if name.startswith("message") else event(name)
    found.update(changes)
    return found


@pytest.mark.asyncio
@pytest.mark.parametrize("found", [
    odd("message_text_user", source="Uabc"),
    odd("message_text_user", source={"type": "user", "userId": ["U1"]}),
    odd("message_text_user", message="hello"),
    odd("message_text_user", message={"type": "text", "text": "/me", "mention": "x"}),
    odd("message_text_user", message={"type": "text", "text": "@a /me", "mention": {
        "mentionees": [{"index": "0", "length": 2}, {"index": 1, "length": 1}]}}),
    odd("postback", postback="data"),
    odd("unfollow", source=[1]),
    odd("message_text_user", source={"type": "user", "userId": "U" * 200}),
], ids=["source-a-string", "user-id-a-list", "message-a-string", "mention-a-string",
        "mention-index-a-string", "postback-a-string", "unfollow-source-a-list",
        "user-id-200-long"])
async def test_an_odd_line_event_is_ignored_with_one_log_line(
    app: App, client: httpx.AsyncClient, found: dict[str, Any],
    caplog: pytest.LogCaptureFixture
):
    with caplog.at_level(logging.INFO):
        assert await to_line(client, webhook_body(found, event("message_text_user", user=AMY,
                                                                text="/help"))) == 200
    assert tracebacks(caplog) == []
    assert count(app, InboundEvent) <= 1  # the well-formed neighbour only


@pytest.mark.asyncio
async def test_a_line_text_holding_a_nul_is_cleaned_at_the_edge_and_answered(
    app: App, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
):
    found = odd("message_text_user", message={"type": "text", "id": "1", "text": "/me\x00"})
    with caplog.at_level(logging.INFO):
        assert await to_line(client, webhook_body(found)) == 200
    assert tracebacks(caplog) == []
    with app.deps.sessions() as session:
        stored = session.execute(select(InboundEvent.payload)).scalars().all()
    assert [payload["text"] for payload in stored] == ["/me"]


@pytest_asyncio.fixture
async def wechat(app: App) -> AsyncIterator[tuple[WechatChannel, httpx.AsyncClient]]:
    from tests.test_wechat import asgi

    with FakeWechatAPI() as fake:
        channel = make_wechat(app, fake)
        transport = httpx.ASGITransport(app=asgi(channel))
        async with httpx.AsyncClient(transport=transport, base_url="http://wx.test") as http:
            yield channel, http
        await channel.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("body, status", [
    (b"<xml>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</xml>", 200),
    (b"[" * 100_000, 400),
    (b"<xml><Content>\x00</Content></xml>", 400),
    (b"<xml><FromUserName>" + b"o" * 200 + b"</FromUserName><MsgType>text</MsgType>"
     b"<Content>/me</Content><MsgId>1</MsgId></xml>", 200),
    (b"<xml><FromUserName>oX</FromUserName><MsgType>event</MsgType><Event>subscribe</Event>"
     b"<EventKey>qrscene_" + b"r" * 5000 + b"</EventKey></xml>", 200),
], ids=["nested-100000-deep", "not-xml", "nul-character", "openid-200-long", "scene-5000-long"])
async def test_a_malformed_wechat_message_never_gives_500(
    app: App, wechat: tuple[WechatChannel, httpx.AsyncClient], clock: Clock, body: bytes,
    status: int, caplog: pytest.LogCaptureFixture
):
    channel, client = wechat
    with caplog.at_level(logging.INFO):
        assert (await post_wechat(client, body, clock)).status_code == status
        await channel.settle()
    assert tracebacks(caplog) == []
    assert count(app, InboundEvent) == 0
    assert (await post_wechat(client, text_msg("oWellFormed", "/me", clock), clock)).status_code \
        == 200
