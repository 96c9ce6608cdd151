"""Several delivery workers, each in its own process, keep the platform's limits together.

Real clock, real database, real processes: the limits are checked afterwards from the wall
time each send was made at.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from messages.records import reply_record
from messages.types import Reply
from models import outbox
from models.db import UnitOfWork, session_factory
from tests.pacing_helpers import (
    CHANNEL,
    LAG,
    LIMITS,
    most_within,
    reachable,
    real_clock,
    run_processes,
)

PRIVATE_CHATS, PER_PRIVATE, GROUPS, PER_GROUP = 44, 4, 6, 4
# Reservations keep the limits exactly; a send leaves up to LAG after its reservation (the
# worker drops a reservation that old), so two sends may be up to LAG closer than theirs.
SLACK = LAG.total_seconds()


def fill_outbox(db: Engine) -> int:
    now = real_clock()
    chats = [(str(-100 - n), True, PER_GROUP) for n in range(GROUPS)]
    chats += [(str(1000 + n), False, PER_PRIVATE) for n in range(PRIVATE_CHATS)]
    with UnitOfWork(session_factory(db)) as uow:
        for chat, is_group, count in chats:  # a chat's messages side by side in the queue
            for n in range(count):
                outbox.enqueue(uow.session, CHANNEL, chat, reply_record(Reply(f"news {n}")), now,
                               is_group=is_group)
        uow.commit()
    return PRIVATE_CHATS * PER_PRIVATE + GROUPS * PER_GROUP


@pytest.mark.parametrize("workers", [2, 4])
def test_delivery_workers_in_separate_processes_keep_the_limits_together(
    db: Engine, tmp_path: Path, workers: int
):
    if db.dialect.name != "postgresql" and workers > 2:
        pytest.skip("on SQLite (one writer at a time) two processes make the point")
    shared = reachable(db, tmp_path)
    queued = fill_outbox(shared)
    sent = run_processes(shared.url.render_as_string(hide_password=False), tmp_path, workers)

    assert len(sent) == queued
    by_chat: dict[str, list[float]] = defaultdict(list)
    for at, chat, _ in sent:
        by_chat[chat].append(at)
    bot_window = LIMITS.per_bot_window.total_seconds() - SLACK
    assert most_within([at for at, _, _ in sent], bot_window) <= LIMITS.per_bot
    chat_window = LIMITS.per_chat_window.total_seconds() - SLACK
    assert max(most_within(times, chat_window) for times in by_chat.values()) <= LIMITS.per_chat
    group_window = LIMITS.per_group_window.total_seconds() - SLACK
    groups = {chat for _, chat, is_group in sent if is_group}
    assert max(most_within(by_chat[g], group_window) for g in groups) <= LIMITS.per_group
