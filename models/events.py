"""Inbound dedupe (the inbox): every event stored once, claimed with a lease, processed with
its answer kept, marked answered. The outbox is models/outbox.py; the send log and pacing
rows are in models/sendlog.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models.db import Runner, Statement, dialect_name, table_of
from models.tables import InboundEvent


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
# for another statement's columns (models.sender): the event, bound as "channel" and
# "key", was processed before (a redelivery)
PROCESSED_BEFORE = exists().where(
    _EVENTS.c.channel == bindparam("channel"), _EVENTS.c.event_key == bindparam("key"),
    _EVENTS.c.processed_at.is_not(None))


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
