"""Leader commands: only a community's owner and admins (handlers/commands.py says who may use
which; the dispatcher refuses the others and audits the refusal)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from handlers import notices
from handlers.context import Ctx
from messages.types import Incoming, Reply
from models import communities, ledger, lookups, members
from models import tiers as tier_ops
from models.errors import DomainError, NotAllowed, UnknownMember, Usage
from models.rules.text import parse_amount
from models.tables import Community, Member
from models.types import id_of

MAX_POINTS = 1_000_000
DOUBLE_TAP = timedelta(seconds=60)  # the same grant (amount and reason) again within: refused


def actor(msg: Incoming) -> str:
    return f"{msg.channel}:{msg.sender}"


def _not_oneself(ctx: Ctx, target: Member, action: str) -> None:
    """An admin may not reward themselves; only the owner may touch their own account."""
    if target.id != ctx.member.id:
        return
    if communities.role_of(ctx.session, id_of(ctx.community), id_of(ctx.member)) != communities.OWNER:
        raise NotAllowed(action=action)


def _target(ctx: Ctx, command: str, **usage: object) -> tuple[Member, list[str]]:
    """The member named by '@name' as first argument, or the author of the replied-to message."""
    words = ctx.args.split()
    if words and words[0].startswith("@") and len(words[0]) > 1:
        found = lookups.by_handle(ctx.session, id_of(ctx.community), words[0])
        if found is None:
            raise UnknownMember(name=words[0][:40])
        return found, words[1:]
    if ctx.msg.reply_to_sender is not None and ctx.msg.is_group:
        # Whoever wrote in this community's group is a member, even if they never typed a command.
        joined = members.join(
            ctx.session, ctx.community, ctx.msg.channel, ctx.msg.reply_to_sender,
            ctx.msg.reply_to_handle, ctx.msg.reply_to_name, ctx.now,
        )
        return joined.member, words
    raise Usage(command, **usage)


target_member = _target  # for other leader commands naming a member (/tag)


def _adjust(ctx: Ctx, command: str, sign: int) -> list[Reply]:
    target, rest = _target(ctx, command, max=MAX_POINTS)
    _not_oneself(ctx, target, command)
    amount = parse_amount(rest[0]) if rest else None
    reason = " ".join(rest[1:]).strip()
    if amount is None or not 0 < amount <= MAX_POINTS or not reason:
        raise Usage(command, max=MAX_POINTS)
    delta = sign * amount
    if ledger.repeated(ctx.session, id_of(target), id_of(ctx.member), delta, reason,
                       ctx.now - DOUBLE_TAP):
        return [ctx.reply("points_double_tap", target=target, delta=delta, reason=reason)]
    entry = ledger.post(
        ctx.session, target, delta, command, f"{command}:{ctx.msg.channel}:{ctx.msg.event_key}",
        ctx.today, reason=reason, expiry_months=ctx.programme.points_expiry_months,
        actor_id=ctx.member.id, at=ctx.now,
    )
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), command, True,
                      f"{target.id} {delta} {reason}", ctx.member.id, ctx.now)
    told = entry is None or target.id == ctx.member.id or notices.points_changed(
        ctx, target, entry, reason)
    return [ctx.reply("points_adjusted", target=target, delta=delta, reason=reason,
                      balance=target.points_balance, unreachable=not told)]


def grant(ctx: Ctx) -> list[Reply]:
    return _adjust(ctx, "grant", 1)


def deduct(ctx: Ctx) -> list[Reply]:
    return _adjust(ctx, "deduct", -1)


def tier_key(ctx: Ctx, word: str) -> str | None:
    wanted = word.strip().lower()
    for tier in ctx.programme.tiers:
        names = {tier.key, *(n.lower() for n in ctx.programme.tier_names.get(tier.key, {}).values())}
        if wanted in names:
            return tier.key
    return None


def settier(ctx: Ctx) -> list[Reply]:
    names = [ctx.tier_name(t.key) for t in ctx.programme.tiers]
    target, rest = _target(ctx, "settier", tiers=names)
    _not_oneself(ctx, target, "settier")
    key = tier_key(ctx, rest[0]) if rest else None
    reason = " ".join(rest[1:]).strip()
    if key is None or not reason:
        raise Usage("settier", tiers=names)
    before = target.tier
    if not tier_ops.change(ctx.session, target, key, reason, ctx.now, actor_id=ctx.member.id):
        return [ctx.reply("tier_unchanged", target=target, after=ctx.tier_name(key))]
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), "settier", True,
                      f"{target.id} {before}->{key} {reason}", ctx.member.id, ctx.now)
    told = target.id == ctx.member.id or notices.tier_changed(ctx, target, before, key, reason)
    return [ctx.reply("tier_set", target=target, before=ctx.tier_name(before),
                      after=ctx.tier_name(key), reason=reason, unreachable=not told)]


def admin(ctx: Ctx) -> list[Reply]:
    verb, _, rest = ctx.args.partition(" ")
    if verb.lower() not in ("add", "remove", "加", "移除", "list", "列表"):
        raise Usage("admin")
    if verb.lower() in ("list", "列表"):
        return [ctx.reply("admin_list", staff=communities.staff(ctx.session, id_of(ctx.community)))]
    ctx.args = rest.strip()
    target, _ = _target(ctx, "admin")
    adding = verb.lower() in ("add", "加")
    if target.id == ctx.member.id:
        raise Usage("admin")
    communities.set_role(ctx.session, id_of(ctx.community), id_of(target), "admin" if adding else None)
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), "admin", True,
                      f"{'add' if adding else 'remove'} {target.id}", ctx.member.id, ctx.now)
    return [ctx.reply("admin_added" if adding else "admin_removed", target=target)]


def bind_unbound(session: Session, msg: Incoming, slug: str) -> Community:
    """Bind the group the message came from to the sender's community (answered "bound")."""
    ids = [id_of(m) for _, m, _ in members.account_rows(session, msg.channel, msg.sender)]
    staff_of = communities.staff_communities(session, ids)
    if slug:
        staff_of = [c for c in staff_of if c.slug == slug.lower()]
    if len(staff_of) != 1:
        communities.audit(session, None, actor(msg), "bind", False, f"{msg.chat} {slug}"[:200])
        if len(staff_of) > 1:
            raise Usage("bind", choices=[c.slug for c in staff_of])
        raise NotAllowed(action="bind")
    community = staff_of[0]
    communities.bind_group(session, community, msg.channel, msg.chat, msg.sender_name)
    communities.audit(session, community.id, actor(msg), "bind", True, msg.chat)
    return community


def bind(ctx: Ctx) -> list[Reply]:
    if not ctx.msg.is_group:
        raise DomainError("bind_in_group")
    return [ctx.reply("already_bound")]
