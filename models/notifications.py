"""The database half of notify: what the decision needs to know, and queueing its outcome.

The decision itself is the pure rule `models.rules.notify.decide`; rendering the message in
the member's language is the caller's (handlers/notify.py): no templates here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, bindparam, exists, func, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models.bulk import Rows, plain_rows
from models.db import Runner, Statement, among, dialect_name, flush, table_of
from models.programme import programme_for
from models.rules.notify import Account, Decider, Decision, Kind, Quiet, ReplyWindow, decide
from models.tables import ChannelAccount, Community, Member, OutboxMessage, OutboxStatus
from models.types import id_of

WEEK = timedelta(days=7)


def set_opted_out(session: Session, account: ChannelAccount, opted_out: bool) -> None:
    """Promotions and reminders off (or on again) for this member on this account's channel."""
    session.execute(update(ChannelAccount).where(col(ChannelAccount.id) == account.id)
                    .values(opted_out=opted_out).execution_options(synchronize_session=False))
    account.opted_out = opted_out


def quiet_hours(community: Community) -> Quiet | None:
    return programme_for(community).quiet_hours


def weekly_cap(community: Community) -> int | None:
    return programme_for(community).frequency_cap_per_week


def _planning(promotions: bool) -> Statement:
    """The member's accounts (most recently active first), each row also telling whether the
    dedupe key is queued already and (for promotions) how many went since a moment."""
    accounts_, outbox = table_of(ChannelAccount), table_of(OutboxMessage)
    columns: list[Any] = [
        accounts_.c.channel, accounts_.c.private_chat, accounts_.c.opted_out,
        accounts_.c.last_inbound_at, accounts_.c.last_seen_at, accounts_.c.pushes_since_inbound,
        exists().where(outbox.c.dedupe_key == bindparam("key"))]
    if promotions:
        columns.append(select(func.count(outbox.c.id)).where(
            outbox.c.member_id == bindparam("member"), outbox.c.kind == Kind.PROMOTION.value,
            outbox.c.created_at >= bindparam("since")).scalar_subquery())
    return Statement(select(*columns).where(accounts_.c.member_id == bindparam("member"))
                     .order_by(accounts_.c.last_seen_at.desc(), accounts_.c.id))


_PLAN = {False: _planning(False), True: _planning(True)}


def plan(session: Runner, member: Member, community: Community, kind: Kind, *,
         local_now: datetime, dedupe_key: str, prefer: str | None = None,
         windows: dict[str, ReplyWindow] | None = None, here: ChannelAccount | None = None,
         only: bool = False) -> Decision:
    """Where and when this push may go (or why not), from what the database knows: one
    query (no accounts at all: unreachable, whatever else).

    `here`: the member's account the message being handled came from, as loaded; `only`: it
    is their only one (they joined with this message). A service push (no opt-out, no quiet
    hours) then needs no query when `here` answers it: as their only account, or as a private
    chat on the preferred channel, which has no reply window (the one they write from, of
    the accounts `decide` would take first). The dedupe key is the INSERT's to check."""
    if here is not None and kind is Kind.SERVICE and (only or _reachable_here(here, prefer, windows)):
        return decide(kind, [account_of(here)], local_now=local_now, prefer=prefer,
                      windows=windows)
    flush(session)  # the handler's pending accounts and pushes count (nothing when clean)
    promotion = kind is Kind.PROMOTION
    rows = _PLAN[promotion].run(session, {"member": id_of(member), "key": dedupe_key,
                                          "since": local_now - WEEK}).all()
    found = [Account(channel, chat, bool(off), inbound or seen, sent)
             for channel, chat, off, inbound, seen, sent, *_ in rows]
    first = rows[0] if rows else ()
    return decide(kind, found, local_now=local_now, prefer=prefer, windows=windows,
                  quiet=quiet_hours(community),
                  promotions_this_week=int(first[7]) if promotion and first else 0,
                  weekly_cap=weekly_cap(community), already_queued=bool(first and first[6]))


def account_of(account: ChannelAccount) -> Account:
    """What the decision knows of an account (as `plan` reads it)."""
    return Account(account.channel, account.private_chat, bool(account.opted_out),
                   account.last_inbound_at or account.last_seen_at, account.pushes_since_inbound)


def _reachable_here(here: ChannelAccount, prefer: str | None,
                    windows: dict[str, ReplyWindow] | None) -> bool:
    return (here.channel == prefer and here.private_chat is not None
            and (windows or {}).get(here.channel) is None)


def _queueing(insert: Any) -> Statement:
    table = table_of(OutboxMessage)
    return Statement(insert(table).values({c.key: bindparam(c.key) for c in table.c if c.key != "id"})
                     .on_conflict_do_nothing(index_elements=["dedupe_key"])
                     .returning(table.c.id))


_QUEUE_ONE = {"sqlite": _queueing(sqlite_insert), "postgresql": _queueing(pg_insert)}


def queue(session: Runner, decision: Decision, body: dict[str, Any], now: datetime, *,
          member: Member, community: Community, kind: Kind, dedupe_key: str) -> bool:
    """Queue the push the decision allows; False when it was not (or already) queued. One
    INSERT … ON CONFLICT DO NOTHING (a key another transaction queued meanwhile: False)."""
    account = decision.account
    if account is None or account.chat is None:
        return False
    values = {"community_id": community.id, "channel": account.channel, "chat_id": account.chat,
              "is_group": False, "body": body, "dedupe_key": dedupe_key,
              "member_id": member.id, "kind": kind.value, "status": OutboxStatus.PENDING,
              "attempts": 0, "last_error": "", "created_at": now,
              "not_before": decision.not_before or now, "claimed_until": None, "sent_at": None}
    return _QUEUE_ONE[dialect_name(session)].run(session, values).first() is not None


