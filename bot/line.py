"""The LINE channel (line-bot-sdk v3): two translators and a thin send.

Webhook event → Incoming (`to_incomings`, in `bot.line_events`), Reply → LINE messages
(`bot.line_flex`). A signed webhook is stored in the inbox before the 200 and handled after
it. An answer uses the event's reply token while it is fresh (once, up to five messages)
and is pushed otherwise; what cannot leave now (group budget spent, 429) waits in the outbox.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote
from uuid import uuid4

import aiohttp
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    Message,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.messaging.exceptions import ApiException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot import inbox, policy
from bot.channel import Supports
from bot.line_events import (
    CHANNEL,
    MALFORMED,
    MAX_BODY,
    media_key,
    media_route,
    media_signature,
    parse_events,
    read_body,
    signature_of,
    strip_mentions,
    to_incoming,
    to_incomings,
)
from bot.line_flex import MAX_MESSAGES, to_messages
from bot.outbound import forget_private_chat
from bot.settings import Settings
from handlers.context import Deps
from messages.types import Button, Incoming, Reply
from models import members, notifications_state
from models.db import UnitOfWork
from scheduler.delivery import RateLimited, Undeliverable

__all__ = [  # the webhook helpers stay importable from here
    "CHANNEL", "MAX_BODY", "LineChannel", "media_key", "media_route", "media_signature",
    "parse_events", "read_body", "signature_of", "strip_mentions", "to_incoming", "to_incomings",
]

REPLY_TOKEN_TTL = timedelta(seconds=50)  # LINE: about a minute; keep a margin
REPLY_TOKEN_KEEP = timedelta(hours=1)  # stored tokens older than this are deleted
TOKEN_SWEEP_EVERY = 100  # events accepted between two such deletes
MULTICAST_LIMIT = 500
PROFILE_TIMEOUT = 3
NAME_CACHE = 10_000
QUOTA_WAIT = 3600.0  # a 429 for the monthly message quota will not clear in a second
UNDELIVERABLE = frozenset({400, 403, 404, 410})
log = logging.getLogger(__name__)
T = TypeVar("T")


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
        self.configuration = Configuration(host=settings.line_api_base_url.rstrip("/"),
                                           access_token=settings.line_access_token)
        public = (public_url or getattr(settings, "public_url", None) or "").rstrip("/")
        if public and not public.startswith("https://"):
            log.warning("LINE fetches images only over https; ignoring public URL %s", public)
            public = ""
        self.public_url = public or None
        self.media_key = media_key(settings.line_channel_secret)
        self.tasks: set[asyncio.Task[bool]] = set()
        self.outlet = inbox.Outlet(self.deliver, self.named, timedelta(seconds=settings.inbox_lease))
        self._accepted = 0
        self._names: OrderedDict[str, tuple[str, str | None]] = OrderedDict()
        self._client: AsyncApiClient | None = None
        self._api: AsyncMessagingApi | None = None

    @property
    def api(self) -> AsyncMessagingApi:
        """The SDK client, made on first use (its aiohttp session needs the running loop)."""
        if self._api is None:
            self._client = AsyncApiClient(self.configuration)
            self._api = AsyncMessagingApi(self._client)
        return self._api

    async def close(self) -> None:
        """Wait for the work in hand, then close the HTTP session."""
        await self.settle()
        if self._client is not None:
            await self._client.close()
            self._client = self._api = None

    # ---- inbound -------------------------------------------------------------------------
    async def webhook(self, request: Request) -> Response:
        """POST /line: verify, store every event (durable), answer 200, handle after."""
        signature = request.headers.get("x-line-signature")
        if not signature:
            return PlainTextResponse("missing signature", status_code=401)
        body = await read_body(request)
        if body is None:
            return PlainTextResponse("too large", status_code=413)
        if not hmac.compare_digest(signature.encode(), signature_of(self.secret, body).encode()):
            return PlainTextResponse("forbidden", status_code=403)
        found = parse_events(body)
        if found is None:
            return PlainTextResponse("bad request", status_code=400)
        self.process(self.accept(found))
        return PlainTextResponse("ok")

    def accept(self, webhook_events: Sequence[Mapping[str, Any]]) -> list[Incoming]:
        """Store each event's messages in the inbox and keep its reply token; the new ones."""
        fresh: list[Incoming] = []
        for event in webhook_events:
            if event.get("type") == "unfollow":
                self._unfollowed(event)
                continue
            try:
                found = to_incomings(event)
            except MALFORMED as problem:  # authentic, but not an event as LINE documents it
                log.info("line: malformed event %r ignored (%s)",
                         str(event.get("webhookEventId"))[:64], type(problem).__name__)
                continue
            token = self._token_of(event)
            for msg in self._wanted(event, [m for m in found if inbox.answerable(m)]):
                if inbox.accept(self.deps, msg):
                    fresh.append(msg)
                    if token is not None:
                        self._keep_token(msg.event_key, token)
        return fresh

    def process(self, accepted: list[Incoming]) -> None:
        """After the response: let the inbox handle each (the sender's name looked up first)."""
        for msg in accepted:
            inbox.spawn(self.deps, msg, self.outlet, self.tasks)

    async def settle(self) -> None:
        """Wait until every message accepted so far is handled and answered."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    def _wanted(self, event: Mapping[str, Any], found: list[Incoming]) -> list[Incoming]:
        """Greet new members only in a bound group; ask for /bind only in an unbound one."""
        kind = event.get("type")
        if kind not in ("join", "memberJoined") or not found:
            return found
        bound = self._bound(found[0].chat)
        return found if bound == (kind == "memberJoined") else []

    @staticmethod
    def _token_of(event: Mapping[str, Any]) -> str | None:
        value = event.get("replyToken")
        if not value or event.get("mode") == "standby":
            return None
        return str(value)

    def _keep_token(self, event_key: str, token: str) -> None:
        """In the database, so whichever process answers the event can use it (once)."""
        now = self.deps.clock()
        with UnitOfWork(self.deps.sessions) as uow:
            notifications_state.keep_reply_token(uow.session, CHANNEL, event_key, token, now)
            self._accepted += 1
            if self._accepted % TOKEN_SWEEP_EVERY == 0:
                notifications_state.forget_reply_tokens(uow.session, now - REPLY_TOKEN_KEEP)
            uow.commit()

    def _take_token(self, event_key: str) -> str | None:
        """The event's reply token while fresh, once (shared by every member greeted from
        one memberJoined event); None when it is used, stale or unknown."""
        with UnitOfWork(self.deps.sessions) as uow:
            token = notifications_state.take_reply_token(
                uow.session, CHANNEL, event_key, self.deps.clock(), REPLY_TOKEN_TTL)
            uow.commit()
        return token

    async def named(self, msg: Incoming) -> Incoming:
        """The message with its sender's LINE display name (and language, when shared)."""
        if msg.sender_name or not msg.sender:
            return msg
        name, language = await self.profile(msg.sender, msg.chat if msg.is_group else None)
        return replace(msg, sender_name=name, language_code=msg.language_code or language)

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
    async def deliver(self, msg: Incoming, reply: Reply) -> None:
        """Answer a message through the one delivery policy (bot.policy)."""
        await policy.answer(self, msg, reply)

    async def answer(self, msg: Incoming, chat_id: str, is_group: bool, reply: Reply) -> None:
        """By the event's reply token while it is fresh (only in the chat the event came
        from), then by push."""
        token = self._take_token(msg.event_key) if chat_id == msg.chat else None
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
            await _call(self.api.reply_message(ReplyMessageRequest(replyToken=token,
                                                                   messages=messages)))
        except Undeliverable as refused:
            if "reply token" not in str(refused).lower():
                raise
            log.info("reply token refused (%s); pushing instead", refused)
            return False
        return True

    async def send(self, chat_id: str, is_group: bool, reply: Reply) -> None:
        """Push one reply (the delivery worker's send); errors → RateLimited / Undeliverable."""
        await self._push(chat_id, self.messages(reply))

    async def post_roster(self, chat_id: str, message_id: str | None, text: str,
                          buttons: tuple[Button, ...]) -> str | None:
        """LINE cannot edit a sent message: push the roster anew; the new message's id.

        A group the bot has left gives None (the roster counts as published); a 429 raises
        RateLimited, so the roster is tried again on the next round.
        """
        try:
            sent = await self._push(chat_id, self.messages(Reply(text, buttons=buttons)))
        except Undeliverable as refused:
            log.info("roster for %s not posted: %s", chat_id, refused)
            return None
        return sent[-1] if sent else f"line-roster-{uuid4().hex[:16]}"

    async def multicast(self, user_ids: Sequence[str], reply: Reply) -> int:
        """The same reply to many users, 500 a call; how many were sent to.

        At most five messages (a longer text is cut). An error raises after the chunks sent
        so far; the count of those is lost with it, so a caller resumes by its own records.
        """
        messages = self.messages(reply)[:MAX_MESSAGES]
        unique = list(dict.fromkeys(u for u in user_ids if u))
        if not messages:
            return 0
        done = 0
        for start in range(0, len(unique), MULTICAST_LIMIT):
            chunk = unique[start: start + MULTICAST_LIMIT]
            await _call(self.api.multicast(MulticastRequest(to=chunk, messages=messages)))
            done += len(chunk)
        return done

    async def _push(self, to: str, messages: list[Message]) -> list[str]:
        """Push in calls of at most five messages; the ids LINE gave them."""
        ids: list[str] = []
        for start in range(0, len(messages), MAX_MESSAGES):
            batch = messages[start: start + MAX_MESSAGES]
            sent = await _call(self.api.push_message(PushMessageRequest(to=to, messages=batch)))
            ids += [m.id for m in (getattr(sent, "sent_messages", None) or [])]
        return ids

    def messages(self, reply: Reply) -> list[Message]:
        return to_messages(reply, self.media_url(reply.image), self.media_url(reply.file))

    def media_url(self, path: str | None) -> str | None:
        """A signed public link to a file of the media folder (None without a public URL)."""
        if not path or self.public_url is None or self.media_key is None:
            return None
        root, file = self.deps.media_dir.resolve(), Path(path).resolve()
        if not file.is_relative_to(root) or not file.is_file():
            return None
        name = file.relative_to(root).as_posix()
        return f"{self.public_url}/media/{quote(name)}?s={media_signature(self.media_key, name)}"

    # ---- state ---------------------------------------------------------------------------
    def _unfollowed(self, event: Mapping[str, Any]) -> None:
        """Blocked (unfollowed): no more pushes to this user until they add the account again."""
        source = event.get("source")
        user = source.get("userId") if isinstance(source, dict) else None
        if user:
            forget_private_chat(self.deps, CHANNEL, str(user))

    def _bound(self, chat: str) -> bool:
        with UnitOfWork(self.deps.sessions) as uow:
            return members.group_community(uow.session, CHANNEL, chat) is not None


async def _call(request: Awaitable[T]) -> T:
    """One Messaging API call; a 429 → RateLimited, a refusal (400/403/404/410) → Undeliverable."""
    try:
        return await request
    except ApiException as error:
        detail = _describe(error)
        if error.status == 429:
            wait = QUOTA_WAIT if "monthly limit" in detail.lower() else _retry_after(error.headers)
            raise RateLimited(wait) from error
        if error.status in UNDELIVERABLE:
            raise Undeliverable(f"{error.status} {detail}") from error
        raise


def _describe(error: ApiException) -> str:
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


def _retry_after(headers: Mapping[str, str] | None) -> float:
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
