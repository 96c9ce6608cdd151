"""A refund and the confirmation job at the same moment, on PostgreSQL: the refund's reversal
holds the confirmation watermark FOR SHARE, so the job waits for it and then finds nothing
left to confirm — never a confirmed commission on a refunded order with pending below zero.
(SQLite has one writer at a time: there the job cannot start its writes meanwhile.)"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from models import fulfilment
from models.db import UnitOfWork
from models.programme import programme_for
from models.tables import Community, GroupBuy, Order
from scheduler.distribution import confirm_commissions
from tests.conftest import say
from tests.distribution_helpers import sums, totals
from tests.groupbuy_helpers import member


def test_a_refund_during_the_confirmation_never_leaves_commission_confirmed(console, clock, db):
    if db.dialect.name != "postgresql":
        pytest.skip("row locks between two sessions: PostgreSQL")
    say(console, "amy: /start", "amy: /apply", "leader@demo: /approve @amy")
    say(console, f"bob: /start ref_{member(console, 'amy').referral_code}")
    say(console, "leader@demo: /open 蘋果 | 1000 | 10 | 2h", "bob@demo: +1", "leader@demo: /delivered all")
    amy = member(console, "amy").id
    assert totals(console, amy) == (5_000, 0, 0)
    clock.advance(days=8)  # the return window has passed: the job would confirm it
    with UnitOfWork(console.deps.sessions) as uow:
        order = uow.session.execute(select(Order)).scalar_one()
        buy = uow.session.get_one(GroupBuy, order.group_buy_id)
        programme = programme_for(uow.session.get_one(Community, buy.community_id))
        assert fulfilment.refund(uow.session, order, buy, programme, clock.now.date(), clock.now) == []
        job = threading.Thread(target=confirm_commissions, args=(console.deps,))
        job.start()
        time.sleep(0.5)  # the job reaches the watermark while the refund is not committed
        uow.commit()
    job.join()
    assert totals(console, amy) == (0, 0, 0) == sums(console, amy)
