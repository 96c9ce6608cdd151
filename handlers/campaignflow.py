"""Creating a campaign: on one line, or step by step (the answers kept in the database).

    /campaign new 會員日 segment=媽媽回購 at=2026-12-08T10:00 holdout=10% multiplier=2 | 嗨 {{name}} || 哈囉
    /campaign new            (then: name, segment, message A, message B, holdout, when, multiplier)

Every answer is checked as it comes (a bad one is asked again); nothing is saved until the
last one, and only when the segment exists and holds someone.
"""

from __future__ import annotations

from datetime import datetime

from handlers.context import Ctx
from messages.leader_text import MAX_LENGTH, LeaderTextError, check
from messages.types import Reply
from models import campaigns, flows
from models.errors import DomainError
from models.rules import campaigns as rules
from models.rules.campaigns import CampaignError, Draft
from models.tables import Conversation

FIELDS = ("name", "segment", "message_a", "message_b", "holdout", "when", "multiplier")
SKIP = {"", "-", "無", "无", "none", "no", "skip", "跳過", "跳过"}


def refusal(problem: CampaignError | LeaderTextError) -> DomainError:
    """The answer to a campaign as written wrong: what, and the part that is wrong."""
    prefix = "message_" if isinstance(problem, LeaderTextError) else ""
    value = problem.detail if isinstance(problem, LeaderTextError) else problem.value
    return DomainError("campaign_bad", problem=prefix + problem.problem, value=value,
                       max=MAX_LENGTH)


def create(ctx: Ctx, draft: Draft) -> list[Reply]:
    """Save the campaign (its messages checked in the sandbox first) and say when it goes."""
    for message in draft.messages:
        try:
            check(message)
        except LeaderTextError as wrong:
            raise refusal(wrong) from None
    campaign, size = campaigns.create(ctx.session, community=ctx.community, draft=draft,
                                      created_by=ctx.member.id, now=ctx.now,
                                      local_now=ctx.local_now)
    return [ctx.reply("campaign_created", campaign=campaign, count=size,
                      when=_local(ctx, campaign.next_run_at))]


def _local(ctx: Ctx, moment: datetime | None) -> str:
    return moment.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def one_line(ctx: Ctx, text: str) -> list[Reply]:
    try:
        draft = rules.parse_line(text, ctx.local_now)
    except CampaignError as wrong:
        raise refusal(wrong) from None
    return create(ctx, draft)


def _answer(ctx: Ctx, name: str, raw: str) -> str:
    """One step's answer, checked (CampaignError / LeaderTextError / DomainError if wrong)."""
    text = raw.strip()
    skipped = text.lower() in SKIP
    if name == "name":
        found = rules.check_name(text)
        if campaigns.find(ctx.session, ctx.community.id or 0, found) is not None:
            raise DomainError("campaign_bad", problem="exists", value=found, max=MAX_LENGTH)
        return found
    if name == "segment":
        campaigns.audience_size(ctx.session, ctx.community, text, ctx.local_now)
        return text
    if name == "message_b" and skipped:
        return ""
    if name.startswith("message"):
        check(text)
        return text
    if skipped:
        return ""
    if name == "holdout":
        rules.parse_holdout(text)
    elif name == "multiplier":
        rules.parse_multiplier(text)
    elif rules.parse_schedule(text) is None:
        rules.parse_when(text, ctx.local_now)
    return text


def _draft(ctx: Ctx, data: dict[str, str]) -> Draft:
    options = {"segment": data["segment"]}
    if data.get("holdout"):
        options["holdout"] = data["holdout"]
    if data.get("multiplier"):
        options["multiplier"] = data["multiplier"]
    when = data.get("when", "")
    if when:
        options["every" if rules.parse_schedule(when) else "at"] = when
    messages = (data["message_a"], data["message_b"]) if data.get("message_b") else (data["message_a"],)
    return rules.draft(data["name"], options, messages, ctx.local_now)


def ask(ctx: Ctx) -> list[Reply]:
    return [_question(ctx, 0)]


def _question(ctx: Ctx, step: int) -> Reply:
    return ctx.reply("campaign_ask", question=FIELDS[step], step=step + 1, steps=len(FIELDS))


def step(ctx: Ctx, flow: Conversation) -> list[Reply]:
    """The next answer; a bad one is answered and asked again, nothing is lost."""
    name = FIELDS[flow.step]
    try:
        data = {**flow.data, name: _answer(ctx, name, ctx.msg.text)}
        if flow.step + 1 == len(FIELDS):
            done = create(ctx, _draft(ctx, data))
            flows.clear(ctx.session, ctx.msg.channel, ctx.msg.chat, ctx.msg.sender)
            return done
    except (CampaignError, LeaderTextError) as wrong:
        problem = refusal(wrong)
        return [ctx.reply(problem.key, **problem.params), _question(ctx, flow.step)]
    except DomainError as problem:
        return [ctx.reply(problem.key, **{"max": MAX_LENGTH, **problem.params}),
                _question(ctx, flow.step)]
    flows.advance(ctx.session, flow, data, ctx.now)
    return [_question(ctx, flow.step)]
