"""The owner's control room: `/config` (read), `/config set KEY VALUE`, `/audit [N]`."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.leader import actor
from messages.types import Reply
from models import communities, config_keys, configuration
from models.config_keys import ConfigInvalid
from models.errors import DomainError, NotAllowed, Usage
from models.types import id_of

SET = ("set", "設定", "设置", "改")
AUDIT_DEFAULT, AUDIT_MAX = 10, 50


def config(ctx: Ctx) -> list[Reply]:
    verb, _, rest = ctx.args.partition(" ")
    if verb.lower() in SET:
        return _set(ctx, rest.strip())
    if ctx.args.strip():
        raise Usage("config")
    p = ctx.programme
    tiers = [(ctx.tier_name(t.key), t, p.birthday_coupon.get(t.key, 0)) for t in p.tiers]
    settings = config_keys.view(ctx.community.programme, ctx.community.timezone)
    return [ctx.card("config", p=p, tiers=tiers, settings=settings)]


def _set(ctx: Ctx, rest: str) -> list[Reply]:
    """Owner only (an admin is refused, and the refusal audited by the dispatcher)."""
    if communities.role_of(ctx.session, id_of(ctx.community), id_of(ctx.member)) != communities.OWNER:
        raise NotAllowed(action="config", owner_only=True)
    key, _, value = rest.partition(" ")
    if not key or not value.strip():
        raise Usage("config")
    key = key.strip().lower()
    spec = config_keys.spec_for(key, config_keys.merged(ctx.community.programme))
    try:
        typed = config_keys.parse_text(spec, value) if spec is not None else value.strip()
        changed = configuration.change(
            ctx.session, community_id=id_of(ctx.community), changes={key: typed},
            actor=actor(ctx.msg), actor_member_id=ctx.member.id, now=ctx.now)
    except ConfigInvalid as wrong:
        raise DomainError("config_invalid", problems=wrong.problems) from None
    if not changed:
        return [ctx.reply("config_unchanged", key=key)]
    return [ctx.reply("config_changed", changes=changed)]


def audit(ctx: Ctx) -> list[Reply]:
    """`/audit [N]`: the newest N entries (10 by default, 50 at most), in private."""
    typed = ctx.args.strip()
    if typed and (not typed.isdigit() or not typed.isascii() or int(typed[:4]) < 1):
        raise Usage("audit", most=AUDIT_MAX)
    limit = min(int(typed[:4]) if typed else AUDIT_DEFAULT, AUDIT_MAX)
    entries = communities.recent_audit(ctx.session, id_of(ctx.community), limit)
    return [ctx.card("audit", log=entries, most=AUDIT_MAX)]
