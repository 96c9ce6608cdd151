"""Guided flows in progress (opening a group buy step by step), one per person per chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from models.tables import Conversation


def _mine(channel: str, chat: str, sender: str) -> Any:
    return ((col(Conversation.channel) == channel) & (col(Conversation.chat_id) == chat)
            & (col(Conversation.sender) == sender))


def pending(session: Session, channel: str, chat: str, sender: str) -> Conversation | None:
    return session.execute(
        select(Conversation).where(_mine(channel, chat, sender))).scalar_one_or_none()


def start(session: Session, channel: str, chat: str, sender: str, flow: str,
          now: datetime) -> None:
    clear(session, channel, chat, sender)
    session.add(Conversation(channel=channel, chat_id=chat, sender=sender, flow=flow, step=0,
                             data={}, updated_at=now))


def advance(session: Session, flow: Conversation, data: dict[str, Any], now: datetime) -> None:
    """The next step of a flow in progress, with the answers so far."""
    flow.data, flow.step, flow.updated_at = data, flow.step + 1, now
    session.add(flow)


def clear(session: Session, channel: str, chat: str, sender: str) -> None:
    session.execute(delete(Conversation).where(_mine(channel, chat, sender)))
