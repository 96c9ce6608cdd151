"""Cancels, promotions, joins and the leader's marks racing each other on PostgreSQL.

Four spawned processes (each with its own engine, as four webhook workers would be) play one
console line each, released together by a barrier, round after round. After every round the
stock counter is exactly the units of the lines holding stock, never above the stock, no
waiting line could be served from free stock, nobody got an error, and a later '+1' gets the
free unit. SQLite has one writer and cannot race, so this runs on PostgreSQL only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.app import App
from bot.console import ConsoleChannel
from models.tables import ChannelAccount, GroupBuy, Member, Order
from tests.conftest import say
from tests.groupbuy_helpers import ledgers_balance, session_of
from tests.race_helpers import WORKERS, Workers

ROUNDS = 8  # per script


@dataclass(frozen=True)
class Script:
    """One kind of round: the stock, who joins before the race, and each worker's line.

    In the lines, `{a}`… are the round's members and `{line_a}` the id of a's first line.
    """

    stock: int
    before: tuple[str, ...]
    race: tuple[str, str, str, str]


SCRIPTS = [
    # stock 1: a holds it, b waits; b cancels while a's cancel (and the leader's) promote b
    Script(1, ("{a}@demo: +1", "{b}@demo: +1"),
           ("{b}@demo: /cancel", "{a}@demo: /cancel", "leader@demo: /cancelorder {line_a}",
            "{c}@demo: +1")),
    # stock 1: the leader cancels the waiting line that a's cancel promotes
    Script(1, ("{a}@demo: +1", "{b}@demo: +1"),
           ("{b}@demo: /cancel", "{a}@demo: /cancel", "leader@demo: /cancelorder {line_b}",
            "{c}@demo: +1")),
    # stock 1: the leader delivers the line its member is cancelling
    Script(1, ("{a}@demo: +1", "{b}@demo: +1"),
           ("{a}@demo: /cancel", "leader@demo: /delivered {line_a}", "{b}@demo: /cancel",
            "{c}@demo: +1")),
    # stock 2: one line of 2 held; two lines of 1 waiting
    Script(2, ("{a}@demo: +2", "{b}@demo: +1", "{c}@demo: +1"),
           ("{b}@demo: /cancel", "leader@demo: /cancelorder {line_a}", "{c}@demo: /cancel",
            "{d}@demo: +1")),
    # stock 2: a line of 2 waits in front of a line of 1; a unit freed serves the smaller one
    Script(2, ("{a}@demo: +1", "{e}@demo: +1", "{b}@demo: +2", "{c}@demo: +1"),
           ("{a}@demo: /cancel", "{b}@demo: /cancel", "leader@demo: /cancelorder {line_e}",
            "{c}@demo: /cancel")),
    # stock 2: the leader marks paid the line its member cancels, a third member waits
    Script(2, ("{a}@demo: +1", "{e}@demo: +1", "{b}@demo: +1"),
           ("{a}@demo: /cancel", "leader@demo: /paid {line_a}", "{b}@demo: /cancel",
            "{d}@demo: +1")),
]


def lines_of_buy(app: App, buy_id: int) -> list[tuple[str, int, str, int]]:
    """(handle, order id, status, quantity) of every line of the buy, oldest first."""
    with session_of(app) as session:
        rows = session.execute(
            select(ChannelAccount.handle, Order.id, Order.status, Order.quantity)
            .join(ChannelAccount, ChannelAccount.member_id == Order.member_id)
            .where(Order.group_buy_id == buy_id).order_by(Order.id)
        ).all()
    return [(handle, int(order_id), status, int(quantity)) for handle, order_id, status, quantity in rows]


def latest_buy(app: App) -> GroupBuy:
    with session_of(app) as session:
        return session.execute(select(GroupBuy).order_by(GroupBuy.id.desc()).limit(1)).scalar_one()  # type: ignore[union-attr]


def free_stock_after_checks(app: App, buy_id: int, context: str) -> int:
    """The round's invariants; returns the free units."""
    buy = latest_buy(app)
    assert buy.id == buy_id
    lines = lines_of_buy(app, buy_id)
    holding = sum(q for _, _, status, q in lines if status in ("allocated", "paid", "delivered"))
    assert buy.allocated == holding, (context, lines)
    assert buy.stock is not None and 0 <= buy.allocated <= buy.stock, (context, lines)
    free = buy.stock - buy.allocated
    waiting = [q for _, _, status, q in lines if status == "waitlisted"]
    assert all(q > free for q in waiting), ("a waiting line fits the free stock", context, lines)
    return free


