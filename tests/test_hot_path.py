"""The per-message hot path below the ORM: the same rows, the same errors, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import bindparam, insert, literal, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.event import listen, remove
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import inbox
from bot.app import App
from messages.types import Incoming, Reply
from models import communities, events, members, outbox
from models.db import Direct, Statement, UnitOfWork, session_factory
from models.tables import Community, InboundEvent, Member, OutboxMessage
from models.types import UTCDateTime

NOW = datetime(2026, 3, 10, 4, 0, 0, 123456, tzinfo=UTC)
PAYLOAD = {"text": "我的 /me ＋１", "nested": {"n": [1, None, True]}}


def _row(session: Session, key: str) -> InboundEvent:
    return session.execute(select(InboundEvent).where(InboundEvent.event_key == key)).scalar_one()


def test_an_event_stored_on_the_cursor_reads_back_the_same_through_the_orm(db: Engine) -> None:
    sessions = session_factory(db)
    with UnitOfWork(sessions) as uow:
        assert events.accept(uow.session, "telegram", "k1", PAYLOAD, NOW)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        taken = events.claim(uow.session, "telegram", "k1", NOW, timedelta(seconds=30))
        uow.commit()
    assert taken == events.Claim(PAYLOAD, False, [], 1)
    with UnitOfWork(sessions) as uow:
        row = _row(uow.session, "k1")
        assert (row.received_at, row.payload, row.attempts) == (NOW, PAYLOAD, 1)
        assert row.claimed_until == NOW + timedelta(seconds=30)


def test_a_driver_error_on_the_cursor_is_raised_as_sqlalchemys(db: Engine) -> None:
    """The dispatcher retries on SQLAlchemy's IntegrityError: a raw sqlite3/psycopg error
    would escape it."""
    twice = Statement(insert(InboundEvent.__table__).values(  # type: ignore[attr-defined]
        channel="x", event_key="same", received_at=NOW))
    with UnitOfWork(session_factory(db)) as uow:
        twice.run(uow.session, {})
        with pytest.raises(IntegrityError):
            twice.run(uow.session, {})


def test_a_session_used_after_commit_and_rollback_writes_in_its_new_transaction(db: Engine) -> None:
    sessions = session_factory(db)
    with UnitOfWork(sessions) as uow:
        assert events.accept(uow.session, "line", "kept", PAYLOAD, NOW)
        uow.commit()
        assert events.accept(uow.session, "line", "undone", PAYLOAD, NOW)
        uow.rollback()
        assert events.first_delivery(uow.session, "line", "kept", NOW)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert not events.first_delivery(uow.session, "line", "kept", NOW)
        assert events.accept(uow.session, "line", "undone", PAYLOAD, NOW)  # was rolled back
        uow.commit()


def test_an_answer_is_kept_and_marked_through_the_cursor(db: Engine) -> None:
    sessions = session_factory(db)
    replies = [{"text": "卡片", "private": True}]
    with UnitOfWork(sessions) as uow:
        events.accept(uow.session, "line", "a", PAYLOAD, NOW)
        assert events.first_delivery(uow.session, "line", "a", NOW)
        events.keep_answer(uow.session, "line", "a", replies)
        events.settle(uow.session, "line", "a", [{"text": "not this"}], NOW)  # processed: no-op
        uow.commit()
    with UnitOfWork(sessions) as uow:
        assert events.unanswered(uow.session, NOW + timedelta(hours=1), NOW) == [("line", "a")]
        events.mark_answered(uow.session, "line", "a", NOW)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        row = _row(uow.session, "a")
        assert (row.replies, row.processed_at, row.answered_at) == (replies, NOW, NOW)
        assert events.unanswered(uow.session, NOW + timedelta(hours=1), NOW) == []


def test_the_member_located_on_the_cursor_is_the_sessions_own_and_its_changes_commit(
        db: Engine) -> None:
    sessions = session_factory(db)
    with UnitOfWork(sessions) as uow:
        community = communities.create(uow.session, "hot", "Hot 社群")
        communities.bind_group(uow.session, community, "line", "G1", "group")
        joined = members.join(uow.session, community, "line", "U1", "amy", "Amy 艾米", NOW)
        joined.member.last_checkin_on = date(2026, 3, 9)
        uow.commit()
    with UnitOfWork(sessions) as uow:
        found_community, membership = members.locate(uow.session, "line", "U1", "G1")
        assert found_community is not None and membership is not None
        assert (found_community.slug, found_community.programme) == ("hot", {})
        assert membership.member.last_checkin_on == date(2026, 3, 9)
        assert membership.account.last_seen_at == NOW
        assert uow.session.get(Member, membership.member.id) is membership.member
        again = members.locate(uow.session, "line", "U1", None)[1]
        assert again is not None and again.member is membership.member
        membership.member.points_balance = 42
        members.touch(uow.session, membership.account, "@Amy2", NOW)  # a detached account: added
        uow.commit()
    with UnitOfWork(sessions) as uow:
        stored = members.locate(uow.session, "line", "U1", None)[1]
        assert stored is not None
        assert (stored.member.points_balance, stored.account.handle) == (42, "amy2")
        community_only, nobody = members.locate(uow.session, "line", "U2", "G1")
        assert community_only is not None and community_only.slug == "hot" and nobody is None
        assert isinstance(community_only, Community)
        assert members.locate(uow.session, "line", "U2", None) == (None, None)


HOT_PATH_MODULES = ("models/members.py", "models/lookups.py", "models/referrals.py",
                    "models/reachability.py", "models/db.py", "models/plans.py", "bot/inbox.py",
                    "bot/marks.py", "bot/light.py", "models/sender.py", "handlers/glance.py")


@pytest.mark.parametrize("module", HOT_PATH_MODULES)
def test_each_hot_path_module_stays_within_300_lines(module: str) -> None:
    source = Path(__file__).resolve().parent.parent / module
    assert len(source.read_text(encoding="utf-8").splitlines()) <= 300


LEASE = timedelta(seconds=30)


def test_an_event_taken_on_arrival_is_left_to_its_worker_until_the_lease_runs_out(db: Engine) -> None:
    sessions = session_factory(db)
    with UnitOfWork(sessions) as uow:
        assert events.take(uow.session, "line", "t1", PAYLOAD, NOW, LEASE)
        assert not events.take(uow.session, "line", "t1", PAYLOAD, NOW, LEASE)  # a redelivery
        uow.commit()
    during, after = NOW + LEASE / 2, NOW + LEASE * 2
    with UnitOfWork(sessions) as uow:
        assert events.unanswered(uow.session, during, during) == []  # not even at start-up
        assert events.claim(uow.session, "line", "t1", during, LEASE) is None
        assert events.unanswered(uow.session, after, NOW) == [("line", "t1")]
        assert events.claim(uow.session, "line", "t1", after, LEASE) == events.Claim(
            PAYLOAD, False, [], 2)


def test_an_event_answered_with_nothing_costs_the_inbox_no_transaction_of_its_own(
    app: App,
) -> None:
    msg = Incoming("telegram", "4545", "4545", "hello", "1", event_key="k-quiet")
    assert inbox.take(app.deps, msg, LEASE)
    commits: list[object] = []

    def committed(connection: object) -> None:
        commits.append(connection)

    listen(app.engine, "commit", committed)
    try:
        assert inbox.handle_claimed(app.deps, msg, lambda m, d: []) == []
    finally:
        remove(app.engine, "commit", committed)
    assert commits == []
    inbox.answered(app.deps, msg)
    with UnitOfWork(app.deps.sessions) as uow:
        row = _row(uow.session, "k-quiet")
        assert row.processed_at is not None and row.answered_at is not None
        assert row.claimed_until is None


@pytest.mark.asyncio
async def test_a_message_taken_on_arrival_is_processed_without_a_second_claim(app: App) -> None:
    msg = Incoming("telegram", "4646", "4646", "/help", "2", sender_name="Ann", event_key="k-help")
    sent: list[Reply] = []

    async def deliver(_msg: Incoming, reply: Reply) -> None:
        sent.append(reply)

    assert inbox.take(app.deps, msg, LEASE)
    assert await inbox.process(app.deps, msg, inbox.Outlet(deliver), claimed=True)
    assert sent and await inbox.recover(app.deps, {"telegram": deliver}) == 0
    with UnitOfWork(app.deps.sessions) as uow:
        row = _row(uow.session, "k-help")
        assert (row.attempts, row.claimed_until) == (1, None)
        assert row.processed_at is not None and row.answered_at is not None


def test_a_dedupe_key_queued_by_a_racing_transaction_is_not_queued_twice_nor_an_error(
    db: Engine,
) -> None:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the second transaction cannot start its INSERT")
    import threading

    sessions = session_factory(db)
    body = {"text": "confirmed"}
    outcome: list[object] = []
    with UnitOfWork(sessions) as first:
        assert outbox.enqueue(first.session, "telegram", "1", body, NOW, dedupe_key="race-1")

        def second() -> None:
            with UnitOfWork(sessions) as uow:
                try:
                    outcome.append(outbox.enqueue(uow.session, "telegram", "1", body, NOW,
                                                  dedupe_key="race-1"))
                    uow.commit()
                except Exception as error:  # the outcome under test
                    outcome.append(error)

        racer = threading.Thread(target=second)
        racer.start()
        with db.connect() as watch:  # until the second INSERT waits on the first's row
            while racer.is_alive() and not watch.execute(
                    text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar():
                watch.rollback()
        first.commit()
    racer.join()
    assert outcome == [None]
    with UnitOfWork(sessions) as uow:
        rows = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == "race-1")).scalars().all()
        assert [(r.body, r.status, r.attempts) for r in rows] == [(body, "pending", 0)]


def test_a_timestamp_bound_after_another_is_bound_as_itself(app: App) -> None:
    """Statement plans keep a timestamp's last conversion (models.plans): never a stale one."""
    echo = Statement(select(literal(1)).where(
        bindparam("at", type_=UTCDateTime()) > bindparam("since", type_=UTCDateTime())))
    early = datetime(2026, 1, 1, tzinfo=UTC)
    late = early + timedelta(days=1)
    with Direct(app.deps.sessions) as tx:
        assert echo.run(tx, {"at": late, "since": early}).first() is not None
        assert echo.run(tx, {"at": early, "since": late}).first() is None
        assert echo.run(tx, {"at": late, "since": early}).first() is not None
