"""A member's rights: what we store and why (/privacy), a copy (/mydata), erasure (/forget).

/forget asks first and erases only on a clear yes in the same chat; it is for the member's own
data only, and an owner must hand the community over before erasing themselves.
"""

from __future__ import annotations

import json

from handlers import guided
from handlers.context import Ctx
from messages.types import Reply
from models import communities, privacy
from models.errors import DomainError
from models.types import id_of


def privacy_info(ctx: Ctx) -> list[Reply]:
    return [ctx.card("privacy")]


def _in_private(ctx: Ctx) -> None:
    """Personal data leaves only in a private chat with the member."""
    if ctx.msg.is_group and not ctx.can_reply_privately:
        raise DomainError("privacy_in_private")


def mydata(ctx: Ctx) -> list[Reply]:
    _in_private(ctx)
    data = privacy.my_data(ctx.session, member=ctx.member, tz=ctx.tz)
    folder = ctx.deps.media_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"mydata-{ctx.community.slug}-{id_of(ctx.member)}-{ctx.now:%Y%m%d%H%M%S}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    return [Reply(ctx.text("mydata"), file=str(path), private=ctx.msg.is_group)]


def forget(ctx: Ctx) -> list[Reply]:
    """Starts the confirmation; only ever about the sender's own data."""
    if ctx.args.strip():
        raise DomainError("forget_only_yourself")
    if ctx.msg.is_group:
        raise DomainError("privacy_in_private")
    role = communities.role_of(ctx.session, id_of(ctx.community), id_of(ctx.member))
    if role == communities.OWNER:
        raise DomainError("forget_owner")
    return guided.start(ctx, "forget")
