"""Inbound dedupe (the inbox) and outbound pushes (the outbox); the send log and pacing rows
are in models/sendlog.py."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from uuid import uuid4

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from models.db import Runner, Statement, adopt, dialect_name, table_of
from models.tables import InboundEvent, OutboxMessage
from models.tables_messages import OutboxStatus
from models.types import rows_matched


def _store_once(**values: Any) -> dict[str, Statement]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, per dialect: the key is taken once."""
    return {
        dialect: Statement(insert(table_of(InboundEvent))
                           .values(channel=bindparam("channel"), event_key=bindparam("key"),
                                   received_at=bindparam("at"), **values)
                           .on_conflict_do_nothing(index_elements=["channel", "event_key"])
                           .returning(col(InboundEvent.id)))
        for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
    }


_INBOX = _store_once(processed_at=bindparam("at"), answered_at=bindparam("at"))  # handled now
_ACCEPT = _store_once(payload=bindparam("payload"))  # stored by a webhook, handled later
# stored and claimed at once, by the process that handles it right away
_TAKE = _store_once(payload=bindparam("payload"), claimed_until=bindparam("until"), attempts=1)
# stored, handled and its answer kept at once (a read-only command: handlers.glance)
_ANSWER_STORED = _store_once(payload=bindparam("payload"), processed_at=bindparam("at"),
                             replies=bindparam("replies"), claimed_until=bindparam("until"),
                             answered_at=bindparam("answered"), attempts=1)
_EVENTS = table_of(InboundEvent)
_UNANSWERED = _EVENTS.c.answered_at.is_(None)
# Every statement is built once, with bind parameters: building one per call cost more
# than running it.
_ONE = (_EVENTS.c.channel == bindparam("b_channel")) & (_EVENTS.c.event_key == bindparam("b_key"))
_CLAIM_NEW = Statement(
    update(_EVENTS)
    .where(_ONE, _EVENTS.c.processed_at.is_(None))
    .values(processed_at=bindparam("b_at"))
)
_CLAIM = Statement(
    update(_EVENTS)
    .where(_ONE, _UNANSWERED,
           or_(_EVENTS.c.claimed_until.is_(None), _EVENTS.c.claimed_until < bindparam("b_at")))
    .values(claimed_until=bindparam("b_until"), attempts=_EVENTS.c.attempts + 1)
    .returning(_EVENTS.c.payload, _EVENTS.c.processed_at, _EVENTS.c.replies,
               _EVENTS.c.attempts)
)
_KEEP = Statement(update(_EVENTS).where(_ONE, _UNANSWERED).values(replies=bindparam("b_replies")))
_SETTLE = Statement(
    update(_EVENTS).where(_ONE, _EVENTS.c.processed_at.is_(None))
    .values(processed_at=bindparam("b_at"), replies=bindparam("b_replies"))
)
_ANSWERED = Statement(
    update(_EVENTS).where(_ONE, _UNANSWERED)
    .values(answered_at=bindparam("b_at"), claimed_until=None,
            processed_at=func.coalesce(_EVENTS.c.processed_at, bindparam("b_at")))
)
_UNANSWERED_KEYS = (
    select(_EVENTS.c.channel, _EVENTS.c.event_key)
    .where(_UNANSWERED, _EVENTS.c.payload.is_not(None), or_(
        _EVENTS.c.claimed_until < bindparam("at"),
        _EVENTS.c.claimed_until.is_(None) & (_EVENTS.c.received_at <= bindparam("before"))))
    .order_by(_EVENTS.c.id).limit(bindparam("limit"))
)


class Claim(NamedTuple):
    """An inbound event taken for a lease: processed already (with its kept answer) or not."""

    payload: dict[str, Any] | None
    processed: bool
    replies: list[dict[str, Any]]
    attempts: int


def _key(channel: str, event_key: str, **more: Any) -> dict[str, Any]:
    """Parameters of the UPDATEs (their names must differ from the columns they set)."""
    return {"b_channel": channel, "b_key": event_key[:128], **{f"b_{k}": v for k, v in more.items()}}


_SEEN = Statement(select(_EVENTS.c.id).where(_ONE))


def seen(session: Runner, channel: str, event_key: str) -> bool:
    """Stored already (a redelivery, most likely): one read before any work."""
    return _SEEN.run(session, _key(channel, event_key)).first() is not None


def first_delivery(session: Runner, channel: str, event_key: str, now: datetime) -> bool:
    """Take an inbound event for processing; False when it was processed before.

    An event stored by `accept` (the usual case) is claimed with one conditional UPDATE;
    one never stored is stored as processed with one INSERT … ON CONFLICT DO NOTHING. Of two
    workers racing on the same event, one wins either way.
    """
    if _CLAIM_NEW.run(session, _key(channel, event_key, at=now)).rowcount == 1:
        return True
    params = {"channel": channel, "key": event_key[:128], "at": now}
    return _INBOX[dialect_name(session)].run(session, params).first() is not None


