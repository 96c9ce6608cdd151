"""The database half of notify: what the decision needs to know, and queueing its outcome.

The decision itself is the pure rule `models.rules.notify.decide`; rendering the message in
the member's language is the caller's (handlers/notify.py): no templates here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models import events
from models.db import table_of
from models.programme import programme_for
from models.rules.notify import Account, Decision, Kind, Quiet, ReplyWindow, decide
from models.tables import ChannelAccount, Community, Member, OutboxMessage, OutboxStatus
from models.types import id_of

WEEK = timedelta(days=7)


def accounts(session: Session, member_id: int) -> list[Account]:
    """The member's platform accounts, most recently active first."""
    rows = session.execute(
        select(ChannelAccount).where(col(ChannelAccount.member_id) == member_id)
        .order_by(col(ChannelAccount.last_seen_at).desc(), col(ChannelAccount.id))
    ).scalars()
    return [Account(a.channel, a.private_chat, a.opted_out,
                    a.last_inbound_at or a.last_seen_at, a.pushes_since_inbound) for a in rows]


def set_opted_out(session: Session, account: ChannelAccount, opted_out: bool) -> None:
    """Promotions and reminders off (or on again) for this member on this account's channel."""
    session.execute(update(ChannelAccount).where(col(ChannelAccount.id) == account.id)
                    .values(opted_out=opted_out).execution_options(synchronize_session=False))
    account.opted_out = opted_out


def promotions_since(session: Session, member_id: int, since: datetime) -> int:
    return int(session.execute(
        select(func.count(col(OutboxMessage.id))).where(
            col(OutboxMessage.member_id) == member_id, col(OutboxMessage.kind) == Kind.PROMOTION,
            col(OutboxMessage.created_at) >= since)
    ).scalar_one())


def queued(session: Session, dedupe_key: str) -> bool:
    return session.execute(select(col(OutboxMessage.id)).where(
        col(OutboxMessage.dedupe_key) == dedupe_key)).first() is not None


def quiet_hours(community: Community) -> Quiet | None:
    return programme_for(community).quiet_hours


def weekly_cap(community: Community) -> int | None:
    return programme_for(community).frequency_cap_per_week


def plan(session: Session, member: Member, community: Community, kind: Kind, *,
         local_now: datetime, dedupe_key: str, prefer: str | None = None,
         windows: dict[str, ReplyWindow] | None = None) -> Decision:
    """Where and when this push may go (or why not), from what the database knows."""
    if queued(session, dedupe_key):
        return Decision(None, reason="duplicate")
    sent = 0
    if kind is Kind.PROMOTION:
        sent = promotions_since(session, id_of(member), local_now - WEEK)
    return decide(kind, accounts(session, id_of(member)), local_now=local_now,
                  prefer=prefer, windows=windows, quiet=quiet_hours(community),
                  promotions_this_week=sent, weekly_cap=weekly_cap(community))


def queue(session: Session, decision: Decision, body: dict[str, Any], now: datetime, *,
          member: Member, community: Community, kind: Kind, dedupe_key: str) -> bool:
    """Queue the push the decision allows; False when it was not (or already) queued."""
    account = decision.account
    if account is None or account.chat is None:
        return False
    return events.enqueue(session, account.channel, account.chat, body, now,
                          community_id=community.id, dedupe_key=dedupe_key,
                          not_before=decision.not_before or now, member_id=member.id,
                          kind=kind.value) is not None


# --- the same, for many members at once (handlers/notify.py notify_many) ---

CHUNK = 500  # members per round of queries (well under every database's parameter limit)


def accounts_of(session: Session, member_ids: Sequence[int]) -> dict[int, list[Account]]:
    """`accounts` for many members: one query, each member's most recently active first."""
    found: dict[int, list[Account]] = {}
    rows = session.execute(
        select(col(ChannelAccount.member_id), col(ChannelAccount.channel),
               col(ChannelAccount.private_chat), col(ChannelAccount.opted_out),
               func.coalesce(col(ChannelAccount.last_inbound_at), col(ChannelAccount.last_seen_at)),
               col(ChannelAccount.pushes_since_inbound))
        .where(col(ChannelAccount.member_id).in_(member_ids))
        .order_by(col(ChannelAccount.member_id), col(ChannelAccount.last_seen_at).desc(),
                  col(ChannelAccount.id)))
    for member_id, channel, chat, opted_out, inbound, sent in rows:
        found.setdefault(member_id, []).append(Account(channel, chat, opted_out, inbound, sent))
    return found


def queued_keys(session: Session, keys: Sequence[str]) -> set[str]:
    return set(session.execute(select(col(OutboxMessage.dedupe_key))
                               .where(col(OutboxMessage.dedupe_key).in_(keys))).scalars())


def promotions_since_of(session: Session, member_ids: Sequence[int],
                        since: datetime) -> dict[int, int]:
    rows = session.execute(
        select(col(OutboxMessage.member_id), func.count(col(OutboxMessage.id)))
        .where(col(OutboxMessage.member_id).in_(member_ids),
               col(OutboxMessage.kind) == Kind.PROMOTION, col(OutboxMessage.created_at) >= since)
        .group_by(col(OutboxMessage.member_id)))
    return {int(member_id): int(n) for member_id, n in rows}


def plan_many(session: Session, members: Sequence[tuple[int, str, str | None]],
              community: Community, kind: Kind, *, local_now: datetime,
              windows: dict[str, ReplyWindow] | None = None) -> list[Decision]:
    """`plan` for (member id, dedupe key, preferred channel) triples of one community: the
    same rule (`decide`) on what three queries per chunk know. Two pushes with one key in
    the list: the second is a duplicate."""
    decisions: list[Decision] = []
    quiet, cap = quiet_hours(community), weekly_cap(community)
    for start in range(0, len(members), CHUNK):
        chunk = members[start:start + CHUNK]
        ids = [member_id for member_id, _, _ in chunk]
        seen = queued_keys(session, [key for _, key, _ in chunk])
        found = accounts_of(session, ids)
        sent = (promotions_since_of(session, ids, local_now - WEEK)
                if kind is Kind.PROMOTION else {})
        for member_id, key, prefer in chunk:
            decisions.append(decide(
                kind, found.get(member_id, []), local_now=local_now, prefer=prefer,
                windows=windows, quiet=quiet, promotions_this_week=sent.get(member_id, 0),
                weekly_cap=cap, already_queued=key in seen))
            seen.add(key)
    return decisions


def queue_many(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Queue many pushes (each a dict: channel, chat_id, body, member_id, kind, dedupe_key,
    not_before, created_at, community_id): one INSERT … ON CONFLICT DO NOTHING per chunk, so
    a key another transaction queued meanwhile is skipped. Returns how many were queued."""
    table = table_of(OutboxMessage)
    defaults = {"is_group": False, "status": OutboxStatus.PENDING, "attempts": 0,
                "last_error": "", "claimed_until": None, "sent_at": None}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
    queued = 0
    for start in range(0, len(rows), CHUNK):
        chunk = [{**defaults, **row} for row in rows[start:start + CHUNK]]
        if chunk:
            done = session.execute(statement.returning(table.c.id), chunk)
            queued += len(done.all())
    return queued
