"""Whether, where and when a push may go: the one decision every push obeys (pure).

Kinds: a *service* message (an order moved, a tier changed, a waitlist line was served) goes
to every member who can be reached, at once; a *reminder* (replenishment, birthday greeting)
respects the member's opt-out on that channel and waits for the end of quiet hours; a
*promotion* also counts against the weekly cap. Reachability is the platform's: Telegram,
only a member who started the bot in private; LINE, a friend of the account; WeChat, within
the customer-service window since the member's last message and under its message count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple


class Kind(StrEnum):
    SERVICE = "service"
    REMINDER = "reminder"
    PROMOTION = "promotion"


@dataclass(frozen=True, slots=True)
class ReplyWindow:
    """A platform that takes messages to a person only for a while after they wrote, and
    only so many (WeChat: 5 customer-service messages within 48 hours of a user's message)."""

    length: timedelta = timedelta(hours=48)
    per_inbound: int = 5


# WeChat Official Account customer-service message rules (客服消息下发规则,
# developers.weixin.qq.com/doc/offiaccount/Customer_Service/Customer_Service_Messages.html):
# after a user's message, 5 messages within 48 hours.
WECHAT_WINDOW = ReplyWindow(timedelta(hours=48), 5)


class Account(NamedTuple):
    """What is known of one of the member's platform accounts (a plain tuple: a campaign
    reads tens of thousands)."""

    channel: str
    chat: str | None  # the private chat (None: never started the bot, or blocked it)
    opted_out: bool = False
    last_inbound: datetime | None = None  # for a platform with a reply window
    sent_since_inbound: int = 0


@dataclass(frozen=True, slots=True)
class Quiet:
    start: time
    end: time


class Decision(NamedTuple):
    account: Account | None  # None: not sent (see `reason`)
    not_before: datetime | None = None  # a later moment (end of quiet hours), local time
    reason: str = ""


def parse_clock(text: str) -> time:
    """'22:00' → time(22, 0)."""
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def in_quiet_hours(now: time, start: time, end: time) -> bool:
    """Quiet from `start` to `end`, across midnight when start > end (22:00–08:00)."""
    if start == end:
        return False
    if start < end:
        return start <= now < end
    return now >= start or now < end


def quiet_until(local_now: datetime, quiet: Quiet | None) -> datetime | None:
    """The end of the quiet hours `local_now` is in (a local datetime), or None."""
    if quiet is None or not in_quiet_hours(local_now.time(), quiet.start, quiet.end):
        return None
    end = local_now.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0,
                            microsecond=0)
    return end if end > local_now else end + timedelta(days=1)


def reachable(account: Account, now: datetime, window: ReplyWindow | None) -> bool:
    if account.chat is None:
        return False
    if window is None:
        return True
    if account.last_inbound is None or now - account.last_inbound > window.length:
        return False
    return account.sent_since_inbound < window.per_inbound


@dataclass(frozen=True, slots=True)
class Decider:
    """`decide` for many pushes of one kind at one moment in one community: what is the same
    for all of them (the end of quiet hours, the weekly cap, the reply windows) worked out once."""

    kind: Kind
    local_now: datetime
    windows: dict[str, ReplyWindow]
    later: datetime | None  # the end of the quiet hours now is in (None: not quiet, or service)
    weekly_cap: int | None

    @classmethod
    def at(cls, kind: Kind, local_now: datetime, *, windows: dict[str, ReplyWindow] | None = None,
           quiet: Quiet | None = None, weekly_cap: int | None = None) -> Decider:
        later = None if kind is Kind.SERVICE else quiet_until(local_now, quiet)
        return cls(kind, local_now, windows or {}, later, weekly_cap)

    def decide(self, accounts: Sequence[Account], prefer: str | None = None,
               promotions_this_week: int = 0, already_queued: bool = False) -> Decision:
        if already_queued:
            return Decision(None, reason="duplicate")
        kind = self.kind
        if kind is Kind.PROMOTION and self.weekly_cap is not None and promotions_this_week >= self.weekly_cap:
            return Decision(None, reason="weekly cap")
        ordered = sorted(accounts, key=lambda a: a.channel != prefer) if len(accounts) > 1 else accounts
        wanted = [a for a in ordered if kind is Kind.SERVICE or not a.opted_out]
        if not wanted:
            return Decision(None, reason="opted out" if ordered else "unreachable")
        windows, now = self.windows, self.local_now
        for account in wanted:
            if reachable(account, now, windows.get(account.channel)):
                return Decision(account, not_before=self.later)
        return Decision(None, reason="unreachable")


def decide(kind: Kind, accounts: Sequence[Account], *, local_now: datetime,
           prefer: str | None = None, windows: dict[str, ReplyWindow] | None = None,
           quiet: Quiet | None = None, promotions_this_week: int = 0,
           weekly_cap: int | None = None, already_queued: bool = False) -> Decision:
    """The account to push to (the preferred channel first, then in the order given) and
    the moment, or why not. `local_now` is in the community's time zone."""
    return Decider.at(kind, local_now, windows=windows, quiet=quiet, weekly_cap=weekly_cap
                      ).decide(accounts, prefer, promotions_this_week, already_queued)
