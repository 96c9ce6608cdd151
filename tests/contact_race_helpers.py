"""Workers in their own processes (multiprocessing spawn): each its own engine and bootstrap."""

from __future__ import annotations

from datetime import timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

from bot.app import App, bootstrap
from bot.settings import Settings
from handlers.dispatch import handle
from messages.types import Incoming
from models import groupbuys, members
from models.db import UnitOfWork, make_engine
from tests.flood_helpers import real_clock

GROUP = "demo"  # the demo community's console group


def open_buy(app: App, stock: int) -> int:
    """An open group buy in the demo group, from now until tomorrow."""
    now = app.deps.clock()
    with UnitOfWork(app.deps.sessions) as uow:
        community = members.community_by_slug(uow.session, "demo")
        assert community is not None
        buy = groupbuys.open_buy(
            uow.session, community_id=community.id, channel="console", chat_id=GROUP,
            title="Race pears", price=8_000, stock=stock, opens_at=now,
            deadline=now + timedelta(days=1), created_at=now,
        )
        uow.commit()
        return buy.id  # type: ignore[return-value]


def first_contacts(url: str, home: str, worker: int, pairs: list[tuple[str, str, str]],
                   barrier: Barrier, results: Any) -> None:
    """For each (sender, text for worker 0, text for worker 1): wait for the other worker,
    then handle this worker's message; put [(sender, text, [reply texts])] on `results`."""
    engine = make_engine(url)
    app = bootstrap(Settings(database_url=url, home=Path(home)), clock=real_clock, engine=engine,
                    migrate=False)
    answered = []
    try:
        for sender, *texts in pairs:
            text = texts[worker]
            msg = Incoming(channel="console", chat=GROUP, sender=sender, text=text,
                           message_id=f"{sender}-{worker}", is_group=True, sender_name=sender,
                           handle=sender)
            barrier.wait(timeout=60)
            answered.append((sender, text, [r.text for r in handle(msg, app.deps)]))
    finally:
        results.put(answered)
        engine.dispose()
