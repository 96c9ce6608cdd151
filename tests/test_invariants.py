"""The invariants hold whatever members and the leader send, in whatever order.

A hypothesis state machine drives the channel-neutral entry point `handle` with a leader and
a few members of the demo group sending valid and hostile commands (huge and full-width
numbers, broken unicode, the same event twice) while the clock moves. After every step:
cached balances equal their ledgers, stock is never oversold and `allocated` is the sum of
the active lines, no coupon sits on two live orders, no event made two order lines, and
`handle` never answered with the generic error.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.app import App, bootstrap
from bot.demo import seed_demo
from bot.settings import Settings
from handlers.dispatch import handle
from messages.render import LOCALES
from messages.types import Incoming, Reply
from models.db import UnitOfWork, make_engine
from models.tables import Coupon, GroupBuy, Member, Order, PointsEntry
from tests.conftest import DATABASE_URL, Clock
from tests.groupbuy_helpers import fetch

LEADER = "leader"
MEMBERS = ("amy", "bob", "cat")
LIVE = ("allocated", "waitlisted", "paid", "delivered")
START = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Taipei, in a birthday month below

_FULL_WIDTH = str.maketrans("0123456789-+", "０１２３４５６７８９－＋")
_INTS = st.one_of(st.integers(-2, 12), st.integers(2**31 - 2, 10**25)).map(str)
HOSTILE = st.one_of(_INTS, _INTS.map(lambda s: s.translate(_FULL_WIDTH)),
                    st.sampled_from(["一", "兩", "1e30", "1,000", "", "x", "3.5"]))
SMALL = st.sampled_from(["1", "2", "3", "１", "一", "5"])
NUMBERS = st.one_of(SMALL, SMALL, HOSTILE)  # mostly what members mean, often what they should not
BUY = st.sampled_from(["", "", "", " #1", " #2", " #99999999"])
# any code point: lone surrogates, NUL and other controls, emoji, CJK
GARBAGE = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)


def sender() -> st.SearchStrategy[str]:
    return st.sampled_from(MEMBERS)


class Conversations(RuleBasedStateMachine):
    """One example: a fresh demo community, a leader, three members, one group."""

    app: App
    clock: Clock

    def __init__(self) -> None:
        super().__init__()
        wipe(self.app.engine)
        self.clock.now = START
        with UnitOfWork(self.app.deps.sessions) as uow:
            seed_demo(uow.session, START)
            uow.commit()
        self.sent: list[Incoming] = []
        self.errors = {self.app.deps.renderer.render(locale, "error") for locale in LOCALES}

    @initialize(stock=st.integers(1, 4), limit=st.sampled_from(["-", "2"]))
    def everyone_says_hello_and_a_buy_opens(self, stock: int, limit: str) -> None:
        for who in MEMBERS:
            self.send(who, "/me")
        self.send(LEADER, f"/open 蘋果 | 350 | {stock} | 3h | - | - | {limit}")

    # sending ------------------------------------------------------------------------------

    def send(self, who: str, text: str, group: bool = True) -> list[Reply]:
        msg = Incoming(channel="console", chat="demo" if group else who, sender=who, text=text,
                       message_id=f"m{len(self.sent)}", is_group=group, sender_name=who,
                       handle=who)
        self.sent.append(msg)
        return self.deliver(msg)

    def deliver(self, msg: Incoming) -> list[Reply]:
        replies = handle(msg, self.app.deps)
        assert not [r for r in replies if r.text in self.errors], f"generic error for {msg.text!r}"
        return replies

    # members ------------------------------------------------------------------------------

    @rule(who=sender(), sign=st.sampled_from(["+", "＋", "加", "/join ", "+ "]), n=NUMBERS,
          buy=BUY)
    def join(self, who: str, sign: str, n: str, buy: str) -> None:
        self.send(who, f"{sign}{n}{buy}")

    @rule(who=sender(), n=st.sampled_from(["1", "1", "2", "１"]))
    def plus_one(self, who: str, n: str) -> None:
        self.send(who, f"+{n}")

    @rule(who=sender(), n=st.sampled_from(["1", "2"]))
    def plus_one_too(self, who: str, n: str) -> None:
        self.send(who, f"+{n}")

    @rule(who=sender(), buy=BUY, group=st.booleans())
    def cancel(self, who: str, buy: str, group: bool) -> None:
        self.send(who, f"/cancel{buy}", group)

    @rule(who=sender(), n=NUMBERS, buy=BUY, group=st.booleans())
    def use_points(self, who: str, n: str, buy: str, group: bool) -> None:
        self.send(who, f"/usepoints {n}{buy}", group)

    @rule(who=sender(), group=st.booleans(), data=st.data())
    def use_coupon(self, who: str, group: bool, data: st.DataObject) -> None:
        codes = fetch(self.app, select(Coupon.code).order_by(Coupon.id))
        code = data.draw(st.one_of(st.sampled_from(codes), GARBAGE) if codes else GARBAGE)
        self.send(who, f"/usecoupon {code}", group)

    @rule(who=sender(), text=st.sampled_from(
        ["/checkin", "/birthday 03-15", "/claim", "/me", "/orders", "/points", "/coupons"]))
    def member_command(self, who: str, text: str) -> None:
        self.send(who, text, group=text not in ("/claim", "/coupons"))

    @rule(who=sender())
    def start_in_private(self, who: str) -> None:
        self.send(who, "/start", group=False)

    @rule(who=st.sampled_from((LEADER, *MEMBERS)), text=GARBAGE, group=st.booleans())
    def garbage(self, who: str, text: str, group: bool) -> None:
        self.send(who, text, group)

    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        if self.sent:
            again = data.draw(st.sampled_from(self.sent))
            assert self.deliver(again) == [], f"a redelivery of {again.text!r} was answered"

    @rule(minutes=st.sampled_from([1, 5, 20, 45, 90, 60 * 24 * 40]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    # the leader ---------------------------------------------------------------------------

    @rule(who=st.sampled_from((LEADER, LEADER, "amy")), verb=st.sampled_from(["grant", "deduct"]),
          whom=st.sampled_from(["@amy", "@bob", "@cat", "@leader", "@nobody", ""]), n=NUMBERS)
    def adjust_points(self, who: str, verb: str, whom: str, n: str) -> None:
        self.send(who, f"/{verb} {whom} {n} test")

    @rule(stock=st.sampled_from(["0", "1", "2", "3", "5", "-", "99999999999"]),
          limit=st.sampled_from(["", " | - | - | 2", " | - | - | 1"]),
          price=st.sampled_from(["350", "120", "1000000", "0"]))
    def open_buy(self, stock: str, limit: str, price: str) -> None:
        self.send(LEADER, f"/open 梨 | {price} | {stock} | 2h{limit}")

    @rule(who=st.sampled_from((LEADER, LEADER, "bob")), buy=BUY)
    def close(self, who: str, buy: str) -> None:
        self.send(who, f"/close{buy}")

    @rule(verb=st.sampled_from(["paid", "delivered", "cancelorder"]), data=st.data())
    def mark(self, verb: str, data: st.DataObject) -> None:
        ids = [str(i) for i in fetch(self.app, select(Order.id))]
        words = data.draw(st.lists(st.one_of(st.sampled_from(ids), NUMBERS) if ids else NUMBERS,
                                   min_size=1, max_size=3))
        target = data.draw(st.sampled_from([" ".join(words), "all", " ".join(words) + " #1"]))
        self.send(LEADER, f"/{verb} {target}")

    # invariants ---------------------------------------------------------------------------

    @invariant()
    def the_books_hold(self) -> None:
        """One read per step (it runs after every step: on PostgreSQL time counts)."""
        with self.app.deps.sessions() as session:
            assert session.execute(UNBALANCED).all() == [], "a cached balance is not its ledger"
            assert session.execute(OVERSOLD).all() == [], "stock oversold or not the lines' sum"
            assert session.execute(SHARED_COUPONS).all() == [], "a coupon on two live orders"
            assert session.execute(EVENT_TWICE).all() == [], "one event made two order lines"


_LEDGER = (select(PointsEntry.member_id, func.sum(PointsEntry.delta).label("total"))
           .group_by(PointsEntry.member_id).subquery())
UNBALANCED = (select(Member.id, Member.points_balance, _LEDGER.c.total)
              .outerjoin(_LEDGER, _LEDGER.c.member_id == Member.id)
              .where(Member.points_balance != func.coalesce(_LEDGER.c.total, 0)))
_ACTIVE = (select(Order.group_buy_id, func.sum(Order.quantity).label("units"))
           .where(Order.status.in_(("allocated", "paid", "delivered")))  # type: ignore[attr-defined]
           .group_by(Order.group_buy_id).subquery())
OVERSOLD = (select(GroupBuy.id, GroupBuy.stock, GroupBuy.allocated, _ACTIVE.c.units)
            .outerjoin(_ACTIVE, _ACTIVE.c.group_buy_id == GroupBuy.id)
            .where(or_(GroupBuy.allocated != func.coalesce(_ACTIVE.c.units, 0),
                       GroupBuy.allocated > func.coalesce(GroupBuy.stock, GroupBuy.allocated))))
SHARED_COUPONS = (select(Order.coupon_id)
                  .where(Order.coupon_id.is_not(None), Order.status.in_(LIVE))  # type: ignore[union-attr, attr-defined]
                  .group_by(Order.coupon_id).having(func.count() > 1))
EVENT_TWICE = select(Order.source_key).group_by(Order.source_key).having(func.count() > 1)


def wipe(engine: Engine) -> None:
    """Empty every table; DELETE, as the tables hold a few rows (TRUNCATE costs more)."""
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def engine_for_examples(db: Engine) -> Iterator[Engine]:
    """The test database; on PostgreSQL without waiting for each commit to reach the disk
    (hundreds of short transactions, and durability is not what is tested here)."""
    if db.dialect.name != "postgresql":
        yield db
        return
    fast = make_engine(db.url.render_as_string(hide_password=False),
                       connect_args={"options": "-c synchronous_commit=off"})
    yield fast
    fast.dispose()


def test_handle_keeps_every_invariant_whatever_is_sent(engine_for_examples: Engine, tmp_path: Path):
    clock = Clock(START)
    app = bootstrap(Settings(database_url=DATABASE_URL, home=tmp_path), clock=clock,
                    engine=engine_for_examples, migrate=False)

    class Machine(Conversations):
        pass

    Machine.app, Machine.clock = app, clock
    run_state_machine_as_test(Machine, settings=settings(
        max_examples=30, stateful_step_count=20, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
