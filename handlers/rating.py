"""After pickup, a one-tap rating: the member rates a buy 1–5 (a button sends '/rate #N 4'),
perhaps with a comment; a low rating reaches the community's owner at once; the leader reads
the average and the comments with '/ratings #N'."""

from __future__ import annotations

from handlers.context import Ctx
from handlers.pickup import choose_buy
from messages.types import Button, Reply
from models import communities, pickup, ratings
from models.buying import brief
from models.errors import DomainError, Usage
from models.rules.pickup import LOW_SCORE, MAX_COMMENT, MAX_SCORE, MIN_SCORE, parse_score
from models.tables import GroupBuy, LineStatus
from models.types import id_of


def rate_buttons(buy: GroupBuy) -> tuple[Button, ...]:
    """What the rating request offers: one button per score, each a '/rate #N k' command."""
    return tuple(Button("★" * k, f"/rate #{buy.number} {k}") for k in range(MIN_SCORE, MAX_SCORE + 1))


def rate(ctx: Ctx) -> list[Reply]:
    """'/rate #N 4 很新鮮': one rating per member per buy; a re-rate changes it."""
    buy, rest = choose_buy(ctx, ctx.args, lambda chat: pickup.buys_with_lines(
        ctx.session, id_of(ctx.community), (LineStatus.DELIVERED,), chat=chat,
        member_id=id_of(ctx.member)), command="rate")
    score_word, _, comment = rest.partition(" ")
    score = parse_score(score_word)
    if score is None:
        raise Usage("rate")
    if not ratings.may_rate(ctx.session, id_of(buy), id_of(ctx.member)):
        raise DomainError("rate_not_yours", buy=brief(buy))
    comment = " ".join(comment.split())[:MAX_COMMENT]
    done = ratings.rate(ctx.session, buy_id=id_of(buy), member_id=id_of(ctx.member), score=score,
                        comment=comment, now=ctx.now)
    if score <= LOW_SCORE and done.before != score:
        for owner, role in communities.staff(ctx.session, id_of(ctx.community)):
            if role == communities.OWNER:
                ctx.push(owner, "low_rating", f"lowrating:{buy.id}:{ctx.member.id}:{score}",
                         buy=buy, rater=ctx.member, score=score, comment=comment)
    return [ctx.card("rated", buy=buy, score=score, before=done.before)]


def ratings_of_buy(ctx: Ctx) -> list[Reply]:
    """'/ratings #N': how many rated, the average, each score and comment (newest first)."""
    buy, _ = choose_buy(ctx, ctx.args, lambda chat: pickup.buys_with_lines(
        ctx.session, id_of(ctx.community), (LineStatus.DELIVERED,), chat=chat), command="ratings")
    summary = ratings.summary(ctx.session, id_of(buy))
    average = summary.average_tenths
    shown = None if average is None else f"{average // 10}.{average % 10}"
    return [ctx.card("ratings", buy=buy, summary=summary, average=shown)]
