"""Which claimed outbox messages may leave in one call (LINE multicast), and the retry key
each attempt carries.

Identical bodies to private chats (a message not personalised: the same hash) go together,
at most 500 a call. Messages that already shared a multicast's retry key (an attempt whose
outcome is unknown: a lost answer, a crash) go together again under that key, so LINE
answers 409 for an attempt it had accepted instead of delivering it twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

from messages.records import reply_from_record
from messages.types import Reply
from models.tables import OutboxMessage

MULTICAST_LIMIT = 500


def together(claimed: list[OutboxMessage]) -> list[list[OutboxMessage]]:
    """The claimed messages in batches (in claim order): one message, or several with the
    same body to private chats, to send in one call."""
    shared = Counter(m.retry_key for m in claimed if m.retry_key)
    groups: dict[str, list[OutboxMessage]] = defaultdict(list)
    batches: list[list[OutboxMessage]] = []
    for message in claimed:
        if message.is_group or not message.body_hash:
            batches.append([message])
            continue
        key = (f"k:{message.retry_key}" if message.retry_key and shared[message.retry_key] > 1
               else f"h:{message.body_hash}")
        group = groups[key]
        if not group:
            batches.append(group)
        group.append(message)
        if len(group) == MULTICAST_LIMIT:
            groups[key] = []
    return batches


def with_retry_key(message: OutboxMessage, key: str | None = None) -> Reply:
    """The message's reply with its retry key among its hints (the LINE adapter sends it as
    X-Line-Retry-Key; other platforms ignore it)."""
    reply = reply_from_record(message.body)
    key = key or message.retry_key
    return replace(reply, hints={**reply.hints, "retry_key": key}) if key else reply
