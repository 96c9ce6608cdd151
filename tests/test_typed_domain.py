"""Types carry the domain: statuses are enums stored as their plain strings, ids are read
only from flushed rows, the programme configuration is typed, and every table (split into
modules) is still importable from models.tables."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import text

import models.tables as tables
from bot.app import App
from models import groupbuys
from models.programme import programme_from
from models.rules.notify import Quiet
from models.tables import BuyStatus, GroupBuy, LineStatus, Order, OutboxStatus
from models.types import id_of
from tests.test_fulfilment import join, open_buy, person, step

TABLES = ("Community", "ChatGroup", "Member", "ChannelAccount", "Role", "AuditLog", "TierChange",
          "SpendEntry", "PointsEntry", "CouponTemplate", "Coupon", "InboundEvent", "OutboxMessage",
          "SendLog", "ReplyToken", "PacingState", "GroupBuy", "Order", "CommissionEntry",
          "Conversation", "LinkCode")


def test_every_table_and_status_enum_is_importable_from_models_tables() -> None:
    for name in (*TABLES, "LineStatus", "BuyStatus", "OutboxStatus"):
        assert name in tables.__all__ and hasattr(tables, name), name


def test_statuses_are_stored_as_the_same_strings_as_before() -> None:
    assert [s.value for s in LineStatus] == [
        "allocated", "waitlisted", "paid", "delivered", "cancelled", "refunded"]
    assert [s.value for s in BuyStatus] == ["open", "closed"]
    assert [s.value for s in OutboxStatus] == ["pending", "sending", "sent", "failed"]


def test_an_order_line_status_is_written_as_its_string_and_read_back_as_the_enum(app: App) -> None:
    buy_id = open_buy(app, stock=1)
    amy, bob = person(app, "amy"), person(app, "bob")
    first, second = join(app, buy_id, amy)[0], join(app, buy_id, bob)[0]
    with step(app) as session:
        stored = {row[0]: row[1] for row in session.execute(text('SELECT id, status FROM "order"'))}
        assert stored == {first: "allocated", second: "waitlisted"}
        assert session.execute(text("SELECT status FROM groupbuy")).scalar_one() == "open"
        line = session.get(Order, first)
        buy = session.get(GroupBuy, buy_id)
        assert line is not None and buy is not None
        assert line.status is LineStatus.ALLOCATED and line.status == "allocated"
        assert buy.status is BuyStatus.OPEN
        mine = groupbuys.lines_of(session, buy_id, bob, (LineStatus.WAITLISTED,))
        assert [id_of(o) for o in mine] == [second]


def test_id_of_refuses_a_row_the_database_has_not_numbered_yet() -> None:
    with pytest.raises(ValueError, match="flush"):
        id_of(GroupBuy(community_id=1, number=1, channel="console", chat_id="x", title="t", price=1))


def test_the_programme_reads_quiet_hours_weekly_cap_and_upgrade_coupons_as_typed_fields() -> None:
    default = programme_from(None)
    assert default.quiet_hours == Quiet(time(22, 0), time(8, 0))
    assert default.frequency_cap_per_week == 3
    assert default.upgrade_coupon("gold") == 10_000
    custom = programme_from({"quiet_hours": None, "frequency_cap_per_week": None,
                             "upgrade_coupon": {"gold": 25_000}})
    assert custom.quiet_hours is None and custom.frequency_cap_per_week is None
    assert custom.upgrade_coupon("gold") == 25_000 and custom.upgrade_coupon("silver") == 10_000
