"""LINE reply tokens in the database: kept once per event, taken once while fresh."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from models.db import Direct, UnitOfWork, session_factory
from models.notifications_state import keep_reply_token, take_reply_token
from models.tables import ReplyToken

TTL = timedelta(seconds=50)


def _keep(db, key, token, at):
    with Direct(session_factory(db)) as tx:
        keep_reply_token(tx, "line", key, token, at)
        tx.commit()


def _take(db, key, at):
    with Direct(session_factory(db)) as tx:
        token = take_reply_token(tx, "line", key, at, TTL)
        tx.commit()
    return token


def test_an_event_kept_twice_keeps_its_first_token_once(db, clock):
    _keep(db, "e1", "first", clock())
    _keep(db, "e1", "second", clock())  # a redelivery: changes nothing
    with UnitOfWork(session_factory(db)) as uow:
        assert uow.session.execute(select(func.count()).select_from(ReplyToken)).scalar_one() == 1
    assert _take(db, "e1", clock()) == "first"


def test_a_token_shared_by_two_events_is_taken_once_and_never_when_stale_or_unknown(db, clock):
    _keep(db, "join:a", "shared", clock())
    _keep(db, "join:b", "shared", clock())
    assert _take(db, "join:a", clock()) == "shared"
    assert _take(db, "join:b", clock()) is None  # the same token: used
    _keep(db, "late", "old", clock())
    assert _take(db, "late", clock() + TTL + timedelta(seconds=1)) is None
    assert _take(db, "never-kept", clock()) is None
