"""The ASGI app for webhooks (Starlette): `/telegram`, `/healthz`, and the routes the platforms
bring: `/line`, `/wechat`, `/media/…` (LINE's images), `/download/…` (bot/downloads.py: signed,
expiring links to exports for the channels that cannot carry a file)."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update

from bot import inbox
from bot.outbound import read_body
from bot.telegram import TelegramChannel
from messages.types import Incoming

log = logging.getLogger(__name__)
# What PTB and json raise on an authentic body that is not a well-formed update.
MALFORMED = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError,
             OSError, RecursionError)


def web_app(telegram: TelegramChannel | None = None, telegram_secret: str | None = None, *,
            line: Any = None, wechat: Any = None, media: Route | None = None,
            download: Route | None = None) -> Starlette:
    """One ASGI app: /healthz, and /telegram, /line, /wechat for the configured platforms."""
    tasks: set[asyncio.Task[bool]] = set()

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def telegram_webhook(request: Request) -> Response:
        if telegram is None or not telegram_secret:
            return PlainTextResponse("not configured", status_code=404)
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), telegram_secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        body = await read_body(request)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        try:
            msg = _telegram_incoming(telegram, body)
        except MALFORMED as problem:
            log.info("telegram: malformed update refused (%s)", type(problem).__name__)
            return PlainTextResponse("bad request", status_code=400)
        if msg is not None and inbox.take(telegram.deps, msg, telegram.outlet.lease):
            inbox.spawn(telegram.deps, msg, telegram.outlet, tasks, claimed=True)  # after the 200
        return PlainTextResponse("ok")

    routes = [Route("/healthz", healthz), Route("/telegram", telegram_webhook, methods=["POST"])]
    if line is not None:
        routes.append(Route("/line", line.webhook, methods=["POST"]))
    if media is not None:
        routes.append(media)
    if download is not None:
        routes.append(download)
    if wechat is not None:
        routes.append(Route("/wechat", wechat.webhook, methods=["GET", "POST"]))
    return Starlette(routes=routes)


def _telegram_incoming(telegram: TelegramChannel, body: bytes) -> Incoming | None:
    """The update's message for the handlers; None for updates we do not answer. Raises one
    of MALFORMED for a body that is not an update (deep nesting, missing or odd fields)."""
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("an update is a JSON object")
    return telegram.incoming(Update.de_json(data, telegram.app.bot))
