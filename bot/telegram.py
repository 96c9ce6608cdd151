"""The Telegram channel (python-telegram-bot): two translators and a thin send.

Update → Incoming, Reply → Bot API call. The adapter has a PTB Application; it does not
inherit from one. Long polling or a webhook feed the same handler.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot import inbox, light, policy, polling
from bot.channel import Supports
from bot.settings import Settings
from handlers.context import Deps
from handlers.importing import MAX_UPLOAD, TOO_LARGE
from messages.types import Button, Incoming, Reply
from models.db import Runner
from scheduler.delivery import RateLimited, Undeliverable

CHANNEL = "telegram"
MAX_IMPORT = MAX_UPLOAD
GROUP_TYPES = (ChatType.GROUP, ChatType.SUPERGROUP)
log = logging.getLogger(__name__)


def to_incoming(update: Update) -> Incoming | None:
    """A text message or a button press as a channel-neutral message; anything else: None."""
    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message else None
        if chat is None or not isinstance(query.data, str) or not query.data:
            return None
        return Incoming(
            channel=CHANNEL, chat=str(chat.id), sender=str(query.from_user.id),
            text=query.data, message_id=f"cb{query.id}", is_group=chat.type in GROUP_TYPES,
            sender_name=query.from_user.full_name, handle=query.from_user.username,
            language_code=query.from_user.language_code, event_key=f"cb:{query.id}",
        )
    message = update.message
    if message is not None and message.chat is None:
        raise ValueError("a message without a chat")
    if message is None or not isinstance(message.text, str) or message.from_user is None:
        return None
    user, replied = message.from_user, message.reply_to_message
    replied_user = replied.from_user if replied is not None else None
    if replied_user is not None and replied_user.is_bot:
        replied_user = None
    return Incoming(
        channel=CHANNEL, chat=str(message.chat.id), sender=str(user.id), text=message.text,
        message_id=str(message.message_id), is_group=message.chat.type in GROUP_TYPES,
        sender_name=user.full_name, handle=user.username, language_code=user.language_code,
        reply_to_sender=str(replied_user.id) if replied_user else None,
        reply_to_name=replied_user.full_name if replied_user else "",
        reply_to_handle=replied_user.username if replied_user else None,
    )


def document_incoming(update: Update, folder: Path) -> Incoming | None:
    """A CSV file sent by someone: an order import of the file (fetched when it is processed:
    `payload` is its file id) into `folder`. Other documents: None."""
    message = update.message
    document = message.document if message is not None else None
    if message is None or document is None or message.from_user is None or message.chat is None:
        return None
    name = document.file_name if isinstance(document.file_name, str) else ""
    size = document.file_size if isinstance(document.file_size, int) else 0
    if not name.lower().endswith(".csv") or not document.file_id:
        return None
    user = message.from_user
    path = folder / f"{int(message.chat.id)}-{int(message.message_id)}.csv"
    too_large = size > MAX_IMPORT  # not fetched: the answer says how large a file may be
    return Incoming(
        channel=CHANNEL, chat=str(message.chat.id), sender=str(user.id),
        text=f"/import {TOO_LARGE if too_large else path}", message_id=str(message.message_id),
        is_group=message.chat.type in GROUP_TYPES, sender_name=user.full_name,
        handle=user.username, language_code=user.language_code,
        payload=None if too_large else str(document.file_id),
    )


def markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.data[:64])]
                                 for b in reply.buttons])


class TelegramChannel:
    """Telegram behind the Channel protocol (bot.channel); has a PTB Application."""

    name = CHANNEL
    supports = Supports(buttons=True, cards=False, edits=True, files=True)
    transient: tuple[type[Exception], ...] = (TelegramError,)

    def __init__(self, deps: Deps, settings: Settings, *, request: BaseRequest | None = None,
                 updates_request: BaseRequest | None = None) -> None:
        assert settings.telegram_token, "TELEGRAM_TOKEN is required for the Telegram channel"
        self.deps = deps
        builder = (
            ApplicationBuilder()
            .token(settings.telegram_token)
            .base_url(settings.telegram_base_url)
            .base_file_url(settings.telegram_base_file_url)
            .concurrent_updates(True)
        )
        if request is not None:
            builder = builder.request(request).get_updates_request(updates_request or request)
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.app.add_handler(MessageHandler(filters.TEXT & filters.UpdateType.MESSAGE, self.on_update))
        self.app.add_handler(CallbackQueryHandler(self.on_update))
        self.app.add_handler(MessageHandler(filters.Document.ALL & filters.UpdateType.MESSAGE,
                                            self.on_update))
        self.app.add_error_handler(self.on_error)
        self.outlet = inbox.Outlet(self.deliver_reply, self.prepare,
                                   timedelta(seconds=settings.inbox_lease), self.clear)

    def incoming(self, update: Update) -> Incoming | None:
        """The update as a message the handlers answer (text, button, CSV file), or None."""
        msg = to_incoming(update) or document_incoming(update, self.deps.media_dir / "imports")
        if msg is None or not inbox.answerable(msg) or self.for_another_bot(msg.text):
            return None
        return msg

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Long polling (bot.polling): into the inbox before it is processed (or with its
        answer, for a quick command), then processed."""
        msg = self.incoming(update)
        if msg is not None:
            polling.taken()
            ready = not msg.event_key.startswith("cb:") and msg.payload is None
            await light.answer_now(self.deps, msg, self.outlet, ready, polling.stored)

    async def prepare(self, msg: Incoming) -> Incoming | None:
        """Before handling: stop a pressed button's spinner; fetch a CSV file sent to us."""
        if msg.event_key.startswith("cb:"):
            try:
                await self.app.bot.answer_callback_query(msg.event_key[3:])
            except TelegramError as late:  # too old after a restart: the answer still comes
                log.info("callback %s not acknowledged: %s", msg.event_key, late)
        if msg.payload is None:
            return msg
        path = Path(msg.text.removeprefix("/import "))
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                found = await self.app.bot.get_file(msg.payload)
            except BadRequest as gone:
                log.info("document %s cannot be fetched: %s", msg.event_key, gone)
                return None
            part = path.with_suffix(".part")  # a crash mid-download leaves no half file
            await found.download_to_drive(part)
            part.replace(path)
        return msg

    def for_another_bot(self, text: str) -> bool:
        """'/me@otherbot' in a group with several bots is not for us."""
        head = text.split(maxsplit=1)[0] if text.startswith("/") else ""
        if "@" not in head:
            return False
        return head.split("@", 1)[1].lower() != (self.app.bot.username or "").lower()

    async def post_roster(self, chat_id: str, message_id: str | None, text: str,
                          buttons: tuple[Button, ...],
                          card: Mapping[str, object] | None = None) -> str | None:
        """Edit the group's roster message in place; post it when there is none yet."""
        keyboard = markup(Reply(text, buttons=buttons))
        if message_id is not None:
            try:
                await self.app.bot.edit_message_text(text[:4096], chat_id=int(chat_id),
                                                     message_id=int(message_id),
                                                     reply_markup=keyboard)
                return message_id
            except BadRequest as problem:
                if "not modified" in str(problem).lower():
                    return message_id
                log.info("roster %s in %s could not be edited (%s): posting anew",
                         message_id, chat_id, problem)
        sent = await self.app.bot.send_message(int(chat_id), text[:4096], reply_markup=keyboard)
        return str(sent.message_id)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed", exc_info=context.error)

    def clear(self, tx: Runner, msg: Incoming, reply: Reply) -> Reply:
        """Reserve an answer's send in the transaction that keeps it (bot.policy)."""
        return policy.reserve_in(tx, self, msg, reply)

    async def deliver_reply(self, msg: Incoming, reply: Reply) -> None:
        """Answer a message through the one delivery policy (bot.policy)."""
        await policy.answer(self, msg, reply)

    async def answer(self, msg: Incoming, chat_id: str, is_group: bool, reply: Reply) -> None:
        """An answer is a message like any other on Telegram."""
        await self.send(chat_id, is_group, reply)

    async def send(self, chat_id: str, is_group: bool, reply: Reply) -> None:
        """One Bot API call; platform errors become RateLimited / Undeliverable."""
        bot = self.app.bot
        try:
            if reply.file:
                await bot.send_document(int(chat_id), document=Path(reply.file).read_bytes(),
                                        filename=Path(reply.file).name, caption=reply.text[:1024])
            elif reply.image:
                await bot.send_photo(int(chat_id), photo=Path(reply.image).read_bytes(),
                                     caption=reply.text[:1024] or None, reply_markup=markup(reply))
                if len(reply.text) > 1024:
                    await bot.send_message(int(chat_id), reply.text)
            else:
                await bot.send_message(int(chat_id), reply.text[:4096], reply_markup=markup(reply))
        except RetryAfter as limited:
            retry = limited.retry_after
            seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
            raise RateLimited(seconds) from limited
        except (Forbidden, BadRequest) as refused:
            raise Undeliverable(str(refused)) from refused
