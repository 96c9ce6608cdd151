"""A coupon or points go on a line only while it is open and priced as it was read.

The reprice is one conditional UPDATE: a line cancelled, or priced by someone else, after it
was read is left alone, the member's points and coupon stay theirs, and the answer says so.
"""

from __future__ import annotations

import pytest

from bot.app import App
from models import buying, coupons, fulfilment
from models.errors import DomainError
from models.rules.coupons import AMOUNT_OFF
from models.tables import Coupon, GroupBuy, Member, Order
from tests.test_fulfilment import (
    balance,
    get,
    grant,
    join,
    now_of,
    open_buy,
    person,
    programme,
    step,
    today_of,
)


def a_line_with_points_to_spend(app: App) -> tuple[int, int]:
    amy = person(app, "amy")
    grant(app, amy, 500)
    [order_id] = join(app, open_buy(app, price=100_000, stock=5), amy)
    return amy, order_id


def read(app: App, order_id: int) -> Order:
    """The line as a handler read it, before anything else happened."""
    with step(app) as session:
        order = session.get(Order, order_id)
        assert order is not None
        return order


def use_points(app: App, order: Order, points: int) -> None:
    with step(app) as session:
        buy, who = session.get(GroupBuy, order.group_buy_id), session.get(Member, order.member_id)
        assert buy is not None and who is not None
        buying.apply_points(session, buy=buy, order=order, member=who, points=points,
                            programme=programme(session), today=today_of(app))


def cancel(app: App, order_id: int) -> None:
    with step(app) as session:
        order = session.get(Order, order_id)
        assert order is not None
        buy = session.get(GroupBuy, order.group_buy_id)
        assert buy is not None
        assert fulfilment.cancel(session, order, buy, programme(session), today_of(app),
                                 now_of(app))


def test_points_go_on_no_line_cancelled_after_it_was_read(app):
    amy, order_id = a_line_with_points_to_spend(app)
    seen = read(app, order_id)
    cancel(app, order_id)

    with pytest.raises(DomainError) as refused:
        use_points(app, seen, 100)

    assert refused.value.key == "nothing_to_price"
    line = get(app, Order, order_id)
    assert (line.status, line.points_used, line.net) == ("cancelled", 0, 100_000)
    assert balance(app, amy) == 500


def test_points_go_on_a_line_once_even_from_two_reads_of_it(app):
    amy, order_id = a_line_with_points_to_spend(app)
    first, second = read(app, order_id), read(app, order_id)
    use_points(app, first, 100)

    with pytest.raises(DomainError) as refused:
        use_points(app, second, 200)

    assert refused.value.key == "usage_usepoints"
    assert get(app, Order, order_id).points_used == 100
    assert balance(app, amy) == 400


def test_a_coupon_goes_on_no_line_cancelled_after_it_was_read_and_stays_unspent(app):
    amy, order_id = a_line_with_points_to_spend(app)
    with step(app) as session:
        who = session.get(Member, amy)
        assert who is not None
        tmpl = coupons.template(session, who.community_id, "t", name="t", kind=AMOUNT_OFF,
                                value=10_000)
        coupon = coupons.issue(session, who, tmpl, now_of(app))
        assert coupon is not None
        code, coupon_id = coupon.code, coupon.id
    seen = read(app, order_id)
    cancel(app, order_id)

    with pytest.raises(DomainError) as refused, step(app) as session:
        buy, who = session.get(GroupBuy, seen.group_buy_id), session.get(Member, amy)
        assert buy is not None and who is not None
        buying.apply_coupon(session, buy=buy, order=seen, member=who, code=code,
                            programme=programme(session), today=today_of(app), now=now_of(app))

    assert refused.value.key == "nothing_to_price"
    assert get(app, Order, order_id).coupon_id is None
    assert get(app, Coupon, coupon_id).redeemed_at is None
