"""What a platform call can end in besides success: the adapters raise these, the delivery
worker and the answer policy act on them."""

from __future__ import annotations

from datetime import datetime, tzinfo

from models.rules.pacing import next_month_start
from models.types import utcnow


class RateLimited(Exception):
    """The platform asked us to wait (Telegram's 429 retry_after)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


class QuotaExhausted(RateLimited):
    """The platform's quota for the period is used up (LINE: "You have reached your monthly
    limit."): sending stops until `until`, it is not retried (a RateLimited elsewhere)."""

    def __init__(self, reason: str, zone: tzinfo) -> None:
        super().__init__(max(0.0, (next_month_start(utcnow(), zone) - utcnow()).total_seconds()))
        self.reason, self.zone = reason, zone  # the quota starts anew on the 1st there

    def until(self, now: datetime) -> datetime:
        return next_month_start(now, self.zone)


class Undeliverable(Exception):
    """This message can never be delivered (blocked the bot, chat gone): drop it, log it."""