def test_a_cancel_racing_a_promotion_never_leaks_stock(app: App, console: ConsoleChannel,
                                                       workers: Workers):
    errors = {app.deps.renderer.render(locale, "error") for locale in ("en", "zh-Hant", "zh-Hans")}
    for number, script in enumerate(SCRIPTS * ROUNDS):
        names = {who: f"{who}{number}" for who in "abcdez"}
        if number:
            say(console, "leader@demo: /close")
        say(console, f"leader@demo: /open Race {number} | 100 | {script.stock} | 12-01 20:00")
        buy_id = latest_buy(app).id
        assert buy_id is not None
        say(console, *(line.format(**names) for line in script.before))
        first_line = {}
        for handle, order_id, _, _ in reversed(lines_of_buy(app, buy_id)):
            first_line[f"line_{next(k for k, v in names.items() if v == handle)}"] = order_id
        race = tuple(line.format(**names, **first_line) for line in script.race)

        replies = workers.round(race)

        context = f"round {number}: {race}"
        assert not errors & set(replies), (context, replies)
        free = free_stock_after_checks(app, buy_id, context)
        say(console, f"{names['z']}@demo: +1")
        [(_, _, status, _)] = [line for line in lines_of_buy(app, buy_id) if line[0] == names["z"]]
        assert status == ("allocated" if free else "waitlisted"), (context, lines_of_buy(app, buy_id))
        free_stock_after_checks(app, buy_id, context + " then +1")


def points_on_lines(app: App, buy_id: int) -> list[tuple[str, str, int, int]]:
    """(handle, line status, points on the line, member's balance) of every line of the buy."""
    with session_of(app) as session:
        rows = session.execute(
            select(ChannelAccount.handle, Order.status, Order.points_used, Member.points_balance)
            .join(ChannelAccount, ChannelAccount.member_id == Order.member_id)
            .join(Member, Member.id == Order.member_id)
            .where(Order.group_buy_id == buy_id).order_by(Order.id)
        ).all()
    return [(h, s, int(p), int(b)) for h, s, p, b in rows]


def test_points_put_on_a_line_as_it_is_cancelled_are_never_lost(app: App, console: ConsoleChannel,
                                                                workers: Workers):
    """'/usepoints' racing the member's '/cancel' or the leader's '/cancelorder': either the
    line is cancelled and the points are back, or it holds them; never a cancelled line that
    kept them."""
    for number in range(ROUNDS * 2):
        a, b = f"a{number}", f"b{number}"
        if number:
            say(console, "leader@demo: /close")
        say(console, f"leader@demo: /open Points {number} | 100 | 5 | 12-01 20:00",
            f"{a}@demo: +1", f"{b}@demo: +1",
            f"leader@demo: /grant @{a} 500 race", f"leader@demo: /grant @{b} 500 race")
        buy_id = latest_buy(app).id
        line_a = next(order_id for handle, order_id, _, _ in lines_of_buy(app, buy_id)  # type: ignore[arg-type]
                      if handle == a)
        workers.round((f"{a}@demo: /usepoints 50", f"leader@demo: /cancelorder {line_a}",
                       f"{b}@demo: /usepoints 50", f"{b}@demo: /cancel"))
        for handle, status, points, balance in points_on_lines(app, buy_id):  # type: ignore[arg-type]
            held = points if status == "allocated" else 0
            assert balance + held == 500, (number, handle, status, points, balance)
            assert status == "allocated" or points == 0 or balance == 500
        ledgers_balance(app)


def test_plus_ones_racing_in_a_group_pass_neither_the_stock_nor_the_member_limit(
        app: App, console: ConsoleChannel, workers: Workers):
    """Four '+1' at once, held by the chat's open buy (models.joining): one member at a limit
    of 2 (new: made once, by whichever first message wins) gets exactly 2; four members after
    the last unit get exactly one of it."""
    for number in range(ROUNDS):
        a, b, c, d, e = (f"{who}{number}" for who in "abcde")
        if number:
            say(console, "leader@demo: /close")
        say(console, f"leader@demo: /open Limit {number} | 100 | 10 | 12-01 20:00 | - | - | 2")
        buy_id = latest_buy(app).id
        replies = workers.round((f"{a}@demo: +1",) * WORKERS)  # new: four first contacts at once
        with session_of(app) as session:
            assert len(session.execute(select(ChannelAccount.member_id)
                                       .where(ChannelAccount.external_id == a)).all()) == 1
        assert sorted(status for handle, _, status, _ in lines_of_buy(app, buy_id)  # type: ignore[arg-type]
                      if handle == a) == ["allocated", "allocated"], (number, replies)
        say(console, "leader@demo: /close",
            f"leader@demo: /open Last {number} | 100 | 2 | 12-01 20:00", f"{e}@demo: +1")
        buy_id = latest_buy(app).id
        workers.round(tuple(f"{who}@demo: +1" for who in (a, b, c, d)))
        lines = lines_of_buy(app, buy_id)  # type: ignore[arg-type]
        assert sorted(status for _, _, status, _ in lines) == [
            "allocated", "allocated", "waitlisted", "waitlisted", "waitlisted"], (number, lines)
        free_stock_after_checks(app, buy_id, f"round {number}")  # type: ignore[arg-type]
