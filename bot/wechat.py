"""The WeChat Official Account channel: XML webhook in, passive reply or customer-service out.

    channel = WechatChannel(deps, settings)
    Route("/wechat", channel.webhook, methods=["GET", "POST"])
    DeliveryWorker(deps.sessions, CHANNEL, channel.send, deps.clock)    # pushes, late answers
    await inbox.recover(deps, {CHANNEL: channel.deliver_reply})
    await channel.close()

An Official Account talks 1:1 only. The webhook (`bot.wechat_webhook`) stores each message
before any answer and answers in the HTTP response when handling is quick; otherwise the
answer follows as a customer-service message, sent from here. Those may only go to a user
seen in the last 48 hours, at most 5 per inbound message (WECHAT_LIMITS; the window and the
count are kept on the member's ChannelAccount, so every process sees the same). Inbound
fields → Incoming and the passive reply's XML: `bot.wechat_xml`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import mimetypes
from collections.abc import Coroutine, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

from bot import inbox, policy, wechat_webhook
from bot.channel import Supports
from bot.downloads import Downloads
from bot.settings import Settings
from bot.wechat_api import WechatApi, WechatError
from bot.wechat_crypto import MessageCrypto
from bot.wechat_xml import (
    CHANNEL,
    TEXT_BYTES,
    passive_and_later,
    reply_xml,
    text_chunks,
    to_incoming,
)
from handlers.context import Deps
from messages.qr import qr_png
from messages.types import Button, Incoming, Reply
from models import notifications_state, reachability
from models.db import UnitOfWork
from models.rules.notify import WECHAT_WINDOW
from scheduler.delivery import RateLimited, Undeliverable

__all__ = [  # the pure helpers stay importable from here
    "CHANNEL", "TEXT_BYTES", "WechatChannel", "passive_and_later", "reply_xml", "text_chunks",
    "to_incoming",
]

RETRY_AFTER = {45009: 3600.0, 45047: 60.0}  # daily API quota; per-user reply quota
GONE = {45015, 43004}  # outside the 48-hour window; unsubscribed
log = logging.getLogger(__name__)


class WechatChannel:
    """A WeChat Official Account behind the Channel protocol (bot.channel)."""

    name = CHANNEL
    supports = Supports(buttons=False, cards=False, edits=False, files=False, groups=False)
    transient: tuple[type[Exception], ...] = (httpx.HTTPError, WechatError, ValueError)

    def __init__(self, deps: Deps, settings: Settings, *,
                 http: httpx.AsyncClient | None = None) -> None:
        assert settings.wechat_token, "WECHAT_TOKEN is required for the WeChat channel"
        self.deps, self.token = deps, settings.wechat_token
        self.crypto = (MessageCrypto(settings.wechat_token, settings.wechat_aes_key,
                                     settings.wechat_app_id or "")
                       if settings.wechat_aes_key else None)
        self.api = WechatApi(settings.wechat_api_base_url, settings.wechat_app_id or "",
                             settings.wechat_app_secret or "", deps.clock, http)
        self.window = deps.reply_windows.get(CHANNEL, WECHAT_WINDOW)
        self.downloads = Downloads(settings.public_url, settings.link_key(), deps.media_dir,
                                   deps.clock, settings.link_ttl)
        self._scene_urls: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.passive_timeout = settings.wechat_passive_timeout
        self.outlet = inbox.Outlet(self.deliver_reply, lease=timedelta(seconds=settings.inbox_lease))
        self.dropped_outside_window = 0
        self.dropped_over_quota = 0

    # ---- inbound (bot.wechat_webhook) ---------------------------------------------------
    async def webhook(self, request: Request) -> Response:
        """GET: the URL check; POST: a message, stored, then answered (passive or later)."""
        return await wechat_webhook.webhook(self, request)

    async def deliver_then_answered(self, msg: Incoming, replies: list[Reply],
                                    keyed: bool = False) -> None:
        """Send what the passive reply could not carry (or a late answer); then the message
        counts as answered (`keyed`: each reply already has its own dedupe key)."""
        if keyed:
            await inbox.deliver_all(msg, replies, self.deliver_reply)
        else:
            for reply in replies:
                await self.deliver_reply(msg, reply)
        inbox.answered(self.deps, msg)

    async def prepared(self, reply: Reply) -> Reply:
        """The reply as WeChat can carry it: a file becomes an expiring link under the text,
        a referral link WeChat's own QR code."""
        return await self.with_scene_qr(self.downloads.with_link(reply))

    async def with_scene_qr(self, reply: Reply) -> Reply:
        """A referral on WeChat is a permanent QR code with the scene `ref_CODE`: scanning it
        follows the account and the subscribe event carries the referral. Replace the
        channel-neutral link and picture with WeChat's own (cached per code)."""
        code = reply.hints.get("referral", "")
        if not code:
            return reply
        url = self._scene_urls.get(code)
        if url is None:
            try:
                data = await self.api.call("/cgi-bin/qrcode/create", body=json.dumps({
                    "action_name": "QR_LIMIT_STR_SCENE",
                    "action_info": {"scene": {"scene_str": f"ref_{code}"}}}).encode())
            except (WechatError, httpx.HTTPError) as failed:
                log.warning("wechat: no referral QR code for %s: %s", code, failed)
                return reply
            url = self._scene_urls[code] = str(data["url"])
        image = qr_png(url, self.deps.media_dir / "qr")
        text = reply.text.replace(reply.hints.get("link", ""), url)
        return dataclasses.replace(reply, text=text, image=str(image))

    def track(self, job: Coroutine[Any, Any, None]) -> None:
        """Run after the response; keep a reference; log what fails (never lost silently)."""
        async def guarded() -> None:
            try:
                await job
            except Exception:
                log.exception("wechat: late answer failed")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self) -> None:
        """Wait for late answers still under way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.settle()
        await self.api.http.aclose()

    # ---- the 48-hour window (in the database: every process sees the same) -------------
    def seen(self, openid: str) -> None:
        with UnitOfWork(self.deps.sessions) as uow:
            notifications_state.record_inbound(uow.session, CHANNEL, openid, self.deps.clock())
            uow.commit()

    def unfollowed(self, openid: str) -> None:
        with UnitOfWork(self.deps.sessions) as uow:
            reachability.mark_private_unreachable(uow.session, CHANNEL, openid)
            uow.commit()

    def _take(self, openid: str, count: int) -> None:
        """Room for `count` messages to this user now (taken), or Undeliverable (counted)."""
        window = self.window
        with UnitOfWork(self.deps.sessions) as uow:
            refused = notifications_state.take_from_window(
                uow.session, CHANNEL, openid, count, self.deps.clock(), window)
            uow.commit()
        if refused == "outside":
            self.dropped_outside_window += 1
            log.info("wechat: %s not seen in %s; message dropped (%d so far)",
                     openid, window.length, self.dropped_outside_window)
            hours = int(window.length.total_seconds() // 3600)
            raise Undeliverable(f"outside WeChat's {hours}-hour customer-service window")
        if refused:
            self.dropped_over_quota += 1
            log.info("wechat: %s got their %d messages since their last one; message dropped",
                     openid, window.per_inbound)
            raise Undeliverable(f"WeChat allows {window.per_inbound} customer-service messages "
                                "per user message")

    def _close(self, openid: str) -> None:
        with UnitOfWork(self.deps.sessions) as uow:
            notifications_state.close_window(uow.session, CHANNEL, openid,
                                             self.window.per_inbound)
            uow.commit()

    # ---- outbound ----------------------------------------------------------------------
    async def send(self, chat_id: str, is_group: bool, reply: Reply) -> None:
        """Customer-service messages: the text (in pieces if long), then the image if any."""
        if is_group:
            raise Undeliverable("an Official Account has no groups")
        image = reply.image if reply.image and Path(reply.image).is_file() else None
        pieces = text_chunks(reply.as_text())
        self._take(chat_id, len(pieces) + (image is not None))
        for piece in pieces:
            await self._custom(chat_id, {"msgtype": "text", "text": {"content": piece}})
        if image is not None:
            media_id = await self._mapped(self.upload_image(image), chat_id)
            await self._custom(chat_id, {"msgtype": "image", "image": {"media_id": media_id}})

    async def upload_image(self, path: str) -> str:
        """A temporary image (kept by WeChat for 3 days): its media_id."""
        kind = mimetypes.guess_type(path)[0] or "image/png"
        data = await asyncio.to_thread(Path(path).read_bytes)
        result = await self.api.call("/cgi-bin/media/upload", params={"type": "image"},
                                     files={"media": (Path(path).name, data, kind)})
        return str(result["media_id"])

    async def _custom(self, openid: str, message: dict[str, Any]) -> None:
        # UTF-8 as such: WeChat shows \uXXXX escapes literally.
        body = json.dumps({"touser": openid, **message}, ensure_ascii=False).encode("utf-8")
        await self._mapped(self.api.call("/cgi-bin/message/custom/send", body=body), openid)

    async def _mapped(self, call: Coroutine[Any, Any, Any], openid: str) -> Any:
        """WeChat's error codes as the delivery worker's RateLimited / Undeliverable."""
        try:
            return await call
        except WechatError as error:
            if error.code in RETRY_AFTER:
                if error.code == 45047:
                    self._close(openid)  # WeChat counted more than we did
                raise RateLimited(RETRY_AFTER[error.code]) from error
            if error.code in GONE:
                self._close(openid)
                raise Undeliverable(str(error)) from error
            raise

    async def deliver_reply(self, msg: Incoming, reply: Reply) -> None:
        """A late answer (a customer-service message; also what a passive reply could not
        carry, and an answer sent again after a restart), through the one delivery policy."""
        await policy.answer(self, msg, await self.prepared(reply))

    async def answer(self, msg: Incoming, chat_id: str, is_group: bool, reply: Reply) -> None:
        await self.send(chat_id, is_group, reply)

    async def post_roster(self, chat_id: str, message_id: str | None, text: str,
                          buttons: tuple[Button, ...],
                          card: Mapping[str, object] | None = None) -> str | None:
        """An Official Account has no groups: nothing is posted."""
        return None
