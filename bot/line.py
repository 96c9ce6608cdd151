"""The LINE channel (line-bot-sdk v3): the adapter behind the Channel protocol.

Its seams: webhook event → Incoming (`bot.line_events`), the signed webhook into the inbox
(`bot.line_webhook`), Reply → LINE messages: text, quick replies, Flex cards
(`bot.line_send`, `bot.line_flex`). A signed webhook is stored in the inbox before the 200
and handled after it. An answer uses the event's reply token while it is fresh (once, up to
five messages) and is pushed otherwise; what cannot leave now (group budget spent, 429)
waits in the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import aiohttp
from linebot.v3.messaging import AsyncApiClient, AsyncMessagingApi
from linebot.v3.messaging.exceptions import ApiException
from starlette.requests import Request
from starlette.responses import Response

from bot import inbox, line_webhook, policy
from bot.channel import Supports
from bot.downloads import Downloads
from bot.line_events import (
    CHANNEL,
    media_key,
    media_route,
    media_signature,
    parse_events,
    signature_of,
    strip_mentions,
    to_incoming,
    to_incomings,
)
from bot.line_send import (
    MAX_MESSAGES,
    AlreadyAccepted,
    Message,
    call,
    client,
    configuration,
    multicast_request,
    push_request,
    reply_request,
    retry_key,
    to_messages,
)
from bot.outbound import MAX_BODY, read_body
from bot.settings import Settings
from handlers.context import Deps
from messages.types import Button, Incoming, Reply
from models.db import Runner
from scheduler.delivery import Undeliverable

__all__ = [  # the webhook helpers stay importable from here
    "CHANNEL", "MAX_BODY", "LineChannel", "media_key", "media_route", "media_signature",
    "parse_events", "read_body", "signature_of", "strip_mentions", "to_incoming", "to_incomings",
]

MULTICAST_LIMIT = 500
TOKEN = policy.ONCE + "reply_token"  # a hint: the event's reply token, taken for this answer
PROFILE_TIMEOUT = 3
NAME_CACHE = 10_000
log = logging.getLogger(__name__)


class LineChannel:
    """LINE behind the Channel protocol (bot.channel); has an SDK client, never is one."""

    name = CHANNEL
    supports = Supports(buttons=True, cards=True, edits=False, files=False)
    transient: tuple[type[Exception], ...] = (ApiException, aiohttp.ClientError, TimeoutError)

    def __init__(self, deps: Deps, settings: Settings, *, public_url: str | None = None) -> None:
        assert settings.line_channel_secret and settings.line_access_token, \
            "LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are required for the LINE channel"
        self.deps = deps
        self.secret = settings.line_channel_secret.encode()
        self.configuration = configuration(settings.line_api_base_url,
                                           settings.line_access_token)
        public = (public_url or getattr(settings, "public_url", None) or "").rstrip("/")
        if public and not public.startswith("https://"):
            log.warning("LINE fetches images only over https; ignoring public URL %s", public)
            public = ""
        self.public_url = public or None
        self.media_key = media_key(settings.line_channel_secret)
        self.downloads = Downloads(self.public_url, settings.link_key(), deps.media_dir,
                                   deps.clock, settings.link_ttl)
        self.tasks: set[asyncio.Task[bool]] = set()
        self.outlet = inbox.Outlet(self.deliver, self.named, timedelta(seconds=settings.inbox_lease),
                                   self.clear)
        self.accepted = 0  # events whose reply token was kept (a sweep every 100)
        self._names: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self._client: AsyncApiClient | None = None
        self._api: AsyncMessagingApi | None = None

    @property
    def api(self) -> AsyncMessagingApi:
        """The SDK client, made on first use (its aiohttp session needs the running loop)."""
        if self._api is None:
            self._client = client(self.configuration)
            self._api = AsyncMessagingApi(self._client)
        return self._api

    async def close(self) -> None:
        """Wait for the work in hand, then close the HTTP session."""
        await self.settle()
        if self._client is not None:
            await self._client.close()
            self._client = self._api = None

    # ---- inbound (bot.line_webhook) -----------------------------------------------------
    async def webhook(self, request: Request) -> Response:
        """POST /line: verify, store every event (durable), answer 200, handle after."""
        return await line_webhook.webhook(self, request)

    def accept(self, webhook_events: Sequence[Mapping[str, Any]]) -> list[Incoming]:
        """Store and claim each event's messages in the inbox and keep its reply token; the
        new ones (to `process`)."""
        return line_webhook.accept(self, webhook_events)

    def process(self, accepted: list[Incoming]) -> None:
        """After the response: let the inbox handle each (the sender's name looked up first)."""
        for msg in accepted:
            inbox.spawn(self.deps, msg, self.outlet, self.tasks, claimed=True)

    async def settle(self) -> None:
        """Wait until every message accepted so far is handled and answered."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def named(self, msg: Incoming) -> Incoming:
        """The message with its sender's LINE display name (and language, when shared)."""
        if msg.sender_name or not msg.sender:
            return msg
        name, language = await self.profile(msg.sender, msg.chat if msg.is_group else None)
        return replace(msg, sender_name=name, language_code=msg.language_code or language)

    def named_now(self, msg: Incoming) -> Incoming | None:
        """`named` when the name needs no call to LINE (known already); else None."""
        if msg.sender_name or not msg.sender:
            return msg
        cached = self._names.get(msg.sender)
        if cached is None:
            return None
        return replace(msg, sender_name=cached[0], language_code=msg.language_code or cached[1])

    async def profile(self, user_id: str, chat: str | None = None) -> tuple[str, str | None]:
        """(display name, language) of a user, asked in the group they wrote in; cached."""
        cached = self._names.get(user_id)
        if cached is not None:
            self._names.move_to_end(user_id)
            return cached
        try:
            if chat is None:
                found = await self.api.get_profile(user_id, _request_timeout=PROFILE_TIMEOUT)
                result = (str(found.display_name), found.language)
            else:
                ask = (self.api.get_room_member_profile if chat.startswith("R")
                       else self.api.get_group_member_profile)
                member = await ask(chat, user_id, _request_timeout=PROFILE_TIMEOUT)
                result = (str(member.display_name), None)
        except (ApiException, aiohttp.ClientError, TimeoutError, ValueError) as error:
            log.info("no LINE profile for %s: %s", user_id, error)
            return f"LINE-{user_id[-4:]}", None  # not cached: asked again next time
        self._names[user_id] = result
        if len(self._names) > NAME_CACHE:
            self._names.popitem(last=False)
        return result

    # ---- outbound ------------------------------------------------------------------------
    def clear(self, tx: Runner, msg: Incoming, reply: Reply) -> Reply:
        """In the transaction that keeps an answer: its send reserved (bot.policy) and, for
        the event's own chat, the event's reply token taken for it."""
        reply = policy.reserve_in(tx, self, msg, reply)
        if policy.CLEARED not in reply.hints or policy.route(msg, reply).chat_id != msg.chat:
            return reply
        token = line_webhook.take_token_in(tx, self.deps, msg.event_key)
        return reply if token is None else replace(reply, hints={**reply.hints, TOKEN: token})

    async def deliver(self, msg: Incoming, reply: Reply) -> None:
        """Answer a message through the one delivery policy (bot.policy)."""
        await policy.answer(self, msg, reply)

    async def answer(self, msg: Incoming, chat_id: str, is_group: bool, reply: Reply) -> None:
        """By the event's reply token while it is fresh (only in the chat the event came
        from), then by push."""
        if policy.CLEARED in reply.hints:  # the token was taken with the reservation
            token = reply.hints.get(TOKEN)
        else:
            take = chat_id == msg.chat
            token = line_webhook.take_token(self.deps, msg.event_key) if take else None
        await self._answer(chat_id, reply, token)

    async def _answer(self, target: str, reply: Reply, token: str | None) -> None:
        messages = self.messages(reply)
        if token is not None and messages:
            first, rest = messages[:MAX_MESSAGES], messages[MAX_MESSAGES:]
            if await self._reply(token, first):
                messages = rest
        if messages:
            await self._push(target, messages)

    async def _reply(self, token: str, messages: list[Message]) -> bool:
        """Send with the reply token; False when LINE no longer takes it (push instead)."""
        try:
            await call(self.api.reply_message(reply_request(token, messages)))
        except Undeliverable as refused:
            if "reply token" not in str(refused).lower():
                raise
            log.info("reply token refused (%s); pushing instead", refused)
            return False
        return True

    async def send(self, chat_id: str, is_group: bool, reply: Reply) -> None:
        """Push one reply (the delivery worker's send) with its outbox row's retry key;
        errors → RateLimited (QuotaExhausted) / Undeliverable."""
        await self._push(chat_id, self.messages(reply), reply.hints.get("retry_key"))

    async def post_roster(self, chat_id: str, message_id: str | None, text: str,
                          buttons: tuple[Button, ...],
                          card: Mapping[str, object] | None = None) -> str | None:
        """LINE cannot edit a sent message: push the roster anew (a Flex card with a +1
        button when the roster gives its facts); the new message's id.

        A group the bot has left gives None (the roster counts as published); a 429 raises
        RateLimited, so the roster is tried again on the next round.
        """
        try:
            roster = Reply(text, buttons=buttons, card=dict(card or {}))
            sent = await self._push(chat_id, self.messages(roster))
        except Undeliverable as refused:
            log.info("roster for %s not posted: %s", chat_id, refused)
            return None
        return sent[-1] if sent else f"line-roster-{uuid4().hex[:16]}"

    async def multicast(self, user_ids: Sequence[str], reply: Reply) -> int:
        """The same reply to many users, 500 a call (the reply's retry key, and keys derived
        from it, on each); how many were sent to.

        At most five messages (a longer text is cut). An error raises after the chunks sent
        so far; the count of those is lost with it, so a caller resumes by its own records.
        """
        messages = self.messages(reply)[:MAX_MESSAGES]
        unique = list(dict.fromkeys(u for u in user_ids if u))
        if not messages:
            return 0
        done = 0
        for part, start in enumerate(range(0, len(unique), MULTICAST_LIMIT)):
            chunk = unique[start: start + MULTICAST_LIMIT]
            key = retry_key(reply.hints.get("retry_key"), part)
            try:
                await call(self.api.multicast(multicast_request(chunk, messages),
                                              x_line_retry_key=key))
            except AlreadyAccepted:
                log.info("multicast %s was accepted before: not sent again", key)
            done += len(chunk)
        return done

    async def _push(self, to: str, messages: list[Message], key: str | None = None) -> list[str]:
        """Push in calls of at most five messages, each with its retry key (derived from
        `key`); a call LINE accepted before (409) is not sent again. The ids LINE gave."""
        ids: list[str] = []
        for part, start in enumerate(range(0, len(messages), MAX_MESSAGES)):
            batch = messages[start: start + MAX_MESSAGES]
            try:
                sent = await call(self.api.push_message(
                    push_request(to, batch),
                    x_line_retry_key=retry_key(key, part)))
            except AlreadyAccepted:
                log.info("push %s to %s was accepted before: not sent again", key, to)
                continue
            ids += [m.id for m in (getattr(sent, "sent_messages", None) or [])]
        return ids

    def messages(self, reply: Reply) -> list[Message]:
        reply = self.downloads.with_link(reply)  # LINE cannot send a file: an expiring link
        return to_messages(reply, self.media_url(reply.image))

    def media_url(self, path: str | None) -> str | None:
        """A signed public link to a file of the media folder (None without a public URL)."""
        if not path or self.public_url is None or self.media_key is None:
            return None
        root, file = self.deps.media_dir.resolve(), Path(path).resolve()
        if not file.is_relative_to(root) or not file.is_file():
            return None
        name = file.relative_to(root).as_posix()
        return f"{self.public_url}/media/{quote(name)}?s={media_signature(self.media_key, name)}"
