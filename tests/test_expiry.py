"""Points expire FIFO at the end of the 12th month after earning; the job is idempotent."""

from __future__ import annotations

from sqlmodel import Session

from models import ledger
from models.tables import Member
from scheduler.expiry import expire_points
from tests.conftest import say


def balance(console, name: str) -> tuple[int, int]:
    from sqlalchemy import select

    from models.tables import ChannelAccount

    with Session(console.deps.sessions.kw["bind"]) as session:  # type: ignore[attr-defined]
        member = session.execute(select(Member).join(ChannelAccount, ChannelAccount.member_id == Member.id)
                                 .where(ChannelAccount.handle == name)).scalar_one()
        return member.points_balance, ledger.ledger_sum(session, member.id)  # type: ignore[arg-type]


def test_points_expire_after_the_twelfth_month_and_only_once(console, clock):
    say(console, "amy: /start", "leader@demo: /grant @amy 40 march gift")  # 2026-03-10
    clock.advance(days=200)
    say(console, "leader@demo: /grant @amy 10 autumn gift", "leader@demo: /deduct @amy 15 typo")
    clock.advance(days=187)  # 2027-04-01: the March 2026 lot (25 left) expired on 2027-03-31
    assert expire_points(console.deps) == 25
    assert expire_points(console.deps) == 0
    assert balance(console, "amy") == (10, 10)


def test_nothing_expires_before_its_month_ends(console, clock):
    say(console, "amy: /start", "leader@demo: /grant @amy 40 gift")
    clock.advance(days=380)  # 2027-03-25
    assert expire_points(console.deps) == 0
    assert balance(console, "amy") == (40, 40)
