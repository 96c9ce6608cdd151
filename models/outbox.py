"""The outbox: pushes waiting to leave at the platform's pace, pending -> sending -> sent |
failed, each claimed with a lease by one delivery worker (scheduler/paced.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col

from models.db import Statement, adopt, dialect_name, table_of
from models.tables import OutboxMessage
from models.tables_messages import OutboxStatus
from models.types import rows_matched


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
