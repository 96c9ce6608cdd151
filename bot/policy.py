"""One delivery policy for every adapter's answers.

    await policy.answer(channel, msg, reply)

- A `private` reply (or any reply in a private chat) goes to the member's private chat, where
  they started the bot; any other reply goes to the group it answers.
- It leaves now when the platform's limits allow (the reservation of
  `scheduler.delivery.reserve_direct`, atomic across workers and logged in the send log, so
  private answers count against the bot's budget too); otherwise it waits in the outbox.
- A member who blocked the bot (Undeliverable in private) is answered in the group instead,
  and is not pushed to again until they start the bot anew.
- A 429 queues the reply for retry_after; a transient platform error queues it for a moment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from bot.channel import Channel
from bot.outbound import forget_private_chat, queue_reply
from messages.types import Incoming, Reply
from models.db import Runner
from models.rules.pacing import Limits
from scheduler.delivery import LIMITS, RateLimited, Undeliverable, reserve_direct
from scheduler.slots import reserve_on

log = logging.getLogger(__name__)
ONCE = "once:"  # hints for this send only: never queued with the reply
CLEARED = ONCE + "cleared"  # the reply's send was reserved in the transaction that kept it
RETRY_LATER = 5.0  # seconds before the delivery worker retries an answer that failed oddly


@dataclass(frozen=True, slots=True)
class Route:
    chat_id: str
    is_group: bool


def route(msg: Incoming, reply: Reply) -> Route:
    """Where an answer goes: the member's private chat, or the group it came from."""
    private = reply.private or not msg.is_group
    return Route(msg.sender if private else msg.chat, not private)


def _limits(channel: Channel) -> Limits | None:
    """The channel's configured limits, or its platform's defaults."""
    return channel.deps.limits.get(channel.name) or LIMITS.get(channel.name)


def reserve(channel: Channel, where: Route) -> bool:
    return reserve_direct(channel.deps.sessions, channel.name, where.chat_id, where.is_group,
                          channel.deps.clock(), _limits(channel))


def reserve_in(tx: Runner, channel: Channel, msg: Incoming, reply: Reply) -> Reply:
    """In the transaction that keeps the answer (bot.inbox.answer_now): its send reserved
    there, so `answer` need not; the reply marked cleared when it may leave at once."""
    where = route(msg, reply)
    if not reserve_on(tx, channel.name, where.chat_id, where.is_group, channel.deps.clock(),
                      _limits(channel)):
        return reply
    return replace(reply, hints={**reply.hints, CLEARED: "1"})


def _uncleared(reply: Reply) -> Reply:
    return replace(reply, hints={k: v for k, v in reply.hints.items() if not k.startswith(ONCE)})


async def answer(channel: Channel, msg: Incoming, reply: Reply) -> str:
    """Answer `msg` with `reply`; the outcome: sent, queued, regrouped or dropped."""
    where = route(msg, reply)
    if CLEARED not in reply.hints and not reserve(channel, where):
        queue_reply(channel.deps, channel.name, where.chat_id, where.is_group, _uncleared(reply))
        return "queued"
    try:
        await channel.answer(msg, where.chat_id, where.is_group, reply)
    except RateLimited as limited:
        queue_reply(channel.deps, channel.name, where.chat_id, where.is_group, _uncleared(reply),
                    wait=limited.retry_after)
        return "queued"
    except Undeliverable as refused:
        if not where.is_group and msg.is_group:
            forget_private_chat(channel.deps, channel.name, msg.sender)
            await answer(channel, msg, replace(_uncleared(reply), private=False))
            return "regrouped"
        log.info("%s: reply to %s dropped: %s", channel.name, where.chat_id, refused)
        return "dropped"
    except channel.transient as error:
        log.warning("%s: reply to %s failed (%s); left to the delivery worker",
                    channel.name, where.chat_id, error)
        queue_reply(channel.deps, channel.name, where.chat_id, where.is_group, _uncleared(reply),
                    wait=RETRY_LATER)
        return "queued"
    return "sent"
