"""notify(member, message, kind): the one way a push leaves, from a handler or a job.

    notify(session, deps, member, Message("promoted", buy=buy, order=order), Kind.SERVICE,
           key=f"promoted:{order.id}", prefer=msg.channel)
    notify_many(session, deps, community, [Push(member, message, key), ...], Kind.PROMOTION)
    notify_rendered(session, deps, community, [(member_id, key, None), ...], render, kind)

The decision (opt-out on the channel, quiet hours in the community's time zone, the weekly
cap for promotions, reachability on each platform, the dedupe key) is the pure rule
`models.rules.notify.decide`, fed by `models.notifications`; the message is rendered here,
in the member's language, only once it is known to go.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from messages.records import reply_json, reply_record
from messages.types import Button, Reply
from models import communities, notifications, outbox
from models.db import Runner
from models.rules.notify import Kind, quiet_until
from models.tables import ChannelAccount, Community, Member
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


def notify(session: Runner, deps: Deps, member: Member, message: Message, kind: Kind, *,
           key: str, prefer: str | None = None, community: Community | None = None,
           now: datetime | None = None, here: ChannelAccount | None = None,
           only: bool = False) -> bool:
    """Queue the push when the rules allow it (now, or at the end of quiet hours); False
    when they do not (opted out, unreachable, over the cap, already queued). `here`, `only`:
    the member's account the message came from and whether it is their only one, which may
    answer a service push without a query (`notifications.plan`)."""
    if community is None:
        assert isinstance(session, Session), "a Direct transaction names the community"
        community = communities.get(session, member.community_id)
    assert community is not None, f"member {member.id} has no community"
    now = now or deps.clock()
    local_now = now.astimezone(ZoneInfo(community.timezone))
    key = key[:128]
    decision = notifications.plan(session, member, community, kind, local_now=local_now,
                                  dedupe_key=key, prefer=prefer, windows=deps.reply_windows,
                                  here=here, only=only)
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
    """`notify` for many members of one community (a job's recipients): each message a
    template, rendered in the member's language only when it goes (`notify_rendered` decides
    and queues). Returns how many were queued."""
    now = now or deps.clock()
    tz = ZoneInfo(community.timezone)

    def render(index: int) -> Reply:
        push = pushes[index]
        text = deps.renderer.render(
            push.member.locale or community.default_locale, push.message.template,
            member=push.member, community=community, currency=community.currency, tz=tz,
            **push.message.context)
        return Reply(text, buttons=push.message.buttons)

    targets = [(id_of(p.member), p.key, p.prefer) for p in pushes]
    return notify_rendered(session, deps, community, targets, render, kind, now=now).count("")


def notify_rendered(session: Session, deps: Deps, community: Community,
                    targets: Sequence[tuple[int, str, str | None]],
                    render: Callable[[int], Reply | str], kind: Kind, *,
                    now: datetime | None = None, new_keys: bool = False) -> list[str]:
    """The one bulk path out (notify_many, campaigns): per target (member id, dedupe key,
    channel tried first) the same decision as `notify` (`decide`: opt-out, quiet hours, weekly
    cap, reachability, dedupe), fed by a few queries per chunk of members; `render(index)`
    makes the message (a Reply, or already its JSON text: messages.records.reply_json) only
    for a target it goes to; all of them queued with multi-row INSERTs. Per target '' when
    queued, else why not ('opted out', 'unreachable', 'weekly cap', 'duplicate'). `new_keys`:
    as `notifications.plan_many`'s."""
    now = now or deps.clock()
    local_now = now.astimezone(ZoneInfo(community.timezone))
    decisions = notifications.plan_many(session, targets, community, kind, local_now=local_now,
                                        windows=deps.reply_windows, new_keys=new_keys)
    outcome: list[str] = []
    rows: list[tuple[Any, ...]] = []
    at: list[int] = []
    community_id, kind_value = community.id, kind.value
    for index, ((member_id, key, _), decision) in enumerate(zip(targets, decisions, strict=True)):
        account = decision.account
        if account is None or account.chat is None:
            outcome.append(decision.reason or "unreachable")
            continue
        outcome.append("")
        at.append(index)
        made = render(index)
        rows.append((community_id, account.channel, account.chat,
                     made if isinstance(made, str) else reply_json(made),
                     key[:128], member_id, kind_value, now, decision.not_before or now))
    queued = notifications.queue_many(session, rows)
    for index, row in zip(at, rows, strict=True):
        if row[4] not in queued:  # queued by another transaction meanwhile
            outcome[index] = "duplicate"
    return outcome


def announce(session: Session, deps: Deps, community: Community, message: Message, *, key: str,
             now: datetime | None = None) -> int:
    """Post `message` in each of the community's groups, in its language, through the outbox:
    the delivery worker sends each at that group's pace (its per-group limit, shared by every
    worker), after quiet hours, once per group (key + the group). Returns how many queued."""
    now = now or deps.clock()
    local_now = now.astimezone(ZoneInfo(community.timezone))
    later = quiet_until(local_now, notifications.quiet_hours(community))
    text = deps.renderer.render(community.default_locale, message.template, community=community,
                                currency=community.currency, tz=local_now.tzinfo,
                                **message.context)
    body = reply_record(Reply(text, buttons=message.buttons))
    queued = 0
    for group in communities.groups(session, community.id or 0):
        row = outbox.enqueue(session, group.channel, group.external_id, body, now, is_group=True,
                             community_id=community.id, dedupe_key=f"{key}:{group.id}"[:128],
                             not_before=later or now, kind="announce")
        queued += row is not None
    return queued
