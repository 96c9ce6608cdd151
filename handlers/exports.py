"""/export members|orders|points|commissions: the community's data as CSV files, in private.

`/export` alone (or with `#N`) is still one group buy's orders (handlers/buyleader.py).
"""

from __future__ import annotations

from handlers import buyleader
from handlers.context import Ctx
from messages.types import FILE_LINK_HINT, Reply
from models import exporting
from models.errors import DomainError, Usage
from models.rules.exports import KIND_WORDS
from models.rules.text import normalize


def export(ctx: Ctx) -> list[Reply]:
    words = normalize(ctx.args).split()
    kind = KIND_WORDS.get(words[0].lower()) if words else None
    if kind is None:
        if words and not words[0].startswith("#") and not words[0].isdigit():
            raise Usage("export")
        return buyleader.export(ctx)
    if len(words) > 1:
        raise Usage("export")
    if ctx.msg.is_group and not ctx.can_reply_privately:
        raise DomainError("private_only", command="export")
    text = exporting.export_csv(ctx.session, ctx.community, kind, ctx.locale,
                                lambda key: ctx.programme.tier_name(key, ctx.locale))
    folder = ctx.deps.media_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{ctx.community.slug}-{ctx.now:%Y%m%d%H%M%S}-{ctx.member.id}.csv"
    path.write_text(text, encoding="utf-8-sig")  # with a BOM: Excel then reads it as UTF-8
    replies = [Reply(ctx.text("exported_kind", kind=kind), file=str(path),
                     private=ctx.msg.is_group, hints={FILE_LINK_HINT: ctx.text("file_link")})]
    if ctx.msg.is_group:
        replies.append(ctx.reply("sent_private"))
    return replies
