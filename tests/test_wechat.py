"""The WeChat Official Account adapter end to end: real signatures, real AES, the fake API.

The webhook runs in-process through httpx's ASGI transport (one test on a real uvicorn);
customer-service messages go over real HTTP to tests/fakes/wechat_api.py.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import itertools
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.routing import Route

import bot.wechat as wechat
import bot.wechat_webhook as wechat_webhook
from bot import inbox
from bot.app import App
from bot.console import ConsoleChannel
from bot.outbound import MAX_BODY
from bot.wechat import (
    CHANNEL,
    WechatChannel,
    passive_and_later,
    reply_xml,
    text_chunks,
    to_incoming,
)
from bot.wechat_crypto import MessageCrypto, parse_fields, signature
from messages.records import reply_record
from messages.types import Button, Reply
from models.db import UnitOfWork
from models.outbox import enqueue
from models.tables import ChannelAccount, InboundEvent, Member, OutboxMessage, PointsEntry
from scheduler.delivery import DeliveryWorker, RateLimited, Undeliverable
from tests.conftest import Clock, say
from tests.fakes.wechat_api import FakeWechatAPI

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
TOKEN = "tuanbot-wechat-token"
AES_KEY = base64.b64encode(bytes(range(32))).decode()[:-1]  # 43 characters, like WeChat's
ACCOUNT = "gh_0123456789ab"
AMY, BOB, CAT = (f"oFake{name}0000000000000000{n}" for n, name in enumerate(("Amy", "Bob", "Cat")))
_msg_ids = itertools.count(6_000_000_000_000_000_001)


# ---- building requests -------------------------------------------------------------------
def sample(name: str, **fields: str | int) -> bytes:
    """An official-format sample from tests/fixtures/wechat with some fields replaced."""
    xml = (FIXTURES / f"{name}.xml").read_text(encoding="utf-8")
    for tag, value in fields.items():
        def put(match: re.Match[str], value: str = str(value)) -> str:
            inner = f"<![CDATA[{value}]]>" if match[2].startswith("<![CDATA[") else value
            return f"{match[1]}{inner}{match[3]}"

        xml, found = re.subn(rf"(<{tag}>)(.*?)(</{tag}>)", put, xml, flags=re.S)
        assert found == 1, f"{name}.xml has no <{tag}>"
    return xml.encode("utf-8")


def text_msg(openid: str, text: str, clock: Clock, msg_id: int | None = None) -> bytes:
    return sample("text", FromUserName=openid, Content=text, CreateTime=int(clock.now.timestamp()),
                  MsgId=msg_id if msg_id is not None else next(_msg_ids))


def event(name: str, openid: str, clock: Clock, **fields: str | int) -> bytes:
    return sample(name, FromUserName=openid, CreateTime=int(clock.now.timestamp()), **fields)


def signed_query(clock: Clock, nonce: str = "1320562132", skew: int = 0) -> dict[str, str]:
    timestamp = str(int(clock.now.timestamp()) + skew)
    return {"timestamp": timestamp, "nonce": nonce,
            "signature": signature(TOKEN, timestamp, nonce), "openid": "ignored"}


def encrypted_request(box: MessageCrypto, xml: bytes, clock: Clock,
                      skew: int = 0) -> tuple[dict[str, str], bytes]:
    """A message as WeChat sends it in safe mode: the envelope and its query string."""
    query = signed_query(clock, skew=skew)
    encrypt = box.encrypt(xml)
    query.update(encrypt_type="aes",
                 msg_signature=signature(TOKEN, query["timestamp"], query["nonce"], encrypt))
    body = f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>" \
           f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    return query, body.encode()


def passive(response: httpx.Response, openid: str) -> str:
    """The passive reply's text, after checking it is a text message back to `openid`."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    fields = parse_fields(response.content)
    assert fields["ToUserName"] == openid and fields["FromUserName"] == ACCOUNT
    assert fields["MsgType"] == "text" and fields["CreateTime"].isdigit()
    return fields["Content"]


# ---- fixtures ----------------------------------------------------------------------------
@pytest.fixture
def fake() -> Iterator[FakeWechatAPI]:
    with FakeWechatAPI() as api:
        yield api


