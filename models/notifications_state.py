"""Outbound state a restart or a second process needs, in the database: a platform's reply
window and its message count per person (WeChat), and reply tokens while fresh (LINE)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models.db import Runner, Statement, dialect_name, table_of
from models.rules.notify import ReplyWindow
from models.tables import ChannelAccount, ReplyToken
from models.types import rows_matched

_SAME = {"synchronize_session": False}


def _person(channel: str, external_id: str) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id)


def record_inbound(session: Session, channel: str, external_id: str, now: datetime) -> None:
    """The person wrote: their reply window opens anew, with its full message count."""
    session.execute(update(ChannelAccount).where(*_person(channel, external_id))
                    .values(last_inbound_at=now, pushes_since_inbound=0)
                    .execution_options(**_SAME))


def take_from_window(session: Session, channel: str, external_id: str, count: int,
                     now: datetime, window: ReplyWindow) -> str:
    """Reserve `count` messages to this person: one conditional UPDATE, so two processes
    never both take the last one. '' when taken; else why not ('outside', 'over')."""
    since = func.coalesce(col(ChannelAccount.last_inbound_at), col(ChannelAccount.last_seen_at))
    inside = since > now - window.length
    done = session.execute(
        update(ChannelAccount).where(
            *_person(channel, external_id), inside,
            col(ChannelAccount.pushes_since_inbound) + count <= window.per_inbound)
        .values(pushes_since_inbound=col(ChannelAccount.pushes_since_inbound) + count)
        .execution_options(**_SAME))
    if rows_matched(done):
        return ""
    open_ = session.execute(select(col(ChannelAccount.id)).where(*_person(channel, external_id),
                                                            inside)).first()
    return "over" if open_ is not None else "outside"


def close_window(session: Session, channel: str, external_id: str, per_inbound: int) -> None:
    """The platform says no more until the person writes again (its count was higher)."""
    session.execute(update(ChannelAccount).where(*_person(channel, external_id))
                    .values(pushes_since_inbound=per_inbound).execution_options(**_SAME))


_TOKENS = table_of(ReplyToken)


def _keep_once(insert: Any) -> Statement:
    return Statement(insert(_TOKENS).values(
        channel=bindparam("channel"), event_key=bindparam("key"), token=bindparam("token"),
        received_at=bindparam("at")).on_conflict_do_nothing(index_elements=["channel", "event_key"]))


_KEEP = {"sqlite": _keep_once(sqlite_insert), "postgresql": _keep_once(pg_insert)}
# Every row of the event's token (each message it came with), used once, while fresh.
_TAKE = Statement(
    update(_TOKENS).where(
        _TOKENS.c.channel == bindparam("channel"), _TOKENS.c.used_at.is_(None),
        _TOKENS.c.received_at > bindparam("since"),
        _TOKENS.c.token == select(_TOKENS.c.token).where(
            _TOKENS.c.channel == bindparam("channel"), _TOKENS.c.event_key == bindparam("key"))
        .scalar_subquery())
    .values(used_at=bindparam("at")).returning(_TOKENS.c.token))


def keep_reply_token(session: Runner, channel: str, event_key: str, token: str,
                     now: datetime) -> None:
    """Kept for the event (a key kept already keeps its first token)."""
    _KEEP[dialect_name(session)].run(session, {"channel": channel, "key": event_key[:128],
                                               "token": token[:255], "at": now})


def take_reply_token(session: Runner, channel: str, event_key: str, now: datetime,
                     ttl: timedelta) -> str | None:
    """The event's reply token, once, while fresh: every event it came with shares it. One
    conditional UPDATE; the loser (or a used, stale, unknown token) gets None."""
    taken = _TAKE.run(session, {"channel": channel, "key": event_key[:128], "at": now,
                                "since": now - ttl}).all()
    return str(taken[0][0]) if taken else None


def forget_reply_tokens(session: Session, before: datetime) -> None:
    session.execute(delete(ReplyToken).where(col(ReplyToken.received_at) < before))
