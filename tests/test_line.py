"""The LINE adapter end to end: real line-bot-sdk, real HTTP, the fake Messaging API.

The webhook runs on a real uvicorn at 127.0.0.1; events are LINE's documented webhook
objects (tests/fixtures/line), signed with the channel secret.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import itertools
import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import pytest_asyncio
import uvicorn
from sqlalchemy import func, select
from sqlalchemy.event import listen, remove
from starlette.applications import Starlette
from starlette.routing import Route

from bot import inbox, marks
from bot.app import App
from bot.line import (
    CHANNEL,
    MAX_BODY,
    LineChannel,
    media_route,
    signature_of,
    strip_mentions,
    to_incoming,
    to_incomings,
)
from bot.line_send import to_messages
from bot.settings import Settings, platform_limits
from messages.records import reply_record
from messages.types import Button, Reply
from models import communities, members
from models.db import UnitOfWork
from models.outbox import enqueue
from models.tables import ChannelAccount, InboundEvent, Member, Order, OutboxMessage, PointsEntry, SendLog
from scheduler import roster
from scheduler.delivery import DeliveryWorker, QuotaExhausted, RateLimited, Undeliverable
from tests.conftest import Clock
from tests.fakes.line_api import FakeLineAPI

SECRET = "line-channel-secret"
TOKEN = "line-access-token"
PUBLIC = "https://bot.example"
AMY = "U" + "a1" * 16
BOB = "U" + "b2" * 16
LEADER = "U" + "1e" * 16
GROUP = "C" + "9f" * 16
FIXTURES = Path(__file__).parent / "fixtures" / "line"
_ids = itertools.count(1)


# ---- factories ---------------------------------------------------------------------------

def event(name: str, *, user: str | None = AMY, group: str | None = None, text: str | None = None,
          data: str | None = None) -> dict[str, Any]:
    """A documented webhook event from the fixtures, with fresh ids and the given people."""
    body = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    found: dict[str, Any] = copy.deepcopy(body["events"][0])
    n = next(_ids)
    found["webhookEventId"] = f"01TEST{n:020d}"
    if "replyToken" in found:
        found["replyToken"] = f"reply-token-{n}"
    source = found["source"]
    if group is not None:
        source.update(type="group", groupId=group)
    if user is not None and (source["type"] == "user" or "userId" in source or group):
        source["userId"] = user
    if "message" in found:
        found["message"]["id"] = str(10_000 + n)
        if text is not None:
            found["message"]["text"] = text
            found["message"].pop("mention", None)
    if data is not None:
        found["postback"]["data"] = data
    return found


def webhook_body(*found: dict[str, Any]) -> bytes:
    return json.dumps({"destination": "U" + "0" * 32, "events": list(found)}).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Line-Signature": signature_of(secret.encode(), body),
            "Content-Type": "application/json"}


def count(app: App, table: type, *where: Any) -> int:
    with app.deps.sessions() as session:
        query = select(func.count()).select_from(table)
        return int(session.execute(query.where(*where) if where else query).scalar_one())


def private_chat_of(app: App, user_id: str) -> str | None:
    with app.deps.sessions() as session:
        return session.execute(
            select(ChannelAccount.private_chat)
            .where(ChannelAccount.channel == CHANNEL, ChannelAccount.external_id == user_id)
        ).scalar_one()


def outbox(app: App) -> list[OutboxMessage]:
    with app.deps.sessions() as session:
        return list(session.execute(
            select(OutboxMessage).where(OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id)  # type: ignore[arg-type]
        ).scalars())


def bind_demo_group(app: App, group: str = GROUP) -> None:
    with UnitOfWork(app.deps.sessions) as uow:
        community = members.community_by_slug(uow.session, "demo")
        assert community is not None
        communities.bind_group(uow.session, community, CHANNEL, group, "g")
        uow.commit()


def seed_line_leader(app: App, user_id: str = LEADER) -> None:
    """A LINE user who owns the demo community (and so may open group buys in its group)."""
    with UnitOfWork(app.deps.sessions) as uow:
        community = members.community_by_slug(uow.session, "demo")
        assert community is not None
        owner = members.join(uow.session, community, CHANNEL, user_id, None, "Boss",
                             app.deps.clock())
        communities.set_role(uow.session, community.id, owner.member.id, communities.OWNER)  # type: ignore[arg-type]
        uow.commit()


# ---- fixtures ----------------------------------------------------------------------------

@pytest.fixture
def fake() -> Iterator[FakeLineAPI]:
    with FakeLineAPI(token=TOKEN) as api:
        for user, name in ((AMY, "Amy"), (BOB, "Bob"), (LEADER, "Boss")):
            api.add_user(user, name, groups=(GROUP,))
        yield api


def line_settings(app: App, fake: FakeLineAPI) -> Settings:
    return dataclasses.replace(app.settings, line_channel_secret=SECRET, line_access_token=TOKEN,
                               line_api_base_url=fake.base_url)


@pytest_asyncio.fixture
async def channel(app: App, fake: FakeLineAPI) -> AsyncIterator[LineChannel]:
    channel = LineChannel(app.deps, line_settings(app, fake), public_url=PUBLIC)
    yield channel
    await channel.close()


@pytest_asyncio.fixture
async def client(app: App, fake: FakeLineAPI,
                 channel: LineChannel) -> AsyncIterator[httpx.AsyncClient]:
    """The /line webhook and /media on a real uvicorn at 127.0.0.1 (random port)."""
    web = Starlette(routes=[Route("/line", channel.webhook, methods=["POST"]),
                            media_route(line_settings(app, fake))])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}") as http:
            yield http
    finally:
        server.should_exit = True
        await serving
        sock.close()


async def post(client: httpx.AsyncClient, channel: LineChannel, *found: dict[str, Any]) -> None:
    """Deliver events through the signed webhook and wait until they are answered."""
    body = webhook_body(*found)
    response = await client.post("/line", content=body, headers=signed(body))
    assert response.status_code == 200, response.text
    await channel.settle()


# ---- translators -------------------------------------------------------------------------

def test_the_documented_events_translate_to_messages_or_nothing():
    [text] = to_incomings(event("message_text_user", text="/me"))
    assert (text.chat, text.sender, text.text, text.is_group) == (AMY, AMY, "/me", False)
    assert text.event_key.startswith("01TEST")

    [grouped] = to_incomings(event("message_text_group", group=GROUP))
    assert (grouped.chat, grouped.sender, grouped.is_group) == (GROUP, AMY, True)
    assert grouped.text == "/me"  # "@tuanbot /me": the bot's mention is dropped

    [pressed] = to_incomings(event("postback", data="/join 1 #3"))
    assert (pressed.text, pressed.chat) == ("/join 1 #3", AMY)

    [followed] = to_incomings(event("follow"))
    assert (followed.text, followed.chat, followed.is_group) == ("/start", AMY, False)

    [joined] = to_incomings(event("join", user=None, group=GROUP))
    assert (joined.text, joined.chat, joined.sender) == ("/help", GROUP, "")

    greeted = to_incomings(event("member_joined", user=None, group=GROUP))
    assert [(m.sender, m.text, m.is_group) for m in greeted] == [
        ("U4af4980629a1b2c3d4e5f6a7b8c9d0e1", "/start", True),
        ("U91eeaf62d9a1b2c3d4e5f6a7b8c9d0e2", "/start", True),
    ]
    assert len({m.event_key for m in greeted}) == 2

    for ignored in ("leave", "unfollow", "standby", "unknown"):
        assert to_incomings(event(ignored)) == [], ignored
        assert to_incoming(event(ignored)) is None
    sticker = event("message_text_user")
    sticker["message"] = {"id": "1", "type": "sticker", "packageId": "1", "stickerId": "1"}
    assert to_incomings(sticker) == []


def test_a_mentioned_member_is_the_one_meant_and_the_bot_mention_is_dropped():
    text = "🍎 @tuanbot /grant @Amy Chen 50 thanks"
    mentionees = [  # positions in UTF-16 code units: the apple takes two
        {"index": 3, "length": 8, "type": "user", "userId": "Ubot", "isSelf": True},
        {"index": 19, "length": 9, "type": "user", "userId": AMY, "isSelf": False},
    ]
    cleaned, target = strip_mentions({"text": text, "mention": {"mentionees": mentionees}})
    assert cleaned == "🍎  /grant  50 thanks"
    assert target == (AMY, "Amy Chen")

    found = event("message_text_group", group=GROUP, user=LEADER)
    found["message"]["text"] = "/grant @Amy 50 thanks"
    found["message"]["mention"] = {"mentionees": [
        {"index": 7, "length": 4, "type": "user", "userId": AMY}]}
    [msg] = to_incomings(found)
    assert (msg.text, msg.reply_to_sender, msg.reply_to_name) == ("/grant  50 thanks", AMY, "Amy")


def test_replies_become_line_messages_within_lines_limits():
    buttons = tuple(Button(f"Choice number {i} is long", f"/pick {i}") for i in range(3))
    [message] = to_messages(Reply("pick one", buttons=buttons))
    items = message.to_dict()["quickReply"]["items"]
    assert [i["action"]["label"] for i in items][0] == "Choice number 0 is …"
    assert all(len(i["action"]["label"]) <= 20 for i in items)
    assert items[0]["action"] == {"type": "postback", "label": "Choice number 0 is …",
                                  "data": "/pick 0", "displayText": "Choice number 0 is long"}

    many = tuple(Button(str(i), f"/n {i}") for i in range(20))
    [numbered] = to_messages(Reply("choose", buttons=many))
    assert numbered.to_dict()["text"].endswith("20. 19")
    assert "quickReply" not in numbered.to_dict()  # more than 13 choices: numbered text only

    parts = to_messages(Reply(("line\n" * 2000) + "end"))
    assert len(parts) == 3 and all(len(p.to_dict()["text"]) <= 5000 for p in parts)

    [exported] = to_messages(Reply("exported", file="/x.csv"), file_url="https://b.example/f")
    assert exported.to_dict()["text"] == "exported\nhttps://b.example/f"  # LINE sends no files

    [card] = to_messages(Reply("Amy ·「銅」會員\n積分：0", card={"kind": "member"}))
    drawn = card.to_dict()
    assert drawn["type"] == "flex" and drawn["altText"].startswith("Amy")
    assert drawn["contents"]["header"]["contents"][0]["text"] == "Amy ·「銅」會員"


def flex_texts(node: Any) -> list[str]:
    """Every text component's text inside a Flex block, in order."""
    if isinstance(node, list):
        return [t for item in node for t in flex_texts(item)]
    if not isinstance(node, dict):
        return []
    own = [node["text"]] if node.get("type") == "text" else []
    return own + [t for key, value in node.items() if key != "action" for t in flex_texts(value)]