def make_channel(app: App, fake: FakeWechatAPI, aes: bool = False) -> WechatChannel:
    settings = dataclasses.replace(
        app.settings, wechat_token=TOKEN, wechat_app_id=fake.app_id,
        wechat_app_secret=fake.secret, wechat_api_base_url=fake.base_url,
        wechat_aes_key=AES_KEY if aes else None,
    )
    return WechatChannel(app.deps, settings)


def asgi(channel: WechatChannel) -> Starlette:
    return Starlette(routes=[Route("/wechat", channel.webhook, methods=["GET", "POST"])])


@pytest_asyncio.fixture
async def channel(app: App, fake: FakeWechatAPI) -> AsyncIterator[WechatChannel]:
    channel = make_channel(app, fake)
    yield channel
    await channel.close()


@pytest_asyncio.fixture
async def client(channel: WechatChannel) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=asgi(channel))
    async with httpx.AsyncClient(transport=transport, base_url="http://wechat.test") as client:
        yield client


async def post(client: httpx.AsyncClient, body: bytes, clock: Clock,
               query: dict[str, str] | None = None) -> httpx.Response:
    return await client.post("/wechat", params=query or signed_query(clock), content=body,
                             headers={"Content-Type": "text/xml"})


async def talk(client: httpx.AsyncClient, openid: str, text: str, clock: Clock) -> str:
    return passive(await post(client, text_msg(openid, text, clock), clock), openid)


def rows(app: App, table: type, *where: Any) -> int:
    with app.deps.sessions() as session:
        query = select(func.count()).select_from(table)
        return int(session.execute(query.where(*where) if where else query).scalar_one())


def member_of(app: App, openid: str) -> Member:
    with app.deps.sessions() as session:
        return session.execute(
            select(Member).join(ChannelAccount, ChannelAccount.member_id == Member.id)
            .where(ChannelAccount.channel == CHANNEL, ChannelAccount.external_id == openid)
        ).scalar_one()


# ---- the URL check and what is refused -----------------------------------------------------
@pytest.mark.asyncio
async def test_url_check_echoes_echostr_only_when_signed(client, clock):
    query = {**signed_query(clock), "echostr": "5837397783458672311"}
    answer = await client.get("/wechat", params=query)
    assert (answer.status_code, answer.text) == (200, "5837397783458672311")

    forged = {**query, "signature": signature("not-our-token", query["timestamp"], query["nonce"])}
    assert (await client.get("/wechat", params=forged)).status_code == 403
    assert (await client.get("/wechat", params={"echostr": "x"})).status_code == 403


@pytest.mark.asyncio
async def test_a_forged_signature_is_refused_and_nothing_is_written(app, client, clock):
    query = signed_query(clock)
    query["signature"] = signature("guessed", query["timestamp"], query["nonce"])
    answer = await post(client, text_msg(AMY, "/start", clock), clock, query)
    unsigned = await post(client, text_msg(AMY, "/start", clock), clock, {"timestamp": "1"})
    assert answer.status_code == unsigned.status_code == 403
    assert rows(app, InboundEvent) == 0
    assert rows(app, ChannelAccount, ChannelAccount.channel == CHANNEL) == 0


@pytest.mark.asyncio
async def test_a_stale_or_future_timestamp_is_refused_even_when_signed(app, client, clock):
    for skew in (-301, 301, -10**9):
        query = signed_query(clock, skew=skew)
        answer = await post(client, text_msg(AMY, "/start", clock), clock, query)
        assert answer.status_code == 403
    assert rows(app, InboundEvent) == 0
    query = signed_query(clock, skew=-299)
    fresh = await post(client, text_msg(AMY, "/start", clock), clock, query)
    assert fresh.status_code == 200


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">""" + b"".join(
    b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%s;" % (str(i - 1).encode() if i > 1 else b"")
                                           for _ in range(10))) for i in range(1, 10)
) + b"""]><xml><ToUserName>&lol9;</ToUserName></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><FromUserName>oFakeAmy</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content>
<MsgId>1</MsgId></xml>"""


