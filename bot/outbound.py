"""What every channel adapter does the same way: bounded request bodies, replies left to
the outbox, and forgetting a private chat whose owner blocked the bot."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request

from handlers.context import Deps
from messages.records import reply_record
from messages.types import Reply
from models import outbox, reachability
from models.db import UnitOfWork

MAX_BODY = 1024 * 1024


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The raw body, or None when it is over the limit (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def queue_reply(deps: Deps, channel: str, chat_id: str, is_group: bool, reply: Reply,
                wait: float = 0.0) -> None:
    """Leave a reply to the delivery worker, not before `wait` seconds (a 429's retry_after).

    An answer to an inbound event carries a dedupe key (the inbox's hint): queued once, even
    when the answer is delivered again after a restart.
    """
    now = deps.clock()
    with UnitOfWork(deps.sessions) as uow:
        outbox.enqueue(uow.session, channel, chat_id, reply_record(reply), now,
                       is_group=is_group, not_before=now + timedelta(seconds=wait),
                       dedupe_key=reply.hints.get("dedupe"))
        uow.commit()


def forget_private_chat(deps: Deps, channel: str, user_id: str) -> None:
    """The member blocked the bot: answer in the group again until they start it anew."""
    with UnitOfWork(deps.sessions) as uow:
        reachability.mark_private_unreachable(uow.session, channel, user_id)
        uow.commit()
