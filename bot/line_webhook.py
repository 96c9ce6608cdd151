"""LINE's webhook: the signature, then every event into the inbox before the 200.

    POST /line → `webhook(channel, request)`: verified, stored (`accept`), answered 200,
    handled after (`LineChannel.process`).

An event's reply token is kept in the database (ReplyToken) so that whichever process
answers the event can use it, once, while it is fresh.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot import inbox, light
from bot.line_events import CHANNEL, MALFORMED, parse_events, signature_of, to_incomings
from bot.outbound import forget_private_chat, read_body
from handlers.context import Deps
from messages.types import Incoming, Reply
from models import members, notifications_state
from models.db import Direct, Runner, UnitOfWork

if TYPE_CHECKING:
    from bot.line import LineChannel

REPLY_TOKEN_TTL = timedelta(seconds=50)  # LINE: about a minute; keep a margin
REPLY_TOKEN_KEEP = timedelta(hours=1)  # stored tokens older than this are deleted
TOKEN_SWEEP_EVERY = 100  # events accepted between two such deletes
log = logging.getLogger(__name__)


async def webhook(channel: LineChannel, request: Request) -> Response:
    """Verify, store every event (durable), answer 200; the channel handles them after."""
    signature = request.headers.get("x-line-signature")
    if not signature:
        return PlainTextResponse("missing signature", status_code=401)
    body = await read_body(request)
    if body is None:
        return PlainTextResponse("too large", status_code=413)
    if not hmac.compare_digest(signature.encode(), signature_of(channel.secret, body).encode()):
        return PlainTextResponse("forbidden", status_code=403)
    found = parse_events(body)
    if found is None:
        return PlainTextResponse("bad request", status_code=400)
    answered: list[tuple[Incoming, list[Reply]]] = []
    channel.process(accept(channel, found, answered))
    for msg, replies in answered:
        light.spawn_delivery(channel.deps, msg, replies, channel.outlet, channel.tasks)
    return PlainTextResponse("ok")


def accept(channel: LineChannel, webhook_events: Sequence[Mapping[str, Any]],
           answered: list[tuple[Incoming, list[Reply]]] | None = None) -> list[Incoming]:
    """Store and claim each event's messages in the inbox, keep its reply token; the new ones.
    `answered`: a read-only command from a known sender whose name is at hand is stored
    with its answer (inbox.answer_at_once) and put there, to be delivered after the 200."""
    deps = channel.deps
    fresh: list[Incoming] = []
    for event in webhook_events:
        if event.get("type") == "unfollow":
            unfollowed(deps, event)
            continue
        try:
            found = to_incomings(event)
        except MALFORMED as problem:  # authentic, but not an event as LINE documents it
            log.info("line: malformed event %r ignored (%s)",
                     str(event.get("webhookEventId"))[:64], type(problem).__name__)
            continue
        token = token_of(event)
        for msg in wanted(deps, event, [m for m in found if inbox.answerable(m)]):
            keep = None if token is None else token_keeper(deps, msg.event_key, token)
            if _stored(channel, msg, keep, fresh, answered) and token is not None:
                channel.accepted += 1
                if channel.accepted % TOKEN_SWEEP_EVERY == 0:
                    forget_tokens(deps)
    return fresh


def _stored(channel: LineChannel, msg: Incoming, keep: Callable[[Runner], None] | None,
            fresh: list[Incoming], answered: list[tuple[Incoming, list[Reply]]] | None) -> bool:
    """Answered at once (into `answered`) or stored to be handled after the 200 (into
    `fresh`); False for a redelivery."""
    ready = channel.named_now(msg) if answered is not None and keep is not None else None
    if ready is not None:
        replies = light.answer_at_once(channel.deps, ready, channel.outlet.lease,
                                       channel.outlet.clear, keep)
        if replies is not None:
            if replies and answered is not None:
                answered.append((ready, replies))
            return bool(replies)
    if not inbox.take(channel.deps, msg, channel.outlet.lease, keep):
        return False
    fresh.append(msg)
    return True


def wanted(deps: Deps, event: Mapping[str, Any], found: list[Incoming]) -> list[Incoming]:
    """Greet new members only in a bound group; ask for /bind only in an unbound one."""
    kind = event.get("type")
    if kind not in ("join", "memberJoined") or not found:
        return found
    with UnitOfWork(deps.sessions) as uow:
        bound = members.group_community(uow.session, CHANNEL, found[0].chat) is not None
    return found if bound == (kind == "memberJoined") else []


def unfollowed(deps: Deps, event: Mapping[str, Any]) -> None:
    """Blocked (unfollowed): no more pushes to this user until they add the account again."""
    source = event.get("source")
    user = source.get("userId") if isinstance(source, dict) else None
    if user:
        forget_private_chat(deps, CHANNEL, str(user))


def token_of(event: Mapping[str, Any]) -> str | None:
    value = event.get("replyToken")
    if not value or event.get("mode") == "standby":
        return None
    return str(value)


def token_keeper(deps: Deps, event_key: str, token: str) -> Callable[[Runner], None]:
    """Keep the event's reply token in the inbox's transaction, so whichever process
    answers the event can use it (once)."""
    now = deps.clock()
    return lambda tx: notifications_state.keep_reply_token(tx, CHANNEL, event_key, token, now)


def forget_tokens(deps: Deps) -> None:
    """Delete the stored tokens too old to use (every TOKEN_SWEEP_EVERY events)."""
    with UnitOfWork(deps.sessions) as uow:
        notifications_state.forget_reply_tokens(uow.session, deps.clock() - REPLY_TOKEN_KEEP)
        uow.commit()


def take_token(deps: Deps, event_key: str) -> str | None:
    """The event's reply token while fresh, once (shared by every member greeted from one
    memberJoined event); None when it is used, stale or unknown."""
    with Direct(deps.sessions) as tx:
        token = take_token_in(tx, deps, event_key)
        tx.commit()
    return token


def take_token_in(tx: Runner, deps: Deps, event_key: str) -> str | None:
    """`take_token` in the caller's transaction (the one that keeps the answer)."""
    return notifications_state.take_reply_token(tx, CHANNEL, event_key, deps.clock(),
                                                REPLY_TOKEN_TTL)