@pytest.mark.asyncio
@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "xxe"])
async def test_entity_tricks_are_refused_quickly_without_expansion(app, client, clock, body):
    started = time.monotonic()
    answer = await post(client, body, clock)
    assert answer.status_code == 400
    assert time.monotonic() - started < 1.0
    assert rows(app, InboundEvent) == 0


@pytest.mark.asyncio
@pytest.mark.parametrize("body", [b"<xml><Content>unclosed", b"not xml at all", b"",
                                  b"<html><body/></html>", "<xml>\xff</xml>".encode("latin-1")])
async def test_malformed_xml_is_a_bad_request(app, client, clock, body):
    assert (await post(client, body, clock)).status_code == 400
    assert rows(app, InboundEvent) == 0


@pytest.mark.asyncio
async def test_a_body_over_one_megabyte_is_refused(app, client, clock):
    body = text_msg(AMY, "x" * (MAX_BODY + 1), clock)
    assert (await post(client, body, clock)).status_code == 413
    assert rows(app, InboundEvent) == 0


# ---- passive replies -----------------------------------------------------------------------
@pytest.mark.asyncio
async def test_me_is_answered_in_the_http_response_with_the_card(app, client, clock, fake):
    card = await talk(client, AMY, "/me", clock)
    assert card.startswith(f"wx_{AMY[-6:]} ·「銅」會員")
    assert "積分：0" in card and "即可升級為「銀」" in card
    assert fake.calls == []  # no API call: the passive reply carried it
    assert rows(app, InboundEvent, InboundEvent.processed_at.is_not(None)) == 1


@pytest.mark.asyncio
async def test_a_real_http_server_answers_the_same(app, channel, clock):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(asgi(channel), log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as http:
            welcome = await talk(http, AMY, "/start", clock)
    finally:
        server.should_exit = True
        await serving
        sock.close()
    assert welcome.startswith(f"歡迎加入 Demo 團購社群，wx_{AMY[-6:]}！")


@pytest.mark.asyncio
async def test_safe_mode_decrypts_the_message_and_encrypts_the_reply(app, fake, clock):
    channel = make_channel(app, fake, aes=True)
    box = MessageCrypto(TOKEN, AES_KEY, fake.app_id)
    transport = httpx.ASGITransport(app=asgi(channel))
    async with httpx.AsyncClient(transport=transport, base_url="http://wechat.test") as client:
        query, body = encrypted_request(box, text_msg(AMY, "/me", clock), clock)
        answer = await post(client, body, clock, query)
        assert answer.status_code == 200
        envelope = parse_fields(answer.content)
        assert envelope["MsgSignature"] == box.sign(envelope["TimeStamp"], envelope["Nonce"],
                                                    envelope["Encrypt"])
        inner = parse_fields(box.decrypt(envelope["Encrypt"]))
        assert inner["ToUserName"] == AMY
        assert inner["Content"].startswith(f"wx_{AMY[-6:]} ·「銅」會員")

        plain = await post(client, text_msg(AMY, "/me", clock), clock)  # plain mode: refused
        query, body = encrypted_request(box, text_msg(AMY, "/me", clock), clock)
        tampered = body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[AAAA")
        other_app = MessageCrypto(TOKEN, AES_KEY, "wxsomeoneelse00000")
        query2, body2 = encrypted_request(other_app, text_msg(AMY, "/me", clock), clock)
        assert plain.status_code == 403
        assert (await post(client, tampered, clock, query)).status_code == 403
        assert (await post(client, body2, clock, query2)).status_code == 400
    await channel.close()
    assert rows(app, InboundEvent) == 1


def test_decryption_matches_a_published_vector():
    """The envelope in fixtures/wechat/encrypted.xml was made by another implementation."""
    box = MessageCrypto("123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
                        "wx49f0ab532d5d035a")
    encrypt = parse_fields((FIXTURES / "encrypted.xml").read_bytes())["Encrypt"]
    expected = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"
    assert box.sign("1411525903", "461056294", encrypt) == expected
    inner = parse_fields(box.decrypt(encrypt))
    assert (inner["FromUserName"], inner["MsgType"], inner["Content"]) == (
        "messense", "text", "test")
    again = box.decrypt(box.encrypt(b"<xml><Content>\xe4\xbd\xa0\xe5\xa5\xbd</Content></xml>"))
    assert parse_fields(again)["Content"] == "你好"


# ---- events ----------------------------------------------------------------------------
@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["subscribe_qrscene", "scan"])
async def test_following_from_a_referral_qr_code_attributes_the_referral(app, client, clock, how):
    await talk(client, AMY, "/start", clock)
    code = member_of(app, AMY).referral_code
    key = f"qrscene_ref_{code}" if how == "subscribe_qrscene" else f"ref_{code}"
    welcome = passive(await post(client, event(how, BOB, clock, EventKey=key), clock), BOB)
    assert f"你由 wx_{AMY[-6:]} 邀請" in welcome
    assert member_of(app, BOB).referred_by_id == member_of(app, AMY).id


@pytest.mark.asyncio
async def test_a_plain_follow_is_a_start_and_a_menu_click_is_its_key(app, client, clock):
    welcome = passive(await post(client, event("subscribe", AMY, clock), clock), AMY)
    assert welcome.startswith("歡迎加入 Demo 團購社群")
    clock.advance(seconds=1)
    card = passive(await post(client, event("click", AMY, clock, EventKey="/me"), clock), AMY)
    assert card.startswith(f"wx_{AMY[-6:]} ·「銅」會員")


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["shortvideo", "location_event", "blank text"])
async def test_what_the_bot_does_not_act_on_is_answered_success(app, client, clock, name):
    body = text_msg(AMY, "  ", clock) if name == "blank text" else event(name, AMY, clock)
    answer = await post(client, body, clock)
    assert (answer.status_code, answer.text) == (200, "success")
    assert rows(app, InboundEvent) == 0


