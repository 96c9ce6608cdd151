"""models.bulk.Rows: many rows inserted as plain tuples store exactly what the ORM would."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import insert, select

from models import notifications
from models.bulk import Rows
from models.db import UnitOfWork, table_of
from models.tables import Campaign, CampaignRecipient, OutboxMessage, OutboxStatus
from tests.segment_helpers import NOW, Shop


def test_queued_rows_read_back_as_the_orm_would_have_written_them_and_a_taken_key_is_skipped(app):
    with UnitOfWork(app.deps.sessions) as uow:
        session = uow.session
        shop = Shop(session)
        amy, bob = shop.member("amy"), shop.member("bob")
        session.add(OutboxMessage(channel="telegram", chat_id="old", member_id=bob.id,
                                  dedupe_key="k:bob", community_id=shop.id, created_at=NOW))
        session.flush()
        later = NOW + timedelta(hours=3)
        body = {"text": "會員日快樂 – ¥1", "buttons": [["+1", "/join #3"]], "card": {}}
        rows = [(shop.id, "telegram", "c1", json.dumps(body), "k:amy", amy.id, "promotion", NOW, later),
                (shop.id, "line", "c2", json.dumps({"text": "x"}), "k:bob", bob.id, "promotion", NOW, NOW)]
        assert notifications.queue_many(session, rows) == {"k:amy"}
        uow.commit()
    with UnitOfWork(app.deps.sessions) as uow:
        amy_row = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == "k:amy")).scalar_one()
        bob_row = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == "k:bob")).scalar_one()
    assert (amy_row.community_id, amy_row.channel, amy_row.chat_id, amy_row.body, amy_row.member_id,
            amy_row.kind) == (shop.id, "telegram", "c1", body, amy.id, "promotion")
    assert (amy_row.created_at, amy_row.not_before) == (NOW, later)
    assert amy_row.created_at.tzinfo is not None
    assert (amy_row.status, amy_row.attempts, amy_row.is_group, amy_row.last_error,
            amy_row.claimed_until, amy_row.sent_at) == (OutboxStatus.PENDING, 0, False, "", None, None)
    assert bob_row.chat_id == "old"  # the key's first message stays


def test_rows_are_sent_a_few_per_statement_and_every_returned_row_comes_back(app):
    table = table_of(CampaignRecipient)
    columns = ("campaign_id", "run", "member_id", "variant", "sent_at", "window_until",
               "outbox_key", "skipped")
    statement = Rows(insert(table).returning(table.c.member_id), columns, per=2)
    with UnitOfWork(app.deps.sessions) as uow:
        session = uow.session
        shop = Shop(session)
        members = [shop.member(f"m{i}") for i in range(5)]
        campaign = Campaign(community_id=shop.id, name="c", segment="s", message_a="hi",
                            created_at=NOW, next_run_at=NOW)
        session.add(campaign)
        session.flush()
        window = NOW + timedelta(days=3)
        rows = [(campaign.id, 1, m.id, "AB"[i % 2], NOW, window, f"k{i}" if i % 2 else None,
                 "" if i % 2 else "opted out") for i, m in enumerate(members)]
        returned = statement.run(session, rows)
        stored = session.execute(select(CampaignRecipient).order_by(CampaignRecipient.member_id)
                                 ).scalars().all()
    assert sorted(r[0] for r in returned) == [m.id for m in members]
    assert [(r.campaign_id, r.run, r.member_id, r.variant, r.sent_at, r.window_until, r.outbox_key,
             r.skipped) for r in stored] == rows
