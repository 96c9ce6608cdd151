"""Send slots: when a message may leave, from the send log every worker shares, within each
platform's published limits (the defaults below; TELEGRAM_LIMITS, LINE_LIMITS and
WECHAT_LIMITS override them, see bot/settings.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from models import sendlog
from models.db import Direct, Runner, SessionFactory
from models.rules.pacing import Limits, next_slot

NONE = Limits(per_bot=0, per_chat=0, per_group=0)
# Each platform's published limits, the defaults (TELEGRAM_LIMITS, LINE_LIMITS, WECHAT_LIMITS
# override them, see bot/settings.py):
# - Telegram (core.telegram.org/bots/faq, "My bot is hitting limits"): about 30 messages a
#   second per bot, 1 a second per chat, 20 a minute per group.
# - LINE Messaging API reference, "Rate limits" (per channel): push and reply messages fall
#   under "other API endpoints", 2,000 requests a second (multicast: 200 a second); LINE
#   publishes no limit per chat or per group.
# - WeChat Official Account: no per-second limit is published for customer-service messages
#   (a daily API quota, answered with 45009); per user, 5 messages within 48 hours of their
#   last message (models.rules.notify.WECHAT_WINDOW).
LIMITS = {
    "telegram": Limits(),
    "line": Limits(per_bot=2000, per_chat=0, per_group=0),
    "wechat": NONE,
    "console": NONE,
}


def take_slot(session: Runner, channel: str, chat_id: str, is_group: bool, now: datetime,
              limits: Limits) -> tuple[datetime, datetime]:
    """(now, the earliest moment this send may leave), from the shared send log.

    A "now" is binding only under the channel's pacing lock (sendlog.lock_pacing earlier in the
    same transaction), with the send logged in that transaction: then no other worker can
    take the same slot. Without the lock a later slot is still a valid reason to wait.
    """
    # One statement tells whether the bot's window is full; only then are its sends read.
    newest, full = sendlog.window_edge(session, channel, now, limits.per_bot_window,
                                       limits.per_bot)
    by_bot = [] if full is None else sendlog.recent_sends(
        session, channel, now, window=limits.per_bot_window, last=limits.per_bot)
    now = max(now, newest or now)  # the log never goes back in time (the lock may have waited)
    window = limits.per_group_window if is_group else limits.per_chat_window
    to_chat = sendlog.recent_sends(session, channel, now, chat_id, window=window,
                                  last=max(limits.per_chat, limits.per_group if is_group else 0))
    return now, next_slot(now, by_bot, to_chat, is_group, limits)


def unlimited(limits: Limits) -> bool:
    """No limit of the channel looks at the send log: a send needs no reservation."""
    return limits.per_bot <= 0 and limits.per_chat <= 0 and limits.per_group <= 0


def reserve_direct(sessions: SessionFactory, channel: str, chat_id: str, is_group: bool,
                   now: datetime, limits: Limits | None = None) -> bool:
    """May a reply leave right now? If so the send is logged (committed), so pushes count it.

    A private answer counts against the bot's budget, not its chat's: it answers the member's
    own message, and a command may answer with more than one. On a channel without limits
    only a 429 pause holds a reply back: one read, nothing logged (no limit reads the log).
    """
    with Direct(sessions) as tx:
        if reserve_on(tx, channel, chat_id, is_group, now, limits):
            tx.commit()
            return True
        return False


def reserve_on(tx: Runner, channel: str, chat_id: str, is_group: bool, now: datetime,
               limits: Limits | None = None) -> bool:
    """`reserve_direct` in the caller's transaction (committed by it): the transaction that
    keeps an answer reserves its send too (bot.inbox.answer_now)."""
    limits = limits or LIMITS.get(channel, Limits())
    if unlimited(limits):
        paused = sendlog.paused_until(tx, channel)
        return paused is None or paused <= now
    if not is_group:
        limits = replace(limits, per_chat=0)
    paused = sendlog.lock_pacing(tx, channel)
    now, slot = take_slot(tx, channel, chat_id, is_group, now, limits)
    if slot > now or (paused is not None and paused > now):
        return False
    sendlog.log_send(tx, channel, chat_id, is_group, now)
    return True


def widened(limits: Limits, margin: timedelta) -> Limits:
    """Every window `margin` longer: a send reaches the platform up to `lag` after its
    reserved moment, so a worker with margin ≥ lag keeps the limit as the platform counts."""
    if not margin:
        return limits
    return replace(limits, per_bot_window=limits.per_bot_window + margin,
                   per_chat_window=limits.per_chat_window + margin,
                   per_group_window=limits.per_group_window + margin)
