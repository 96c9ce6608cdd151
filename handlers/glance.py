"""The light lane: a member command that needs no Session (`/me`; a '+1' in the group, which
writes through Statements only) answered on one DB-API transaction, without ORM instances;
someone new in a bound group is made a member on it (models.sender.enrol). The full path
(handlers.dispatch) takes over whenever the sender needs more (a first contact in private, a
merged member, a first private message), the command refuses, or it raises NeedsSession.

    replies = glance.answer(msg, args, handler, deps)        # None: take the full path
    replies = glance.answer_in(tx, msg, args, handler, deps, stored=(payload, lease))
        # the inbox's own transaction, which also stores the event (bot.inbox.answer_at_once)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from handlers.context import Deps, Voice
from messages.records import reply_record
from messages.types import Incoming, Reply
from models import events, sender
from models.db import Direct, Runner
from models.errors import DomainError, NeedsSession
from models.programme import Programme, programme_of_json

if TYPE_CHECKING:
    from handlers.answering import Arrival  # answering imports what imports this module


@dataclass
class Glance(Voice):
    """What a light-lane handler gets: as `Ctx`, with the sender's values instead of models
    and a DB-API transaction (`runner`) for `Statement`s instead of a session."""

    msg: Incoming
    args: str
    runner: Runner
    deps: Deps
    sender: sender.Sender
    programme: Programme
    now: datetime
    _tz: ZoneInfo | None = None

    @property
    def community(self) -> Any:
        return self.sender.community

    @property
    def member(self) -> Any:
        return self.sender.member

    @property
    def account(self) -> Any:
        return self.sender.account

    @property
    def first_contact(self) -> bool:
        return self.sender.new

    def standing(self) -> tuple[int, int]:
        """As `Ctx.standing`: read with the sender."""
        return self.sender.standing


GlanceHandler = Callable[[Glance], list[Reply]]
# an adapter's hook, in the transaction that keeps an answer: the reply as it may leave
# (its send reserved there: bot.policy.reserve_in)
Clear = Callable[[Runner, Incoming, Reply], Reply]


class Answered(NamedTuple):
    replies: list[Reply]
    fresh: bool  # False: the event was processed before (a redelivery): nothing to send


def answer(msg: Incoming, args: str, handler: GlanceHandler, deps: Deps,
           clear: Clear | None = None) -> list[Reply] | None:
    """A stored (or never stored) event claimed, answered and its answer kept, in one
    transaction (with `clear` on each reply); None (nothing written) when the full path
    must answer."""
    with Direct(deps.sessions) as tx:
        done = answer_in(tx, msg, args, handler, deps)
        if done is None:
            return None
        if not done.fresh:
            return []
        replies = [clear(tx, msg, r) for r in done.replies] if clear else done.replies
        tx.commit()
        return replies


def answer_in(tx: Runner, msg: Incoming, args: str, handler: GlanceHandler, deps: Deps,
              stored: Arrival | None = None) -> Answered | None:
    """In `tx` (to be committed): the sender read and kept fresh, the handler's answer, the
    event processed with it (`stored`: the event's payload and lease, stored with it in one
    INSERT). An event processed before (fresh False) is seen by the sender's lookup, before
    any work; one another worker processes meanwhile is rolled back with whatever the handler
    wrote. None when the full path must answer (roll back)."""
    now = deps.clock()
    found = sender.locate(tx, msg.channel, msg.sender, msg.chat if msg.is_group else None, now,
                          msg.event_key)
    if found is None or (not msg.is_group and found.account.private_chat != msg.chat):
        return None
    if found.processed_before:
        return Answered([], False)  # a redelivery: nothing written, nothing to send
    handle = msg.handle or msg.sender_name
    if found.account is None:  # new in the group
        try:
            found = sender.enrol(tx, found, msg.channel, msg.sender, handle, msg.sender_name,
                                 now)
        except IntegrityError:  # made by another worker a moment ago: the full path finds them
            return None
    else:
        sender.touch(tx, found, handle, now)
    glance = Glance(msg, args, tx, deps, found, programme_of_json(found.community.programme_json),
                    now)
    try:
        replies = handler(glance)
    except (DomainError, NeedsSession):
        return None  # its refusal is answered (and audited) by the full path
    except IntegrityError:  # a redelivery's order line (its source key): the full path says
        return None
    records = [reply_record(r) for r in replies]
    if stored is not None:
        payload, lease = stored
        fresh = events.store_answered(tx, msg.channel, msg.event_key, payload, records, now, lease)
    else:  # claimed (or never stored): processed now, unless that happened before
        fresh = events.finish(tx, msg.channel, msg.event_key, records, now)
    return Answered(replies if fresh else [], fresh)
