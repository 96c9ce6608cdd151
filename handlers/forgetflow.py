"""The /forget confirmation: erase only on a clear yes, in the same chat; anything else keeps
everything."""

from __future__ import annotations

from handlers.context import Ctx
from messages.types import Reply
from models import flows, privacy
from models.tables import Conversation

YES = {"yes", "y", "是", "確定", "确定", "確認", "确认", "刪除", "删除", "好", "ok"}


def ask(ctx: Ctx) -> list[Reply]:
    return [ctx.reply("forget_ask", points=ctx.member.points_balance)]


def step(ctx: Ctx, conversation: Conversation) -> list[Reply]:
    flows.clear(ctx.session, ctx.msg.channel, ctx.msg.chat, ctx.msg.sender)
    if ctx.msg.text.strip().lower() not in YES:
        return [ctx.reply("forget_kept")]
    privacy.forget(ctx.session, member=ctx.member, now=ctx.now)
    return [ctx.reply("forget_done")]
