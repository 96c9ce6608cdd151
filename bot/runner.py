"""Running the bot for real: every configured platform in one process.

Telegram (long polling, or a webhook), LINE and WeChat (webhooks) share one ASGI app on
uvicorn; each platform has a delivery worker draining its outbox; Telegram and LINE have a
roster publisher; the APScheduler of the one process holding the scheduler lease runs
the jobs (scheduler.election). The inbox sweeper processes at start-up
what was accepted and never claimed, then every few seconds takes over events whose worker
died (their lease ran out), answering again what was processed but never answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import signal
import socket
from datetime import timedelta
from functools import partial
from typing import Any

import uvicorn

from bot import inbox, marks, polling
from bot.app import App, bootstrap
from bot.settings import Settings, platforms
from bot.web import web_app
from scheduler import roster
from scheduler.election import Elector
from scheduler.jobs import build_scheduler
from scheduler.paced import PACE, PacedWorker
from scheduler.stops import tell_sending_stopped
from scheduler.together import MULTICAST_LIMIT

log = logging.getLogger(__name__)
# LINE cannot edit a message: a changed roster is pushed anew, so not more than once a minute.
LINE_ROSTER_INTERVAL = timedelta(minutes=1)


def run(settings: Settings) -> int:
    asyncio.run(serve(settings))
    return 0


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    app = bootstrap(settings)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    scheduler = build_scheduler(app.deps, app.engine)
    elector = Elector(app.deps.sessions, scheduler, app.deps.clock,
                      lease=timedelta(seconds=settings.scheduler_lease))
    tasks: list[asyncio.Task[None]] = []
    web: dict[str, Any] = {}
    deliverers: dict[str, inbox.Outlet] = {}
    async with contextlib.AsyncExitStack() as stack:
        configured = platforms(settings)
        if "telegram" in configured:
            await _telegram(app, stack, stop, tasks, web, deliverers)
        if "line" in configured:
            await _line(app, stack, stop, tasks, web, deliverers)
        if "wechat" in configured:
            await _wechat(app, stack, stop, tasks, web, deliverers)
        tasks.append(asyncio.create_task(elector.run(stop)))  # schedules only while elected
        gc.freeze()  # what start-up built is never scanned again: no long pauses mid-pacing
        tasks.append(asyncio.create_task(inbox.sweeper(app.deps, deliverers, stop)))
        server = None
        if web:
            server = uvicorn.Server(uvicorn.Config(web_app(**web), log_level="warning"))
            listening = _listen(settings.listen_host, settings.listen_port)
            stack.callback(listening.close)
            tasks.append(asyncio.create_task(server.serve(sockets=[listening])))
        log.info("running: %s", ", ".join(configured))
        await stop.wait()
        if server is not None:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        marks.flush_answered(app.deps)  # the answered marks still due


def _worker(app: App, channel: str, send: Any, stop: asyncio.Event,
            **options: Any) -> asyncio.Task[None]:
    """The platform's delivery worker; a stop (a quota used up) is told to the owners."""
    pace = {**PACE, "lease": timedelta(seconds=app.settings.delivery_lease), **options}
    worker = PacedWorker(app.deps.sessions, channel, send, app.deps.clock,
                         limits=app.deps.limits.get(channel),
                         on_stop=partial(tell_sending_stopped, app.deps), **pace)
    return asyncio.create_task(worker.run(stop))


async def _telegram(app: App, stack: contextlib.AsyncExitStack, stop: asyncio.Event,
                    tasks: list[asyncio.Task[None]], web: dict[str, Any],
                    deliverers: dict[str, Any]) -> None:
    from bot.telegram import CHANNEL, TelegramChannel

    settings = app.settings
    channel = TelegramChannel(app.deps, settings)
    await stack.enter_async_context(channel.app)
    app.deps.bot_names[CHANNEL] = channel.app.bot.username or settings.telegram_bot_name
    await channel.app.start()
    stack.push_async_callback(channel.app.stop)
    tasks.append(_worker(app, CHANNEL, channel.send, stop))
    tasks.append(asyncio.create_task(roster.run(app.deps, CHANNEL, channel.post_roster, stop)))
    deliverers[CHANNEL] = channel.outlet
    if settings.telegram_webhook_url:
        secret = settings.telegram_webhook_secret or secrets.token_urlsafe(32)
        await channel.app.bot.set_webhook(settings.telegram_webhook_url, secret_token=secret)
        web.update(telegram=channel, telegram_secret=secret)
    else:  # our own polling: an update is confirmed to Telegram once stored (bot.polling)
        await channel.app.bot.delete_webhook(drop_pending_updates=False)
        tasks.append(asyncio.create_task(polling.poll(channel, stop)))


async def _line(app: App, stack: contextlib.AsyncExitStack, stop: asyncio.Event,
                tasks: list[asyncio.Task[None]], web: dict[str, Any],
                deliverers: dict[str, Any]) -> None:
    from bot.line import CHANNEL, LineChannel, media_route

    channel = LineChannel(app.deps, app.settings, public_url=app.settings.public_url)
    stack.push_async_callback(channel.close)
    # identical pushes to many members leave as multicasts: claim enough to find them
    tasks.append(_worker(app, CHANNEL, channel.send, stop, multicast=channel.multicast,
                         batch=MULTICAST_LIMIT))
    tasks.append(asyncio.create_task(roster.run(
        app.deps, CHANNEL, channel.post_roster, stop, min_interval=LINE_ROSTER_INTERVAL)))
    deliverers[CHANNEL] = channel.outlet
    web["line"] = channel
    web["media"] = media_route(app.settings)
    web["download"] = _download_route(app)


async def _wechat(app: App, stack: contextlib.AsyncExitStack, stop: asyncio.Event,
                  tasks: list[asyncio.Task[None]], web: dict[str, Any],
                  deliverers: dict[str, Any]) -> None:
    from bot.wechat import CHANNEL, WechatChannel

    channel = WechatChannel(app.deps, app.settings)
    stack.push_async_callback(channel.close)
    tasks.append(_worker(app, CHANNEL, channel.send, stop))
    deliverers[CHANNEL] = channel.outlet
    web["wechat"] = channel
    web["download"] = _download_route(app)


def _download_route(app: App) -> Any:
    from bot.downloads import download_route

    return download_route(app.settings.media_dir, app.settings.link_key(), app.deps.clock)


def _listen(host: str, port: int) -> socket.socket:
    """The webhook socket, with TCP_NODELAY (inherited by accepted connections): a response
    written in two pieces must not wait for the peer's delayed ACK (40 ms on Linux)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listening.bind((host, port))
    listening.listen(2048)
    listening.set_inheritable(True)
    return listening