def accept(session: Runner, channel: str, event_key: str, payload: dict[str, Any],
           now: datetime) -> bool:
    """Store an inbound event before acknowledging it; False when it was stored before."""
    params = {"channel": channel, "key": event_key[:128], "at": now, "payload": payload}
    return _ACCEPT[dialect_name(session)].run(session, params).first() is not None


def take(session: Runner, channel: str, event_key: str, payload: dict[str, Any],
         now: datetime, lease: timedelta) -> bool:
    """`accept` and `claim` in one INSERT, for the process about to handle the event: stored
    with a lease (the sweeper leaves it alone until it runs out); False when stored before."""
    params = {"channel": channel, "key": event_key[:128], "at": now, "payload": payload,
              "until": now + lease}
    return _TAKE[dialect_name(session)].run(session, params).first() is not None


def claim(session: Runner, channel: str, event_key: str, now: datetime,
          lease: timedelta) -> Claim | None:
    """Take an unanswered event whose lease is free: one conditional UPDATE; the loser None."""
    row = _CLAIM.run(session, _key(channel, event_key, at=now, until=now + lease)).first()
    if row is None:
        return None
    payload, processed_at, replies, attempts = row
    return Claim(payload, processed_at is not None, list(replies or []), attempts)


def store_answered(session: Runner, channel: str, event_key: str, payload: dict[str, Any],
                   replies: list[dict[str, Any]], now: datetime, lease: timedelta) -> bool:
    """`take`, handled and `keep_answer` in one INSERT, in the transaction of the handler
    that answered it (with nothing to say: answered too); False when the event was stored
    before (a redelivery: roll back)."""
    params = {"channel": channel, "key": event_key[:128], "at": now, "payload": payload,
              "replies": replies, "until": now + lease if replies else None,
              "answered": None if replies else now}
    return _ANSWER_STORED[dialect_name(session)].run(session, params).first() is not None


def finish(session: Runner, channel: str, event_key: str, replies: list[dict[str, Any]],
           now: datetime) -> bool:
    """After the handler, in its transaction: the event processed with its answer kept, in
    one UPDATE (one never stored: stored processed); False when it was processed before (a
    redelivery, or another worker first: roll back). `first_delivery` and `keep_answer` in
    one statement, for a handler that only reads (handlers.glance)."""
    if _SETTLE.run(session, _key(channel, event_key, at=now, replies=replies)).rowcount == 1:
        return True
    params = {"channel": channel, "key": event_key[:128], "at": now}
    return _INBOX[dialect_name(session)].run(session, params).first() is not None


def keep_answer(session: Runner, channel: str, event_key: str,
                replies: list[dict[str, Any]]) -> None:
    """In the handler's transaction: the answer, to be sent again if it never left."""
    _KEEP.run(session, _key(channel, event_key, replies=replies))


def settle(session: Runner, channel: str, event_key: str, replies: list[dict[str, Any]],
           now: datetime) -> None:
    """An event the handler left unwritten (ignored, or failed and answered politely):
    processed now, with that answer; nothing when the handler processed it."""
    _SETTLE.run(session, _key(channel, event_key, at=now, replies=replies))


def mark_answered(session: Runner, channel: str, event_key: str, now: datetime) -> None:
    """Answered (and processed, if the handler left it unwritten with nothing to say)."""
    _ANSWERED.run(session, _key(channel, event_key, at=now))


def mark_all_answered(session: Runner, marks: Sequence[tuple[str, str, datetime]]) -> None:
    """`mark_answered` for each (channel, event key, when), in one call."""
    _ANSWERED.run_many(session, [_key(channel, key, at=at) for channel, key, at in marks])


def unanswered(session: Session, now: datetime, unclaimed_before: datetime,
               limit: int = 100) -> list[tuple[str, str]]:
    """(channel, key) of stored events not answered whose lease ran out, or that nobody
    claimed since `unclaimed_before` (a crash between the 200 and the work), oldest first."""
    rows = session.connection().execute(
        _UNANSWERED_KEYS, {"at": now, "before": unclaimed_before, "limit": limit})
    return [(row.channel, row.event_key) for row in rows]


def _queue_once(insert: Any) -> Statement:
    table = table_of(OutboxMessage)
    return Statement(insert(table).values({c.key: bindparam(c.key) for c in table.c if c.key != "id"})
                     .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(*table.c))


_QUEUE = {"sqlite": _queue_once(sqlite_insert), "postgresql": _queue_once(pg_insert)}
_OUTBOX_KEYS = [c.key for c in table_of(OutboxMessage).c]


