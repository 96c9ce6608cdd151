"""A state machine over earns, spends, refunds, cancels and expiry, through the console.

After every step, for the member:
  * cached balance == sum of the ledger's deltas; cached debt == sum of its debt_deltas;
  * balance >= 0, debt >= 0, and a debt exists only while the balance is 0;
  * balance + (spent - returned) + expired - debt == earned - taken_back
    where earned is every earning (delivery points, check-ins), spent the points put on
    orders with /usepoints, returned what came back when such an order was cancelled or
    refunded, expired what expiry wrote off (the nightly job's function), and taken_back
    the full earnings of refunded orders (what the balance could not cover is the debt).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from bot.app import App
from bot.console import ConsoleChannel
from models import ledger
from models.db import UnitOfWork
from models.tables import GroupBuy, Member, Order, PointsEntry
from tests.conftest import Clock, say
from tests.groupbuy_helpers import member

START = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
TAIPEI = ZoneInfo("Asia/Taipei")
_examples = iter(range(1, 10**9))


def order(app: App, order_id: int) -> Order:
    with app.deps.sessions() as session:
        found = session.get(Order, order_id)
        assert found is not None
        return found


def earning(app: App, key: str) -> int:
    with app.deps.sessions() as session:
        return int(session.execute(select(PointsEntry.delta)
                                   .where(PointsEntry.idem_key == key)).scalar() or 0)


class PointsMachine(RuleBasedStateMachine):
    app: App
    clock: Clock

    def __init__(self) -> None:
        """Each example is a new member (no wiping between examples: it is slow on PostgreSQL)."""
        super().__init__()
        self.clock.now = START
        self.console = ConsoleChannel(self.app.deps)
        self.name = f"amy{next(_examples)}"
        say(self.console, f"{self.name}: /start")
        self.amy = member(self.console, self.name).id
        self.open: list[int] = []       # allocated lines
        self.delivered: list[int] = []
        self.earned = self.spent = self.returned = self.expired = self.taken_back = 0
        self.checked_in: set[str] = set()

    def say(self, *lines: str) -> None:
        say(self.console, *lines)

    @rule(price=st.integers(20, 900))
    def join(self, price: int) -> None:
        self.say(f"leader@demo: /open P | {price} | - | 3h")
        with self.app.deps.sessions() as session:
            number = session.execute(select(func.max(GroupBuy.number))).scalar_one()
        self.say(f"{self.name}@demo: +1 #{number}")
        with self.app.deps.sessions() as session:
            line = session.execute(select(Order.id).where(Order.member_id == self.amy)
                                   .order_by(Order.id.desc())).scalars().first()  # type: ignore[union-attr]
        assert line is not None
        self.open.append(line)

    @precondition(lambda self: self.open)
    @rule(pick=st.integers(0, 50), points=st.integers(1, 400))
    def use_points(self, pick: int, points: int) -> None:
        line = order(self.app, self.open[pick % len(self.open)])
        number = self._number(line)
        self.say(f"{self.name}: /usepoints {points} #{number}")
        self.spent += order(self.app, line.id).points_used - line.points_used  # type: ignore[arg-type]

    @precondition(lambda self: self.open)
    @rule(pick=st.integers(0, 50))
    def deliver(self, pick: int) -> None:
        line_id = self.open.pop(pick % len(self.open))
        self.say(f"leader@demo: /delivered {line_id}")
        assert order(self.app, line_id).status == "delivered"
        self.earned += earning(self.app, f"order:{line_id}:earn")
        self.delivered.append(line_id)

    @precondition(lambda self: self.delivered)
    @rule(pick=st.integers(0, 50))
    def refund(self, pick: int) -> None:
        line_id = self.delivered.pop(pick % len(self.delivered))
        self.say(f"leader@demo: /cancelorder {line_id}")
        line = order(self.app, line_id)
        assert line.status == "refunded"
        self.taken_back += earning(self.app, f"order:{line_id}:earn")
        self.returned += line.points_used

    @precondition(lambda self: self.open)
    @rule(pick=st.integers(0, 50))
    def cancel(self, pick: int) -> None:
        line_id = self.open.pop(pick % len(self.open))
        self.say(f"leader@demo: /cancelorder {line_id}")
        assert order(self.app, line_id).status == "cancelled"
        self.returned += order(self.app, line_id).points_used

    @rule()
    def checkin(self) -> None:
        self.say(f"{self.name}: /checkin")
        key = f"checkin:{self.amy}:{self.clock.now.astimezone(TAIPEI).date().isoformat()}"
        if key not in self.checked_in:  # a second check-in the same day earns nothing
            self.checked_in.add(key)
            self.earned += earning(self.app, key)

    @rule(days=st.integers(1, 400))
    def time_passes(self, days: int) -> None:
        """A day (the next check-in counts) or up to a year and more (points expire)."""
        self.clock.advance(days=days)
        with UnitOfWork(self.app.deps.sessions) as uow:  # what the nightly job does, for amy
            amy = uow.session.get_one(Member, self.amy)
            self.expired += ledger.expire(uow.session, amy, self.clock.now.astimezone(TAIPEI).date())
            uow.commit()

    def _number(self, line: Order) -> int:
        with self.app.deps.sessions() as session:
            buy = session.get(GroupBuy, line.group_buy_id)
            assert buy is not None
            return buy.number

    @invariant()
    def the_ledger_reconciles(self) -> None:
        with self.app.deps.sessions() as session:
            amy = session.get(Member, self.amy)
            assert amy is not None
            balance, debt = amy.points_balance, amy.points_debt
            assert balance == ledger.ledger_sum(session, self.amy)
            assert debt == ledger.debt_sum(session, self.amy)
        assert balance >= 0 and debt >= 0
        assert debt == 0 or balance == 0
        assert (balance + (self.spent - self.returned) + self.expired - debt
                == self.earned - self.taken_back)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_points_never_go_negative_and_the_ledger_always_reconciles(app, clock):
    machine = type("Machine", (PointsMachine,), {"app": app, "clock": clock})
    machine.TestCase.settings = settings(  # type: ignore[attr-defined]
        max_examples=15, stateful_step_count=20, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    machine.TestCase().runTest()  # type: ignore[attr-defined]
