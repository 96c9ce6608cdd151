"""Nothing lost: the real `tuanbot run` killed with SIGKILL right after a burst of webhooks,
with answers on their way (held by the fake platform), then started again. Every event gets
exactly one answer; the ones whose answer was on its way are sent again once, logged in doubt.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from bot import inbox
from bot.app import bootstrap
from bot.line_events import signature_of
from bot.settings import Settings
from bot.wechat_crypto import signature
from messages.types import Incoming
from models.db import make_engine
from models.tables import InboundEvent
from tests.conftest import DATABASE_URL
from tests.crash_helpers import (
    BotProcess,
    bot_process,
    crash_and_restart,
    database,
    sweep_in_another_process,
    wait_until,
)
from tests.fakes.line_api import FakeLineAPI
from tests.fakes.telegram_api import FakeTelegramAPI, callback_update, text_update
from tests.fakes.wechat_api import FakeWechatAPI
from tests.flood_helpers import GROUP, outcome, real_clock, seed

SECRET = "crash-secret"
CSV = "order_id,member,product,quantity,unit_price\n1,@amy,蘋果,1,350\n".encode()


def document_update(update_id: int, user_id: int, file_id: str) -> dict[str, object]:
    update = text_update(update_id, "", user_id)
    message = update["message"]
    del message["text"]
    message["document"] = {"file_id": file_id, "file_unique_id": f"u{file_id}",
                           "file_name": "orders.csv", "file_size": len(CSV)}
    return update


def test_telegram_webhook_events_are_each_answered_once_across_a_kill(tmp_path: Path):
    users = list(range(5001, 5007))
    pressers, sender = [6001, 6002], 7001
    with FakeTelegramAPI() as fake, bot_process(
        tmp_path, TELEGRAM_TOKEN="123:ABC", TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_BASE_FILE_URL=fake.base_file_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example/telegram", TELEGRAM_WEBHOOK_SECRET=SECRET,
    ) as bot:
        fake.add_file("csv-1", CSV)
        updates = [text_update(n, "/help", user) for n, user in enumerate(users, 1)]
        updates += [callback_update(100 + n, "/me", user, user, 1)
                    for n, user in enumerate(pressers)]
        updates.append(document_update(200, sender, "csv-1"))
        bot.start()
        fake.hold("sendMessage", "sendPhoto", "sendDocument")
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        for update in updates:
            answer = httpx.post(f"{bot.url}/telegram", json=update, headers=headers, timeout=10)
            assert answer.status_code == 200
        crash_and_restart(bot, fake)
        answers = Counter(str(p["chat_id"]) for p in fake.sent("sendMessage"))
        assert answers == Counter(str(u) for u in users + pressers + [sender])
        assert "in doubt" in bot.log(2)
        assert len(fake.sent("answerCallbackQuery")) >= len(pressers)


def line_event(user: str, n: int) -> dict[str, object]:
    return {
        "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
        "webhookEventId": f"01CRASH{n:019d}", "replyToken": f"token-{user}",
        "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": user},
        "message": {"id": str(900 + n), "type": "text", "quoteToken": "q", "text": "/help"},
    }


def test_line_events_are_each_answered_once_across_a_kill(tmp_path: Path):
    users = [f"U{n:032x}" for n in range(1, 9)]
    with FakeLineAPI(token="crash-token") as fake, bot_process(
        tmp_path, LINE_CHANNEL_SECRET=SECRET, LINE_CHANNEL_ACCESS_TOKEN="crash-token",
        LINE_API_BASE_URL=fake.base_url,
    ) as bot:
        for user in users:
            fake.add_user(user, f"User {user[-2:]}")
        bot.start()
        fake.hold("reply", "push")
        for n, user in enumerate(users):
            body = json.dumps({"destination": "Ubot", "events": [line_event(user, n)]}).encode()
            headers = {"X-Line-Signature": signature_of(SECRET.encode(), body),
                       "Content-Type": "application/json"}
            assert httpx.post(f"{bot.url}/line", content=body, headers=headers,
                              timeout=10).status_code == 200
        crash_and_restart(bot, fake)
        replied = Counter(b["replyToken"].removeprefix("token-") for b in fake.sent("reply"))
        pushed = Counter(b["to"] for b in fake.sent("push"))
        assert replied + pushed == Counter(users)
        assert "in doubt" in bot.log(2)


def test_wechat_messages_are_each_answered_once_across_a_kill(tmp_path: Path):
    openids = [f"oCrash{n:022d}" for n in range(1, 7)]
    token = "crash-wechat-token"
    with FakeWechatAPI() as fake, bot_process(
        tmp_path, WECHAT_TOKEN=token, WECHAT_APP_ID=fake.app_id, WECHAT_APP_SECRET=fake.secret,
        WECHAT_API_BASE_URL=fake.base_url, WECHAT_PASSIVE_TIMEOUT="0",
    ) as bot:
        bot.start()
        fake.hold("send")
        for n, openid in enumerate(openids):
            now = str(int(time.time()))
            query = {"timestamp": now, "nonce": str(n), "signature": signature(token, now, str(n))}
            xml = (f"<xml><ToUserName><![CDATA[gh_crash]]></ToUserName><FromUserName><![CDATA["
                   f"{openid}]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA["
                   f"text]]></MsgType><Content><![CDATA[/me]]></Content><MsgId>{7000 + n}"
                   f"</MsgId></xml>").encode()
            answer = httpx.post(f"{bot.url}/wechat", params=query, content=xml, timeout=10)
            assert (answer.status_code, answer.text) == (200, "success")
        crash_and_restart(bot, fake)
        assert Counter(m["touser"] for m in fake.sent()) == Counter(openids)
        assert "in doubt" in bot.log(2)


def accepted_before_start(bot: BotProcess, tmp_path: Path, count: int) -> list[Incoming]:
    """Events stored (as a webhook does before its 200) and never claimed, in bot's database."""
    app = bootstrap(Settings(database_url=bot.database_url, home=tmp_path / "home"))
    found = [Incoming("telegram", str(u), str(u), "/help", str(u), event_key=f"early:{u}")
             for u in range(8001, 8001 + count)]
    assert all(inbox.accept(app.deps, msg) for msg in found)
    app.engine.dispose()
    return found


