"""One entry point for every channel: an Incoming in, a list of Replies out.

Each message is one transaction: the inbox record (dedupe), the member, the command's
writes. A refusal rolls the command back and keeps only the inbox record and the audit.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from handlers import commands, glance, guided, leader
from handlers.answering import Arrival, commit_with_answer, context, not_joined, plain
from handlers.context import Ctx, Deps
from handlers.router import Command, parse
from messages.records import reply_record
from messages.types import Incoming, Reply
from models import events, flows, members
from models.communities import ADMIN, audit
from models.db import Direct, UnitOfWork
from models.errors import DomainError, NotAllowed, Usage
from models.rules.text import normalize

log = logging.getLogger(__name__)

MAX_INBOUND = 4096  # longer is no command: nothing is stored, a private sender is told
FALLBACK_ERROR = "抱歉，系統暫時出了點問題。Sorry, something went wrong."
ATTEMPTS = 3  # a unit of work that lost a race to another worker runs again, twice at most


def handle(msg: Incoming, deps: Deps, arrival: Arrival | None = None,
           clear: glance.Clear | None = None) -> list[Reply]:
    """Answer one inbound message. Errors are logged and answered politely.

    Every answer is kept on the inbox record in the transaction that processes the event
    (sent again after a crash if it never left); "too long" and the polite error in one of
    their own. Raises only when the database cannot keep even that: then nothing is sent,
    and the inbox handles the event again when its lease runs out.

    `arrival` (the event's payload and lease): the event is not stored yet; it is stored,
    with its answer, by the transaction that handles it (bot.light: long polling), and a
    redelivery rolls that transaction back. `clear`: the adapter's hook on an answer in the
    transaction that keeps it (the light lane's)."""
    try:
        if not msg.text.strip():
            return []  # nothing a member could mean: no reply, no write
        if len(msg.text) > MAX_INBOUND:
            log.info("%s message %s too long (%d)", msg.channel, msg.event_key, len(msg.text))
            return [] if msg.is_group else _settled(
                msg, deps, [plain(msg, deps, "too_long", limit=MAX_INBOUND)], arrival)
        return _with_retries(msg, parse(msg.text), deps, arrival, clear)
    except Exception:
        log.exception("failed to handle %s message %s", msg.channel, msg.event_key)
        return _settled(msg, deps, [_error(msg, deps)], arrival)


def _settled(msg: Incoming, deps: Deps, replies: list[Reply],
             arrival: Arrival | None = None) -> list[Reply]:
    """An answer the command's transaction did not keep: the event processed with it now
    (nothing when it was processed already)."""
    with Direct(deps.sessions) as tx:
        records = [reply_record(r) for r in replies]
        if arrival is None:
            events.settle(tx, msg.channel, msg.event_key, records, deps.clock())
        elif not events.store_answered(tx, msg.channel, msg.event_key, arrival[0], records,
                                       deps.clock(), arrival[1]):
            return []
        tx.commit()
    return replies


def _error(msg: Incoming, deps: Deps) -> Reply:
    try:
        return plain(msg, deps, "error")
    except Exception:  # the templates themselves are broken: still an answer, never a raise
        log.exception("cannot render the error template")
        return Reply(FALLBACK_ERROR)


def _with_retries(msg: Incoming, command: Command | None, deps: Deps,
                  arrival: Arrival | None, clear: glance.Clear | None) -> list[Reply]:
    """The unit of work again when another worker created the same row first (a new
    member's two first messages at once): the next attempt finds it. A redelivery of this
    very event is not an error: the inbox answers it with nothing."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _once(msg, command, deps, arrival, clear)
        except (IntegrityError, OperationalError) as error:
            if attempt == ATTEMPTS or not _retryable(error):
                raise
            log.info("%s message %s lost a race (attempt %d); again", msg.channel,
                     msg.event_key, attempt)
    raise AssertionError("unreachable")


def _retryable(error: DBAPIError) -> bool:
    """A unique constraint, or PostgreSQL's serialization failure or deadlock (40xxx)."""
    code = getattr(error.orig, "sqlstate", None) or ""
    return isinstance(error, IntegrityError) or code.startswith("40")


def _once(msg: Incoming, command: Command | None, deps: Deps,
          arrival: Arrival | None, clear: glance.Clear | None) -> list[Reply]:
    if command is None and msg.is_group and not _chatter_or_flow(msg, deps):
        return []  # group chatter: no reply
    light = _light(msg, command) if arrival is None else None
    if light is not None:
        replies = glance.answer(msg, command.args if command else "", light, deps, clear)
        if replies is not None:
            return replies
    try:
        return _run(msg, command, deps, arrival)
    except DomainError as refusal:
        asked = refusal.here  # a question back (which buy?), not a refusal
        quiet = refusal.key == "no_open_buy" or (refusal.key == "nothing_to_cancel"
                                                  and command is not None and command.word == "-")
        return _refuse(msg, refusal, deps, None if asked else _staff_entry(command), arrival,
                       silent=quiet and _bare_join(command))


class Lane(NamedTuple):
    """A quick command ('+1', '-1', a glance): as it arrives (bot.light) it is stored by the
    transaction that handles it (`handle(..., arrival)`), not in one of its own before."""

    glance: glance.GlanceHandler | None  # a read-only member command's light-lane handler
    args: str


def lane(msg: Incoming) -> Lane | None:
    """The message's command, when it is quick ('+1', '-1', a glance, which may still hand
    it back to `handle`); None for any other (stored and claimed first)."""
    if len(msg.text) > MAX_INBOUND:
        return None
    command = parse(msg.text)
    entry = commands.BY_NAME.get(command.name) if command and command.name else None
    if command is None or entry is None or not (entry.quick or entry.glance is not None):
        return None
    return Lane(_light(msg, command), command.args)


def _light(msg: Incoming, command: Command | None) -> glance.GlanceHandler | None:
    """The light-lane handler for a member command typed with a slash, or a '+N' (typed
    otherwise a word may answer a guided flow, which the full path asks about; a '+N' never
    does)."""
    entry = commands.BY_NAME.get(command.name) if command and command.name else None
    if entry is None or entry.glance is None:
        return None
    if command is not None and command.word != "+" and not normalize(msg.text).startswith("/"):
        return None
    return entry.glance


def _run(msg: Incoming, command: Command | None, deps: Deps,
         arrival: Arrival | None) -> list[Reply]:
    with UnitOfWork(deps.sessions) as uow:
        now = deps.clock()
        if not (events.first_delivery(uow.session, msg.channel, msg.event_key, now)
                if arrival is None else not events.seen(uow.session, msg.channel, msg.event_key)):
            return []  # processed before (an arrival seen before: stored at the end, once)
        if command is not None and command.name == "bind" and msg.is_group:
            bound = _bind_if_unbound(uow.session, msg, command, deps)
            if bound is not None:
                return commit_with_answer(uow, msg, bound, arrival, now)
        ctx = context(uow.session, msg, command, deps)
        if ctx is None:
            return commit_with_answer(uow, msg, [] if _bare_join(command) else not_joined(msg, deps),
                                       arrival, now)
        return commit_with_answer(uow, msg, _answer(ctx, command), arrival, now)


def _answer(ctx: Ctx, command: Command | None) -> list[Reply]:
    slashed = command is not None and normalize(ctx.msg.text).startswith("/")
    asks = command is None or command.name == "cancel" or not (slashed or command.word == "+")
    flow = guided.pending(ctx) if asks else None
    if flow is not None:  # typed without a slash ('-5', '積分 ×2') it answers; /cancel stops
        return guided.abort(ctx, flow) if slashed else guided.answer(ctx, flow)
    entry = commands.BY_NAME.get(command.name) if command and command.name else None
    if entry is None:
        return [ctx.card("unknown", word=command.word if command else "")]
    return _perform(ctx, entry)


def _perform(ctx: Ctx, entry: commands.Entry) -> list[Reply]:
    """Who may use it is checked here (the refusal is audited by _refuse); wrong arguments are
    answered with the command's usage line."""
    role = members.role(ctx.session, ctx.membership)
    if not commands.allowed(entry.who, role):
        fallback = commands.BY_NAME.get(entry.fallback or "")
        if fallback is not None and not ctx.args.strip():
            return _perform(ctx, fallback)  # a member's '/coupon' is their wallet
        raise NotAllowed(action=entry.name, owner_only=entry.who == commands.OWNER and role == ADMIN)
    try:
        replies = entry.handler(ctx)
    except Usage as wrong:
        if entry.usage is None:
            raise
        raise Usage(entry.usage, **{**entry.usage_args(ctx), **wrong.params}) from None
    if entry.who != commands.MEMBER and not entry.audits:  # the rest audit with their details
        audit(ctx.session, ctx.community.id, leader.actor(ctx.msg), entry.name, True,
              ctx.msg.text[:200], ctx.member.id, ctx.now)
    return replies


def _chatter_or_flow(msg: Incoming, deps: Deps) -> bool:
    """Plain text in a group: True when it answers the sender's guided flow in this chat.

    Otherwise it is chatter, and whoever talks in a bound group becomes a member, so a leader
    can name them with @name. One unit of work for both questions.
    """
    with UnitOfWork(deps.sessions) as uow:
        session = uow.session
        flow = flows.pending(session, msg.channel, msg.chat, msg.sender)
        if flow is not None and flow.flow in guided.FLOWS:
            return True
        community, membership = members.locate(session, msg.channel, msg.sender, msg.chat)
        if community is not None and membership is None:
            members.join(session, community, msg.channel, msg.sender,
                         msg.handle or msg.sender_name, msg.sender_name, deps.clock(),
                         known_new=True)
            uow.commit()
    return False


def _bind_if_unbound(session: Session, msg: Incoming, command: Command, deps: Deps) -> list[Reply] | None:
    if members.group_community(session, msg.channel, msg.chat) is not None:
        return None
    community = leader.bind_unbound(session, msg, command.args)
    text = deps.renderer.render(community.default_locale, "bound", community=community)
    return [Reply(text)]


def _bare_join(command: Command | None) -> bool:
    """'+1' (or '-1') typed as text: in a group it may just mean "me too" (or "not me"), so
    it never gets a reply when there is nothing to join (or to take off)."""
    return command is not None and command.word in ("+", "-") and command.name in ("join", "cancel")


def _staff_entry(command: Command | None) -> str | None:
    """The name of a leader's command (its refusals are audited, whatever the reason)."""
    entry = commands.BY_NAME.get(command.name or "") if command is not None else None
    return entry.name if entry is not None and entry.who != commands.MEMBER else None


def _refuse(msg: Incoming, refusal: DomainError, deps: Deps, staff_command: str | None = None,
            arrival: Arrival | None = None, silent: bool = False) -> list[Reply]:
    """Roll the command back; keep the inbox record (and the member) and answer the refusal
    (`silent`: with nothing). A refusal to act (not allowed), or a leader's command refused
    for any reason, is audited."""
    with UnitOfWork(deps.sessions) as uow:
        now = deps.clock()
        if arrival is None and not events.first_delivery(uow.session, msg.channel,
                                                         msg.event_key, now):
            return []
        ctx = context(uow.session, msg, None, deps)
        if isinstance(refusal, NotAllowed) or staff_command is not None:
            community_id = ctx.community.id if ctx else None
            member_id = ctx.member.id if ctx else None
            action = str(refusal.params.get("action", "")) if isinstance(refusal, NotAllowed) \
                else str(staff_command)
            detail = msg.text[:200] if isinstance(refusal, NotAllowed) \
                else f"{refusal.key}: {msg.text[:200]}"
            audit(uow.session, community_id, leader.actor(msg), action, False, detail, member_id, now)
        if silent:
            return commit_with_answer(uow, msg, [], arrival, now)
        if ctx is None:
            return commit_with_answer(uow, msg, [plain(msg, deps, refusal.key, **refusal.params)],
                                       arrival, now)
        # keep a noisy group quiet: a member who started the bot hears refusals in private
        answer = ctx.reply if refusal.here else ctx.card
        return commit_with_answer(uow, msg, [answer(refusal.key, **refusal.params)], arrival,
                                   now)


