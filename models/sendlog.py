"""The send log and each channel's pacing row: what left when, and a 429 pause every worker
obeys. The reservation that keeps several workers within a platform's limits takes the pacing
row first (`lock_pacing`), then reads and writes the log in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models.db import Direct, Runner, Statement, dialect_name, table_of
from models.tables import PacingState, SendLog
from models.types import rows_matched


def _lock_pacing(insert: Any) -> Statement:
    table = table_of(PacingState)
    return Statement(insert(table).values(channel=bindparam("channel"))
                     .on_conflict_do_update(index_elements=["channel"],
                                            set_={"paused_until": table.c.paused_until})
                     .returning(table.c.paused_until))


# Every statement of a reservation is built once (they run on each reply and each push).
_PACING = {"sqlite": _lock_pacing(sqlite_insert), "postgresql": _lock_pacing(pg_insert)}
_PACING_TABLE, _LOG = table_of(PacingState), table_of(SendLog)
_PAUSED = Statement(select(_PACING_TABLE.c.paused_until)
                    .where(_PACING_TABLE.c.channel == bindparam("channel")))
_LOG_SEND = Statement(insert(_LOG).values(
    channel=bindparam("channel"), chat_id=bindparam("chat_id"), is_group=bindparam("is_group"),
    sent_at=bindparam("sent_at")))
_IN_WINDOW = (_LOG.c.channel == bindparam("channel")) & (_LOG.c.sent_at > bindparam("since"))


def _newest_first(*where: Any) -> Any:
    return select(_LOG.c.sent_at).where(_IN_WINDOW, *where).order_by(_LOG.c.sent_at.desc())


_NEWEST_BY_BOT = Statement(_newest_first().limit(bindparam("last")))
_NEWEST_TO_CHAT = Statement(_newest_first(_LOG.c.chat_id == bindparam("chat_id"))
                            .limit(bindparam("last")))
# the newest send, and the n-th newest (there is a window full of sends when it exists)
_EDGE = Statement(select(
    _newest_first().limit(1).scalar_subquery(),
    _newest_first().limit(1).offset(bindparam("skip")).scalar_subquery()))


def lock_pacing(session: Runner, channel: str) -> datetime | None:
    """Take the channel's pacing lock until commit; return its 429 pause (if any).

    One write (an upsert of the channel's row) comes first: on PostgreSQL it locks the row,
    on SQLite it takes the database's write lock before anything is read.
    """
    row = _PACING[dialect_name(session)].run(session, {"channel": channel}).first()
    assert row is not None  # an upsert … RETURNING always returns its row
    paused: datetime | None = row[0]
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


# the channel's 429 pause as another statement of the transaction read it (models.sender):
# `paused_until` then need not read it again
PAUSE = _PACING_TABLE.c.paused_until
PAUSED_ON_CHANNEL = (select(PAUSE).where(_PACING_TABLE.c.channel == bindparam("channel"))
                     .scalar_subquery())
_READ_ALREADY = "tuanbot.paused_until"


def paused_until(session: Runner, channel: str) -> datetime | None:
    read = session.info.get(_READ_ALREADY)
    if read is not None and read[0] == channel:
        paused: datetime | None = read[1]
        return paused
    row = _PAUSED.run(session, {"channel": channel}).first()
    return None if row is None else row[0]


def read_with(tx: Direct, channel: str, paused: datetime | None) -> None:
    """The channel's pause as `PAUSED_ON_CHANNEL` read it in this transaction (a Direct one,
    whose notes end with it), for `paused_until`."""
    tx.info[_READ_ALREADY] = (channel, paused)


def log_send(session: Runner, channel: str, chat_id: str, is_group: bool, now: datetime) -> None:
    _LOG_SEND.run(session, {"channel": channel, "chat_id": chat_id, "is_group": is_group,
                            "sent_at": now})


def window_edge(session: Runner, channel: str, now: datetime, window: timedelta,
                limit: int) -> tuple[datetime | None, datetime | None]:
    """The bot's newest send within the window, and its `limit`-th newest (None while fewer
    than `limit` were sent in the window, or when there is no limit). One statement."""
    row = _EDGE.run(session, {"channel": channel, "since": now - window,
                              "skip": max(limit, 1) - 1}).first()
    assert row is not None  # a SELECT of two scalar subqueries always has its row
    newest, nth = row
    return newest, nth if limit > 0 else None


def recent_sends(
    session: Runner, channel: str, now: datetime, chat_id: str | None = None,
    window: timedelta = timedelta(seconds=1), last: int | None = None,
) -> list[datetime]:
    """Send times within the window, oldest first (for one chat, or the whole bot); with
    `last`, only the newest `last` of them (all a limit of `last` per window looks at)."""
    if last is not None and last <= 0:
        return []
    if last is not None:  # the per-reply case, on the cursor
        statement, params = _NEWEST_BY_BOT, {"channel": channel, "since": now - window,
                                             "last": last}
        if chat_id is not None:
            statement, params = _NEWEST_TO_CHAT, {**params, "chat_id": chat_id}
        return [row[0] for row in reversed(statement.run(session, params).all())]
    assert isinstance(session, Session), "the whole window is read through a session"
    query = select(col(SendLog.sent_at)).where(col(SendLog.channel) == channel,
                                               col(SendLog.sent_at) > now - window)
    if chat_id is not None:
        query = query.where(col(SendLog.chat_id) == chat_id)
    return list(session.execute(query.order_by(col(SendLog.sent_at))).scalars())


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
