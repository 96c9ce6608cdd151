"""The sender of a message as plain values, for the light lane (handlers.glance: `/me`, a
'+1' in the group): the same one-statement lookup as `members.locate`, without ORM instances
or a Session, which also reads what the answer needs next (the 12-month standing, whether
the event was processed before, the channel's 429 pause).

    found = sender.locate(tx, channel, sender_id, group_chat, now, event_key)   # None: full path
    found = sender.enrol(tx, found, ...)    # someone new in a bound group (no account yet)
    sender.touch(tx, found, handle, now)    # anyone else

Anything else unusual (no community, a new member in private, a merged member, a first
private message) is left to the full path (`members.locate` and friends), which creates and
repairs rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Text, bindparam, cast, insert, update
from sqlmodel import SQLModel, col

from models import sendlog
from models.db import Direct, Runner, Statement, table_of
from models.events import PROCESSED_BEFORE
from models.members import new_account, new_member, sender_lookups, touched
from models.rules.tiers import rolling_since
from models.sendlog import PAUSED_ON_CHANNEL
from models.tables import ChannelAccount, Community, Member, Role
from models.tiers import standing_columns
from models.types import UTCDateTime


class View(SimpleNamespace):
    """A row's columns as attributes (what templates and rules read of a model)."""

    id: int


def _columns(model: type[SQLModel], *names: str) -> tuple[Any, ...]:
    return tuple(table_of(model).c[name] for name in names)


# What a read-only command reads of the sender: no column that needs converting on the way
# in but the account's last activity (timestamps and JSON cost more than the query); the
# programme as its stored JSON text (parsed once per distinct text: models.programme).
_READ: dict[str, tuple[Any, ...]] = {
    "community": (*_columns(Community, "id", "slug", "name", "timezone", "currency",
                            "default_locale"),
                  cast(col(Community.programme), Text).label("programme_json")),
    "account": _columns(ChannelAccount, "id", "channel", "handle", "private_chat",
                        "last_seen_at", "last_inbound_at", "opted_out", "pushes_since_inbound"),
    "member": _columns(Member, "id", "community_id", "display_name", "locale", "tier",
                       "points_balance", "points_debt", "referral_code", "birthday_month",
                       "birthday_day", "merged_into_id"),
}
_NAMES = {part: [str(c.key) for c in columns] for part, columns in _READ.items()}
_IN_GROUP, _LATEST = sender_lookups(
    [c.label(f"{part}_{name}") for part, columns in _READ.items()
     for c, name in zip(columns, _NAMES[part], strict=True)]
    + [col(Role.role),
       *(c.label(f"standing_{n}") for c, n in zip(standing_columns(col(Member.id)),
                                                  ("spend", "invites"), strict=True)),
       PROCESSED_BEFORE.label("processed_before"),  # a redelivery: nothing more to do
       PAUSED_ON_CHANNEL.label("paused_until")])  # the answer's send reads it


@dataclass(frozen=True, slots=True)
class Sender:
    community: Any  # View of the community's columns in _READ
    member: Any  # View of the member's (None: new in the group, until `enrol`)
    account: Any  # View of the account's (as the member)
    role: str | None
    standing: tuple[int, int]  # models.tiers.standing, as of the lookup's moment
    processed_before: bool  # the message being answered was (a redelivery)
    new: bool = False  # made by this very message (`enrol`)


def locate(tx: Runner, channel: str, sender: str, group_chat: str | None, now: datetime,
           event_key: str) -> Sender | None:
    """The sender of the event `event_key` as values, or None when the full path must look
    (see the module). In a bound group, someone the community does not know yet comes back
    with no member and no account (None): `enrol` makes them."""
    statement = _IN_GROUP if group_chat is not None else _LATEST
    row = statement.run(tx, {"channel": channel, "sender": sender, "chat": group_chat,
                             "since": rolling_since(now), "key": event_key[:128]}).first()
    if row is None:
        return None
    views: list[View] = []
    at = 0
    for names in _NAMES.values():
        views.append(View(**dict(zip(names, row[at:at + len(names)], strict=True))))
        at += len(names)
    community, account, member = views
    if account.id is None:
        if group_chat is None:
            return None
        account = member = None
    elif member.merged_into_id is not None:
        return None
    if isinstance(tx, Direct):
        sendlog.read_with(tx, channel, row[-1])
    return Sender(community, member, account, row[-5], (int(row[-4]), int(row[-3])),
                  bool(row[-2]))


_ENROL_MEMBER = Statement(insert(table_of(Member)).values(
    {key: bindparam(key, type_=UTCDateTime() if key == "joined_at" else None)
     for key in ("community_id", "display_name", "referral_code", "joined_at")})
    .returning(*_READ["member"]))
_ENROL_ACCOUNT = Statement(insert(table_of(ChannelAccount)).values(
    {key: bindparam(key, type_=UTCDateTime() if key == "last_seen_at" else None)
     for key in ("member_id", "community_id", "channel", "external_id", "handle",
                 "last_seen_at")})
    .returning(*_READ["account"]))


def enrol(tx: Runner, found: Sender, channel: str, sender: str, handle: str | None,
          display_name: str, now: datetime) -> Sender:
    """Someone `locate` found new in a group: the member and their account made (as
    `members.join` makes them), read back as values. Two first messages at once: the
    second's INSERT raises IntegrityError (the full path then finds the member)."""
    community_id = found.community.id
    row = _ENROL_MEMBER.run(tx, new_member(community_id, display_name, now)).first()
    assert row is not None  # INSERT … RETURNING
    member = View(**dict(zip(_NAMES["member"], row, strict=True)))
    row = _ENROL_ACCOUNT.run(tx, new_account(member.id, community_id, channel, sender, handle,
                                             now)).first()
    assert row is not None
    account = View(**dict(zip(_NAMES["account"], row, strict=True)))
    return Sender(found.community, member, account, None, (0, 0), found.processed_before,
                  new=True)


_TOUCH = Statement(
    update(ChannelAccount)
    .where(col(ChannelAccount.id) == bindparam("account"))
    .values(handle=bindparam("handle"), last_seen_at=bindparam("at", type_=UTCDateTime()))
)


def touch(tx: Runner, found: Sender, handle: str | None, now: datetime) -> None:
    """Keep the handle fresh; note activity at most once a minute (as `members.touch`)."""
    account = found.account
    if touched(account, handle, now):
        _TOUCH.run(tx, {"account": account.id, "handle": account.handle, "at": now})