@pytest.mark.asyncio
async def test_unfollowing_makes_the_member_unreachable_until_they_follow_again(app, client, clock):
    await talk(client, AMY, "/start", clock)
    assert private_chat(app, AMY) == AMY
    clock.advance(seconds=1)
    answer = await post(client, event("unsubscribe", AMY, clock), clock)
    assert (answer.status_code, answer.text) == (200, "success")
    assert private_chat(app, AMY) is None
    clock.advance(seconds=1)
    await post(client, event("subscribe", AMY, clock), clock)
    assert private_chat(app, AMY) == AMY


def private_chat(app: App, openid: str) -> str | None:
    with app.deps.sessions() as session:
        return session.execute(select(ChannelAccount.private_chat).where(
            ChannelAccount.channel == CHANNEL, ChannelAccount.external_id == openid)).scalar_one()


def test_translation_of_official_samples():
    text = to_incoming(parse_fields(sample("text")))
    assert text is not None and (text.text, text.chat, text.sender, text.is_group) == (
        "this is a test", "oFakeUser0000000000000000001", "oFakeUser0000000000000000001", False)
    assert text.event_key == "1234567890123456"
    followed = to_incoming(parse_fields(sample("subscribe_qrscene")))
    scanned = to_incoming(parse_fields(sample("scan")))
    clicked = to_incoming(parse_fields(sample("click")))
    assert followed and scanned and clicked
    assert followed.text == scanned.text == "/start ref_ABC123"
    assert followed.event_key == "oFakeUser0000000000000000001:subscribe-123456789"
    assert clicked.text == "EVENTKEY"
    for name in ("unsubscribe", "shortvideo", "location_event"):
        assert to_incoming(parse_fields(sample(name))) is None


# ---- redelivery and the 5-second window -------------------------------------------------
@pytest.mark.asyncio
async def test_a_redelivered_message_is_processed_once(app, client, clock):
    await talk(client, AMY, "/start", clock)
    body = text_msg(AMY, "/checkin", clock)
    first = await post(client, body, clock)
    again = [await post(client, body, clock) for _ in range(3)]
    assert "簽到" in passive(first, AMY)
    assert [(a.status_code, a.text) for a in again] == [(200, "success")] * 3
    assert rows(app, PointsEntry) == 1


