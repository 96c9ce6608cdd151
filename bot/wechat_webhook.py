"""WeChat's webhook: the signature (and decryption), the inbox, the passive reply.

    GET /wechat → the URL check; POST /wechat → `webhook(channel, request)`.

Each message is stored (inbox.accept) before any answer, handled in a worker thread, and
answered in the HTTP response when that takes less than PASSIVE_TIMEOUT (WeChat waits 5 s,
then retries three times); otherwise the response is "success" and the answer follows as a
customer-service message (`WechatChannel.deliver_reply`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot import inbox
from bot.outbound import read_body
from bot.wechat_crypto import BadXml, CryptoError, parse_fields, signed
from bot.wechat_xml import passive_and_later, reply_xml, to_incoming
from handlers.dispatch import handle
from messages.types import Incoming, Reply

if TYPE_CHECKING:
    from bot.wechat import WechatChannel

PASSIVE_TIMEOUT = 4.0  # seconds of handling we wait for before answering "success"
FRESHNESS = 300  # seconds a request's timestamp may be off our clock
log = logging.getLogger(__name__)


async def webhook(channel: WechatChannel, request: Request) -> Response:
    """GET: the URL check; POST: a message, verified, stored, answered in the response."""
    query = request.query_params
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if request.method == "GET":  # the URL check when the server address is configured
        if signed(query.get("signature", ""), channel.token, timestamp, nonce):
            return PlainTextResponse(query.get("echostr", ""))
        return _forbidden()
    body = await read_body(request)
    if body is None:
        return PlainTextResponse("too large", status_code=413)
    if not _fresh(channel, timestamp):
        return _forbidden()
    opened = _open(channel, query, body, timestamp, nonce)
    if isinstance(opened, Response):
        return opened
    return await _answer(channel, opened, query.get("encrypt_type", "").lower() == "aes", nonce)


def _fresh(channel: WechatChannel, timestamp: str) -> bool:
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(int(timestamp) - channel.deps.clock().timestamp()) <= FRESHNESS


def _open(channel: WechatChannel, query: Mapping[str, str], body: bytes, timestamp: str,
          nonce: str) -> dict[str, str] | Response:
    """The message's fields once its signature holds (and it is decrypted), else a refusal."""
    encrypted = query.get("encrypt_type", "").lower() == "aes"
    if encrypted != (channel.crypto is not None):
        # With a key, plain mode is refused: its signature does not cover the body.
        log.warning("wechat: encrypt_type=%s but an AES key is %s", encrypted and "aes",
                    "missing" if encrypted else "configured")
        return _forbidden()
    if not encrypted and not signed(query.get("signature", ""), channel.token, timestamp, nonce):
        return _forbidden()
    try:
        fields = parse_fields(body)
        if channel.crypto is None:
            return fields
        encrypt = fields.get("Encrypt", "")
        if not signed(query.get("msg_signature", ""), channel.token, timestamp, nonce, encrypt):
            return _forbidden()
        return parse_fields(channel.crypto.decrypt(encrypt))
    except (BadXml, CryptoError) as error:
        log.info("wechat: bad request: %s", error)
        return PlainTextResponse("bad request", status_code=400)


async def _answer(channel: WechatChannel, fields: dict[str, str], encrypted: bool,
                  nonce: str) -> Response:
    openid = fields.get("FromUserName", "")
    if fields.get("MsgType") == "event" and fields.get("Event", "").lower() == "unsubscribe":
        channel.unfollowed(openid)
        return _success()
    msg = to_incoming(fields)
    if msg is None or not inbox.answerable(msg):
        if openid:
            channel.seen(openid)  # an image, a voice…: the user wrote, the window opens
        return _success()  # nothing the handlers act on: not stored
    if not inbox.take(channel.deps, msg, channel.outlet.lease):
        return _success()  # a retry of an event we have (being) answered
    channel.seen(openid)
    replies = await _handle_within(channel, msg)
    if replies is None:
        return _success()
    replies = [await channel.prepared(reply) for reply in replies]
    text, later = passive_and_later(replies)
    if later:  # answered once the rest has left too
        channel.track(channel.deliver_then_answered(
            msg, [inbox.keyed(msg, f"later{i}", r) for i, r in enumerate(later)]))
    else:  # the passive reply is the answer: a crash now loses it, one later repeats it
        inbox.answered(channel.deps, msg)
    if not text:
        return _success()
    now = int(channel.deps.clock().timestamp())
    xml = reply_xml(fields, text, now)
    if encrypted and channel.crypto is not None:
        xml = channel.crypto.envelope(xml, str(now), nonce)
    return Response(xml, media_type="application/xml")


async def _handle_within(channel: WechatChannel, msg: Incoming) -> list[Reply] | None:
    """The replies if handling ends in time; else None, and they follow when it ends."""
    work = asyncio.ensure_future(
        asyncio.to_thread(inbox.handle_claimed, channel.deps, msg, handle))
    timeout = min(PASSIVE_TIMEOUT, channel.passive_timeout)
    try:
        return await asyncio.wait_for(asyncio.shield(work), timeout=timeout)
    except TimeoutError:
        log.info("wechat: %s took over %.1fs; answering later", msg.event_key, timeout)
        channel.track(_answer_late(channel, msg, work))
        return None


async def _answer_late(channel: WechatChannel, msg: Incoming,
                       work: asyncio.Future[list[Reply]]) -> None:
    await channel.deliver_then_answered(msg, await work, keyed=True)


def _success() -> Response:
    return PlainTextResponse("success")


def _forbidden() -> Response:
    return PlainTextResponse("forbidden", status_code=403)
