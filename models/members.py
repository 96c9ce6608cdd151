"""Members and their platform accounts: finding the sender (every message), joining, keeping
the account fresh. Lookups by handle or code: models.lookups; the referral graph:
models.referrals; where a member can be pushed to: models.reachability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlmodel import Session, SQLModel, col

from models.db import Statement, adopt, table_of
from models.rules import coupons as coupon_rules
from models.tables import ChannelAccount, ChatGroup, Community, Member, Role, SpendEntry
from models.types import id_of


@dataclass
class Membership:
    """The sender in a community. The member is in the session; the account may be detached
    (`touch` adds it when it changes)."""

    community: Community
    member: Member
    account: ChannelAccount
    is_new: bool
    known_role: tuple[str | None] | None = None  # (role,) when read with the member


def group_community(session: Session, channel: str, chat: str) -> Community | None:
    row = session.execute(
        select(Community)
        .join(ChatGroup, col(ChatGroup.community_id) == Community.id)
        .where(col(ChatGroup.channel) == channel, col(ChatGroup.external_id) == chat)
    ).first()
    return row[0] if row else None


def community_by_slug(session: Session, slug: str) -> Community | None:
    return session.execute(select(Community).where(col(Community.slug) == slug)).scalar_one_or_none()


def account_rows(
    session: Session, channel: str, external_id: str
) -> list[tuple[ChannelAccount, Member, Community]]:
    """Every community this platform identity belongs to, most recently active first."""
    rows = session.execute(
        select(ChannelAccount, Member, Community)
        .join(Member, col(Member.id) == ChannelAccount.member_id)
        .join(Community, col(Community.id) == ChannelAccount.community_id)
        .where(col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id)
        .order_by(col(ChannelAccount.last_seen_at).desc())
    ).all()
    return [(a, _holder(session, a, m), c) for a, m, c in rows]


def live(session: Session, member: Member) -> Member:
    """The member itself, or the member it was merged into (never a tombstone)."""
    seen = {member.id}
    while member.merged_into_id is not None and member.merged_into_id not in seen:
        member = session.get_one(Member, member.merged_into_id)
        seen.add(member.id)
    return member


def _holder(session: Session, account: ChannelAccount, member: Member) -> Member:
    """The live member behind an account; an account left on a tombstone moves to it."""
    if member.merged_into_id is None:
        return member
    member = live(session, member)
    account.member_id = id_of(member)
    session.add(account)
    return member


PARTS: tuple[type[SQLModel], ...] = (Community, ChannelAccount, Member)
_COLUMNS = [column.label(f"{table_of(model).name}_{column.key}")
            for model in PARTS for column in table_of(model).c] + [col(Role.role)]
_HAS_ROLE = and_(col(Role.community_id) == Community.id, col(Role.member_id) == Member.id)


def sender_lookups(columns: Sequence[Any]) -> tuple[Statement, Statement]:
    """The sender's row (`columns` of the community, account, member and role): in a group
    (the group's community), and in private (the sender's latest community)."""
    in_group = Statement(
        select(*columns)
        .select_from(ChatGroup)
        .join(Community, col(Community.id) == ChatGroup.community_id)
        .outerjoin(ChannelAccount, and_(
            col(ChannelAccount.community_id) == Community.id,
            col(ChannelAccount.channel) == bindparam("channel"),
            col(ChannelAccount.external_id) == bindparam("sender"),
        ))
        .outerjoin(Member, col(Member.id) == ChannelAccount.member_id)
        .outerjoin(Role, _HAS_ROLE)
        .where(col(ChatGroup.channel) == bindparam("channel"),
               col(ChatGroup.external_id) == bindparam("chat"))
    )
    latest = Statement(
        select(*columns)
        .select_from(ChannelAccount)
        .join(Member, col(Member.id) == ChannelAccount.member_id)
        .join(Community, col(Community.id) == ChannelAccount.community_id)
        .outerjoin(Role, _HAS_ROLE)
        .where(col(ChannelAccount.channel) == bindparam("channel"),
               col(ChannelAccount.external_id) == bindparam("sender"))
        .order_by(col(ChannelAccount.last_seen_at).desc())
        .limit(1)
    )
    return in_group, latest


IN_GROUP, LATEST = sender_lookups(_COLUMNS)
_ROLE = Statement(select(col(Role.role)).where(col(Role.community_id) == bindparam("community"),
                                               col(Role.member_id) == bindparam("member")))


KEYS = [[column.key for column in table_of(model).c] for model in PARTS]


def _split(session: Session, row: tuple[Any, ...]) -> list[Any]:
    """The row's community, account and member as ORM instances (None: no such row). Only
    the member is in the session: the community is read, an account changed is added."""
    found: list[Any] = []
    at = 0
    for model, keys in zip(PARTS, KEYS, strict=True):
        values = dict(zip(keys, row[at:at + len(keys)], strict=True))
        at += len(keys)
        found.append(None if values["id"] is None
                     else adopt(session, model, values, attach=model is Member))
    return found


def locate(
    session: Session, channel: str, sender: str, group_chat: str | None
) -> tuple[Community | None, Membership | None]:
    """One query: the community (the group's, or the sender's latest), the sender in it and
    their role there (`role`).

    The hot path of every message: one statement on the cursor, no ORM query (which cost
    several times the database's own work); the rows become ORM instances all the same.
    """
    statement = IN_GROUP if group_chat is not None else LATEST
    row = statement.run(session, {"channel": channel, "sender": sender, "chat": group_chat}).first()
    if row is None:
        return None, None
    community, account, member = _split(session, row)
    if account is None:
        return community, None
    known = (row[-1],) if member.merged_into_id is None else None  # a tombstone's is not theirs
    return community, Membership(community, _holder(session, account, member), account, False,
                                 known)


def role(session: Session, membership: Membership) -> str | None:
    """The member's role in the community: as read with the member, or looked up."""
    if membership.known_role is not None:
        return membership.known_role[0]
    found = _ROLE.run(session, {"community": membership.community.id,
                                "member": membership.member.id}).first()
    return None if found is None else str(found[0])


def find_membership(
    session: Session, community: Community, channel: str, external_id: str
) -> Membership | None:
    row = session.execute(
        select(ChannelAccount, Member)
        .join(Member, col(Member.id) == ChannelAccount.member_id)
        .where(
            col(ChannelAccount.channel) == channel,
            col(ChannelAccount.external_id) == external_id,
            col(ChannelAccount.community_id) == community.id,
        )
    ).first()
    if row is None:
        return None
    return Membership(community, _holder(session, row[0], row[1]), row[0], False)


def join(
    session: Session,
    community: Community,
    channel: str,
    external_id: str,
    handle: str | None,
    display_name: str,
    now: datetime,
    *,
    known_new: bool = False,
) -> Membership:
    """The member behind this identity in this community, created on first contact.

    `known_new`: the caller just looked and found no account (skips a second look).
    """
    if not known_new:
        found = find_membership(session, community, channel, external_id)
        if found is not None:
            return found
    member = Member(**new_member(id_of(community), display_name, now))
    session.add(member)
    session.flush()
    account = ChannelAccount(**new_account(id_of(member), id_of(community), channel, external_id,
                                           handle, now))
    session.add(account)  # flushed with the rest of the transaction
    return Membership(community, member, account, True, (None,))  # no role yet


def new_member(community_id: int, display_name: str, now: datetime) -> dict[str, Any]:
    """A member's first values (the rest are the table's defaults): `join`'s, and the light
    lane's (models.sender.enrol)."""
    return {"community_id": community_id, "display_name": display_name[:64],
            "referral_code": coupon_rules.new_code(REFERRAL_CODE_LENGTH), "joined_at": now}


def new_account(member_id: int, community_id: int, channel: str, external_id: str,
                handle: str | None, now: datetime) -> dict[str, Any]:
    """A member's account on a channel, first seen now (as `new_member`)."""
    return {"member_id": member_id, "community_id": community_id, "channel": channel,
            "external_id": external_id, "handle": normal_handle(handle), "last_seen_at": now}


def normal_handle(handle: str | None) -> str | None:
    """A handle as stored and looked up: no "@", lower case, at most 64 characters."""
    return handle.lstrip("@").lower()[:64] if handle else None


SEEN_EVERY = 60  # seconds: activity is noted at most this often
REFERRAL_CODE_LENGTH = 10  # 50 random bits: the unique constraint is the only check needed


def touch(session: Session, account: ChannelAccount, handle: str | None, now: datetime) -> None:
    """Keep the handle fresh; note activity at most once a minute to spare the database."""
    if touched(account, handle, now):
        session.add(account)


def touched(account: Any, handle: str | None, now: datetime) -> bool:
    """The account (a model, or its values) with the handle as given and seen now, when either
    is due (the handle changed, or it was last seen over SEEN_EVERY ago): True, to be written."""
    new_handle = normal_handle(handle)
    if new_handle == account.handle and (now - account.last_seen_at).total_seconds() <= SEEN_EVERY:
        return False
    account.handle, account.last_seen_at = new_handle, now
    return True


def record_spend(
    session: Session, member: Member, amount: int, source_key: str, at: datetime
) -> bool:
    """Append one spend entry (idempotent by source key); the first purchase is remembered."""
    exists = session.execute(
        select(col(SpendEntry.id)).where(col(SpendEntry.source_key) == source_key)
    ).first()
    if exists:
        return False
    session.add(SpendEntry(member_id=id_of(member), amount=amount, source_key=source_key, occurred_at=at))
    if amount > 0 and member.first_purchase_at is None:
        member.first_purchase_at = at
        session.add(member)
    session.flush()
    return True


def offline_member(session: Session, community_id: int, name: str, now: datetime) -> Member:
    """A buyer known only from an imported file; they can claim it later by linking."""
    member = Member(community_id=community_id, display_name=name[:64],
                    referral_code=coupon_rules.new_code(REFERRAL_CODE_LENGTH), joined_at=now)
    session.add(member)
    session.flush()
    return member
