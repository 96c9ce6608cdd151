"""Leader commands for campaigns: /campaign new | preview | cancel | report NAME, /campaigns.

The run itself (assignment, rendering, queueing) is handlers/campaignrun.py; creating one,
on one line or step by step, handlers/campaignflow.py.
"""

from __future__ import annotations

from collections.abc import Callable

from handlers import campaignflow, guided
from handlers.campaignrun import preview_for
from handlers.context import Ctx
from messages.leader_text import MAX_LENGTH
from messages.types import Reply
from models import campaigns
from models.campaign_report import report as counts
from models.errors import DomainError, Usage
from models.rules import abtest
from models.rules.campaigns import HOLDOUT, VARIANT_A, VARIANT_B
from models.tables import Campaign, CampaignStatus


def _find(ctx: Ctx, name: str) -> Campaign:
    if not name:
        raise Usage("campaign")
    found = campaigns.find(ctx.session, ctx.community.id or 0, name)
    if found is None:
        raise DomainError("campaign_bad", problem="not_found", value=name[:32], max=MAX_LENGTH)
    return found


def new(ctx: Ctx, rest: str) -> list[Reply]:
    if not rest:
        return guided.start(ctx, "campaign")
    return campaignflow.one_line(ctx, rest)


def preview(ctx: Ctx, rest: str) -> list[Reply]:
    """The message as a sample member of each variant would get it."""
    campaign = _find(ctx, rest)
    samples = preview_for(ctx.session, ctx.deps, ctx.community, campaign, ctx.now)
    if not samples:
        raise DomainError("campaign_bad", problem="empty_segment", value=campaign.segment,
                          max=MAX_LENGTH)
    return [ctx.reply("campaign_preview", campaign=campaign, variant=which, name=card.name,
                      text=message.text, buttons=message.buttons)
            for which, card, message in samples]


def cancel(ctx: Ctx, rest: str) -> list[Reply]:
    campaign = _find(ctx, rest)
    if not campaigns.cancel(ctx.session, campaign, ctx.now):
        problem = "finished" if campaign.status is CampaignStatus.FINISHED else "cancelled"
        raise DomainError("campaign_bad", problem=problem, value=campaign.name, max=MAX_LENGTH)
    return [ctx.reply("campaign_cancelled", campaign=campaign)]


def report(ctx: Ctx, rest: str) -> list[Reply]:
    """Per variant and holdout: assigned, sent, reached, converted, revenue; lift over the
    holdout; and whether B beat A (or the message beat the holdout), by a two-proportion test."""
    campaign = _find(ctx, rest)
    found = counts(ctx.session, campaign)
    arms = {name: abtest.Arm(name, c.assigned, c.converted, c.revenue) for name, c in found.items()}
    held = arms.get(HOLDOUT)
    lifts = {name: abtest.lift_pct(arm.rate, held.rate) if held else None
             for name, arm in arms.items() if name != HOLDOUT}
    pair = (VARIANT_A, VARIANT_B) if VARIANT_B in arms else (VARIANT_A, HOLDOUT)
    verdict = abtest.verdict(arms[pair[0]], arms[pair[1]]) if all(p in arms for p in pair) else None
    rows = [(c, arms[name].rate * 100) for name, c in found.items()]
    return [ctx.reply("campaign_report", campaign=campaign, arms=rows, lifts=lifts,
                      verdict=verdict)]


SUBCOMMANDS: dict[str, Callable[[Ctx, str], list[Reply]]] = {
    **dict.fromkeys(("new", "新增", "新建", "建立"), new),
    **dict.fromkeys(("preview", "預覽", "预览"), preview),
    **dict.fromkeys(("cancel", "取消"), cancel),
    **dict.fromkeys(("report", "報告", "报告", "成效"), report),
}


def campaign(ctx: Ctx) -> list[Reply]:
    word, _, rest = ctx.args.partition(" ")
    action = SUBCOMMANDS.get(word.lower())
    if action is None:
        raise Usage("campaign")
    return action(ctx, rest.strip())


def listing(ctx: Ctx) -> list[Reply]:
    """Scheduled, running and finished campaigns, with when each goes next."""
    rows = [(c, c.next_run_at.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") if c.next_run_at
             else "") for c in campaigns.listing(ctx.session, ctx.community.id or 0)]
    return [ctx.card("campaigns", campaign_rows=rows)]
