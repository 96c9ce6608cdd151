"""The scheduler (APScheduler 3): thin, idempotent jobs. One scheduler process."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler

from handlers.context import Deps
from models import sendlog
from models.db import UnitOfWork
from scheduler.automations import (
    nudge_tiers,
    refresh_tags,
    remind_expiring_points,
    welcome_new_members,
    win_back,
)
from scheduler.expiry import expire_points
from scheduler.pickup import after_close
from scheduler.reminders import send_reminders
from scheduler.tiers import evaluate_tiers

log = logging.getLogger(__name__)


def prune_send_log(deps: Deps) -> None:
    """The send log only needs the last hour (the widest rate-limit window is a minute)."""
    with UnitOfWork(deps.sessions) as uow:
        sendlog.prune_send_log(uow.session, deps.clock())
        uow.commit()


def build_scheduler(deps: Deps, *, background: bool = False) -> BaseScheduler:
    """The one scheduler: on the asyncio loop, or in a thread (the console's blocking loop)."""
    scheduler: BaseScheduler = (
        BackgroundScheduler(timezone="UTC") if background else AsyncIOScheduler(timezone="UTC"))
    scheduler.add_job(prune_send_log, "interval", minutes=10, args=[deps], id="prune_send_log",
                      replace_existing=True, coalesce=True, max_instances=1)
    scheduler.add_job(expire_points, "interval", hours=1, args=[deps], id="expire_points",
                      replace_existing=True, coalesce=True, max_instances=1)
    scheduler.add_job(evaluate_tiers, "interval", hours=6, args=[deps], id="evaluate_tiers",
                      replace_existing=True, coalesce=True, max_instances=1)
    scheduler.add_job(send_reminders, "interval", minutes=30, args=[deps], id="send_reminders",
                      replace_existing=True, coalesce=True, max_instances=1)
    scheduler.add_job(after_close, "interval", minutes=30, args=[deps], id="after_close",
                      replace_existing=True, coalesce=True, max_instances=1)
    # the automations and interest tags (scheduler/automations.py): idempotent, dedupe keys
    for job, hours in ((refresh_tags, 24), (welcome_new_members, 1), (win_back, 6),
                       (remind_expiring_points, 6), (nudge_tiers, 6)):
        scheduler.add_job(job, "interval", hours=hours, args=[deps], id=job.__name__,
                          replace_existing=True, coalesce=True, max_instances=1)
    return scheduler
