"""The WeChat Official Account channel: XML webhook in, passive reply or customer-service out.

    channel = WechatChannel(deps, settings)
    Route("/wechat", channel.webhook, methods=["GET", "POST"])
    DeliveryWorker(deps.sessions, CHANNEL, channel.send, deps.clock)    # pushes, late answers
    await inbox.recover(deps, {CHANNEL: channel.deliver_reply})
    await channel.close()

An Official Account talks 1:1 only. Each message is stored (inbox.accept) before any answer,
handled in a worker thread, and answered in the HTTP response when that takes less than
PASSIVE_TIMEOUT (WeChat waits 5 s, then retries three times); otherwise the response is
"success" and the answer follows as a customer-service message. Those may only go to a user
seen in the last 48 hours, at most 5 per inbound message (WECHAT_LIMITS; the window and the
count are kept on the member's ChannelAccount, so every process sees the same).
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
from starlette.responses import PlainTextResponse, Response

from bot import inbox, policy
from bot.channel import Supports
from bot.outbound import read_body
from bot.settings import Settings
from bot.wechat_api import WechatApi, WechatError
from bot.wechat_crypto import BadXml, CryptoError, MessageCrypto, cdata, parse_fields, signed
from handlers.context import Deps
from handlers.dispatch import handle
from messages.qr import qr_png
from messages.types import Button, Incoming, Reply
from models import members, notifications_state
from models.db import UnitOfWork
from models.rules.notify import WECHAT_WINDOW
from scheduler.delivery import RateLimited, Undeliverable

CHANNEL = "wechat"
PASSIVE_TIMEOUT = 4.0  # seconds of handling we wait for before answering "success"
FRESHNESS = 300  # seconds a request's timestamp may be off our clock

TEXT_BYTES = 2048  # WeChat's limit for one text message's content
RETRY_AFTER = {45009: 3600.0, 45047: 60.0}  # daily API quota; per-user reply quota
GONE = {45015, 43004}  # outside the 48-hour window; unsubscribed
log = logging.getLogger(__name__)


MAX_EVENT_KEY = 128  # a menu key is at most 128 bytes, a QR scene string at most 64


def to_incoming(fields: Mapping[str, str]) -> Incoming | None:
    """A text message, a follow, a QR scan or a menu click as a channel-neutral message."""
    openid, created = fields.get("FromUserName", ""), fields.get("CreateTime", "")
    kind, key = fields.get("MsgType", ""), fields.get("EventKey", "").strip()
    event = fields.get("Event", "").lower() if kind == "event" else ""
    if not openid or len(key) > MAX_EVENT_KEY:  # WeChat's keys are short: this one is forged
        return None
    if kind == "text":
        text, message_id = fields.get("Content", ""), fields.get("MsgId") or f"text-{created}"
    elif event == "subscribe":  # EventKey "qrscene_ref_CODE" when followed from our QR code
        scene = key.removeprefix("qrscene_") if key.startswith("qrscene_") else ""
        text, message_id = f"/start {scene}".strip(), f"subscribe-{created}"
    elif event == "scan":  # already a follower; EventKey is the scene itself
        text, message_id = f"/start {key}".strip(), f"scan-{created}"
    elif event == "click" and key:
        text, message_id = key, f"click-{created}"
    else:
        return None
    msg_id = fields.get("MsgId", "") if kind == "text" else ""
    event_key = msg_id or f"{openid}:{message_id}"
    return Incoming(channel=CHANNEL, chat=openid, sender=openid, text=text,
                    message_id=message_id, is_group=False, sender_name=f"wx_{openid[-6:]}",
                    event_key=event_key)


def text_chunks(text: str, limit: int = TEXT_BYTES) -> list[str]:
    """The text in pieces of at most `limit` UTF-8 bytes, cut between lines where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:  # one very long line: cut it by characters
            pieces.append(current)
            head = line.encode()[:limit].decode("utf-8", "ignore")
            pieces.append(head)
            current, line = "", line[len(head):]
        if len((current + line).encode()) > limit:
            pieces.append(current)
            current = ""
        current += line
    pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()]


def passive_and_later(replies: list[Reply]) -> tuple[str, list[Reply]]:
    """One text for the HTTP answer; what does not fit (more text, images) to send after."""
    chunks = text_chunks("\n\n".join(r.as_text() for r in replies if r.as_text().strip()))
    later = [Reply(c) for c in chunks[1:]] + [Reply("", image=r.image) for r in replies if r.image]
    return (chunks[0] if chunks else ""), later


