"""Running the bot for real: Telegram (polling or webhook), the delivery worker, the scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal

import uvicorn

from bot.app import bootstrap
from bot.settings import Settings
from bot.telegram import CHANNEL, TelegramChannel
from bot.web import web_app
from scheduler import roster
from scheduler.delivery import DeliveryWorker
from scheduler.jobs import build_scheduler

log = logging.getLogger(__name__)


def run_telegram(settings: Settings) -> int:
    asyncio.run(serve_telegram(settings))
    return 0


async def serve_telegram(settings: Settings, stop: asyncio.Event | None = None) -> None:
    app = bootstrap(settings)
    channel = TelegramChannel(app.deps, settings)
    worker = DeliveryWorker(app.deps.sessions, CHANNEL, channel.send, app.deps.clock)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    scheduler = build_scheduler(app.deps)
    async with channel.app:
        app.deps.bot_names[CHANNEL] = channel.app.bot.username or settings.telegram_bot_name
        await channel.app.start()
        scheduler.start()
        worker_task = asyncio.create_task(worker.run(stop))
        roster_task = asyncio.create_task(roster.run(app.deps, CHANNEL, channel.post_roster, stop))
        if settings.telegram_webhook_url:
            secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
            await channel.app.bot.set_webhook(settings.telegram_webhook_url, secret_token=secret)
            server = uvicorn.Server(uvicorn.Config(
                web_app(channel, secret),
                host=settings.listen_host, port=settings.listen_port, log_level="warning",
            ))
            server_task = asyncio.create_task(server.serve())
            await stop.wait()
            server.should_exit = True
            await server_task
        else:
            assert channel.app.updater is not None
            await channel.app.updater.start_polling(drop_pending_updates=False)
            log.info("telegram: long polling")
            await stop.wait()
            await channel.app.updater.stop()
        await worker_task
        await roster_task
        scheduler.shutdown(wait=False)
        await channel.app.stop()
