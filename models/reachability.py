"""Private-chat reachability: where the bot may push to a member (a private chat they opened),
and losing it when they block the bot."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlmodel import Session, col

from models.tables import ChannelAccount


def mark_private_reachable(session: Session, channel: str, external_id: str, chat: str) -> None:
    """The person opened a private chat with the bot: every community may now push to it."""
    session.execute(
        update(ChannelAccount)
        .where(col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id)
        .values(private_chat=chat)
    )


def mark_private_unreachable(session: Session, channel: str, external_id: str) -> None:
    """The person blocked the bot: answer in the group again until they start it anew."""
    session.execute(
        update(ChannelAccount)
        .where(col(ChannelAccount.channel) == channel, col(ChannelAccount.external_id) == external_id)
        .values(private_chat=None)
    )


def push_target(session: Session, member_id: int, prefer: str | None = None
                ) -> tuple[str, str] | None:
    """(channel, private chat) where the member can be pushed to, `prefer`'s channel first."""
    rows = session.execute(
        select(col(ChannelAccount.channel), col(ChannelAccount.private_chat)).where(
            col(ChannelAccount.member_id) == member_id,
            col(ChannelAccount.private_chat).is_not(None))
    ).all()
    found = sorted(((channel, chat) for channel, chat in rows if chat is not None),
                   key=lambda row: row[0] != prefer)
    return found[0] if found else None


def private_chat_of(session: Session, member_id: int, channel: str) -> str | None:
    """Where the bot may push to this member on this channel (None: never started the bot)."""
    target = push_target(session, member_id, channel)
    return target[1] if target is not None and target[0] == channel else None
