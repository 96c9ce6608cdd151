"""Any sequence of line operations on one group buy keeps stock, waitlist and ledgers right.

A Hypothesis state machine over the domain operations (join N, a member's cancel, the
leader's cancel of any line, mark paid, deliver, refund, close), each in its own transaction
as a message would be. Operations are also tried on lines no longer in the status they
expect, as the loser of a race would: they must change nothing. After every step:
`allocated` is the units of the lines holding stock and never above the stock; no waiting
line could be served from free stock (the README's waitlist rule); nobody waits once the buy
is closed; every cached balance is its ledger's sum; every commission reversal matches a sale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlmodel import Session

from bot.app import App
from bot.demo import seed_demo
from models import buying, fulfilment, groupbuys, orderlines
from models.errors import DomainError
from models.tables import CommissionEntry, GroupBuy, Member, Order
from tests.conftest import empty_tables
from tests.distribution_helpers import everyone_distributes
from tests.test_fulfilment import (
    TAIPEI,
    assert_ledgers_balance,
    assert_stock_consistent,
    now_of,
    open_buy,
    person,
    programme,
    spend,
    step,
    today_of,
)

Operation = Callable[[Session, GroupBuy, Order], Any]


class OneBuy(RuleBasedStateMachine):
    """Four members (a referral chain, so deliveries and refunds move commission) and one buy."""

    lines = Bundle("lines")

    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app
        empty_tables(app.engine)
        with step(app) as session:
            seed_demo(session, now_of(app))
        everyone_distributes(app)  # every referrer earns commission
        ann = person(app, "ann")
        ben = person(app, "ben", referrer="ann")
        cal = person(app, "cal", referrer="ben")
        self.people = [ann, ben, cal, person(app, "dee", referrer="cal")]
        self.buy_id: int | None = None
        self.closed = False
        self.keys = iter(range(1, 10**6))

    @initialize(stock=st.integers(1, 5))
    def open(self, stock: int) -> None:
        self.buy_id = open_buy(self.app, price=120_000, stock=stock, cycle=7)

    # Members -------------------------------------------------------------------------------

    @precondition(lambda self: not self.closed)
    @rule(target=lines, who=st.integers(0, 3), quantity=st.integers(1, 3))
    def join(self, who: int, quantity: int) -> Any:
        with step(self.app) as session:
            buy, member = session.get(GroupBuy, self.buy_id), session.get(Member, self.people[who])
            assert buy is not None and member is not None
            joined = buying.join_buy(session, buy=buy, member=member, quantity=quantity,
                                     source_key=f"sm:{next(self.keys)}",
                                     programme=programme(session), now=now_of(self.app), tz=TAIPEI)
            return multiple(*(line.id for line in joined.orders))

    @precondition(lambda self: not self.closed)
    @rule(who=st.integers(0, 3))
    def member_cancels(self, who: int) -> None:
        with step(self.app) as session:
            buy = session.get(GroupBuy, self.buy_id)
            assert buy is not None
            member = session.get(Member, self.people[who])
            assert buy is not None and member is not None
            mine = groupbuys.lines_of(session, buy.id, member.id, buying.MEMBER_CANCELS)  # type: ignore[arg-type]
            try:
                done = buying.cancel_member_lines(session, buy=buy, member=member,
                                                  programme=programme(session),
                                                  today=today_of(self.app), now=now_of(self.app))
            except DomainError as refusal:
                assert not mine and refusal.key == "nothing_to_cancel"
                return
            assert done.units == sum(line.quantity for line in mine)

    # The leader, on any line, whatever its status now ---------------------------------------

    @rule(line=lines)
    def leader_cancels(self, line: int) -> None:
        self._expecting(line, orderlines.CANCELLABLE, lambda session, buy, order: fulfilment.cancel(
            session, order, buy, programme(session), today_of(self.app), now_of(self.app)))

    @rule(line=lines)
    def mark_paid(self, line: int) -> None:
        self._expecting(line, ("allocated",), lambda session, buy, order: orderlines.mark_paid(
            session, buy.id, order.id, now=now_of(self.app)) or None)  # type: ignore[arg-type]

    @rule(line=lines)
    def deliver(self, line: int) -> None:
        self._expecting(line, ("allocated", "paid"), lambda session, buy, order: fulfilment.deliver(
            session, order, buy, programme(session), today_of(self.app), now_of(self.app)))

    @rule(line=lines)
    def refund(self, line: int) -> None:
        self._expecting(line, ("delivered",), lambda session, buy, order: fulfilment.refund(
            session, order, buy, programme(session), today_of(self.app), now_of(self.app)))

    @precondition(lambda self: self.buy_id is not None)
    @rule()
    def close(self) -> None:
        with step(self.app) as session:
            waiting = {o.id for o, _ in groupbuys.buy_orders(session, self.buy_id, ("waitlisted",))}  # type: ignore[arg-type]
            ended = orderlines.close_buy(session, self.buy_id, now=now_of(self.app))  # type: ignore[arg-type]
            if self.closed:  # closing a closed buy changes nothing and says so
                assert ended is None
            else:
                assert ended is not None and {line.id for line in ended} == waiting
        self.closed = True

    def _expecting(self, line_id: int, expected: tuple[str, ...], operation: Operation) -> None:
        """The operation changes the line iff its status is one it expects; else nothing at all."""
        before = self._snapshot(line_id)
        with step(self.app) as session:
            order, buy = session.get(Order, line_id), session.get(GroupBuy, self.buy_id)
            assert order is not None and buy is not None
            done = operation(session, buy, order) is not None
        assert done == (before[0][0] in expected), (before, expected)
        if not done:
            assert self._snapshot(line_id) == before

    def _snapshot(self, line_id: int) -> tuple[Any, ...]:
        with self.app.deps.sessions() as session:
            order, buy = session.get(Order, line_id), session.get(GroupBuy, self.buy_id)
            assert order is not None and buy is not None
            return ((order.status, order.paid_at, order.delivered_at, order.cancelled_at),
                    buy.allocated)

    # After every step -----------------------------------------------------------------------

    @precondition(lambda self: self.buy_id is not None)
    @invariant()
    def stock_is_the_units_of_the_lines_holding_it(self) -> None:
        assert_stock_consistent(self.app)

    @precondition(lambda self: self.buy_id is not None)
    @invariant()
    def no_waiting_line_could_be_served_from_free_stock(self) -> None:
        with self.app.deps.sessions() as session:
            buy = session.get(GroupBuy, self.buy_id)
            assert buy is not None and buy.stock is not None
            waiting = session.execute(select(Order.quantity).where(
                Order.group_buy_id == buy.id, Order.status == "waitlisted")).scalars().all()
        assert all(quantity > buy.stock - buy.allocated for quantity in waiting)
        assert not (self.closed and waiting)

    @invariant()
    def ledgers_and_spend_add_up(self) -> None:
        assert_ledgers_balance(self.app)
        assert all(spend(self.app, member_id) >= 0 for member_id in self.people)

    @invariant()
    def every_commission_reversal_matches_a_sale(self) -> None:
        with self.app.deps.sessions() as session:
            totals = session.execute(select(CommissionEntry.order_id, CommissionEntry.level,
                                            func.sum(CommissionEntry.base))
                                     .where(CommissionEntry.order_id.is_not(None))  # type: ignore[union-attr]
                                     .group_by(CommissionEntry.order_id, CommissionEntry.level)).all()
            for order_id, level, total in totals:
                order = session.get(Order, order_id)
                assert order is not None and level in (1, 2)
                assert total == (0 if order.status == "refunded" else order.net)


def test_any_sequence_of_line_operations_keeps_stock_waitlist_and_ledgers_right(app: App):
    examples = 30 if app.engine.dialect.name == "sqlite" else 8  # the same rules, cheaper
    run_state_machine_as_test(lambda: OneBuy(app), settings=settings(
        max_examples=examples, stateful_step_count=20, deadline=None))
