"""The ASGI app for webhooks (Starlette): `/telegram` and `/healthz`."""

from __future__ import annotations

import hmac
import json
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.telegram import TelegramChannel

MAX_BODY = 1024 * 1024
log = logging.getLogger(__name__)


async def _body(request: Request) -> bytes | None:
    """The raw body, or None when it is over the limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def web_app(telegram: TelegramChannel | None = None, telegram_secret: str | None = None) -> Starlette:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def telegram_webhook(request: Request) -> Response:
        if telegram is None:
            return PlainTextResponse("not configured", status_code=404)
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if telegram_secret and not hmac.compare_digest(given.encode(), telegram_secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        body = await _body(request)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("an update is a JSON object")
            update = Update.de_json(data, telegram.app.bot)
        except (ValueError, TypeError, KeyError):
            return PlainTextResponse("bad request", status_code=400)
        await telegram.app.update_queue.put(update)
        return PlainTextResponse("ok")

    return Starlette(routes=[
        Route("/healthz", healthz),
        Route("/telegram", telegram_webhook, methods=["POST"]),
    ])
