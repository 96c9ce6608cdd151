"""The pacing check reads only the newest sends a limit looks at, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models import sendlog
from models.db import UnitOfWork
from models.rules.pacing import Limits, next_slot

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)


def test_the_newest_sends_a_limit_looks_at_decide_the_same_slot_as_the_whole_window(app):
    limits = Limits(per_bot=3, per_bot_window=timedelta(seconds=10))
    with UnitOfWork(app.deps.sessions) as uow:
        for ms in (100, 200, 300, 400, 500, 600, 700):
            sendlog.log_send(uow.session, "telegram", f"chat{ms}", False,
                            NOW - timedelta(milliseconds=ms))
        uow.commit()
    with UnitOfWork(app.deps.sessions) as uow:
        whole = sendlog.recent_sends(uow.session, "telegram", NOW, window=limits.per_bot_window)
        newest = sendlog.recent_sends(uow.session, "telegram", NOW, window=limits.per_bot_window,
                                     last=limits.per_bot)
        none = sendlog.recent_sends(uow.session, "telegram", NOW, last=0)
    assert newest == whole[-3:] == sorted(newest)
    assert none == []
    assert next_slot(NOW, newest, [], False, limits) == next_slot(NOW, whole, [], False, limits)
