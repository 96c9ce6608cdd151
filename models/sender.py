"""The sender of a message as plain values, for commands that only read (`/me`): the same
one-statement lookup as `members.locate`, without ORM instances or a Session.

    found = sender.locate(tx, channel, sender_id, group_chat)   # None: the full path decides
    sender.touch(tx, found, handle, now)

Anything unusual (no community, a new member, a merged member, a first private message) is
left to the full path (`members.locate` and friends), which creates and repairs rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col

from models.db import Runner, Statement
from models.members import IN_GROUP, KEYS, LATEST, SEEN_EVERY, normal_handle
from models.tables import ChannelAccount
from models.types import UTCDateTime


class View(SimpleNamespace):
    """A row's columns as attributes (what templates and rules read of a model)."""

    id: int


@dataclass(frozen=True, slots=True)
class Sender:
    community: Any  # View of Community's columns
    member: Any  # View of Member's columns
    account: Any  # View of ChannelAccount's columns
    role: str | None


def locate(tx: Runner, channel: str, sender: str, group_chat: str | None) -> Sender | None:
    """The sender as values, or None when the full path must look (see the module)."""
    statement = IN_GROUP if group_chat is not None else LATEST
    row = statement.run(tx, {"channel": channel, "sender": sender, "chat": group_chat}).first()
    if row is None:
        return None
    views: list[View] = []
    at = 0
    for keys in KEYS:
        views.append(View(**dict(zip(keys, row[at:at + len(keys)], strict=True))))
        at += len(keys)
    community, account, member = views
    if account.id is None or member.merged_into_id is not None:
        return None
    return Sender(community, member, account, row[-1])


_TOUCH = Statement(
    update(ChannelAccount)
    .where(col(ChannelAccount.id) == bindparam("account"))
    .values(handle=bindparam("handle"), last_seen_at=bindparam("at", type_=UTCDateTime()))
)


def touch(tx: Runner, found: Sender, handle: str | None, now: datetime) -> None:
    """Keep the handle fresh; note activity at most once a minute (as `members.touch`)."""
    account = found.account
    new_handle = normal_handle(handle)
    if new_handle != account.handle or (now - account.last_seen_at).total_seconds() > SEEN_EVERY:
        _TOUCH.run(tx, {"account": account.id, "handle": new_handle, "at": now})
        account.handle, account.last_seen_at = new_handle, now
