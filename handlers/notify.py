"""notify(member, message, kind): the one way a push leaves, from a handler or a job.

    notify(session, deps, member, Message("promoted", buy=buy, order=order), Kind.SERVICE,
           key=f"promoted:{order.id}", prefer=msg.channel)
    notify_many(session, deps, community, [Push(member, message, key), ...], Kind.PROMOTION)

The decision (opt-out on the channel, quiet hours in the community's time zone, the weekly
cap for promotions, reachability on each platform, the dedupe key) is the pure rule
`models.rules.notify.decide`, fed by `models.notifications`; the message is rendered here,
in the member's language, only once it is known to go.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from messages.records import reply_record
from messages.types import Button, Reply
from models import communities, notifications
from models.rules.notify import Decision, Kind
from models.tables import Community, Member
from models.types import id_of

if TYPE_CHECKING:  # handlers.context builds Ctx.push on this module
    from handlers.context import Deps

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    """A template and what it needs, rendered in the member's language when it goes; with
    buttons (numbered text where a channel has none)."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()

    def __init__(self, template: str, *, buttons: tuple[Button, ...] = (), **context: Any) -> None:
        object.__setattr__(self, "template", template)
        object.__setattr__(self, "context", context)
        object.__setattr__(self, "buttons", buttons)


def notify(session: Session, deps: Deps, member: Member, message: Message, kind: Kind, *,
           key: str, prefer: str | None = None, community: Community | None = None,
           now: datetime | None = None) -> bool:
    """Queue the push when the rules allow it (now, or at the end of quiet hours); False
    when they do not (opted out, unreachable, over the cap, already queued)."""
    community = community or communities.get(session, member.community_id)
    assert community is not None, f"member {member.id} has no community"
    now = now or deps.clock()
    local_now = now.astimezone(ZoneInfo(community.timezone))
    key = key[:128]
    decision = notifications.plan(session, member, community, kind, local_now=local_now,
                                  dedupe_key=key, prefer=prefer, windows=deps.reply_windows)
    if decision.account is None:
        log.debug("%s push %s to member %s not sent: %s", kind, key, member.id, decision.reason)
        return False
    text = deps.renderer.render(
        member.locale or community.default_locale, message.template, member=member,
        community=community, currency=community.currency, tz=local_now.tzinfo,
        **message.context)
    body = reply_record(Reply(text, buttons=message.buttons))
    return notifications.queue(session, decision, body, now, member=member,
                               community=community, kind=kind, dedupe_key=key)


@dataclass(frozen=True)
class Push:
    """One push of many (notify_many): to whom, what, its dedupe key, the channel first tried."""

    member: Member
    message: Message
    key: str
    prefer: str | None = None


def notify_many(session: Session, deps: Deps, community: Community, pushes: Sequence[Push],
                kind: Kind, *, now: datetime | None = None) -> int:
    """`notify` for many members of one community (a job's recipients): the same decision
    (`decide`: opt-out, quiet hours, weekly cap, reachability, dedupe) per push, fed by a few
    queries per chunk of members, and one INSERT per chunk. Returns how many were queued."""
    now = now or deps.clock()
    local_now = now.astimezone(ZoneInfo(community.timezone))
    queued = 0
    for start in range(0, len(pushes), notifications.CHUNK):
        chunk = pushes[start:start + notifications.CHUNK]
        decisions = notifications.plan_many(
            session, [(id_of(p.member), p.key[:128], p.prefer) for p in chunk], community, kind,
            local_now=local_now, windows=deps.reply_windows)
        rows = [_row(deps, community, push, decision, kind, now, local_now)
                for push, decision in zip(chunk, decisions, strict=True)
                if decision.account is not None and decision.account.chat is not None]
        queued += notifications.queue_many(session, rows)
    return queued


def _row(deps: Deps, community: Community, push: Push, decision: Decision,
         kind: Kind, now: datetime, local_now: datetime) -> dict[str, Any]:
    member, account = push.member, decision.account
    assert account is not None
    text = deps.renderer.render(
        member.locale or community.default_locale, push.message.template, member=member,
        community=community, currency=community.currency, tz=local_now.tzinfo,
        **push.message.context)
    return {"community_id": community.id, "channel": account.channel, "chat_id": account.chat,
            "body": reply_record(Reply(text, buttons=push.message.buttons)),
            "dedupe_key": push.key[:128], "member_id": member.id, "kind": kind.value,
            "created_at": now, "not_before": decision.not_before or now}
