"""Campaign runs, every minute: each due run is claimed with a conditional UPDATE in the same
transaction that queues its messages, so a restart or a second scheduler never sends a run
twice, and a run missed while nobody was scheduling is sent once when scheduling resumes."""

from __future__ import annotations

import logging

from handlers.campaignrun import run_due
from handlers.context import Deps

log = logging.getLogger(__name__)


def run_due_campaigns(deps: Deps) -> int:
    sent = run_due(deps)
    if sent:
        log.info("sent %d campaign runs", sent)
    return sent
