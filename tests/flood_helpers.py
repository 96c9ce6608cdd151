"""A '+1' flood: thousands of members, some updates delivered twice, several workers."""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from telegram import Update

from bot.app import App
from bot.telegram import TelegramChannel
from models import communities, groupbuys, members
from models.db import UnitOfWork
from models.tables import GroupBuy, Order

GROUP = -100777


def seed(app: App, stock: int) -> int:
    """A community bound to the Telegram group, its owner, and an open group buy."""
    now = app.deps.clock()
    with UnitOfWork(app.deps.sessions) as uow:
        community = members.community_by_slug(uow.session, "demo")
        assert community is not None
        communities.bind_group(uow.session, community, "telegram", str(GROUP), "flood")
        buy = groupbuys.open_buy(
            uow.session, community_id=community.id, channel="telegram", chat_id=str(GROUP),
            title="Flood apples", price=35_000, stock=stock, opens_at=now,
            deadline=now + timedelta(days=1), created_at=now,
        )
        uow.commit()
        return buy.id  # type: ignore[return-value]


def updates(n: int, duplicate_share: float, seed_: int = 7) -> list[dict[str, Any]]:
    """n members each send '+1' once; a share of the updates is delivered a second time."""
    rng = random.Random(seed_)
    made = []
    for i in range(n):
        user = 10_000 + i
        made.append({"update_id": i + 1, "message": {
            "message_id": 50_000 + i, "date": 1_700_000_000, "text": "+1",
            "from": {"id": user, "is_bot": False, "first_name": f"m{i}", "username": f"m{i}"},
            "chat": {"id": GROUP, "type": "supergroup", "title": "flood"}}})
    again = rng.sample(made, int(n * duplicate_share))
    everything = made + again
    rng.shuffle(everything)
    return everything


async def pump(channel: TelegramChannel, batch: list[dict[str, Any]]) -> None:
    """Feed updates through PTB's own queue with concurrent processing, then drain."""
    app = channel.app
    async with app:
        await app.start()
        for data in batch:
            await app.update_queue.put(Update.de_json(data, app.bot))
        while not app.update_queue.empty():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        await app.stop()


def run_workers(app: App, settings_for_worker: Any, batches: list[list[dict[str, Any]]]) -> None:
    """One thread (own event loop, own PTB Application) per batch: workers racing each other."""
    errors: list[BaseException] = []

    def work(batch: list[dict[str, Any]]) -> None:
        try:
            channel = TelegramChannel(app.deps, settings_for_worker(), **_request_kwargs())
            asyncio.run(pump(channel, batch))
        except BaseException as error:  # surfaced to the test below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors


def _request_kwargs() -> dict[str, Any]:
    from bench.loopback import LoopbackRequest

    return {"request": LoopbackRequest(), "updates_request": LoopbackRequest()}


def outcome(app: App, buy_id: int) -> dict[str, int]:
    with UnitOfWork(app.deps.sessions) as uow:
        session = uow.session
        buy = session.get(GroupBuy, buy_id)
        assert buy is not None

        def units(status: str) -> int:
            return int(session.execute(select(func.coalesce(func.sum(Order.quantity), 0)).where(
                Order.group_buy_id == buy_id, Order.status == status)).scalar_one())

        lines = session.execute(select(func.count(Order.id)).where(Order.group_buy_id == buy_id)).scalar_one()
        buyers = session.execute(select(func.count(func.distinct(Order.member_id)))
                                 .where(Order.group_buy_id == buy_id)).scalar_one()
        return {"stock_counter": buy.allocated, "allocated": units("allocated"),
                "waitlisted": units("waitlisted"), "lines": int(lines), "buyers": int(buyers)}


def real_clock() -> datetime:
    return datetime.now(UTC)


__all__ = ["seed", "updates", "run_workers", "outcome", "replace", "real_clock", "GROUP"]
