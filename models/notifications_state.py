"""Outbound state a restart or a second process needs, in the database: a platform's reply
window and its message count per person (WeChat), and reply tokens while fresh (LINE)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlmodel import Session, col

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


def keep_reply_token(session: Session, channel: str, event_key: str, token: str,
                     now: datetime) -> None:
    session.add(ReplyToken(channel=channel, event_key=event_key[:128], token=token[:255],
                           received_at=now))


def take_reply_token(session: Session, channel: str, event_key: str, now: datetime,
                     ttl: timedelta) -> str | None:
    """The event's reply token, once, while fresh: every event it came with shares it."""
    token = session.execute(select(col(ReplyToken.token)).where(
        col(ReplyToken.channel) == channel, col(ReplyToken.event_key) == event_key[:128])).scalar()
    if token is None:
        return None
    taken = session.execute(
        update(ReplyToken).where(col(ReplyToken.channel) == channel, col(ReplyToken.token) == token,
                                 col(ReplyToken.used_at).is_(None),
                                 col(ReplyToken.received_at) > now - ttl)
        .values(used_at=now).execution_options(**_SAME))
    return token if rows_matched(taken) else None


def forget_reply_tokens(session: Session, before: datetime) -> None:
    session.execute(delete(ReplyToken).where(col(ReplyToken.received_at) < before))