@pytest.mark.asyncio
async def test_a_slow_answer_is_success_now_and_a_customer_service_message_after(
    app, channel, client, clock, fake, monkeypatch
):
    real = wechat_webhook.handle

    def slow(msg, deps):
        time.sleep(0.2)
        return real(msg, deps)

    monkeypatch.setattr(wechat_webhook, "PASSIVE_TIMEOUT", 0.01)
    monkeypatch.setattr(wechat_webhook, "handle", slow)
    body = text_msg(AMY, "/me", clock)
    answer = await post(client, body, clock)
    retry = await post(client, body, clock)  # WeChat's retry while we are still at it
    assert (answer.text, retry.text) == ("success", "success")
    await channel.settle()
    [card] = fake.texts(AMY)
    assert card.startswith(f"wx_{AMY[-6:]} ·「銅」會員")
    [call] = [c for c in fake.calls if c.api == "send"]
    assert "會員".encode() in call.body and b"\\u" not in call.body  # UTF-8, not escapes
    assert rows(app, InboundEvent) == 1 and fake.count("token") == 1


@pytest.mark.asyncio
async def test_a_late_answer_refused_for_now_waits_in_the_outbox(app, channel, client, clock, fake,
                                                                  monkeypatch):
    await talk(client, AMY, "/start", clock)
    monkeypatch.setattr(wechat_webhook, "PASSIVE_TIMEOUT", 0.0)
    fake.fail_next("send", 45009)
    assert (await post(client, text_msg(AMY, "/points", clock), clock)).text == "success"
    await channel.settle()
    [row] = outbox(app)
    assert row.status == "pending" and row.chat_id == AMY and "積分" in row.body["text"]
    assert row.not_before == clock.now + timedelta(seconds=wechat.RETRY_AFTER[45009])


@pytest.mark.asyncio
async def test_an_event_accepted_before_a_crash_is_answered_at_recovery(app, channel, client,
                                                                         clock, fake):
    await talk(client, AMY, "/start", clock)
    msg = to_incoming(parse_fields(text_msg(AMY, "/points", clock)))
    assert msg is not None and inbox.accept(app.deps, msg)  # stored, then the process died
    clock.advance(minutes=1)
    assert await inbox.recover(app.deps, {CHANNEL: channel.deliver_reply}) == 1
    [points] = fake.texts(AMY)
    assert "積分" in points


# ---- customer-service messages -------------------------------------------------------------
@pytest.mark.asyncio
async def test_pushes_stop_48_hours_after_the_member_last_wrote(app, channel, client, clock, fake):
    await talk(client, AMY, "/start", clock)
    clock.advance(hours=47, minutes=59)
    await channel.send(AMY, False, Reply("還在窗口內"))
    clock.advance(minutes=2)
    with pytest.raises(Undeliverable):
        await channel.send(AMY, False, Reply("太晚了"))
    with pytest.raises(Undeliverable):
        await channel.send(BOB, False, Reply("never wrote"))
    assert channel.dropped_outside_window == 2
    assert fake.texts() == ["還在窗口內"]

    queue(app, AMY, "來自排程的推播")  # the delivery worker marks it failed
    worker = DeliveryWorker(app.deps.sessions, CHANNEL, channel.send, app.deps.clock)
    assert await worker.drain_once() == 0
    assert [(r.status, r.last_error) for r in outbox(app)] == [
        ("failed", "outside WeChat's 48-hour customer-service window")]
    assert channel.dropped_outside_window == 3


@pytest.mark.asyncio
async def test_a_new_process_knows_the_window_from_the_database(app, client, fake, clock):
    await talk(client, AMY, "/start", clock)
    restarted = make_channel(app, fake)
    clock.advance(hours=1)
    await restarted.send(AMY, False, Reply("after a restart"))
    queue(app, AMY, "from the outbox")
    worker = DeliveryWorker(app.deps.sessions, CHANNEL, restarted.send, app.deps.clock)
    assert await worker.drain_once() == 1
    await restarted.close()
    assert fake.texts(AMY) == ["after a restart", "from the outbox"]


