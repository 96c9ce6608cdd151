"""The parts of a dispatched message's transaction: who sent it (`context`, the member
created on first contact), its answer kept with the event (`commit_with_answer`), and the
plain answer for someone not looked up (`plain`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from handlers.context import Ctx, Deps
from handlers.router import Command
from messages.records import reply_record
from messages.render import locale_from
from messages.types import Incoming, Reply
from models import communities, events, lookups, members, reachability
from models.db import UnitOfWork
from models.programme import programme_for
from models.tables import Community

Arrival = tuple[dict[str, object], timedelta]  # an event's payload and lease, not stored yet


def commit_with_answer(uow: UnitOfWork, msg: Incoming, replies: list[Reply],
                        arrival: Arrival | None, now: datetime) -> list[Reply]:
    """Commit, keeping the answer on the inbox row: sent after a restart if it never left
    (no answer, as a '+1' in a group has, needs no keeping: the row is processed). An
    `arrival` is stored now, with its answer; [] (rolled back) when it was stored before."""
    records = [reply_record(r) for r in replies]
    if arrival is not None:
        if not events.store_answered(uow.session, msg.channel, msg.event_key, arrival[0],
                                     records, now, arrival[1]):
            return []
    elif replies:
        events.keep_answer(uow.session, msg.channel, msg.event_key, records)
    uow.commit()
    return replies


def context(session: Session, msg: Incoming, command: Command | None, deps: Deps) -> Ctx | None:
    """The community and the member (created on first contact) the message belongs to."""
    now = deps.clock()
    community, membership = members.locate(
        session, msg.channel, msg.sender, msg.chat if msg.is_group else None
    )
    if not msg.is_group:
        referred = referral_community(session, command)
        if referred is not None and (community is None or referred.id != community.id):
            community = referred
            membership = members.find_membership(session, community, msg.channel, msg.sender)
        if community is None and deps.default_community:
            community = members.community_by_slug(session, deps.default_community)
    if community is None:
        return None
    handle = msg.handle or msg.sender_name
    if membership is None:
        membership = members.join(
            session, community, msg.channel, msg.sender, handle, msg.sender_name, now,
            known_new=True,
        )
    else:
        members.touch(session, membership.account, handle, now)
    if not msg.is_group and membership.account.private_chat != msg.chat:
        reachability.mark_private_reachable(session, msg.channel, msg.sender, msg.chat)
        membership.account.private_chat = msg.chat
    args = command.args if command else ""
    return Ctx(msg, args, session, deps, membership, programme_for(community), now)


def referral_community(session: Session, command: Command | None) -> Community | None:
    """`/start ref_CODE` in private: the referrer's community."""
    if command is None or command.name != "start" or not command.args.lower().startswith("ref_"):
        return None
    referrer = lookups.by_referral_code(session, command.args[4:])
    return communities.get(session, referrer.community_id) if referrer else None


def not_joined(msg: Incoming, deps: Deps) -> list[Reply]:
    return [plain(msg, deps, "group_not_bound" if msg.is_group else "not_joined")]


def plain(msg: Incoming, deps: Deps, template: str, **context: object) -> Reply:
    """An answer for someone we do not (or cannot) look up: in their app's language."""
    return Reply(deps.renderer.render(fallback_locale(msg), template, **context))


def fallback_locale(msg: Incoming) -> str:
    return locale_from(msg.language_code) or "zh-Hant"