def flex_actions(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [a for item in node for a in flex_actions(item)]
    if not isinstance(node, dict):
        return []
    own = [node["action"]] if node.get("type") == "button" else []
    return own + [a for value in node.values() for a in flex_actions(value)]


def shown(message: dict[str, Any]) -> str:
    """What a LINE message says in the chat list: a text's text, a Flex message's altText."""
    return str(message.get("text") or message.get("altText") or "")


MEMBER_CARD = {"kind": "member", "name": "Amy", "tier": "金", "points": 1234, "debt": 30,
               "next_tier": "白金"}
MEMBER_TEXT = ("Amy ·「金」會員\n積分：1234\n待扣回積分：30（退款收回的積分）\n"
               "目前權益：團購 9 折、積分 ×1.5\n再消費 NT$500，即可升級為「白金」。")


def test_a_member_card_is_a_flex_bubble_with_the_tier_the_points_and_the_points_owed():
    [card] = to_messages(Reply(MEMBER_TEXT, card=MEMBER_CARD))
    drawn = card.to_dict()
    assert drawn["type"] == "flex" and drawn["altText"] == MEMBER_TEXT
    body = flex_texts(drawn["contents"]["body"])
    assert "金" in body and any("1,234" in t for t in body)
    assert any("30" in t for t in body)  # points owed, shown
    assert any("白金" in t for t in body)  # the way to the next tier, in words
    assert any("9 折" in t for t in body)  # the benefits


def test_a_flex_card_too_big_for_line_falls_back_to_text_and_alt_text_is_cut_to_400():
    long = "Amy ·「金」會員\n" + "\n".join(f"積分：{'九' * 1500}" for _ in range(12))
    messages = to_messages(Reply(long, card=MEMBER_CARD, buttons=(Button("ok", "/ok"),)))
    assert [m.to_dict()["type"] for m in messages] == ["text"] * len(messages)
    assert "".join(m.to_dict()["text"] for m in messages).replace("\n", "") == \
        long.replace("\n", "")
    assert messages[-1].to_dict()["quickReply"]["items"][0]["action"]["data"] == "/ok"

    wordy = "Amy ·「金」會員\n" + "積分：1234 " * 100
    [card] = to_messages(Reply(wordy, card=MEMBER_CARD))
    assert card.to_dict()["type"] == "flex" and len(card.to_dict()["altText"]) == 400


def test_a_roster_card_draws_the_group_buy_and_a_plus_one_button():
    facts = {"kind": "groupbuy", "number": 3, "title": "蘋果", "price": "NT$350", "left": 7,
             "stock": 10, "deadline": "12-01 20:00", "joined": [["Amy", 2], ["Bob", 1]],
             "count": 2, "waiting": 0, "closed": False}
    text = "🛒 #3 蘋果 · NT$350\n1. Amy ×2\n2. Bob ×1\n剩餘：7 / 10\n截止 12-01 20:00"
    [card] = to_messages(Reply(text, buttons=(Button("+1", "/join 1 #3"),), card=facts))
    drawn = card.to_dict()
    assert drawn["type"] == "flex" and "quickReply" not in drawn
    body = flex_texts(drawn["contents"]["body"])
    for fact in ("NT$350", "7 / 10", "12-01 20:00", "Amy", "×2", "Bob"):
        assert any(fact in t for t in body), fact
    [plus_one] = flex_actions(drawn["contents"]["footer"])
    assert plus_one == {"type": "postback", "label": "+1", "data": "/join 1 #3",
                        "displayText": "+1"}


# ---- the webhook's guards ----------------------------------------------------------------

@pytest.mark.asyncio
async def test_a_forged_or_missing_signature_is_refused_and_nothing_is_written(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    before = count(app, Member)
    body = webhook_body(event("message_text_user", text="/checkin"))
    forged = await client.post("/line", content=body, headers=signed(body, "not-the-secret"))
    unsigned = await client.post("/line", content=body)
    tampered_body = body.replace(b"/checkin", b"/me")
    tampered = await client.post("/line", content=tampered_body, headers=signed(body))
    await channel.settle()
    assert (forged.status_code, unsigned.status_code, tampered.status_code) == (403, 401, 403)
    assert count(app, InboundEvent) == 0 and count(app, Member) == before
    assert fake.calls == []


@pytest.mark.asyncio
async def test_malformed_and_oversized_bodies_are_refused(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    for body in (b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe", b'{"events": "no"}'):
        response = await client.post("/line", content=body, headers=signed(body))
        assert response.status_code == 400, body
    huge = webhook_body(event("message_text_user", text="/me " + "x" * MAX_BODY))

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: checked while reading
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start:start + 64 * 1024]

    for oversized in (huge, streamed()):
        response = await client.post("/line", content=oversized, headers=signed(huge))
        assert response.status_code == 413
    await channel.settle()
    assert count(app, InboundEvent) == 0
    assert fake.calls == []


@pytest.mark.asyncio
async def test_unknown_leave_and_standby_events_are_acknowledged_and_not_answered(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    await post(client, channel, event("unknown"), event("leave", user=None, group=GROUP),
               event("standby", text="/checkin"))
    verification = webhook_body()  # the console's "Verify" button sends no events
    response = await client.post("/line", content=verification, headers=signed(verification))
    assert response.status_code == 200
    assert count(app, InboundEvent) == 0
    assert fake.calls == []


# ---- conversations -----------------------------------------------------------------------

@pytest.mark.asyncio
async def test_me_in_private_is_answered_with_the_reply_token(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    said = event("message_text_user", text="/me")
    await post(client, channel, said)
    [reply] = fake.sent("reply")
    assert reply["replyToken"] == said["replyToken"]
    assert shown(reply["messages"][0]).startswith("Amy ·「銅」會員\n積分：0")
    assert fake.sent("push") == []
    assert private_chat_of(app, AMY) == AMY


async def _card_in_transactions(app: App, client: httpx.AsyncClient, channel: LineChannel,
                                fake: FakeLineAPI, said: dict[str, Any]) -> int:
    """Post a known member's /me; how many transactions (pool checkouts) it took (the
    answered marks written before, and none written by a timer meanwhile)."""
    marks.flush_answered(app.deps)
    sends = count(app, SendLog)
    checkouts: list[object] = []

    def checked_out(*_: object) -> None:
        checkouts.append(1)

    listen(app.engine.pool, "checkout", checked_out)
    try:
        await post(client, channel, said)
    finally:
        remove(app.engine.pool, "checkout", checked_out)
    reply = fake.sent("reply")[-1]
    assert reply["replyToken"] == said["replyToken"]
    assert shown(reply["messages"][0]).startswith("Amy ·「銅」會員")
    assert count(app, SendLog) == sends + 1  # reserved once, with the answer
    [msg] = to_incomings(said)
    await channel.deliver(msg, Reply("again"))  # the token is used: a push
    assert fake.texts("push", to=AMY)[-1] == "again"
    return len(checkouts)


@pytest.mark.asyncio
async def test_a_known_members_card_is_stored_answered_and_its_token_taken_in_one_transaction(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI,
    monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(marks, "ANSWERED_WITHIN", 600.0)
    await post(client, channel, event("message_text_user", text="/help"))  # Amy is known now
    said = event("message_text_user", text="/me")
    assert await _card_in_transactions(app, client, channel, fake, said) == 1
    assert count(app, InboundEvent, InboundEvent.event_key == to_incomings(said)[0].event_key,
                 InboundEvent.processed_at.is_not(None)) == 1  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_a_card_whose_senders_name_is_not_at_hand_is_answered_after_the_200_in_one_more(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI,
    monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(marks, "ANSWERED_WITHIN", 600.0)
    await post(client, channel, event("message_text_user", text="/help"))
    channel._names.clear()  # a restart: the name is asked of LINE after the 200
    said = event("message_text_user", text="/me")
    # stored before the 200; then claimed, answered, reserved and its token taken in one
    assert await _card_in_transactions(app, client, channel, fake, said) == 2


@pytest.mark.asyncio
async def test_a_redelivered_event_is_processed_once(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    pressed = event("postback", data="/checkin")
    await post(client, channel, pressed)
    again = copy.deepcopy(pressed)
    again["deliveryContext"]["isRedelivery"] = True
    await post(client, channel, again)
    await post(client, channel, pressed, pressed)  # twice in one request too
    assert count(app, InboundEvent) == 1
    assert count(app, PointsEntry) == 1
    assert len(fake.message_calls()) == 1
    assert fake.replied_texts()[0].startswith("簽到成功：+")


@pytest.mark.asyncio
async def test_a_stale_reply_token_is_not_used_and_the_answer_is_pushed(
    app: App, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    accepted = channel.accept([event("message_text_user", text="/me")])
    clock.advance(seconds=61)  # the token is about a minute old when the answer is ready
    channel.process(accepted)
    await channel.settle()
    assert fake.sent("reply") == []
    [pushed] = fake.sent("push", to=AMY)
    assert shown(pushed["messages"][0]).startswith("Amy ·「銅」會員")


@pytest.mark.asyncio
async def test_a_refused_reply_token_falls_back_to_a_push(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    fake.fail_next("reply", 400, message="Invalid reply token")
    await post(client, channel, event("message_text_user", text="/me"))
    [refused] = fake.failed("reply")
    assert refused.status == 400
    assert shown(fake.messages("push", to=AMY)[0]).startswith("Amy ·「銅」會員")


@pytest.mark.asyncio
async def test_a_reply_token_is_used_once_then_answers_are_pushed(
    app: App, channel: LineChannel, fake: FakeLineAPI
):
    [msg] = channel.accept([event("message_text_user", text="/me")])
    await channel.deliver(msg, Reply("first"))
    await channel.deliver(msg, Reply("second"))
    assert fake.texts("reply") == ["first"]
    assert fake.texts("push", to=AMY) == ["second"]
    assert fake.failed() == []


@pytest.mark.asyncio
async def test_me_in_a_bound_group_is_answered_in_the_group(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    bind_demo_group(app)
    said = event("message_text_group", group=GROUP, user=BOB)  # "@tuanbot /me"
    await post(client, channel, said)
    [reply] = fake.sent("reply")
    assert shown(reply["messages"][0]).startswith("Bob ·「銅」會員")
    assert [c.path for c in fake.calls if c.endpoint == "group_member"] == [
        f"/v2/bot/group/{GROUP}/member/{BOB}"]


@pytest.mark.asyncio
async def test_me_on_line_is_a_flex_card_whose_body_holds_the_tier_and_the_points(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    await post(client, channel, event("postback", data="/checkin"))
    with UnitOfWork(app.deps.sessions) as uow:
        amy = uow.session.execute(select(Member).where(Member.display_name == "Amy")).scalar_one()
        amy.points_debt, balance = 25, amy.points_balance
        uow.commit()
    assert balance > 0
    await post(client, channel, event("message_text_user", text="/me"))
    card = fake.sent("reply")[-1]["messages"][0]
    assert card["type"] == "flex"
    assert card["altText"].startswith("Amy ·「銅」會員")
    body = flex_texts(card["contents"]["body"])
    assert "銅" in body
    assert any(f"{balance:,}" in t for t in body)
    assert any("25" in t for t in body)  # points owed


@pytest.mark.asyncio
async def test_a_postback_checks_in(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    await post(client, channel, event("postback", data="/checkin"))
    assert fake.replied_texts()[0].startswith("簽到成功：+")
    assert count(app, PointsEntry) == 1


@pytest.mark.asyncio
async def test_plus_one_in_a_line_group_orders_and_the_roster_is_pushed(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    bind_demo_group(app)
    seed_line_leader(app)
    opening = "/open 蘋果 | 350 | 10 | 2h"
    await post(client, channel, event("message_text_group", group=GROUP, user=LEADER, text=opening))
    assert fake.replied_texts()[0].startswith("團購 #1 開團：蘋果")
    clock.advance(minutes=1)
    fake.clear()

    await post(client, channel, event("message_text_group", group=GROUP, user=AMY, text="+1"))
    assert count(app, Order) == 1
    assert fake.message_calls() == []  # the group sees the roster, not one answer per "+1"

    published = await roster.publish(app.deps, CHANNEL, channel.post_roster, timedelta(0),
                                     lambda chat: True)
    assert published == 1
    [posted] = fake.sent("push", to=GROUP)
    [roster_card] = posted["messages"]
    assert roster_card["type"] == "flex" and "1. Amy ×1" in roster_card["altText"]
    body = flex_texts(roster_card["contents"]["body"])
    assert "蘋果" in flex_texts(roster_card["contents"]["header"])[0]
    assert any("Amy" in t for t in body) and any("9 / 10" in t for t in body)
    [plus_one] = flex_actions(roster_card["contents"]["footer"])
    assert plus_one["data"] == "/join 1 #1"

    clock.advance(minutes=1)
    await post(client, channel, event("postback", group=GROUP, user=BOB, data="/join 1 #1"))
    assert count(app, Order) == 2


@pytest.mark.asyncio
async def test_lang_en_then_help_is_answered_in_english(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    await post(client, channel, event("message_text_user", text="/lang en"))
    await post(client, channel, event("message_text_user", text="/help"))
    assert fake.replied_texts()[-1].startswith("Commands:\n/me")


@pytest.mark.asyncio
async def test_an_event_accepted_but_never_processed_is_recovered(
    app: App, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    msg = to_incoming(event("postback", data="/checkin"))
    assert msg is not None and inbox.accept(app.deps, msg)  # then the process died
    clock.advance(seconds=31)
    assert await inbox.recover(app.deps, {CHANNEL: channel.deliver}) == 1
    assert fake.texts("push", to=AMY)[0].startswith("簽到成功：+")
    assert count(app, PointsEntry) == 1
    assert await inbox.recover(app.deps, {CHANNEL: channel.deliver}) == 0


@pytest.mark.asyncio
async def test_group_chatter_is_not_recovered_again_and_again(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    bind_demo_group(app)
    await post(client, channel, event("message_text_group", group=GROUP, text="anyone there?"))
    assert fake.message_calls() == []
    clock.advance(seconds=31)
    assert await inbox.recover(app.deps, {CHANNEL: channel.deliver}) == 0


@pytest.mark.asyncio
async def test_follow_welcomes_by_name_and_unfollow_stops_private_answers(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    await post(client, channel, event("follow"))
    assert fake.replied_texts()[0].startswith("歡迎加入 Demo 團購社群，Amy！")
    assert private_chat_of(app, AMY) == AMY
    await post(client, channel, event("unfollow"))
    assert private_chat_of(app, AMY) is None


@pytest.mark.asyncio
async def test_joining_a_group_asks_for_bind_and_new_members_are_greeted_once_bound(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    await post(client, channel, event("join", user=None, group=GROUP))
    assert fake.replied_texts() == ["本群尚未綁定社群，請團主在群裡輸入 /bind。"]
    await post(client, channel, event("member_joined", user=None, group=GROUP))
    assert len(fake.message_calls()) == 1  # an unbound group is not greeted
    assert count(app, Member, Member.display_name == "") == 0

    bind_demo_group(app)
    clock.advance(minutes=1)
    fake.clear()
    await post(client, channel, event("join", user=None, group=GROUP))  # a bound group: no ask
    assert fake.calls == []
    joined = event("member_joined", user=None, group=GROUP)
    joined["joined"]["members"] = [{"type": "user", "userId": AMY}, {"type": "user", "userId": BOB}]
    await post(client, channel, joined)
    greetings = fake.replied_texts() + fake.texts("push", to=GROUP)
    assert sorted(g.split("！")[0] for g in greetings) == [
        "歡迎加入 Demo 團購社群，Amy", "歡迎加入 Demo 團購社群，Bob"]
    assert len(fake.sent("reply")) == 1  # one token; the second greeting is pushed (LINE
    # publishes no limit per group)


@pytest.mark.asyncio
async def test_invite_sends_the_qr_code_as_an_image_served_by_the_media_route(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    await post(client, channel, event("message_text_user", text="/invite"))
    [reply] = fake.sent("reply")
    text, image = reply["messages"]
    assert "https://line.me/R/oaMessage/" in text["text"]
    url = httpx.URL(image["originalContentUrl"])
    assert str(url).startswith(f"{PUBLIC}/media/qr/qr-") and image["previewImageUrl"] == str(url)
    served = await client.get(url.raw_path.decode())
    assert served.status_code == 200 and served.content.startswith(b"\x89PNG\r\n\x1a\n")
    for forged in (url.path + "?s=forged", url.path, "/media/../tuanbot.sqlite3"):
        assert (await client.get(forged)).status_code == 404


@pytest.mark.asyncio
async def test_without_a_public_url_an_image_is_left_out(app: App, fake: FakeLineAPI):
    channel = LineChannel(app.deps, line_settings(app, fake))
    try:
        [msg] = channel.accept([event("message_text_user", text="/invite")])
        channel.process([msg])
        await channel.settle()
    finally:
        await channel.close()
    [reply] = fake.sent("reply")
    assert [m["type"] for m in reply["messages"]] == ["text"]


@pytest.mark.asyncio
async def test_a_member_who_blocked_the_account_is_answered_in_the_group(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    bind_demo_group(app)
    await post(client, channel, event("message_text_group", group=GROUP, text="/me"))
    await post(client, channel, event("follow"))
    assert private_chat_of(app, AMY) == AMY
    clock.advance(minutes=1)
    fake.clear()
    fake.fail_next("push", 403)
    await post(client, channel, event("message_text_group", group=GROUP, text="/me"))
    [refused] = fake.failed("push")
    assert refused.body["to"] == AMY
    assert fake.replied_texts()[0].startswith("Amy ·「銅」會員")
    assert private_chat_of(app, AMY) is None


@pytest.mark.asyncio
async def test_line_answers_within_its_own_published_limits_not_telegrams(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    bind_demo_group(app)
    await post(client, channel, event("message_text_group", group=GROUP, user=AMY, text="/help"),
               event("message_text_group", group=GROUP, user=BOB, text="/help"))
    assert len(fake.sent("reply")) == 2 and outbox(app) == []


@pytest.mark.asyncio
async def test_a_group_limit_set_in_line_limits_keeps_the_rest_in_the_outbox(
    app: App, client: httpx.AsyncClient, channel: LineChannel, fake: FakeLineAPI
):
    limits, _ = platform_limits({"LINE_LIMITS": "chat=1/1s,group=20/1m"})
    app.deps.limits["line"] = limits["line"]
    bind_demo_group(app)
    await post(client, channel, event("message_text_group", group=GROUP, user=AMY, text="/help"),
               event("message_text_group", group=GROUP, user=BOB, text="/help"))
    assert len(fake.sent("reply")) == 1
    [waiting] = outbox(app)
    assert (waiting.chat_id, waiting.is_group) == (GROUP, True)
    assert str(waiting.body["text"]).startswith("指令：")


# ---- sending -----------------------------------------------------------------------------

@pytest.mark.asyncio
async def test_send_turns_platform_refusals_into_rate_limits_and_undeliverables(
    channel: LineChannel, fake: FakeLineAPI
):
    fake.fail_next("push", 429, retry_after=7)
    with pytest.raises(RateLimited) as limited:
        await channel.send(AMY, False, Reply("hi"))
    assert limited.value.retry_after == 7.0
    fake.fail_next("push", 429)
    with pytest.raises(RateLimited) as limited:
        await channel.send(AMY, False, Reply("hi"))
    assert limited.value.retry_after == 1.0
    fake.fail_next("push", 429, message="You have reached your monthly limit.")
    with pytest.raises(QuotaExhausted) as used_up:
        await channel.send(AMY, False, Reply("hi"))
    until = used_up.value.until(datetime(2026, 3, 10, 20, tzinfo=UTC))
    assert until == datetime(2026, 4, 1, tzinfo=ZoneInfo("Asia/Tokyo"))
    fake.fail_next("push", 403)
    with pytest.raises(Undeliverable):
        await channel.send(AMY, False, Reply("hi"))
    await channel.send(AMY, False, Reply("hi", card={"title": "Card"}))
    assert fake.messages("push", to=AMY)[0]["type"] == "flex"


@pytest.mark.asyncio
async def test_the_delivery_worker_pushes_line_outbox_messages(
    app: App, channel: LineChannel, fake: FakeLineAPI, clock: Clock
):
    with UnitOfWork(app.deps.sessions) as uow:
        for chat, is_group in ((AMY, False), (GROUP, True)):
            enqueue(uow.session, CHANNEL, chat, reply_record(Reply("later")), clock(),
                           is_group=is_group)
        uow.commit()
    worker = DeliveryWorker(app.deps.sessions, CHANNEL, channel.send, clock)
    fake.fail_next("push", 429, retry_after=2)
    assert await worker.drain_once() == 0
    clock.advance(seconds=3)
    assert await worker.drain_once() == 2
    assert fake.texts("push", to=AMY) == ["later"] and fake.texts("push", to=GROUP) == ["later"]
    assert outbox(app) == []


@pytest.mark.asyncio
async def test_multicast_goes_out_five_hundred_users_a_call(
    channel: LineChannel, fake: FakeLineAPI
):
    users = [f"U{i:032x}" for i in range(1201)]
    sale = Reply("sale", buttons=(Button("+1", "/join 1"),))
    assert await channel.multicast(users + users[:10], sale) == 1201
    calls = fake.sent("multicast")
    assert [len(c["to"]) for c in calls] == [500, 500, 201]
    assert calls[0]["messages"][0]["quickReply"]["items"][0]["action"]["data"] == "/join 1"


@pytest.mark.asyncio
async def test_a_reply_token_kept_by_one_process_is_used_once_by_another(
    app: App, channel: LineChannel, fake: FakeLineAPI
):
    [msg] = channel.accept([event("message_text_user", text="/me")])
    other = LineChannel(app.deps, line_settings(app, fake), public_url=PUBLIC)
    try:
        await other.deliver(msg, Reply("first"))
        await channel.deliver(msg, Reply("second"))
    finally:
        await other.close()
    assert fake.texts("reply") == ["first"]
    assert fake.texts("push", to=AMY) == ["second"]


def test_every_message_built_as_json_is_what_line_bot_sdk_models_would_send():
    from linebot.v3.messaging import Message as SdkMessage  # the SDK's own schema

    roster = {"kind": "groupbuy", "price": "NT$350", "left": 7, "stock": 10,
              "deadline": "12-01 20:00", "joined": [["Amy", 2]]}
    replies = [Reply(MEMBER_TEXT, card=MEMBER_CARD, buttons=(Button("ok", "/ok"),)),
               Reply("🛒 #3\n1. Amy ×2\n剩餘：7 / 10", card=roster,
                     buttons=tuple(Button(f"b{i}", f"/b {i}") for i in range(6))),
               Reply("pick", buttons=(Button("a" * 30, "/a"),), image="x.png")]
    for reply in replies:
        for message in to_messages(reply, image_url="https://b.example/x.png"):
            built = message.to_dict()
            assert SdkMessage.from_dict(built).to_dict() == built  # validated, unchanged
