"""The send log and each channel's pacing row: what left when, and a 429 pause every worker
obeys. The reservation that keeps several workers within a platform's limits takes the pacing
row first (`lock_pacing`), then reads and writes the log in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models.db import table_of
from models.tables import PacingState, SendLog
from models.types import rows_matched


def _lock_pacing(insert: Any) -> Any:
    table = table_of(PacingState)
    return (insert(table).values(channel=bindparam("channel"))
            .on_conflict_do_update(index_elements=["channel"],
                                   set_={"paused_until": table.c.paused_until})
            .returning(table.c.paused_until))


_PACING = {"sqlite": _lock_pacing(sqlite_insert), "postgresql": _lock_pacing(pg_insert)}


def lock_pacing(session: Session, channel: str) -> datetime | None:
    """Take the channel's pacing lock until commit; return its 429 pause (if any).

    One write (an upsert of the channel's row) comes first: on PostgreSQL it locks the row,
    on SQLite it takes the database's write lock before anything is read.
    """
    connection = session.connection()
    paused: datetime | None = connection.execute(
        _PACING[connection.dialect.name], {"channel": channel}).scalar_one()
    return paused


def pause(session: Session, channel: str, until: datetime) -> None:
    """The platform asked the whole bot to wait: every worker respects it until `until`."""
    lock_pacing(session, channel)
    session.execute(update(PacingState).where(
        col(PacingState.channel) == channel,
        or_(col(PacingState.paused_until).is_(None), col(PacingState.paused_until) < until),
    ).values(paused_until=until, stopped_reason=None))


def stop(session: Session, channel: str, until: datetime, reason: str, now: datetime) -> bool:
    """No sends on the channel until `until` (a quota used up), with the reason; True only
    for the worker that recorded it (not already stopped), who tells the leaders."""
    lock_pacing(session, channel)
    done = session.execute(update(PacingState).where(
        col(PacingState.channel) == channel,
        or_(col(PacingState.stopped_reason).is_(None), col(PacingState.paused_until).is_(None),
            col(PacingState.paused_until) <= now),
    ).values(paused_until=until, stopped_reason=reason[:200]))
    return rows_matched(done) == 1


def stopped(session: Session, channel: str, now: datetime) -> str | None:
    """Why the channel is stopped now (None: it is not)."""
    row = session.execute(select(col(PacingState.paused_until), col(PacingState.stopped_reason))
                          .where(col(PacingState.channel) == channel)).first()
    if row is None or row[1] is None or row[0] is None or row[0] <= now:
        return None
    return str(row[1])


def paused_until(session: Session, channel: str) -> datetime | None:
    return session.execute(
        select(col(PacingState.paused_until)).where(col(PacingState.channel) == channel)
    ).scalar_one_or_none()


def log_send(session: Session, channel: str, chat_id: str, is_group: bool, now: datetime) -> None:
    session.add(SendLog(channel=channel, chat_id=chat_id, is_group=is_group, sent_at=now))


def recent_sends(
    session: Session, channel: str, now: datetime, chat_id: str | None = None,
    window: timedelta = timedelta(seconds=1), last: int | None = None,
) -> list[datetime]:
    """Send times within the window, oldest first (for one chat, or the whole bot); with
    `last`, only the newest `last` of them (all a limit of `last` per window looks at)."""
    if last is not None and last <= 0:
        return []
    query = select(col(SendLog.sent_at)).where(col(SendLog.channel) == channel,
                                               col(SendLog.sent_at) > now - window)
    if chat_id is not None:
        query = query.where(col(SendLog.chat_id) == chat_id)
    if last is None:
        return list(session.execute(query.order_by(col(SendLog.sent_at))).scalars())
    newest = session.execute(query.order_by(col(SendLog.sent_at).desc()).limit(last)).scalars()
    return list(reversed(list(newest)))


def recent_sends_by_chat(session: Session, channel: str, chats: set[str],
                         since: datetime) -> dict[str, list[datetime]]:
    """Send times after `since` to each of `chats`, oldest first (one query for a batch)."""
    found: dict[str, list[datetime]] = {chat: [] for chat in chats}
    if not chats:
        return found
    rows = session.execute(
        select(col(SendLog.chat_id), col(SendLog.sent_at))
        .where(col(SendLog.channel) == channel, col(SendLog.chat_id).in_(sorted(chats)),
               col(SendLog.sent_at) > since)
        .order_by(col(SendLog.sent_at)))
    for chat, at in rows:
        found[chat].append(at)
    return found


def prune_send_log(session: Session, now: datetime, keep: timedelta = timedelta(hours=1)) -> None:
    session.execute(delete(SendLog).where(col(SendLog.sent_at) < now - keep))
