"""Inbound dedupe (the inbox) and outbound pushes (the outbox) with the send log."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from models.tables import InboundEvent, OutboxMessage, SendLog


def _store_once(**values: Any) -> dict[str, Any]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id, per dialect: the key is taken once."""
    return {
        dialect: insert(InboundEvent.__table__)  # type: ignore[attr-defined]
        .values(channel=bindparam("channel"), event_key=bindparam("key"),
                received_at=bindparam("at"), **values)
        .on_conflict_do_nothing(index_elements=["channel", "event_key"])
        .returning(InboundEvent.id)
        for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
    }


_INBOX = _store_once(processed_at=bindparam("at"), answered_at=bindparam("at"))  # handled now
_ACCEPT = _store_once(payload=bindparam("payload"))  # stored by a webhook, handled later
_CLAIM = (
    update(InboundEvent)
    .where(InboundEvent.channel == bindparam("b_channel"),
           InboundEvent.event_key == bindparam("b_key"),
           InboundEvent.processed_at.is_(None))  # type: ignore[union-attr]
    .values(processed_at=bindparam("b_at"))
)
_EVENTS = InboundEvent.__table__  # type: ignore[attr-defined]
_UNANSWERED = _EVENTS.c.answered_at.is_(None)


class Claim(NamedTuple):
    """An inbound event taken for a lease: processed already (with its kept answer) or not."""

    payload: dict[str, Any] | None
    processed: bool
    replies: list[dict[str, Any]]
    attempts: int


def first_delivery(session: Session, channel: str, event_key: str, now: datetime) -> bool:
    """Record an inbound event; False when it was seen before (a redelivery).

    One INSERT … ON CONFLICT DO NOTHING, so two workers racing on the same event agree.
    """
    connection = session.connection()
    params = {"channel": channel, "key": event_key[:128], "at": now}
    if connection.execute(_INBOX[connection.dialect.name], params).first() is not None:
        return True
    # Stored by a webhook before its 200 and not processed yet: claim it now.
    claim = {"b_channel": channel, "b_key": event_key[:128], "b_at": now}
    return connection.execute(_CLAIM, claim).rowcount == 1  # type: ignore[attr-defined]


def accept(session: Session, channel: str, event_key: str, payload: dict[str, Any],
           now: datetime) -> bool:
    """Store an inbound event before acknowledging it; False when it was stored before."""
    connection = session.connection()
    statement = _ACCEPT[connection.dialect.name]
    done = connection.execute(
        statement, {"channel": channel, "key": event_key[:128], "at": now, "payload": payload}
    )
    return done.first() is not None


def _one(channel: str, event_key: str) -> Any:
    return (_EVENTS.c.channel == channel) & (_EVENTS.c.event_key == event_key[:128])


def claim(session: Session, channel: str, event_key: str, now: datetime,
          lease: timedelta) -> Claim | None:
    """Take an unanswered event whose lease is free: one conditional UPDATE; the loser None."""
    free = or_(_EVENTS.c.claimed_until.is_(None), _EVENTS.c.claimed_until < now)
    row = session.connection().execute(
        update(_EVENTS).where(_one(channel, event_key), _UNANSWERED, free)
        .values(claimed_until=now + lease, attempts=_EVENTS.c.attempts + 1)
        .returning(_EVENTS.c.payload, _EVENTS.c.processed_at, _EVENTS.c.replies,
                   _EVENTS.c.attempts)
    ).first()
    if row is None:
        return None
    return Claim(row.payload, row.processed_at is not None, list(row.replies or []), row.attempts)


def keep_answer(session: Session, channel: str, event_key: str,
                replies: list[dict[str, Any]]) -> None:
    """In the handler's transaction: the answer, to be sent again if it never left."""
    session.connection().execute(
        update(_EVENTS).where(_one(channel, event_key), _UNANSWERED).values(replies=replies))


def settle(session: Session, channel: str, event_key: str, replies: list[dict[str, Any]],
           now: datetime) -> None:
    """An event the handler left unwritten (ignored, or failed and answered politely):
    processed now, with that answer; nothing when the handler processed it."""
    session.connection().execute(
        update(_EVENTS).where(_one(channel, event_key), _EVENTS.c.processed_at.is_(None))
        .values(processed_at=now, replies=replies))


