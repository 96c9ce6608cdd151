"""Guided step-by-step flows, one registry keyed by the flow's name (state lives in the DB).

A flow is started by its command, then every plain message from the same person in the same
chat answers its next step, until it finishes, expires, or /cancel aborts it. A new flow
plugs in with one entry in FLOWS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from handlers import campaignflow, couponflow, forgetflow, openflow
from handlers.context import Ctx
from messages.types import Reply
from models import flows as state
from models.tables import Conversation


@dataclass(frozen=True, slots=True)
class Flow:
    ask: Callable[[Ctx], list[Reply]]  # the first question
    step: Callable[[Ctx, Conversation], list[Reply]]  # one answer; the flow clears itself when done
    aborted: str  # the template answering /cancel
    expired: str  # the template answering a step after `expires` of silence
    expires: timedelta = timedelta(hours=1)


FLOWS: dict[str, Flow] = {
    "open": Flow(openflow.ask, openflow.step, "open_aborted", "open_expired"),
    "forget": Flow(forgetflow.ask, forgetflow.step, "forget_kept", "forget_expired",
                   expires=timedelta(minutes=10)),
    "campaign": Flow(campaignflow.ask, campaignflow.step, "campaign_aborted", "campaign_expired"),
    "coupon": Flow(couponflow.ask, couponflow.step, "coupon_aborted", "coupon_expired"),
}


def start(ctx: Ctx, name: str) -> list[Reply]:
    """Begin the flow (forgetting one in progress in this chat) and ask the first question."""
    state.start(ctx.session, ctx.msg.channel, ctx.msg.chat, ctx.msg.sender, name, ctx.now)
    return FLOWS[name].ask(ctx)


def pending(ctx: Ctx) -> Conversation | None:
    """The sender's flow in progress in this chat; one we no longer know is dropped."""
    found = state.pending(ctx.session, ctx.msg.channel, ctx.msg.chat, ctx.msg.sender)
    if found is not None and found.flow not in FLOWS:
        clear(ctx)
        return None
    return found


def answer(ctx: Ctx, conversation: Conversation) -> list[Reply]:
    flow = FLOWS[conversation.flow]
    if ctx.now - conversation.updated_at > flow.expires:
        clear(ctx)
        return [ctx.reply(flow.expired)]
    return flow.step(ctx, conversation)


def abort(ctx: Ctx, conversation: Conversation) -> list[Reply]:
    clear(ctx)
    return [ctx.reply(FLOWS[conversation.flow].aborted)]


def clear(ctx: Ctx) -> None:
    state.clear(ctx.session, ctx.msg.channel, ctx.msg.chat, ctx.msg.sender)
