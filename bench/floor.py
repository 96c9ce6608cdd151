"""The floor under the ratio goals: what a durable `/me` and a durable '+1' cost with no
product logic at all, on the same PTB transport and against the same bare baselines as
bench/inbound.py and bench/flood.py, alternated with them in one run.

Each "floor" handler is the least any correct answer must do: plain sqlite3 (no SQLAlchemy,
no templates, no tiers, no rules), WAL with synchronous=NORMAL as ours, one transaction per
message. `/me`: read the member, store the event with its answer (the durable dedupe),
commit, reply. '+1': store the event (dedupe), read or create the member, bump the buy's
roster and read it, read what the member holds and whether anyone waits, take stock under
a condition, insert the line, queue a private confirmation for those who started the bot,
commit. What a goal's ratio leaves for the product's own work is then
(goal - floor) x bare. Prints two lines

    floor /me: X us over bare, ratio F (goal 1.5 leaves Y us for everything else)
    floor +1: X us over bare, ratio F (goal 2.5 leaves Y us for everything else)

    python bench/floor.py
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, CommandHandler, MessageHandler, filters  # noqa: E402

from bench.flood import CHUNK, alternate  # noqa: E402
from bench.flood import bare_app as bare_flood  # noqa: E402
from bench.inbound import USERS, _feed, me  # noqa: E402
from bench.inbound import bare_app as bare_me  # noqa: E402
from bench.loopback import LoopbackRequest  # noqa: E402
from tests.flood_helpers import GROUP, updates  # noqa: E402

SCHEMA = """
create table member(id integer primary key, user text unique, name text, points int,
                    tier text, private_chat text);
create table inbox(id integer primary key, channel text, key text, answer text, at real,
                   unique(channel, key));
create table buy(id integer primary key, chat text, status text, allocated int, stock int,
                 price int, rev int);
create table line(id integer primary key, buy int, member int, q int, status text,
                  key text unique, price int, at real);
create index ix_line on line(buy, member);
create index ix_line_status on line(buy, status);
create table outbox(id integer primary key, member int, body text, key text unique, at real);
"""


def _database(path: Path, members: int, stock: int) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("pragma journal_mode=wal")
    db.execute("pragma synchronous=normal")
    db.executescript(SCHEMA)
    db.execute("insert into buy(chat, status, allocated, stock, price, rev) "
               "values (?, 'open', 0, ?, 35000, 0)", (str(GROUP), stock))
    db.executemany("insert into member(user, name, points, tier, private_chat) "
                   "values (?, ?, 0, 'silver', ?)",
                   [(str(u), f"m{u}", str(u) if u % 2 == 0 else None) for u in members_ids(members)])
    db.commit()
    return db


def members_ids(count: int) -> list[int]:
    return [1000 + i for i in range(USERS)] + [10_000 + i for i in range(int(count * 0.9))]


def _app() -> Application:  # type: ignore[type-arg]
    return (ApplicationBuilder().token("1:floor").request(LoopbackRequest())
            .get_updates_request(LoopbackRequest()).concurrent_updates(True).build())


def floor_me(db: sqlite3.Connection) -> Application:  # type: ignore[type-arg]
    app = _app()

    async def card(update: Update, context: object) -> None:
        assert update.effective_message and update.effective_user
        row = db.execute("select id, name, points, tier from member where user = ?",
                         (str(update.effective_user.id),)).fetchone()
        text = f"{row[1]} · {row[3]} · {row[2]} points"
        db.execute("insert into inbox(channel, key, answer, at) values ('telegram', ?, ?, ?) "
                   "on conflict do nothing",
                   (str(update.update_id), json.dumps([{"text": text}]), time.time()))
        db.commit()
        await update.effective_message.reply_text(text)

    app.add_handler(CommandHandler(["start", "me"], card))
    return app


def floor_join(db: sqlite3.Connection) -> Application:  # type: ignore[type-arg]
    app = _app()

    async def join(update: Update, context: object) -> None:
        assert update.effective_message and update.effective_user
        now, user = time.time(), str(update.effective_user.id)
        if db.execute("insert into inbox(channel, key, at) values ('telegram', ?, ?) "
                      "on conflict do nothing", (str(update.update_id), now)).rowcount == 0:
            return  # a redelivery
        row = db.execute("select id, private_chat from member where user = ?", (user,)).fetchone()
        if row is None:
            row = (db.execute("insert into member(user, name, points, tier) "
                              "values (?, ?, 0, 'new') returning id", (user, user)).fetchone()[0],
                   None)
        member, private_chat = row
        buy, allocated, stock, price = db.execute(
            "update buy set rev = rev + 1 where id = (select id from buy where chat = ? and "
            "status = 'open' order by id desc limit 1) returning id, allocated, stock, price",
            (str(GROUP),)).fetchone()
        _held, waiting = db.execute(
            "select (select coalesce(sum(q), 0) from line where buy = ? and member = ? and "
            "status in ('a', 'w')), exists(select 1 from line where buy = ? and status = 'w')",
            (buy, member, buy)).fetchone()
        status = "w"
        if not waiting and allocated < stock and db.execute(
                "update buy set allocated = allocated + 1 where id = ? and allocated + 1 <= stock",
                (buy,)).rowcount:
            status = "a"
        db.execute("insert into line(buy, member, q, status, key, price, at) "
                   "values (?, ?, 1, ?, ?, ?, ?)", (buy, member, status, str(update.update_id),
                                                    price, now))
        if private_chat:
            db.execute("insert into outbox(member, body, key, at) values (?, ?, ?, ?)",
                       (member, json.dumps({"text": f"joined: {status}"}),
                        f"joined:{update.update_id}", now))
        db.commit()

    app.add_handler(MessageHandler(filters.TEXT, join))
    return app


async def _me_pair(db: sqlite3.Connection, n: int, chunk: int) -> tuple[float, float]:
    bare, _ = bare_me()
    floor = floor_me(db)
    async with bare, floor:
        await _feed(bare, me(1, 100))
        await _feed(floor, me(1_000_000, 100))
        bare_s = floor_s = 0.0
        for at in range(0, n, chunk):
            bare_s += await _feed(bare, me(2_000_000 + at, chunk))
            floor_s += await _feed(floor, me(2_000_000 + at, chunk))
    return bare_s, floor_s


def _line(what: str, bare_s: float, floor_s: float, count: int, goal: float) -> str:
    bare_us, floor_us = bare_s / count * 1e6, floor_s / count * 1e6
    return (f"floor {what}: {floor_us - bare_us:.0f} us over bare, ratio {floor_s / bare_s:.2f} "
            f"(goal {goal} leaves {goal * bare_us - floor_us:.0f} us for everything else)")


def main() -> None:
    members, n = 2000, 2000
    bodies = [json.dumps(u).encode() for u in updates(members, 0.10)]
    with tempfile.TemporaryDirectory() as tmp:
        db = _database(Path(tmp) / "me.sqlite3", members, members // 4)
        me_bare, me_floor = asyncio.run(_me_pair(db, n, 100))
        db = _database(Path(tmp) / "join.sqlite3", members, members // 4)
        join_bare, join_floor = asyncio.run(alternate(bare_flood(), floor_join(db), bodies, CHUNK))
        assert db.execute("select count(*) from line").fetchone()[0] == members
    print(_line("/me", me_bare, me_floor, n, 1.5))
    print(_line("+1", join_bare, join_floor, len(bodies), 2.5))


if __name__ == "__main__":
    main()
