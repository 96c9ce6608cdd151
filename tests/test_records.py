"""A reply keeps everything it carries on its way through the outbox (or the inbox)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import App
from bot.outbound import queue_reply
from messages.records import reply_from_record, reply_json, reply_record, text_json
from messages.types import Button, Reply
from scheduler.delivery import DeliveryWorker
from tests.conftest import Clock

words = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | words,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=3),
    max_leaves=8)
replies = st.builds(
    Reply, text=words, buttons=st.lists(st.builds(Button, words, words), max_size=3).map(tuple),
    image=st.none() | words, file=st.none() | words, private=st.booleans(),
    card=st.dictionaries(words, json_values, max_size=3),
    hints=st.dictionaries(words, words, max_size=3))


@given(replies)
def test_every_field_of_a_reply_survives_its_json_record(reply: Reply) -> None:
    assert reply_from_record(json.loads(json.dumps(reply_record(reply)))) == reply


@given(replies | st.builds(Reply, text=words,
                          buttons=st.lists(st.builds(Button, words, words), max_size=3).map(tuple),
                          private=st.booleans()))
def test_a_reply_as_json_text_is_exactly_its_record_dumped(reply: Reply) -> None:
    assert reply_json(reply) == json.dumps(reply_record(reply))
    if not reply.private:
        assert text_json(reply.text, reply.buttons) == json.dumps(reply_record(Reply(
            reply.text, buttons=reply.buttons)))


@pytest.mark.asyncio
async def test_a_queued_reply_leaves_the_outbox_whole(app: App, clock: Clock) -> None:
    reply = Reply("pick one", buttons=(Button("+1", "/join 1"),), image="qr.png",
                  file="orders.csv", private=True, card={"tier": "gold", "points": [1, 2]},
                  hints={"referral": "ABC", "link": "https://t.me/x"})
    queue_reply(app.deps, "telegram", "42", False, reply)
    sent: list[Reply] = []

    async def send(chat_id: str, is_group: bool, out: Reply) -> None:
        sent.append(out)

    assert await DeliveryWorker(app.deps.sessions, "telegram", send, clock).drain_once() == 1
    assert sent == [reply]
