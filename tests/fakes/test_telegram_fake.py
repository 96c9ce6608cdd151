"""Proves a real python-telegram-bot Application works against FakeTelegramAPI."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import RetryAfter
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from .telegram_api import FakeTelegramAPI, callback_update, text_update


def _png(path: Path) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))
    path.write_bytes(data)
    return data


@pytest.fixture
def fake() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as api:
        yield api


def _app(fake: FakeTelegramAPI) -> Application:  # type: ignore[type-arg]
    return (ApplicationBuilder().token("123:ABC")
            .base_url(fake.base_url).base_file_url(fake.base_file_url).build())


@pytest.mark.asyncio
async def test_bot_methods_roundtrip(fake: FakeTelegramAPI, tmp_path: Path) -> None:
    app = _app(fake)
    await app.initialize()
    try:
        assert app.bot.id == 999 and app.bot.username == "tuanbot_test_bot"

        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
        msg = await app.bot.send_message(chat_id=42, text="hello", reply_markup=keyboard)
        assert msg.text == "hello" and msg.chat.type == "private" and msg.from_user.id == 999
        assert fake.sent("sendMessage", chat_id=42)[0]["reply_markup"] == keyboard.to_dict()

        png = _png(tmp_path / "pic.png")
        with (tmp_path / "pic.png").open("rb") as fh:
            photo_msg = await app.bot.send_photo(chat_id=-100123, photo=fh, caption="a pic")
        assert photo_msg.caption == "a pic" and photo_msg.photo
        assert photo_msg.chat.type == "supergroup" and photo_msg.message_id == 1
        [params] = fake.sent("sendPhoto", chat_id=-100123)
        assert params["photo"]["size"] == len(png) and params["photo"]["content"] == png
        assert params["caption"] == "a pic"

        edited = await app.bot.edit_message_text("edited", chat_id=42, message_id=msg.message_id)
        assert not isinstance(edited, bool) and edited.text == "edited"
        assert edited.message_id == msg.message_id
        assert (await app.bot.send_message(chat_id=42, text="2nd")).message_id == msg.message_id + 1

        chat = await app.bot.get_chat(42)
        assert chat.id == 42
        assert await app.bot.answer_callback_query("cbq-1") is True
    finally:
        await app.shutdown()


@pytest.mark.asyncio
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter int
async def test_failure_injection_raises_retry_after(fake: FakeTelegramAPI) -> None:
    app = _app(fake)
    await app.initialize()
    try:
        fake.fail_next("sendMessage", retry_after=3)
        with pytest.raises(RetryAfter):
            await app.bot.send_message(chat_id=1, text="x")
        await app.bot.send_message(chat_id=1, text="y")
        assert [c.failed for c in fake.calls if c.method == "sendMessage"] == [True, False]
        assert [p["text"] for p in fake.sent(chat_id=1)] == ["y"]
    finally:
        await app.shutdown()


@pytest.mark.asyncio
async def test_long_polling_delivers_updates(fake: FakeTelegramAPI) -> None:
    app = _app(fake)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app.add_handler(MessageHandler(filters.TEXT, echo))
    fake.push_update(text_update(1, "/start now", user_id=7, username="alice"))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        await fake.wait_for_async(lambda f: len(f.sent(chat_id=7)) == 1)
        fake.push_update(text_update(2, "hi", user_id=7, chat_id=-100, username="alice"))
        await fake.wait_for_async(lambda f: len(f.sent(chat_id=-100)) == 1)
        assert fake.sent(chat_id=7)[0]["text"] == "echo: /start now"
        assert fake.sent(chat_id=-100)[0]["text"] == "echo: hi"
        fake.push_update(callback_update(3, "yes", user_id=7, chat_id=7, message_id=5))
        await fake.wait_for_async(lambda f: any(c.params.get("offset") == 4 for c in f.calls))
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
