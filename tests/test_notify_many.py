"""notify_many decides exactly as notify, push by push (the same rule, fed in bulk)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlmodel import Session

from handlers.notify import Message, Push, notify, notify_many
from models.db import session_factory
from models.rules.notify import Kind
from models.tables import ChannelAccount, OutboxMessage
from tests.segment_helpers import NOW, Shop

ACCOUNT = st.fixed_dictionaries({
    "channel": st.sampled_from(["telegram", "line", "wechat"]),
    "private": st.booleans(), "opted_out": st.booleans(),
    "inbound_hours_ago": st.integers(0, 72), "pushes": st.integers(0, 6)})
MEMBER = st.fixed_dictionaries({"accounts": st.lists(ACCOUNT, max_size=2),
                                "promotions": st.integers(0, 4), "told": st.booleans()})


def _fill(session: Session, shop: Shop, specs: list[dict]) -> list:
    members = []
    for i, spec in enumerate(specs):
        member = shop.member(f"m{i}", private=False)
        session.execute(delete(ChannelAccount).where(ChannelAccount.member_id == member.id))
        for j, acc in enumerate(spec["accounts"]):
            session.add(ChannelAccount(
                member_id=member.id, community_id=shop.id, channel=acc["channel"],
                external_id=f"x{member.id}-{j}", private_chat=f"c{member.id}-{j}" if acc["private"] else None,
                opted_out=acc["opted_out"], last_seen_at=NOW - timedelta(hours=j),
                last_inbound_at=NOW - timedelta(hours=acc["inbound_hours_ago"]),
                pushes_since_inbound=acc["pushes"]))
        for k in range(spec["promotions"]):
            session.add(OutboxMessage(channel="telegram", chat_id="x", member_id=member.id,
                                      kind="promotion", dedupe_key=f"old:{member.id}:{k}",
                                      created_at=NOW - timedelta(days=1), community_id=shop.id))
        if spec["told"]:
            session.add(OutboxMessage(channel="telegram", chat_id="x", member_id=member.id,
                                      kind="reminder", dedupe_key=f"now:{member.id}", community_id=shop.id))
        members.append(member)
    session.flush()
    return members


def _queued(session: Session) -> list[tuple]:
    rows = session.execute(select(OutboxMessage).where(OutboxMessage.dedupe_key.startswith("now:"),
                                                       OutboxMessage.chat_id != "x")).scalars()
    return sorted((r.member_id, r.channel, r.chat_id, r.kind, r.not_before, r.body["text"]) for r in rows)


@pytest.mark.parametrize("hour", [4, 15])  # 12:00 and 23:00 in Taipei (quiet hours)
@pytest.mark.parametrize("kind", list(Kind))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(MEMBER, min_size=1, max_size=6), prefer=st.sampled_from([None, "line"]))
def test_notify_many_queues_what_notify_would(app, hour, kind, specs, prefer):
    now = NOW.replace(hour=hour)
    results = []
    for bulk in (False, True):
        with session_factory(app.engine)() as session:
            shop = Shop(session, f"s{bulk}")
            members = _fill(session, shop, specs)
            message = Message("tier_down", before="金", after="銀")
            if bulk:
                pushes = [Push(m, message, f"now:{m.id}", prefer) for m in members]
                count = notify_many(session, app.deps, shop.community, pushes, kind, now=now)
            else:
                count = sum(notify(session, app.deps, m, message, kind, key=f"now:{m.id}",
                                   prefer=prefer, community=shop.community, now=now) for m in members)
            rows = _queued(session)
            ids = {m.id: i for i, m in enumerate(members)}
            results.append((count, sorted((ids[r[0]], r[1], r[3], r[4], r[5]) for r in rows)))
            session.rollback()
    assert results[0] == results[1]
