"""The one outbound port: what every channel adapter (telegram, line, wechat, console) does.

An adapter *has* its platform's SDK client; it turns a platform update into an `Incoming`
and a `Reply` into one platform call. When, where and whether an answer or a push leaves is
decided once, for all of them: `bot.policy` for answers, `handlers.notify` for pushes, the
delivery worker (scheduler/delivery.py) for what waits in the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from handlers.context import Deps
from messages.types import Button, Incoming, Reply


@dataclass(frozen=True, slots=True)
class Supports:
    """What a platform can show; what it cannot is degraded by the adapter (buttons become
    numbered lines, a card becomes text, an edit becomes a new message)."""

    buttons: bool
    cards: bool
    edits: bool
    files: bool
    groups: bool = True


class Channel(Protocol):
    name: str
    supports: Supports
    deps: Deps
    transient: tuple[type[Exception], ...]  # errors after which an answer is queued to retry

    async def answer(self, msg: Incoming, chat_id: str, is_group: bool, reply: Reply) -> None:
        """Send a reply to `msg` now (in its chat, or the sender's private chat), with what
        the platform offers for answers (a LINE reply token). Raises RateLimited,
        Undeliverable, or one of `transient`."""

    async def send(self, chat_id: str, is_group: bool, reply: Reply) -> None:
        """Push to a member's private chat or to a group (the delivery worker's call)."""

    async def post_roster(self, chat_id: str, message_id: str | None, text: str,
                          buttons: tuple[Button, ...],
                          card: Mapping[str, object] | None = None) -> str | None:
        """Post a group message, or edit it in place where the platform can; its id."""
