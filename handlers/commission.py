"""Commission for distributors and leaders: the distributor's card, statements, payouts,
the leaderboard, and the month's settlement CSV."""

from __future__ import annotations

from dataclasses import replace

from handlers.context import Ctx
from handlers.leader import _target, actor
from messages.types import Reply
from models import commission, communities, settlement, standing
from models.errors import DomainError, Usage
from models.rules import settlement as months
from models.rules.commission import parse_money
from models.types import id_of

EXPONENT = {"JPY": 0}  # minor digits of a currency (2 unless named)


def card(ctx: Ctx) -> list[Reply]:
    """/distributor: link and code, this month's sales and ladder step, commission totals,
    rank, downline."""
    found = standing.of(ctx.session, ctx.member, ctx.programme, ctx.now, ctx.tz)
    link = ctx.deps.referral_link(ctx.msg.channel, ctx.member.referral_code)
    answer = ctx.card("distributor_card", s=found, link=link, code=ctx.member.referral_code,
                      status=found.row.status.value, ladder=ctx.programme.distribution.ladder)
    return [replace(answer, card={"kind": "distributor"},
                    hints={"referral": ctx.member.referral_code, "link": link})]


def _month(ctx: Ctx, given: str, default: str) -> str:
    if not given:
        return default
    month = months.parse_month(given)
    if month is None or month > commission.month_of(ctx.now, ctx.tz):
        raise Usage("statement", this_month=commission.month_of(ctx.now, ctx.tz))
    return month


def statement(ctx: Ctx) -> list[Reply]:
    """/statement [YYYY-MM]: the stored statement of a past month, this month's as it stands."""
    this_month = commission.month_of(ctx.now, ctx.tz)
    month = _month(ctx, ctx.args.strip(), this_month)
    figures = settlement.of_member(ctx.session, id_of(ctx.member), month)
    return [ctx.card("statement", f=figures)]


def payout(ctx: Ctx) -> list[Reply]:
    """/payout @name AMOUNT: never more than the confirmed balance; audited; the member told."""
    target, rest = _target(ctx, "payout")
    amount = parse_money(rest[0], EXPONENT.get(ctx.community.currency, 2)) if len(rest) == 1 else None
    if amount is None:
        raise Usage("payout")
    row = commission.payout(ctx.session, target, amount,
                            key=f"payout:{ctx.msg.channel}:{ctx.msg.event_key}",
                            actor_id=id_of(ctx.member), now=ctx.now, tz=ctx.tz)
    communities.audit(ctx.session, ctx.community.id, actor(ctx.msg), "payout", True,
                      f"{target.id} {amount}", ctx.member.id, ctx.now)
    told = target.id == ctx.member.id or ctx.push(
        target, "payout_notice", f"payout:{ctx.msg.channel}:{ctx.msg.event_key}",
        amount=amount, left=row.confirmed, paid=row.paid)
    return [ctx.reply("payout_done", target=target, amount=amount, left=row.confirmed,
                      unreachable=not told)]


def leaderboard(ctx: Ctx) -> list[Reply]:
    """This month, this quarter, all time: level-1 sales, ties to the earlier member."""
    month = commission.month_of(ctx.now, ctx.tz)
    community_id = id_of(ctx.community)
    boards = [(period, settlement.leaderboard(ctx.session, community_id, chosen, limit=5))
              for period, chosen in (("month", [month]), ("quarter", months.quarter(month)),
                                     ("all", None))]
    return [ctx.reply("leaderboard", boards=boards, ym=month)]


def settlement_csv(ctx: Ctx) -> list[Reply]:
    """/settlement [YYYY-MM]: the month's statements and order lines as a CSV file (last month
    by default); the statements are built here if the monthly job has not yet."""
    month = _month(ctx, ctx.args.strip(), months.previous_month(ctx.today))
    if month >= commission.month_of(ctx.now, ctx.tz):
        raise DomainError("settlement_not_over", ym=month)
    community_id = id_of(ctx.community)
    settlement.build(ctx.session, community_id, month, ctx.now)
    summaries = [{"month": month, "distributor": who.display_name,
                  **{f: getattr(s, f) for f in settlement.FIGURES}}
                 for s, who in settlement.statements(ctx.session, community_id, month)]
    lines = [{"month": month, **line} for line in settlement.lines(ctx.session, community_id, month)]
    text = months.write_settlement(summaries, lines, ctx.locale)
    folder = ctx.deps.media_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"settlement-{ctx.community.slug}-{month}-{ctx.now:%Y%m%d%H%M%S}.csv"
    path.write_text(text, encoding="utf-8-sig")  # with a BOM: Excel then reads it as UTF-8
    return [Reply(ctx.text("settlement_exported", ym=month, count=len(summaries),
                           line_count=len(lines)), file=str(path), private=ctx.can_reply_privately)]