def mark_answered(session: Session, channel: str, event_key: str, now: datetime) -> None:
    session.connection().execute(
        update(_EVENTS).where(_one(channel, event_key), _UNANSWERED)
        .values(answered_at=now, claimed_until=None))


def unanswered(session: Session, now: datetime, unclaimed_before: datetime,
               limit: int = 100) -> list[tuple[str, str]]:
    """(channel, key) of stored events not answered whose lease ran out, or that nobody
    claimed since `unclaimed_before` (a crash between the 200 and the work), oldest first."""
    expired = _EVENTS.c.claimed_until < now
    never = _EVENTS.c.claimed_until.is_(None) & (_EVENTS.c.received_at <= unclaimed_before)
    rows = session.connection().execute(
        select(_EVENTS.c.channel, _EVENTS.c.event_key)
        .where(_UNANSWERED, _EVENTS.c.payload.is_not(None), or_(expired, never))
        .order_by(_EVENTS.c.id).limit(limit))
    return [(row.channel, row.event_key) for row in rows]


def enqueue(
    session: Session, channel: str, chat_id: str, body: dict[str, Any], now: datetime, *,
    is_group: bool = False, community_id: int | None = None, dedupe_key: str | None = None,
    not_before: datetime | None = None, member_id: int | None = None, kind: str = "reply",
) -> OutboxMessage | None:
    """Queue one push; a dedupe key already queued changes nothing."""
    if dedupe_key is not None:
        seen = session.execute(
            select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
        ).first()
        if seen:
            return None
    message = OutboxMessage(
        community_id=community_id, channel=channel, chat_id=chat_id, is_group=is_group,
        body=body, dedupe_key=dedupe_key, created_at=now, not_before=not_before or now,
        member_id=member_id, kind=kind,
    )
    session.add(message)
    session.flush()
    return message


def claim_due(
    session: Session, channel: str, now: datetime, limit: int, lease: timedelta
) -> list[OutboxMessage]:
    """Take due messages for a while; a crashed worker's lease runs out and they come back."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.status == "pending",
            OutboxMessage.not_before <= now,
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),  # type: ignore[union-attr]
        )
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.execute(query).scalars())
    for row in rows:
        row.claimed_until = now + lease
        session.add(row)
    session.flush()
    return rows


def mark_sent(session: Session, message: OutboxMessage, now: datetime) -> None:
    message.status = "sent"
    message.sent_at = now
    message.attempts += 1
    message.claimed_until = None
    session.add(message)
    log_send(session, message.channel, message.chat_id, message.is_group, now)


def postpone(session: Session, message: OutboxMessage, until: datetime, error: str = "",
             count_attempt: bool = False, max_attempts: int = 8) -> None:
    message.not_before = until
    message.claimed_until = None
    message.last_error = error[:500]
    if count_attempt:
        message.attempts += 1
        if message.attempts >= max_attempts:
            message.status = "failed"
    session.add(message)


def fail(session: Session, message: OutboxMessage, error: str) -> None:
    message.status = "failed"
    message.attempts += 1
    message.claimed_until = None
    message.last_error = error[:500]
    session.add(message)


def log_send(session: Session, channel: str, chat_id: str, is_group: bool, now: datetime) -> None:
    session.add(SendLog(channel=channel, chat_id=chat_id, is_group=is_group, sent_at=now))


def recent_sends(
    session: Session, channel: str, now: datetime, chat_id: str | None = None,
    window: timedelta = timedelta(seconds=1),
) -> list[datetime]:
    """Send times within the window, oldest first (for one chat, or the whole bot)."""
    query = select(SendLog.sent_at).where(SendLog.channel == channel, SendLog.sent_at > now - window)
    if chat_id is not None:
        query = query.where(SendLog.chat_id == chat_id)
    return list(session.execute(query.order_by(SendLog.sent_at)).scalars())


def prune_send_log(session: Session, now: datetime, keep: timedelta = timedelta(hours=1)) -> None:
    session.execute(delete(SendLog).where(SendLog.sent_at < now - keep))


def release(session: Session, message_ids: list[int]) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))  # type: ignore[union-attr]
        .values(claimed_until=None)
    )
