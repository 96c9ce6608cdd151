"""A push told the account the message came from (`here`, and whether it is the member's
only one) decides exactly as the query over all their accounts would: a '+1' in a group
confirms in private without reading the accounts when that account answers it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlmodel import Session

from handlers.notify import Message, notify
from models.db import session_factory
from models.rules.notify import Kind
from models.tables import ChannelAccount, Member, OutboxMessage
from tests.segment_helpers import NOW, Shop

ACCOUNT = st.fixed_dictionaries({
    "channel": st.sampled_from(["telegram", "line", "wechat"]),
    "private": st.booleans(), "opted_out": st.booleans(),
    "inbound_hours_ago": st.integers(0, 72), "pushes": st.integers(0, 6)})


def _accounts(session: Session, shop: Shop, specs: list[dict]) -> list[ChannelAccount]:
    """The member's accounts, the first seen most recently."""
    member = shop.member("amy", private=False)
    session.execute(delete(ChannelAccount).where(ChannelAccount.member_id == member.id))
    made = [ChannelAccount(
        member_id=member.id, community_id=shop.id, channel=spec["channel"],
        external_id=f"x{member.id}-{j}", private_chat=f"c{member.id}-{j}" if spec["private"] else None,
        opted_out=spec["opted_out"], last_seen_at=NOW - timedelta(hours=j),
        last_inbound_at=NOW - timedelta(hours=spec["inbound_hours_ago"]),
        pushes_since_inbound=spec["pushes"]) for j, spec in enumerate(specs)]
    session.add_all(made)
    session.flush()
    return made


@pytest.mark.parametrize("kind", list(Kind))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(ACCOUNT, min_size=1, max_size=3), at=st.integers(0, 2),
       told=st.booleans(), hour=st.sampled_from([4, 15]))
@example(specs=[  # a WeChat chat out of its window, a LINE friend: LINE
    {"channel": "wechat", "private": True, "opted_out": False, "inbound_hours_ago": 72, "pushes": 0},
    {"channel": "line", "private": True, "opted_out": False, "inbound_hours_ago": 0, "pushes": 0}],
    at=0, told=False, hour=4)
def test_a_push_told_where_the_message_came_from_decides_as_the_query(app, kind, specs, at, told,
                                                                       hour):
    here_at = min(at, len(specs) - 1)
    if any(spec["channel"] == specs[here_at]["channel"] for spec in specs[:here_at]):
        here_at = next(j for j, spec in enumerate(specs) if spec["channel"] == specs[here_at]["channel"])
    now = NOW.replace(hour=hour)  # 12:00 or 23:00 in Taipei (quiet hours)
    queued = []
    for told_here in (False, True):
        with session_factory(app.engine)() as session:
            shop = Shop(session, f"s{told_here}")
            accounts = _accounts(session, shop, specs)
            here = accounts[here_at]  # the most recently seen of its channel: the one writing
            member_id = here.member_id
            if told:
                session.add(OutboxMessage(channel="telegram", chat_id="x", member_id=member_id,
                                          kind="service", dedupe_key=f"now:{member_id}",
                                          community_id=shop.id))
                session.flush()
            member = session.get_one(Member, member_id)
            went = notify(session, app.deps, member, Message("tier_down", before="金", after="銀"),
                          kind, key=f"now:{member_id}", prefer=here.channel,
                          community=shop.community, now=now,
                          here=here if told_here else None, only=told_here and len(specs) == 1)
            rows = session.execute(select(OutboxMessage.channel, OutboxMessage.chat_id,
                                          OutboxMessage.not_before, OutboxMessage.body)
                                   .where(OutboxMessage.dedupe_key == f"now:{member_id}",
                                          OutboxMessage.chat_id != "x")).all()
            chats = {a.private_chat: j for j, a in enumerate(accounts)}
            queued.append((went, [(c, chats.get(chat), nb, body) for c, chat, nb, body in rows]))
            session.rollback()
    assert queued[0] == queued[1]