def test_events_accepted_and_never_claimed_are_processed_at_once_after_a_restart(tmp_path: Path):
    with FakeTelegramAPI() as fake, bot_process(
        tmp_path, TELEGRAM_TOKEN="123:ABC", TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_BASE_FILE_URL=fake.base_file_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example/telegram", TELEGRAM_WEBHOOK_SECRET=SECRET,
        TUANBOT_INBOX_LEASE="3600",  # nothing waits for a lease to run out here
    ) as bot:
        found = accepted_before_start(bot, tmp_path, 5)
        bot.start()
        wait_until(lambda: bot.unanswered() == 0, "every stored event answered", log=bot.log)
        answers = Counter(str(p["chat_id"]) for p in fake.sent("sendMessage"))
        assert answers == Counter(m.chat for m in found)


def test_two_processes_sweeping_never_both_process_one_event(tmp_path: Path):
    with database(tmp_path) as url:
        bot = BotProcess(tmp_path, url)
        found = accepted_before_start(bot, tmp_path, 30)
        with multiprocessing.get_context("spawn").Pool(3) as pool:
            swept = pool.starmap(sweep_in_another_process,
                                 [(url, str(tmp_path / "home"))] * 3)
        delivered = Counter(key for keys in swept for key in keys)
        assert delivered == Counter(m.event_key for m in found)
        assert bot.unanswered() == 0


def test_a_live_process_takes_over_the_events_of_a_worker_that_died(tmp_path: Path):
    with FakeTelegramAPI() as fake, bot_process(
        tmp_path, TELEGRAM_TOKEN="123:ABC", TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_BASE_FILE_URL=fake.base_file_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example/telegram", TELEGRAM_WEBHOOK_SECRET=SECRET,
    ) as bot:
        bot.start()
        app = bootstrap(Settings(database_url=bot.database_url, home=tmp_path / "home"),
                        migrate=False)
        msg = Incoming("telegram", "8101", "8101", "/help", "1", event_key="dead:8101")
        assert inbox.accept(app.deps, msg)
        # a worker of another process claims it for two seconds, then dies
        assert inbox.claim(app.deps, msg.channel, msg.event_key, timedelta(seconds=2))
        app.engine.dispose()
        wait_until(lambda: bot.unanswered() == 0, "the dead worker's event answered", log=bot.log)
        assert [str(p["chat_id"]) for p in fake.sent("sendMessage")] == ["8101"]


