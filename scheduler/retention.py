"""Retention: inbound payloads, sent pushes' text and old audit lines are removed on time,
and personal-data files (/mydata, exports) are deleted a day after they were made."""

from __future__ import annotations

import logging
from datetime import timedelta

from handlers.context import Deps
from models import privacy
from models.db import UnitOfWork

log = logging.getLogger(__name__)
FILES_KEPT = timedelta(days=1)


def apply_retention(deps: Deps) -> dict[str, int]:
    now = deps.clock()
    inbox, outbox, audit = deps.retention.cutoffs(now)
    with UnitOfWork(deps.sessions) as uow:
        removed = privacy.prune(uow.session, inbox_before=inbox, outbox_before=outbox,
                                audit_before=audit)
        uow.commit()
    removed["files"] = _old_files(deps, (now - FILES_KEPT).timestamp())
    log.info("retention: %s", removed)
    return removed


def _old_files(deps: Deps, before: float) -> int:
    folder = deps.media_dir / "exports"
    if not folder.is_dir():
        return 0
    old = [f for f in folder.iterdir() if f.is_file() and f.stat().st_mtime < before]
    for file in old:
        file.unlink(missing_ok=True)
    return len(old)
