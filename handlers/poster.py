"""`/poster [#N]`: a share poster (宣傳物料) of an open group buy with the member's own
referral QR code, to post in their own chats; friends who scan it join as their referees."""

from __future__ import annotations

from handlers.buychoice import choose_buy
from handlers.context import Ctx
from messages.poster import Lines, poster_png
from messages.types import Reply
from models.errors import Usage
from models.rules.deadline import echo
from models.tables import BuyStatus


def poster(ctx: Ctx) -> list[Reply]:
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
