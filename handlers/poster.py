"""`/poster [#N]`: a share poster (宣傳物料) of an open group buy with a distributor's own
referral QR code, to post in their own chats; friends who scan it join as their referees."""

from __future__ import annotations

from handlers.buychoice import choose_buy
from handlers.context import Ctx
from messages.poster import Lines, poster_png
from messages.types import Reply
from models import distributors
from models.errors import DomainError, Usage
from models.rules.deadline import echo
from models.tables import BuyStatus
from models.types import id_of


def poster(ctx: Ctx) -> list[Reply]:
    """Only an active distributor gets one (the others hear why, and how to become one)."""
    me = id_of(ctx.member)
    if me not in distributors.active_among(ctx.session, id_of(ctx.community), [me], ctx.programme,
                                           ctx.now):
        row = distributors.row_of(ctx.session, me)
        plan = ctx.programme.distribution
        raise DomainError("poster_not_distributor", status=row.status.value if row else None,
                          mode=plan.mode, min_spend=plan.min_spend)
    buy, rest = choose_buy(ctx, ctx.args, command="poster", statuses=(BuyStatus.OPEN,))
    if rest:
        raise Usage("poster")
    link = ctx.deps.referral_link(ctx.msg.channel, ctx.member.referral_code)
    deadline = buy.deadline.astimezone(ctx.tz)
    words = ctx.text("poster", buy=buy, deadline=echo(deadline), weekday=deadline.weekday())
    path = poster_png(Lines.from_text(words), link, ctx.deps.media_dir / "posters")
    caption = ctx.text("poster_caption", buy=buy, link=link)
    return [Reply(caption, image=str(path), private=ctx.can_reply_privately,
                  hints={"referral": ctx.member.referral_code, "link": link})]