def _offsets(fake: FakeTelegramAPI) -> list[int]:
    return [int(c.params.get("offset") or 0) for c in fake.calls if c.method == "getUpdates"]


def _killed_while_it_cannot_be_stored(bot: BotProcess, fake: FakeTelegramAPI,
                                      update: dict[str, Any], key: str) -> None:
    """Start the polling bot, hold the update's inbox key in a transaction of the test's own,
    hand the update over, and kill the bot once it had time enough to confirm it (an updater
    that confirms at once would have); then let the key go."""
    number = int(update["update_id"])
    bot.start(serving=False)
    engine = make_engine(bot.database_url)
    try:
        with engine.connect() as blocker:
            blocker.execute(insert(InboundEvent).values(
                channel="telegram", event_key=key, received_at=datetime.now(UTC)))
            fake.push_update(update)
            wait_until(lambda: number in fake.handed, "the bot fetched the update")
            time.sleep(2)  # its work done but for storing the event, which waits
            assert max(_offsets(fake)) <= number, "confirmed before it was stored"
            bot.kill()
            blocker.rollback()
    finally:
        engine.dispose()


def test_a_polled_update_is_confirmed_only_once_stored_so_a_kill_before_that_loses_nothing(
        tmp_path: Path):
    """Long polling: the bot is killed while an update it fetched cannot be stored yet (the
    test holds the inbox key in a transaction of its own); Telegram was never told it
    arrived, so the restarted bot fetches it again and answers it, once."""
    if not DATABASE_URL.startswith("postgresql"):
        pytest.skip("SQLite has one write lock: holding it stops the whole bot, not one insert")
    user = 4444
    update = text_update(1, "/help", user)
    key = f"{user}:{update['message']['message_id']}"
    with FakeTelegramAPI() as fake, bot_process(
        tmp_path, TELEGRAM_TOKEN="123:ABC", TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_BASE_FILE_URL=fake.base_file_url,
    ) as bot:
        _killed_while_it_cannot_be_stored(bot, fake, update, key)
        bot.start(serving=False)
        wait_until(lambda: bool(fake.sent(chat_id=user)), "the update answered after the restart",
                   log=bot.log)
        wait_until(lambda: max(_offsets(fake)) >= 2, "the update confirmed once stored")
        time.sleep(1)
        assert len(fake.sent(chat_id=user)) == 1


def test_a_polled_plus_one_killed_before_it_is_stored_joins_once_after_the_restart(
        tmp_path: Path):
    """Long polling, the light lane: a new member's '+1' in the group makes the member, holds
    the buy, takes stock and inserts the line, then cannot store its event (the test holds
    the key); the bot is killed there. Nothing of that transaction is kept and Telegram was
    never told: the restarted bot fetches the '+1' again and the member joins exactly once."""
    if not DATABASE_URL.startswith("postgresql"):
        pytest.skip("SQLite has one write lock: holding it stops the whole bot, not one insert")
    user = 5555
    update = text_update(7, "+1", user, GROUP)
    key = f"{GROUP}:{update['message']['message_id']}"
    with FakeTelegramAPI() as fake, bot_process(
        tmp_path, TELEGRAM_TOKEN="123:ABC", TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_BASE_FILE_URL=fake.base_file_url,
    ) as bot:
        app = bootstrap(Settings(database_url=bot.database_url, home=tmp_path / "setup"),
                        clock=real_clock)
        buy_id = seed(app, stock=5)  # the group bound to the demo community, a buy open
        _killed_while_it_cannot_be_stored(bot, fake, update, key)
        bot.start(serving=False)
        wait_until(lambda: outcome(app, buy_id)["lines"] == 1, "the '+1' joined after the restart",
                   log=bot.log)
        wait_until(lambda: max(_offsets(fake)) >= 8, "the update confirmed once stored")
        time.sleep(1)
        assert outcome(app, buy_id) == {"stock_counter": 1, "allocated": 1, "waitlisted": 0,
                                        "lines": 1, "buyers": 1}
        app.engine.dispose()