# --- the same, for many members at once (handlers/notify.py notify_many) ---

CHUNK = 2_000  # members per round of queries (well under every database's parameter limit)


def accounts_of(session: Session, member_ids: Sequence[int],
                timed: Collection[str] | None = None) -> dict[int, list[Account]]:
    """`accounts` for many members: one query (a range of ids when they are dense), each
    member's most recently active first. `timed`: the channels whose last inbound moment is
    read (those with a reply window; None: all), the others' is left None."""
    ids = sorted(set(member_ids))
    wanted = set(ids)
    found: dict[int, list[Account]] = {}
    rows = plain_rows(session, select(
        col(ChannelAccount.member_id), col(ChannelAccount.channel), col(ChannelAccount.private_chat),
        type_coerce(col(ChannelAccount.opted_out), Integer),  # 0 / 1 on SQLite: made bool below
        type_coerce(  # as the driver gives it: read (_aware) only where it matters
            func.coalesce(col(ChannelAccount.last_inbound_at), col(ChannelAccount.last_seen_at)),
            String),
        col(ChannelAccount.pushes_since_inbound))
        .where(among(col(ChannelAccount.member_id), ids))
        .order_by(col(ChannelAccount.member_id), col(ChannelAccount.last_seen_at).desc(),
                  col(ChannelAccount.id)))
    for member_id, channel, chat, opted_out, inbound, sent in rows:
        if member_id in wanted:
            found.setdefault(member_id, []).append(
                Account(channel, chat, bool(opted_out),
                        _aware(inbound) if timed is None or channel in timed else None, sent))
    return found


def _aware(value: datetime | str | None) -> datetime | None:
    """COALESCE() of two timestamps loses their type on SQLite: read back as UTC."""
    if value is None or isinstance(value, datetime) and value.tzinfo is not None:
        return value
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC)


def queued_keys(session: Session, keys: Sequence[str]) -> set[str]:
    return {key for key, in plain_rows(session, select(col(OutboxMessage.dedupe_key))
                                       .where(col(OutboxMessage.dedupe_key).in_(keys)))}


def promotions_since_of(session: Session, member_ids: Sequence[int],
                        since: datetime) -> dict[int, int]:
    ids = sorted(set(member_ids))
    rows = plain_rows(session, select(col(OutboxMessage.member_id), func.count(col(OutboxMessage.id)))
                      .where(among(col(OutboxMessage.member_id), ids),
                             col(OutboxMessage.kind) == Kind.PROMOTION,
                             col(OutboxMessage.created_at) >= since)
                      .group_by(col(OutboxMessage.member_id)))
    return {int(member_id): int(n) for member_id, n in rows if member_id is not None}


def plan_many(session: Session, members: Sequence[tuple[int, str, str | None]],
              community: Community, kind: Kind, *, local_now: datetime,
              windows: dict[str, ReplyWindow] | None = None,
              new_keys: bool = False) -> list[Decision]:
    """`plan` for (member id, dedupe key, preferred channel) triples of one community: the
    same rule (`decide`) on what three queries per chunk know. Two pushes with one key in
    the list: the second is a duplicate. `new_keys`: keys nobody can have queued (a campaign
    run's, claimed once): not looked up (one queued all the same is caught by the INSERT)."""
    decisions: list[Decision] = []
    decider = Decider.at(kind, local_now, windows=windows, quiet=quiet_hours(community),
                         weekly_cap=weekly_cap(community))
    decide_one = decider.decide
    for start in range(0, len(members), CHUNK):
        chunk = members[start:start + CHUNK]
        ids = [member_id for member_id, _, _ in chunk]
        seen = set() if new_keys else queued_keys(session, [key for _, key, _ in chunk])
        found = accounts_of(session, ids, timed=set(windows or ()))
        sent = (promotions_since_of(session, ids, local_now - WEEK)
                if kind is Kind.PROMOTION else {})
        for member_id, key, prefer in chunk:
            decisions.append(decide_one(found.get(member_id, ()), prefer, sent.get(member_id, 0),
                                        key in seen))
            seen.add(key)
    return decisions


OUTBOX_COLUMNS = ("community_id", "channel", "chat_id", "body", "dedupe_key", "member_id", "kind",
                  "created_at", "not_before")
_PENDING = (False, OutboxStatus.PENDING.value, 0, "", None, None)  # a new message's other columns
_QUEUE = {
    dialect: Rows(insert(table_of(OutboxMessage)).on_conflict_do_nothing(index_elements=["dedupe_key"])
                  .returning(table_of(OutboxMessage).c.dedupe_key),
                  (*OUTBOX_COLUMNS, "is_group", "status", "attempts", "last_error", "claimed_until",
                   "sent_at"), serialized=("body",), constants=_PENDING)
    for dialect, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


def queue_many(session: Session, rows: Sequence[tuple[Any, ...]]) -> set[str]:
    """Queue many pushes (each a tuple in OUTBOX_COLUMNS order: community id, channel, chat id,
    body as JSON text (messages.records.reply_json), dedupe key, member id, kind, created at,
    not before): multi-row INSERTs … ON CONFLICT
    DO NOTHING, so a key another transaction queued meanwhile is skipped. Returns the keys
    queued."""
    if not rows:
        return set()
    returned = _QUEUE[dialect_name(session)].run(session, rows)
    return {key for key, in returned}
