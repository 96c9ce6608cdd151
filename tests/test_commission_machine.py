"""A state machine over the real database: any referral tree, any programme configuration
that validates, any sequence of approvals, suspensions, deliveries, refunds, confirmations
and payouts. After every step:
  * commission on an order never exceeds its cap (cap_pct of its net);
  * never more than 2 levels: level 1 is the buyer's referrer (or the buyer, only with
    self-purchase commission), level 2 the next one up, nobody else;
  * nobody earns on their own purchase unless configured;
  * nothing is paid to anyone who was not an active distributor when the order was delivered;
  * every distributor's cached pending / confirmed / paid equal the sums of their entries;
  * a refund reverses the order exactly (nothing stands on it; every total moved back by
    exactly what it had earned on it);
  * the sum of payouts never exceeds the sum confirmed.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from bot.app import App
from models import (
    commission,
    commission_months,
    communities,
    distributors,
    fulfilment,
    groupbuys,
    members,
    referrals,
)
from models.db import UnitOfWork
from models.errors import DomainError
from models.programme import programme_for
from models.rules.commission import MAX_LEVELS
from models.tables import (
    CommissionEntry,
    CommissionKind,
    CommissionMonth,
    Community,
    Distributor,
    GroupBuy,
    Member,
    Order,
)
from models.tables import DistributorStatus as Status
from tests.conftest import Clock

TAIPEI = ZoneInfo("Asia/Taipei")
_communities = count(1)
_payouts = count(1)  # each payout its own (a repeated key pays nothing more)
LADDERS = [[[0, 5], [1_000_000, 8], [3_000_000, 10]], [[0, 3]], [[0, 10], [20_000, 20]]]


class CommissionMachine(RuleBasedStateMachine):
    app: App
    clock: Clock

    def __init__(self) -> None:
        super().__init__()
        self.clock.now = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
        self.people: list[int] = []
        self.delivered: dict[int, int] = {}  # order → buyer
        self.refunded: set[int] = set()
        self.active_at: dict[int, set[int]] = {}  # order → who was an active distributor

    @initialize(mode=st.sampled_from(["apply", "everyone"]), own=st.booleans(),
                ladder=st.sampled_from(LADDERS), level2=st.integers(0, 5), extra=st.integers(0, 10))
    def configure(self, mode: str, own: bool, ladder: list[list[int]], level2: int,
                  extra: int) -> None:
        config = {"distribution": {"mode": mode, "self_purchase": own}, "commission_ladder": ladder,
                  "commission_level2_pct": level2, "commission_cap_pct": ladder[0][1] + extra}
        with UnitOfWork(self.app.deps.sessions) as uow:
            community = communities.create(uow.session, f"c{next(_communities)}", "c")
            community.programme = config
            programme_for(community)  # a configuration that validates
            uow.commit()
            self.community_id = community.id
        self.own, self.cap_pct = own, config["commission_cap_pct"]

    def step(self) -> UnitOfWork:
        return UnitOfWork(self.app.deps.sessions)

    @rule(parent=st.integers(0, 30), root=st.booleans())
    def join(self, parent: int, root: bool) -> None:
        with self.step() as uow:
            community = uow.session.get_one(Community, self.community_id)
            name = f"m{community.id}_{len(self.people)}"
            joined = members.join(uow.session, community, "console", name, name, name, self.clock.now)
            if self.people and not root:
                upline = uow.session.get_one(Member, self.people[parent % len(self.people)])
                referrals.attribute_referral(uow.session, joined, upline)
            uow.commit()
            self.people.append(joined.member.id)  # type: ignore[arg-type]

    @precondition(lambda self: self.people)
    @rule(pick=st.integers(0, 30), to=st.sampled_from([Status.APPROVED, Status.SUSPENDED]))
    def decide(self, pick: int, to: Status) -> None:
        with self.step() as uow:
            who = uow.session.get_one(Member, self.people[pick % len(self.people)])
            community = uow.session.get_one(Community, self.community_id)
            if to == Status.APPROVED and distributors.row_of(uow.session, who.id) is None:  # type: ignore[arg-type]
                with suppress(DomainError):  # under an automatic mode: not qualified, say
                    distributors.apply(uow.session, who, "", programme_for(community), self.clock.now)
            with suppress(DomainError):  # not from the status it needs: nothing changes
                distributors.decide(uow.session, who, to, "x", None, self.clock.now,
                                    programme_for(community))
            uow.commit()

    @precondition(lambda self: self.people)
    @rule(pick=st.integers(0, 30), price=st.integers(1, 5_000))
    def deliver(self, pick: int, price: int) -> None:
        with self.step() as uow:
            session, now = uow.session, self.clock.now
            buyer = session.get_one(Member, self.people[pick % len(self.people)])
            community = session.get_one(Community, self.community_id)
            programme = programme_for(community)
            chain = referrals.referrer_chain(session, buyer, limit=MAX_LEVELS)
            active = {d for d in [*chain, buyer.id]
                      if (row := distributors.row_of(session, d)) is not None  # type: ignore[arg-type]
                      and row.status == Status.APPROVED
                      or (row is None and programme.distribution.mode == "everyone")}
            buy = groupbuys.open_buy(session, community_id=community.id, channel="console",
                                     chat_id=f"c{community.id}", title="P", price=price * 100,
                                     opens_at=now, deadline=now + timedelta(hours=2), created_at=now)
            [line] = groupbuys.join(session, buy, buyer, 1, f"m:{buy.id}", 100, now).orders
            fulfilment.deliver(session, line, buy, programme, now.astimezone(TAIPEI).date(), now)
            uow.commit()
            self.delivered[line.id] = buyer.id  # type: ignore[index]
            self.active_at[line.id] = active  # type: ignore[index]

    @precondition(lambda self: set(self.delivered) - self.refunded)
    @rule(pick=st.integers(0, 50))
    def refund(self, pick: int) -> None:
        open_ = sorted(set(self.delivered) - self.refunded)
        order_id = open_[pick % len(open_)]
        before = self.totals()
        standing = self.standing(order_id)
        with self.step() as uow:
            order = uow.session.get_one(Order, order_id)
            buy = uow.session.get_one(GroupBuy, order.group_buy_id)
            community = uow.session.get_one(Community, self.community_id)
            assert fulfilment.refund(uow.session, order, buy, programme_for(community),
                                     self.clock.now.date(), self.clock.now) is not None
            uow.commit()
        self.refunded.add(order_id)
        after = self.totals()
        for who in set(before) | set(after):
            (p0, c0, d0), (p1, c1, d1) = before.get(who, (0, 0, 0)), after.get(who, (0, 0, 0))
            assert (p1 + c1) - (p0 + c0) == -standing.get(who, 0) and d1 == d0
        assert self.standing(order_id) == {}

    @rule(days=st.integers(1, 10))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days=days)
        with self.step() as uow:
            commission.confirm(uow.session, self.community_id, self.clock.now, TAIPEI)
            uow.commit()

    @precondition(lambda self: self.people)
    @rule(pick=st.integers(0, 30), share=st.integers(1, 150))
    def payout(self, pick: int, share: int) -> None:
        who = self.people[pick % len(self.people)]
        pending, confirmed, _ = self.totals().get(who, (0, 0, 0))
        amount = max(1, confirmed * share // 100)
        with self.step() as uow:
            member = uow.session.get_one(Member, who)
            try:
                commission.payout(uow.session, member, amount, key=f"pay:{next(_payouts)}",
                                  actor_id=who, now=self.clock.now, tz=TAIPEI)
                uow.commit()
                assert amount <= confirmed
            except DomainError:
                assert amount > confirmed or confirmed <= 0 or share > 100

    def totals(self) -> dict[int, tuple[int, int, int]]:
        with self.app.deps.sessions() as session:
            rows = session.execute(select(Distributor).where(
                Distributor.community_id == self.community_id)).scalars()
            return {r.member_id: (r.pending, r.confirmed, r.paid) for r in rows}

    def standing(self, order_id: int) -> dict[int, int]:
        with self.app.deps.sessions() as session:
            rows = session.execute(
                select(CommissionEntry.beneficiary_id,
                       func.sum(CommissionEntry.pending_delta + CommissionEntry.confirmed_delta))
                .where(CommissionEntry.order_id == order_id)
                .group_by(CommissionEntry.beneficiary_id)).all()
        return {int(who): int(total) for who, total in rows if total}

    @invariant()
    def every_order_is_capped_two_levels_and_paid_only_to_active_distributors(self) -> None:
        with self.app.deps.sessions() as session:
            for order_id, buyer in self.delivered.items():
                order = session.get_one(Order, order_id)
                accruals = session.execute(select(CommissionEntry).where(
                    CommissionEntry.order_id == order_id,
                    CommissionEntry.kind == CommissionKind.ACCRUE)).scalars().all()
                assert sum(a.pending_delta for a in accruals) <= order.net * self.cap_pct // 100
                assert sorted(a.level for a in accruals) in ([], [1], [2], [1, 2])
                chain = [buyer] if self.own and buyer in self.active_at[order_id] else []
                chain += referrals.ancestors(session, session.get_one(Member, buyer).referred_by_id,
                                             MAX_LEVELS, stop=buyer)
                chain = chain[:MAX_LEVELS]
                for accrual in accruals:
                    assert accrual.beneficiary_id in self.active_at[order_id]
                    assert accrual.beneficiary_id == chain[accrual.level - 1]
                    assert self.own or accrual.beneficiary_id != buyer
                if order_id in self.refunded:
                    assert self.standing(order_id) == {}

    @invariant()
    def cached_totals_are_the_sums_and_payouts_never_exceed_what_was_confirmed(self) -> None:
        with self.app.deps.sessions() as session:
            for who, cached in self.totals().items():
                assert cached == commission.sums(session, who)
                months = session.execute(select(CommissionMonth).where(
                    CommissionMonth.beneficiary_id == who)).scalars()
                kept = {m.month: {f: getattr(m, f) for f in commission_months.MONTH_FIGURES} for m in months}
                assert {m: f for m, f in kept.items() if any(f.values())} == commission_months.month_sums(
                    session, who)
                confirmed = session.execute(
                    select(func.coalesce(func.sum(CommissionEntry.confirmed_delta), 0))
                    .where(CommissionEntry.beneficiary_id == who,
                           CommissionEntry.kind == CommissionKind.CONFIRM)).scalar_one()
                assert cached[2] <= confirmed


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_commission_is_capped_two_levels_to_active_distributors_and_the_ledger_reconciles(app, clock):
    machine = type("Machine", (CommissionMachine,), {"app": app, "clock": clock})
    machine.TestCase.settings = settings(  # type: ignore[attr-defined]
        max_examples=25, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    machine.TestCase().runTest()  # type: ignore[attr-defined]
