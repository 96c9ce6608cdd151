"""`tuanbot run` with a platform configured: the whole process wiring, end to end."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot import inbox, runner
from bot.app import App
from messages.types import Incoming
from tests.fakes.telegram_api import FakeTelegramAPI, text_update


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def configured(app: App, fake: FakeTelegramAPI, **extra: object) -> object:
    return dataclasses.replace(
        app.settings, telegram_token="123:ABC", telegram_base_url=fake.base_url,
        telegram_base_file_url=fake.base_file_url, **extra)


async def run_until(settings: object, app: App, condition, fake: FakeTelegramAPI) -> None:  # type: ignore[no-untyped-def]
    stop = asyncio.Event()
    original = runner.bootstrap
    runner.bootstrap = lambda s, **kw: dataclasses.replace(app, settings=s)  # type: ignore[assignment]
    try:
        task = asyncio.create_task(runner.serve(settings, stop))  # type: ignore[arg-type]
        try:
            await fake.wait_for_async(condition, timeout=10)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
    finally:
        runner.bootstrap = original  # type: ignore[assignment]


@pytest.mark.asyncio
async def test_run_answers_telegram_through_long_polling_and_stops_cleanly(app: App):
    with FakeTelegramAPI() as fake:
        fake.push_update(text_update(1, "/start", 4242))
        await run_until(configured(app, fake), app,
                        lambda f: any("Demo" in c.get("text", "") for c in f.sent()), fake)
        assert fake.sent(chat_id=4242)


@pytest.mark.asyncio
async def test_an_event_accepted_before_a_crash_is_answered_after_the_restart(app: App):
    msg = Incoming("telegram", "4343", "4343", "/help", "77", sender_name="Ann")
    assert inbox.accept(app.deps, msg)  # stored, then the process "died" before processing
    app.deps.clock = lambda: datetime.now(UTC) + timedelta(minutes=5)  # the restart, later
    with FakeTelegramAPI() as fake:
        await run_until(configured(app, fake), app, lambda f: bool(f.sent(chat_id=4343)), fake)
    assert inbox.accept(app.deps, msg) is False


@pytest.mark.asyncio
async def test_the_telegram_webhook_stores_the_update_before_answering(app: App):
    port = free_port()
    with FakeTelegramAPI() as fake:
        settings = configured(app, fake, telegram_webhook_url="https://example.invalid/telegram",
                              telegram_webhook_secret="s3cret", listen_port=port)
        stop = asyncio.Event()
        original = runner.bootstrap
        runner.bootstrap = lambda s, **kw: dataclasses.replace(app, settings=s)  # type: ignore[assignment]
        task = asyncio.create_task(runner.serve(settings, stop))  # type: ignore[arg-type]
        try:
            url = f"http://127.0.0.1:{port}/telegram"
            async with httpx.AsyncClient() as client:
                for _ in range(100):
                    try:
                        await client.get(f"http://127.0.0.1:{port}/healthz")
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.05)
                update = text_update(9, "/help", 5151)
                forged = await client.post(url, json=update,
                                           headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
                assert forged.status_code == 403
                ok = await client.post(url, json=update,
                                       headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
                assert ok.status_code == 200
                again = await client.post(url, json=update,
                                          headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
                assert again.status_code == 200
            await fake.wait_for_async(lambda f: bool(f.sent(chat_id=5151)), timeout=10)
            await asyncio.sleep(0.2)
            assert len(fake.sent(chat_id=5151)) == 1  # the redelivery changed nothing
            assert any(c.method == "setWebhook" for c in fake.calls)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            runner.bootstrap = original  # type: ignore[assignment]


@pytest.mark.asyncio
async def test_line_and_telegram_run_side_by_side_in_one_process(app: App):
    from tests.fakes.line_api import FakeLineAPI
    from tests.test_line import AMY, SECRET, TOKEN, event, signed, webhook_body

    port = free_port()
    with FakeTelegramAPI() as telegram, FakeLineAPI(token=TOKEN) as line:
        line.add_user(AMY, "Amy")
        settings = configured(app, telegram, line_channel_secret=SECRET, line_access_token=TOKEN,
                              line_api_base_url=line.base_url, listen_port=port)
        stop = asyncio.Event()
        original = runner.bootstrap
        runner.bootstrap = lambda s, **kw: dataclasses.replace(app, settings=s)  # type: ignore[assignment]
        task = asyncio.create_task(runner.serve(settings, stop))  # type: ignore[arg-type]
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                for _ in range(100):
                    try:
                        await client.get("/healthz")
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.05)
                body = webhook_body(event("message_text_user", user=AMY, text="/me"))
                assert (await client.post("/line", content=body, headers=signed(body))).status_code == 200
            telegram.push_update(text_update(1, "/me", 4242))
            await line.wait_for_async(lambda f: bool(f.message_calls()), timeout=10)
            await telegram.wait_for_async(lambda f: bool(f.sent(chat_id=4242)), timeout=10)
        finally:
            stop.set()
            await asyncio.wait_for(task, timeout=15)
            runner.bootstrap = original  # type: ignore[assignment]