def reply_xml(fields: Mapping[str, str], text: str, now: int) -> bytes:
    """The passive text reply: back to the sender, from the account the message went to."""
    return (
        f"<xml><ToUserName>{cdata(fields['FromUserName'])}</ToUserName>"
        f"<FromUserName>{cdata(fields.get('ToUserName', ''))}</FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(text)}</Content></xml>"
    ).encode()


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
        self._scene_urls: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.passive_timeout = settings.wechat_passive_timeout
        self.outlet = inbox.Outlet(self.deliver_reply, lease=timedelta(seconds=settings.inbox_lease))
        self.dropped_outside_window = 0
        self.dropped_over_quota = 0

    # ---- inbound ---------------------------------------------------------------------
    async def webhook(self, request: Request) -> Response:
        query = request.query_params
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if request.method == "GET":  # the URL check when the server address is configured
            if signed(query.get("signature", ""), self.token, timestamp, nonce):
                return PlainTextResponse(query.get("echostr", ""))
            return _forbidden()
        body = await read_body(request)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        if not self._fresh(timestamp):
            return _forbidden()
        opened = self._open(query, body, timestamp, nonce)
        if isinstance(opened, Response):
            return opened
        return await self._answer(opened, query.get("encrypt_type", "").lower() == "aes", nonce)

    def _fresh(self, timestamp: str) -> bool:
        if not timestamp.isdigit() or len(timestamp) > 12:
            return False
        return abs(int(timestamp) - self.deps.clock().timestamp()) <= FRESHNESS

    def _open(self, query: Mapping[str, str], body: bytes, timestamp: str,
              nonce: str) -> dict[str, str] | Response:
        """The message's fields once its signature holds (and it is decrypted), else a refusal."""
        encrypted = query.get("encrypt_type", "").lower() == "aes"
        if encrypted != (self.crypto is not None):
            # With a key, plain mode is refused: its signature does not cover the body.
            log.warning("wechat: encrypt_type=%s but an AES key is %s", encrypted and "aes",
                        "missing" if encrypted else "configured")
            return _forbidden()
        if not encrypted and not signed(query.get("signature", ""), self.token, timestamp, nonce):
            return _forbidden()
        try:
            fields = parse_fields(body)
            if self.crypto is None:
                return fields
            encrypt = fields.get("Encrypt", "")
            if not signed(query.get("msg_signature", ""), self.token, timestamp, nonce, encrypt):
                return _forbidden()
            return parse_fields(self.crypto.decrypt(encrypt))
        except (BadXml, CryptoError) as error:
            log.info("wechat: bad request: %s", error)
            return PlainTextResponse("bad request", status_code=400)

    async def _answer(self, fields: dict[str, str], encrypted: bool, nonce: str) -> Response:
        openid = fields.get("FromUserName", "")
        if fields.get("MsgType") == "event" and fields.get("Event", "").lower() == "unsubscribe":
            self._unfollowed(openid)
            return _success()
        msg = to_incoming(fields)
        if msg is None or not inbox.answerable(msg):
            if openid:
                self._seen(openid)  # an image, a voice…: the user wrote, the window opens
            return _success()  # nothing the handlers act on: not stored
        if not inbox.accept(self.deps, msg):
            return _success()  # a retry of an event we have (being) answered
        self._seen(openid)
        if inbox.claim(self.deps, CHANNEL, msg.event_key, self.outlet.lease) is None:
            return _success()  # the sweeper (or another worker) has it
        replies = await self._handle_within(msg)
        if replies is None:
            return _success()
        replies = [await self.with_scene_qr(reply) for reply in replies]
        text, later = passive_and_later(replies)
        if later:  # answered once the rest has left too
            self._track(self._deliver_then_answered(
                msg, [inbox.keyed(msg, f"later{i}", r) for i, r in enumerate(later)]))
        else:  # the passive reply is the answer: a crash now loses it, one later repeats it
            inbox.answered(self.deps, msg)
        if not text:
            return _success()
        now = int(self.deps.clock().timestamp())
        xml = reply_xml(fields, text, now)
        if encrypted and self.crypto is not None:
            xml = self.crypto.envelope(xml, str(now), nonce)
        return Response(xml, media_type="application/xml")

    async def _handle_within(self, msg: Incoming) -> list[Reply] | None:
        """The replies if handling ends in time; else None, and they follow when it ends."""
        work = asyncio.ensure_future(asyncio.to_thread(inbox.handle_claimed, self.deps, msg, handle))
        timeout = min(PASSIVE_TIMEOUT, self.passive_timeout)
        try:
            return await asyncio.wait_for(asyncio.shield(work), timeout=timeout)
        except TimeoutError:
            log.info("wechat: %s took over %.1fs; answering later", msg.event_key, timeout)
            self._track(self._answer_late(msg, work))
            return None

    async def _answer_late(self, msg: Incoming, work: asyncio.Future[list[Reply]]) -> None:
        await self._deliver_then_answered(msg, await work, keyed=True)

    async def _deliver_then_answered(self, msg: Incoming, replies: list[Reply],
                                     keyed: bool = False) -> None:
        if keyed:
            await inbox.deliver_all(msg, replies, self.deliver_reply)
        else:
            for reply in replies:
                await self.deliver_reply(msg, reply)
        inbox.answered(self.deps, msg)

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

    def _track(self, job: Coroutine[Any, Any, None]) -> None:
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
    def _seen(self, openid: str) -> None:
        with UnitOfWork(self.deps.sessions) as uow:
            notifications_state.record_inbound(uow.session, CHANNEL, openid, self.deps.clock())
            uow.commit()

    def _unfollowed(self, openid: str) -> None:
        with UnitOfWork(self.deps.sessions) as uow:
            members.mark_private_unreachable(uow.session, CHANNEL, openid)
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
        await policy.answer(self, msg, await self.with_scene_qr(reply))

    async def answer(self, msg: Incoming, chat_id: str, is_group: bool, reply: Reply) -> None:
        await self.send(chat_id, is_group, reply)

    async def post_roster(self, chat_id: str, message_id: str | None, text: str,
                          buttons: tuple[Button, ...]) -> str | None:
        """An Official Account has no groups: nothing is posted."""
        return None


def _success() -> Response:
    return PlainTextResponse("success")


def _forbidden() -> Response:
    return PlainTextResponse("forbidden", status_code=403)