def body_hash(body: dict[str, Any]) -> str:
    """The same for identical bodies (a message not personalised): LINE multicasts those."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def enqueue(
    session: Session, channel: str, chat_id: str, body: dict[str, Any], now: datetime, *,
    is_group: bool = False, community_id: int | None = None, dedupe_key: str | None = None,
    not_before: datetime | None = None, member_id: int | None = None, kind: str = "reply",
) -> OutboxMessage | None:
    """Queue one push (the row, detached); a dedupe key already queued changes nothing, also
    when another transaction queues it at the same moment. One INSERT … ON CONFLICT DO NOTHING.
    Each row gets its LINE retry key (sent with every attempt) and its body's hash."""
    values = {"community_id": community_id, "channel": channel, "chat_id": chat_id,
              "is_group": is_group, "body": body, "dedupe_key": dedupe_key,
              "member_id": member_id, "kind": kind, "status": OutboxStatus.PENDING,
              "attempts": 0, "last_error": "", "created_at": now, "not_before": not_before or now,
              "claimed_until": None, "sent_at": None, "retry_key": str(uuid4()),
              "body_hash": body_hash(body)}
    row = _QUEUE[dialect_name(session)].run(session, values).first()
    if row is None:
        return None
    return adopt(session, OutboxMessage, dict(zip(_OUTBOX_KEYS, row, strict=True)), attach=False)


_OPEN = ("pending", "sending")  # not finished: a 'sending' row whose lease ran out is in doubt


def claim_due(
    session: Session, channel: str, now: datetime, limit: int, lease: timedelta
) -> list[OutboxMessage]:
    """Take due messages for a while; a crashed worker's lease runs out and they come back.

    One conditional UPDATE: two workers (or processes) never take the same message.
    """
    until = col(OutboxMessage.claimed_until)
    free = or_(until.is_(None), until < now)
    due = (col(OutboxMessage.channel) == channel, col(OutboxMessage.status).in_(_OPEN),
           col(OutboxMessage.not_before) <= now, free)
    pick = (select(col(OutboxMessage.id)).where(*due)
            .order_by(col(OutboxMessage.not_before), col(OutboxMessage.id)))
    pick = pick.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    claimed = session.execute(
        update(OutboxMessage).where(col(OutboxMessage.id).in_(pick.scalar_subquery()), *due)
        .values(claimed_until=now + lease).returning(OutboxMessage),
        execution_options={"synchronize_session": False},
    ).scalars().all()
    return sorted(claimed, key=lambda row: (row.not_before, row.id))


def _move(session: Session, message: OutboxMessage, **values: Any) -> bool:
    """Change `message` only while it is unfinished and its lease is still the one we hold."""
    done = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message.id, col(OutboxMessage.status).in_(_OPEN),
               col(OutboxMessage.claimed_until) == message.claimed_until)
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    if rows_matched(done) != 1:
        return False
    for key, value in values.items():
        set_committed_value(message, key, value)
    return True


def start_sending(session: Session, message: OutboxMessage, now: datetime,
                  lease: timedelta, retry_key: str | None = None) -> bool:
    """Mark the message 'sending' (with a fresh lease) before the platform call.

    A message already 'sending' was claimed after a lost lease: it may have left before a
    crash, and keeps that mark in last_error once sent again. `retry_key`: a multicast's
    key, shared by the messages it carries (sent again with the same key after a crash).
    """
    extra: dict[str, Any] = {"retry_key": retry_key} if retry_key else {}
    if message.status == "sending":
        extra["last_error"] = "in doubt: sent again after a lease ran out while sending"
    return _move(session, message, status="sending", claimed_until=now + lease, **extra)


def mark_sent(session: Session, message: OutboxMessage, now: datetime) -> bool:
    """False when the lease was lost meanwhile (another worker took the message over)."""
    return _move(session, message, status="sent", sent_at=now,
                 attempts=message.attempts + 1, claimed_until=None)


def postpone(session: Session, message: OutboxMessage, until: datetime, error: str = "",
             count_attempt: bool = False, max_attempts: int = 8, *,
             attempted: bool = False, retry_key: str | None = None) -> bool:
    """Try again at `until`. `attempted`: the platform answered, so it did not leave.
    `retry_key`: a fresh key (a multicast LINE refused: each goes its own way again)."""
    values: dict[str, Any] = {"not_before": until, "claimed_until": None}
    if retry_key:
        values["retry_key"] = retry_key
    if error:
        values["last_error"] = error[:500]
    if attempted:
        values["status"] = "pending"
    if count_attempt:
        values["attempts"] = message.attempts + 1
        if values["attempts"] >= max_attempts:
            values["status"] = "failed"
    return _move(session, message, **values)


def fail(session: Session, message: OutboxMessage, error: str) -> bool:
    return _move(session, message, status="failed", attempts=message.attempts + 1,
                 claimed_until=None, last_error=error[:500])


def release(session: Session, messages: Sequence[OutboxMessage]) -> None:
    """Give claimed messages back untouched (only those whose lease is still ours)."""
    for message in messages:
        _move(session, message, claimed_until=None)