@pytest.mark.asyncio
async def test_five_messages_per_inbound_message(app, channel, client, clock, fake):
    await talk(client, AMY, "/start", clock)
    for n in range(5):
        await channel.send(AMY, False, Reply(f"push {n}"))
    with pytest.raises(Undeliverable):
        await channel.send(AMY, False, Reply("a sixth"))
    assert channel.dropped_over_quota == 1
    clock.advance(seconds=5)
    await talk(client, AMY, "/me", clock)  # she writes again: five more
    await channel.send(AMY, False, Reply("again"))
    assert fake.texts(AMY)[-1] == "again" and len(fake.texts(AMY)) == 6


@pytest.mark.asyncio
async def test_an_expired_token_is_renewed_and_the_message_sent(app, channel, client, clock, fake):
    await talk(client, AMY, "/start", clock)
    await channel.send(AMY, False, Reply("one"))
    fake.expire_tokens()
    await channel.send(AMY, False, Reply("two"))
    assert fake.texts(AMY) == ["one", "two"]
    assert fake.count("token") == 2 and fake.count("send", failed=True) == 1
    assert [c.errcode for c in fake.calls if c.api == "send"] == [0, 42001, 0]


@pytest.mark.asyncio
async def test_the_token_is_cached_until_shortly_before_it_expires(app, channel, client, clock,
                                                                   fake):
    await talk(client, AMY, "/start", clock)
    await channel.send(AMY, False, Reply("one"))
    clock.advance(minutes=90)
    await channel.send(AMY, False, Reply("two"))
    assert fake.count("token") == 1
    clock.advance(minutes=26)  # 7200 s less a 300 s margin have passed
    await channel.send(AMY, False, Reply("three"))
    assert fake.count("token") == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(("errcode", "raised"), [
    (45015, Undeliverable), (43004, Undeliverable), (45009, RateLimited), (45047, RateLimited),
])
async def test_wechat_refusals_become_delivery_outcomes(app, channel, client, clock, fake,
                                                        errcode, raised):
    await talk(client, AMY, "/start", clock)
    fake.fail_next("send", errcode)
    with pytest.raises(raised):
        await channel.send(AMY, False, Reply("hello"))
    if errcode == 45009:  # the daily quota: try again later
        fake.fail_next("send", errcode)
        with pytest.raises(RateLimited) as limited:
            await channel.send(AMY, False, Reply("hello"))
        assert limited.value.retry_after == wechat.RETRY_AFTER[errcode]
        await channel.send(AMY, False, Reply("later"))
        assert fake.texts(AMY) == ["later"]
    if errcode == 45047:  # this member's quota, which we under-counted: no more to her
        with pytest.raises(Undeliverable):
            await channel.send(AMY, False, Reply("hello"))
        assert channel.dropped_over_quota == 1


@pytest.mark.asyncio
async def test_no_groups_and_buttons_become_numbered_lines(app, channel, client, clock, fake):
    await talk(client, AMY, "/start", clock)
    with pytest.raises(Undeliverable):
        await channel.send("some-group", True, Reply("hi"))
    choices = (Button("+1", "+1"), Button("取消", "/cancel"))
    await channel.send(AMY, False, Reply("選一個：", buttons=choices))
    assert fake.texts(AMY) == ["選一個：\n1. +1\n2. 取消"]


@pytest.mark.asyncio
async def test_invite_answers_the_link_now_and_sends_the_qr_code_as_an_image(
    app, channel, client, clock, fake
):
    text = await talk(client, AMY, "/invite", clock)
    code = member_of(app, AMY).referral_code
    assert code in text and f"http://weixin.qq.com/q/ref_{code}" in text
    await channel.settle()
    [upload] = fake.uploads()
    assert upload["content_type"] == "image/png" and upload["content"].startswith(b"\x89PNG")
    [image] = [m for m in fake.sent(AMY) if m["msgtype"] == "image"]
    assert image["image"]["media_id"] == upload["media_id"]


# ---- conversations -------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_language_switch_then_help_in_english(app, client, clock):
    assert await talk(client, AMY, "/lang en", clock) == "Language set to English."
    clock.advance(seconds=1)
    help_text = await talk(client, AMY, "/help", clock)
    assert help_text.startswith("Commands:") and "/me – your card" in help_text


