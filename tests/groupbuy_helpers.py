"""Shared helpers for the group-buy tests: reading the database as the tests see it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bot.app import App
from bot.console import ConsoleChannel
from models.db import UnitOfWork
from models.ledger import ledger_sum
from models.tables import ChannelAccount, GroupBuy, Member, Order
from tests.conftest import say


def session_of(app_or_console: App | ConsoleChannel) -> Session:
    deps = app_or_console.deps
    return deps.sessions()


def fetch(app_or_console: App | ConsoleChannel, statement: Any) -> list[Any]:
    """All rows of a query (scalars when it selects one entity or column)."""
    with session_of(app_or_console) as session:
        result = session.execute(statement)
        rows = result.all()
        if rows and len(rows[0]) == 1:
            return [row[0] for row in rows]
        return list(rows)


def count(app_or_console: App | ConsoleChannel, table: type) -> int:
    with session_of(app_or_console) as session:
        return int(session.execute(select(func.count()).select_from(table)).scalar_one())


def member(app_or_console: App | ConsoleChannel, handle: str) -> Member:
    """The member behind a console handle (someone who has typed a command)."""
    with session_of(app_or_console) as session:
        return session.execute(
            select(Member).join(ChannelAccount, ChannelAccount.member_id == Member.id)
            .where(ChannelAccount.handle == handle)
        ).scalar_one()


def the_buy(app_or_console: App | ConsoleChannel, number: int = 1) -> GroupBuy:
    with session_of(app_or_console) as session:
        return session.execute(select(GroupBuy).where(GroupBuy.number == number)).scalar_one()


def orders_of(app_or_console: App | ConsoleChannel, handle: str) -> list[Order]:
    who = member(app_or_console, handle)
    return fetch(app_or_console, select(Order).where(Order.member_id == who.id).order_by(Order.id))


def units(app_or_console: App | ConsoleChannel, status: str, number: int = 1) -> dict[str, int]:
    """Display name → units in lines of this status, for group buy `number`."""
    rows = fetch(app_or_console, select(Member.display_name, func.sum(Order.quantity))
                 .join(Member, Member.id == Order.member_id)
                 .join(GroupBuy, GroupBuy.id == Order.group_buy_id)
                 .where(GroupBuy.number == number, Order.status == status)
                 .group_by(Member.display_name))
    return {name: int(n) for name, n in rows}


def ledgers_balance(app_or_console: App | ConsoleChannel) -> None:
    """Every member's cached balance equals the sum of its ledger."""
    with session_of(app_or_console) as session:
        for who in session.execute(select(Member)).scalars():
            assert who.points_balance == ledger_sum(session, who.id), who.display_name  # type: ignore[arg-type]


def stock_consistent(app_or_console: App | ConsoleChannel) -> None:
    """`allocated` is the sum of the active lines and never more than the stock."""
    with UnitOfWork(app_or_console.deps.sessions) as uow:
        for buy in uow.session.execute(select(GroupBuy)).scalars():
            active = uow.session.execute(
                select(func.coalesce(func.sum(Order.quantity), 0)).where(
                    Order.group_buy_id == buy.id,
                    Order.status.in_(("allocated", "paid", "delivered")),  # type: ignore[attr-defined]
                )
            ).scalar_one()
            assert buy.allocated == int(active), buy.title
            assert buy.stock is None or buy.allocated <= buy.stock, buy.title


def started(console: ConsoleChannel, *handles: str) -> None:
    """These members open a private chat with the bot (so pushes can reach them)."""
    for handle in handles:
        say(console, f"{handle}: /start")


def english(console: ConsoleChannel, *handles: str) -> None:
    """These members switch to English (in private, which also lets pushes reach them)."""
    for handle in handles:
        say(console, f"{handle}: /lang en")


def referral_code(app_or_console: App | ConsoleChannel, handle: str) -> str:
    return member(app_or_console, handle).referral_code
