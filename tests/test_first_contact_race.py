"""A new member's first two messages reach two workers at the same moment (PostgreSQL).

The worker that loses the race to create the member runs its unit of work again and
answers; only a redelivery of the very same event is answered with nothing.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bot.app import bootstrap
from bot.settings import Settings
from models.tables import ChannelAccount, Order
from tests.conftest import DATABASE_URL
from tests.contact_race_helpers import first_contacts, open_buy
from tests.flood_helpers import real_clock
from tests.groupbuy_helpers import fetch

MEMBERS = 40
ERROR = "抱歉，系統暫時出了點問題，請稍後再試。"


@pytest.fixture
def url(db: Engine) -> str:
    if db.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: two workers cannot race to create a member")
    return db.url.render_as_string(hide_password=False)


def test_a_new_members_first_two_messages_on_two_workers_are_both_answered(
        db: Engine, url: str, tmp_path: Path):
    app = bootstrap(Settings(database_url=DATABASE_URL, home=tmp_path), clock=real_clock,
                    engine=db, migrate=False)
    buy_id = open_buy(app, stock=MEMBERS * 2)
    # worker 0 gets '/me' for even members and '+1' for odd ones, worker 1 the other one
    pairs = [(f"new-{i}", *(("/me", "+1") if i % 2 == 0 else ("+1", "/me")))
             for i in range(MEMBERS)]
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    workers = [spawn.Process(target=first_contacts,
                             args=(url, str(tmp_path), w, pairs, barrier, results))
               for w in (0, 1)]
    for worker in workers:
        worker.start()
    answered = [row for _ in workers for row in results.get(timeout=240)]
    for worker in workers:
        worker.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]

    cards = {sender: replies for sender, text, replies in answered if text == "/me"}
    assert sorted(cards) == sorted(sender for sender, *_ in pairs)
    unanswered = [s for s, replies in cards.items() if not replies or ERROR in replies[0]]
    assert unanswered == []
    assert all(replies[0].startswith(f"{sender} ·") for sender, replies in cards.items())
    buyers = fetch(app, select(ChannelAccount.external_id)
                   .join(Order, Order.member_id == ChannelAccount.member_id)
                   .where(Order.group_buy_id == buy_id))
    assert sorted(buyers) == sorted(cards)  # every '+1' became exactly one order line