@pytest.mark.asyncio
async def test_a_group_buy_works_one_to_one(app, client, clock, console: ConsoleChannel):
    opened = say(console, "leader@demo: /open 有機蘋果 | 350 | 100 | 03-20 20:00")
    assert "#1" in opened[0]
    joined = await talk(client, AMY, "/join #1 2", clock)
    assert joined.startswith("#1 有機蘋果：已為你保留 2 份")
    clock.advance(seconds=1)
    orders = await talk(client, AMY, "/orders", clock)
    assert "#1 有機蘋果 × 2" in orders and "已保留" in orders


# ---- pure pieces ---------------------------------------------------------------------------
def test_long_text_is_cut_into_messages_wechat_accepts():
    text = "\n".join(f"第 {n} 行：" + "團購" * 40 for n in range(60)) + "\n" + "長" * 2000
    pieces = text_chunks(text)
    assert all(len(p.encode()) <= wechat.TEXT_BYTES for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


def test_reply_text_cannot_break_out_of_its_cdata():
    xml = reply_xml({"FromUserName": AMY, "ToUserName": ACCOUNT}, "a]]><x>b</x>\x01c", 1)
    assert parse_fields(xml)["Content"] == "a]]><x>b</x>c"
    [piece] = text_chunks("a]]>\x01b")
    assert parse_fields(reply_xml({"FromUserName": AMY}, piece, 1))["Content"] == "a]]>b"


def test_one_text_goes_in_the_response_the_rest_after():
    first, later = passive_and_later([Reply("a"), Reply("b", image="/tmp/qr.png")])
    assert first == "a\n\nb" and later == [Reply("", image="/tmp/qr.png")]
    assert passive_and_later([]) == ("", [])


def queue(app: App, openid: str, text: str) -> None:
    with UnitOfWork(app.deps.sessions) as uow:
        enqueue(uow.session, CHANNEL, openid, reply_record(Reply(text)), app.deps.clock())
        uow.commit()


def outbox(app: App) -> list[OutboxMessage]:
    with app.deps.sessions() as session:
        return list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


@pytest.mark.asyncio
async def test_invite_on_wechat_gives_a_scene_qr_code_that_refers_when_scanned(
        app, client, channel, fake, clock):
    await talk(client, AMY, "/start", clock)
    clock.advance(seconds=1)
    code = member_of(app, AMY).referral_code
    text = await talk(client, AMY, "/invite", clock)
    assert f"http://weixin.qq.com/q/ref_{code}" in text and "weixin://" not in text
    await channel.settle()
    created = [c for c in fake.calls if c.api == "create"]
    assert created and created[0].data["action_info"]["scene"]["scene_str"] == f"ref_{code}"
    assert fake.uploads()  # the QR picture follows as a customer-service image
    clock.advance(seconds=1)
    welcome = passive(await post(client, event("subscribe_qrscene", BOB, clock,
                                               EventKey=f"qrscene_ref_{code}"), clock), BOB)
    assert "邀請" in welcome
    assert member_of(app, BOB).referred_by_id == member_of(app, AMY).id


@pytest.mark.asyncio
async def test_invite_keeps_the_plain_link_when_the_qr_api_fails(app, client, channel, fake, clock):
    await talk(client, AMY, "/start", clock)
    clock.advance(seconds=1)
    fake.fail_next("create", 45009)
    text = await talk(client, AMY, "/invite", clock)
    assert "ref_" in text and "weixin.qq.com/q/" not in text


@pytest.mark.asyncio
async def test_two_processes_share_the_five_messages_a_member_may_get(app, channel, client,
                                                                       clock, fake):
    await talk(client, AMY, "/start", clock)
    other = make_channel(app, fake)  # a second process (or this one restarted)
    try:
        for n in range(3):
            await channel.send(AMY, False, Reply(f"here {n}"))
        for n in range(2):
            await other.send(AMY, False, Reply(f"there {n}"))
        for sender in (channel, other):
            with pytest.raises(Undeliverable):
                await sender.send(AMY, False, Reply("a sixth"))
    finally:
        await other.close()
    assert len(fake.texts(AMY)) == 5
    with UnitOfWork(app.deps.sessions) as uow:
        account = uow.session.execute(select(ChannelAccount).where(
            ChannelAccount.external_id == AMY)).scalar_one()
    assert account.pushes_since_inbound == 5
