"""LINE's outbound edge: Reply → LINE messages, and a Messaging API call's errors → ours.

LINE's limits shape it: at most 5,000 characters a text message (longer text becomes
several), at most 13 quick replies with labels of at most 20 characters and postback data
of at most 300 (more choices become numbered text), images only by https URL, at most five
messages a call (the channel sends more in batches), a Flex message's altText of at most
400 characters and its bubble of at most 30 KB of JSON (a bigger card is sent as text).
Quick replies show only on the last message, so they go there.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from linebot.v3.messaging import (
    AsyncApiClient,
    Configuration,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from bot.line_flex import MAX_FOOTER_BUTTONS, Json, bubble, clip, postback
from messages.types import Button, Reply
from scheduler.delivery import QuotaExhausted, RateLimited, Undeliverable

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20
MAX_ALT_TEXT = 400
MAX_BUBBLE_BYTES = 30 * 1024
QUOTA_ZONE = ZoneInfo("Asia/Tokyo")  # LINE's monthly message quota starts anew there
UNDELIVERABLE = frozenset({400, 403, 404, 410})
T = TypeVar("T")


def configuration(base_url: str, access_token: str) -> Configuration:
    """The SDK's configuration; a proxy the environment names for the API's address is read
    here, once (see `client`)."""
    host = base_url.rstrip("/")
    address = urlsplit(host)
    proxy = None if proxy_bypass(address.hostname or "") else getproxies().get(address.scheme)
    made = Configuration(host=host, access_token=access_token)
    made.proxy = proxy  # what the SDK passes to aiohttp with each request
    return made


def client(settings: Configuration) -> AsyncApiClient:
    """The SDK's client, its HTTP session not looking in the environment on each call: the
    SDK asks aiohttp to (trust_env), which reads ~/.netrc and the proxy variables in a worker
    thread for every request, two thread hops per reply or push. The proxy is read once
    instead (`configuration`); nothing else of the environment matters to LINE's API."""
    made = AsyncApiClient(settings)
    session = made.rest_client.pool_manager
    session._trust_env = False  # no public setter; tests/test_line.py checks `trust_env`
    return made


class Message:
    """One LINE message as the JSON the Messaging API documents, built directly (the SDK's
    models validate every field and Flex component again: a third of a card's cost); the
    SDK's requests carry it as they carry their own models (`to_dict`)."""

    __slots__ = ("body",)

    def __init__(self, body: Json) -> None:
        self.body = body

    def to_dict(self) -> Json:
        return self.body


def reply_request(token: str, messages: Sequence[Message]) -> ReplyMessageRequest:
    """line-bot-sdk's reply request around prebuilt messages (constructed, not validated:
    every message was built to LINE's documented shape)."""
    return ReplyMessageRequest.construct(reply_token=token, messages=list(messages))


def push_request(to: str, messages: Sequence[Message]) -> PushMessageRequest:
    return PushMessageRequest.construct(to=to, messages=list(messages))


def multicast_request(to: Sequence[str], messages: Sequence[Message]) -> MulticastRequest:
    return MulticastRequest.construct(to=list(to), messages=list(messages))


def to_messages(reply: Reply, image_url: str | None = None,
                file_url: str | None = None) -> list[Message]:
    """The LINE messages for one reply (any number; quick replies ride on the last one).

    `image_url` / `file_url`: public https links to the reply's image / file, or None to
    leave them out (LINE cannot upload a file; a file becomes a link under the text).
    """
    buttons = reply.buttons if len(reply.buttons) <= MAX_QUICK_REPLIES else ()
    text = reply.text if buttons else reply.as_text()
    if file_url:
        text = f"{text}\n{file_url}" if text.strip() else file_url
    card = card_message(reply.card, text, buttons) if reply.card and text.strip() else None
    messages = [card] if card is not None else [
        Message({"type": "text", "text": part}) for part in split_text(text)]
    if card is not None and len(buttons) <= MAX_FOOTER_BUTTONS:
        buttons = ()  # drawn in the card's footer
    if image_url:
        messages.append(Message({"type": "image", "originalContentUrl": image_url,
                                 "previewImageUrl": image_url}))
    if messages and buttons:
        messages[-1].body["quickReply"] = quick_reply(buttons)
    return messages


def card_message(card: Mapping[str, object], text: str,
                 buttons: Sequence[Button] = ()) -> Message | None:
    """The card as a Flex message, its altText the reply's text; None when it is too big."""
    drawn = bubble(card, text, buttons if len(buttons) <= MAX_FOOTER_BUTTONS else ())
    size = len(json.dumps(drawn, ensure_ascii=False).encode())
    if size > MAX_BUBBLE_BYTES:
        return None
    return Message({"type": "flex", "altText": clip(text.strip(), MAX_ALT_TEXT),
                    "contents": drawn})


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Text in pieces of at most `limit` characters, cut at a line break where one is near."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if len(rest) <= limit:
            parts.append(rest)
            break
        cut = rest.rfind("\n", limit // 2, limit)
        cut = cut if cut > 0 else limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    return parts


def quick_reply(buttons: Sequence[Button]) -> Json:
    """Buttons as postback quick replies; the label shows in the chat as what was tapped."""
    return {"items": [{"type": "action", "action": postback(b.label, b.data, MAX_LABEL)}
                      for b in buttons[:MAX_QUICK_REPLIES]]}


# ---- a Messaging API call's errors -------------------------------------------------------

class AlreadyAccepted(Exception):
    """409: LINE already accepted a request with this X-Line-Retry-Key (it was delivered)."""


async def call(request: Awaitable[T]) -> T:
    """One Messaging API call; a 429 → RateLimited (QuotaExhausted for the monthly quota,
    until the next month in Japan), a refusal (400/403/404/410) → Undeliverable, a 409 for a
    retry key already accepted → AlreadyAccepted."""
    try:
        return await request
    except ApiException as error:
        detail = describe(error)
        if error.status == 429 and "monthly limit" in detail.lower():
            raise QuotaExhausted(f"LINE: {detail}", QUOTA_ZONE) from error
        if error.status == 429:
            raise RateLimited(retry_after(error.headers)) from error
        if error.status == 409 and "retry key" in detail.lower():
            raise AlreadyAccepted(detail) from error
        if error.status in UNDELIVERABLE:
            raise Undeliverable(f"{error.status} {detail}") from error
        raise


def retry_key(key: str | None, part: int) -> str | None:
    """The X-Line-Retry-Key of the `part`-th call of one push (a push of more than five
    messages takes several calls): the row's own key, then keys derived from it."""
    if not key or part == 0:
        return key
    return str(uuid5(UUID(key), str(part)))


def describe(error: ApiException) -> str:
    """LINE's message and the details it gives (which property, what is wrong)."""
    try:
        body = json.loads(error.body or b"{}")
    except ValueError:
        return str(error.reason or "")
    if not isinstance(body, dict):
        return str(error.reason or "")
    details = "; ".join(f"{d.get('property', '')}: {d.get('message', '')}"
                        for d in body.get("details") or [] if isinstance(d, dict))
    message = str(body.get("message") or error.reason or "")
    return f"{message} ({details})" if details else message


def retry_after(headers: Mapping[str, str] | None) -> float:
    """Retry-After in seconds (a number or an HTTP date); 1 when LINE gives none."""
    value = (headers or {}).get("Retry-After")
    if not value:
        return 1.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return 1.0
