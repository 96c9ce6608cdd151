"""The Telegram adapter end to end: real python-telegram-bot, real HTTP, the fake Bot API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from bot.app import App
from bot.outbound import MAX_BODY
from bot.telegram import TelegramChannel
from models.tables import AuditLog, ChannelAccount, InboundEvent, Member, OutboxMessage, PointsEntry
from tests.conftest import Clock
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.telegram_helpers import (
    AMY,
    BOB,
    GROUP,
    LEADER,
    bound_group,
    count,
    feed,
    make_channel,
    member_of,
    message,
    outbox,
    private_chat_of,
    say,
    texts,
    webhook_server,
)

SECRET = "s3cret-token"


@pytest.mark.asyncio
async def test_start_in_private_is_welcomed_through_long_polling(app: App, fake: FakeTelegramAPI):
    channel = make_channel(app, fake)
    async with channel.app:
        await channel.app.start()
        assert channel.app.updater is not None
        await channel.app.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            fake.push_update(message("/start", AMY, username="amy", first_name="Amy"))
            await fake.wait_for_async(lambda f: bool(f.sent(chat_id=AMY)))
        finally:
            await channel.app.updater.stop()
            await channel.app.stop()
    [welcome] = texts(fake, AMY)
    assert welcome.startswith("歡迎加入 Demo 團購社群，Amy！")
    assert private_chat_of(app, AMY) == str(AMY)


@pytest.mark.asyncio
async def test_card_goes_to_the_group_until_the_member_starts_the_bot(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    await say(channel, "/me", AMY, GROUP, username="amy", first_name="Amy")
    [card] = texts(fake, GROUP)
    assert card.startswith("Amy ·「銅」會員")

    await say(channel, "/start", AMY, username="amy", first_name="Amy")
    assert texts(fake, AMY)[0].startswith("歡迎回來，Amy")  # the group's member, not a new one
    fake.clear()
    clock.advance(seconds=1)
    await say(channel, "/me", AMY, GROUP, username="amy", first_name="Amy")
    assert texts(fake, AMY)[0].startswith("Amy ·「銅」會員")
    assert fake.sent(chat_id=GROUP) == []


@pytest.mark.asyncio
async def test_a_redelivered_update_changes_nothing(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI
):
    update = message("/checkin", AMY, username="amy")
    await feed(channel, update)
    await feed(channel, update)  # the same update pushed twice
    again = dict(update, update_id=update["update_id"] + 10_000)
    await feed(channel, again)  # same chat and message id under another update id
    assert count(app, PointsEntry) == 1
    assert member_of(app, AMY).points_balance == 5
    assert len(texts(fake, AMY)) == 1
    assert count(app, InboundEvent) == 1


@pytest.mark.asyncio
async def test_leader_grants_points_by_replying_to_a_members_message(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    said = await say(channel, "/me", AMY, GROUP, username="amy", first_name="Amy")
    replied = {"message_id": said["message"]["message_id"], "user_id": AMY, "username": "amy"}
    clock.advance(seconds=1)
    await say(channel, "/grant 50 thanks", LEADER, GROUP, username="boss", reply_to=replied)
    assert texts(fake, GROUP)[-1] == ("已贈送 50 點給 Amy（thanks）。目前餘額：50。\n"
                                      "（Amy 尚未私訊機器人，無法私下通知 Amy。）")
    assert member_of(app, AMY).points_balance == 50


@pytest.mark.asyncio
async def test_a_member_cannot_grant_and_is_refused_in_their_language_with_an_audit(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    await say(channel, "/lang en", AMY, GROUP, username="amy")
    clock.advance(seconds=1)
    await say(channel, "/grant @amy 1000 free", AMY, GROUP, username="amy")
    assert texts(fake, GROUP)[-1] == "Only the group leader or an admin can do that."
    refused = count(app, AuditLog, AuditLog.action == "grant", AuditLog.allowed.is_(False))
    assert refused == 1
    assert count(app, PointsEntry) == 0


@pytest.mark.asyncio
async def test_invite_sends_the_qr_code_as_a_photo_with_the_link_in_the_caption(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI
):
    await say(channel, "/invite", AMY, username="amy")
    [photo] = fake.sent("sendPhoto", chat_id=AMY)
    assert photo["photo"]["content"].startswith(b"\x89PNG\r\n\x1a\n")
    code = member_of(app, AMY).referral_code
    assert f"https://t.me/tuanbot?start=ref_{code}" in photo["caption"]
    assert fake.sent("sendMessage") == []


@pytest.mark.asyncio
async def test_unknown_command_gets_short_help_and_chatter_gets_nothing(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await say(channel, "/pizza", AMY, username="amy")
    assert texts(fake, AMY) == [
        "我不認得「/pizza」。試試 /me、/points、/checkin、/invite，或 /help 看全部指令。"
    ]
    await bound_group(app, channel, fake, clock)
    await say(channel, "anyone going to the market?", BOB, GROUP, username="bob")
    assert fake.calls == []  # no answer to chatter…
    # …but bob is now a member a leader can name with @bob
    assert count(app, ChannelAccount, ChannelAccount.external_id == str(BOB)) == 1


@pytest.mark.asyncio
async def test_a_five_thousand_character_message_changes_nothing(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    before = count(app, InboundEvent), count(app, Member)
    await say(channel, "/checkin " + "x" * 5000, BOB, GROUP, username="bob")
    await say(channel, "x" * 5000, BOB, GROUP, username="bob")
    assert fake.calls == []
    await say(channel, "x" * 5000, BOB, username="bob")  # in private: told; the event only
    assert [len(fake.calls), "4096" in texts(fake, BOB)[0]] == [1, True]
    assert (count(app, InboundEvent), count(app, Member)) == (before[0] + 1, before[1])
    assert count(app, PointsEntry) == 0


@pytest.mark.asyncio
async def test_a_member_who_blocked_the_bot_is_answered_in_the_group(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    await say(channel, "/me", AMY, GROUP, username="amy", first_name="Amy")
    await say(channel, "/start", AMY, username="amy", first_name="Amy")
    assert private_chat_of(app, AMY) == str(AMY)
    fake.clear()
    clock.advance(seconds=1)
    fake.fail_next("sendMessage", error_code=403)  # Forbidden: bot was blocked by the user
    await say(channel, "/me", AMY, GROUP, username="amy", first_name="Amy")
    [refused] = [c for c in fake.calls if c.failed]
    assert refused.params["chat_id"] == AMY
    assert texts(fake, GROUP)[0].startswith("Amy ·「銅」會員")
    assert private_chat_of(app, AMY) is None


@pytest.mark.asyncio
async def test_a_group_gets_twenty_answers_a_minute_and_the_rest_wait_in_the_outbox(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    for _ in range(25):  # one a second (Telegram's per-chat pace), all within one minute
        await say(channel, "/help", AMY, GROUP, username="amy")
        clock.advance(seconds=1)
    assert len(texts(fake, GROUP)) == 20
    waiting = outbox(app)
    assert len(waiting) == 5
    assert {(m.chat_id, m.is_group) for m in waiting} == {(str(GROUP), True)}
    assert waiting[0].body["text"].startswith("指令：")


@pytest.mark.asyncio
async def test_two_group_answers_in_the_same_second_leave_one_for_the_outbox(
    app: App, channel: TelegramChannel, fake: FakeTelegramAPI, clock: Clock
):
    await bound_group(app, channel, fake, clock)
    await say(channel, "/help", AMY, GROUP, username="amy")
    await say(channel, "/help", BOB, GROUP, username="bob")
    assert len(texts(fake, GROUP)) == 1
    assert count(app, OutboxMessage) == 1


@pytest_asyncio.fixture
async def webhook(channel: TelegramChannel) -> AsyncIterator[httpx.AsyncClient]:
    """A running channel behind the webhook app on a real port; a client for it."""
    await channel.app.start()
    try:
        async with (
            webhook_server(channel, SECRET) as url,
            httpx.AsyncClient(base_url=url) as client,
        ):
            yield client
    finally:
        await channel.app.stop()


def signed(secret: str = SECRET) -> dict[str, str]:
    return {"X-Telegram-Bot-Api-Secret-Token": secret}


@pytest.mark.asyncio
async def test_webhook_with_the_secret_is_answered_and_without_it_is_refused(
    app: App, webhook: httpx.AsyncClient, fake: FakeTelegramAPI
):
    members_before = count(app, Member)
    forged = await webhook.post("/telegram", json=message("/start", BOB), headers=signed("wrong"))
    unsigned = await webhook.post("/telegram", json=message("/start", BOB))
    assert (forged.status_code, unsigned.status_code) == (403, 403)

    genuine = await webhook.post("/telegram", json=message("/start", AMY), headers=signed())
    assert genuine.status_code == 200
    await fake.wait_for_async(lambda f: bool(f.sent(chat_id=AMY)))
    assert texts(fake, AMY)[0].startswith("歡迎加入 Demo 團購社群")
    assert fake.sent(chat_id=BOB) == []
    assert count(app, InboundEvent) == 1 and count(app, Member) == members_before + 1


@pytest.mark.asyncio
async def test_webhook_refuses_oversized_and_malformed_bodies(
    app: App, webhook: httpx.AsyncClient, fake: FakeTelegramAPI
):
    padding = "x" * MAX_BODY
    huge = json.dumps(message("/start " + padding, AMY)).encode()

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: checked while reading
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start:start + 64 * 1024]

    for oversized in (huge, streamed()):
        response = await webhook.post("/telegram", content=oversized, headers=signed())
        assert response.status_code == 413
    for body in (b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe"):
        response = await webhook.post("/telegram", content=body, headers=signed())
        assert response.status_code == 400, body
    assert count(app, InboundEvent) == 0
    assert fake.sent() == []


@pytest.mark.asyncio
async def test_healthz_answers_ok(webhook: httpx.AsyncClient):
    response = await webhook.get("/healthz")
    assert response.status_code == 200 and response.json() == {"ok": True}
