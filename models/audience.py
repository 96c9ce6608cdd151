"""What a campaign run needs to know about its recipients, loaded in bulk (set-based): the
segment's members with their cards, 12-month spend and lines received (one SELECT), the open
buys with their joined counts, who is in them, and co-purchase counts (once per run).

No loop issues a query per member: each loader is one SELECT for all of them (or a chunk).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import repeat
from typing import Any, NamedTuple

from sqlalchemy import Select, String, case, cast, func, literal, null, select
from sqlmodel import Session, col

from models.bulk import plain_rows
from models.db import among
from models.rules.recommend import CoPurchases, Held, OpenBuy, product_key
from models.segments import find_segment, rule_for, segment_query
from models.tables import BuyStatus, Community, GroupBuy, LineStatus, Member, Order, SpendEntry

SegmentQuery = Select[tuple[int]]  # one column: member_id (segment_select)
HOLDING = (LineStatus.ALLOCATED, LineStatus.PAID, LineStatus.WAITLISTED)  # in the buy now
YEAR = timedelta(days=365)


class Card(NamedTuple):
    """What a message says of its member (a plain tuple: made by the ten thousand), with (when
    asked for) their 12-month spend and every line they received, coded (`Shared.codes`)."""

    member_id: int
    name: str
    locale: str | None
    tier: str
    points: int
    spend: int | None = 0  # None: no spend in the 12 months
    lines: str | None = None  # '12,-40,…' (None: nothing received)


@dataclass(frozen=True, slots=True)
class Shared:
    """The same for every recipient of a run."""

    open_buys: tuple[OpenBuy, ...]
    co_bought: CoPurchases
    products: dict[int, tuple[str, str]]  # buy id → (product, category), buys that matter
    codes: dict[str, Held]  # a line as `Card.lines` gives it ('-' + buy id: still at home)


def segment_select(session: Session, community: Community, name: str,
                   local_now: datetime) -> Select[tuple[int]] | None:
    """The segment's members as one SELECT of member_id; None when no such segment."""
    segment = find_segment(session, community.id or 0, name)
    if segment is None:
        return None
    return segment_query(community.id or 0, rule_for(community, segment.rule_text), local_now)


def count(session: Session, query: Select[tuple[int]]) -> int:
    return int(session.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def member_ids(session: Session, query: Select[tuple[int]]) -> list[int]:
    return sorted(member_id for member_id, in plain_rows(session, query))


def segment_cards(session: Session, query: Select[tuple[int]], *, spend_at: datetime | None = None,
                  today: date | None = None) -> list[Card]:
    """The segment's members (by id) with what their messages say of them (their spend in the
    12 months before `spend_at`, their lines as of `today`, when given): one SELECT."""
    return list(map(Card._make, plain_rows(session, select(*_card_columns(spend_at, today))
                                           .where(col(Member.id).in_(query))
                                           .order_by(col(Member.id)))))


def _card_columns(spend_at: datetime | None, today: date | None) -> list[Any]:
    spend = (select(func.sum(col(SpendEntry.amount))).where(
        col(SpendEntry.member_id) == col(Member.id), col(SpendEntry.occurred_at) >= spend_at - YEAR)
        .scalar_subquery() if spend_at is not None else literal(0))
    lines = (select(func.aggregate_strings(_coded(today), ",")).where(
        col(Order.member_id) == col(Member.id), col(Order.status) == LineStatus.DELIVERED)
        .scalar_subquery() if today is not None else null())
    return [col(Member.id), col(Member.display_name), col(Member.locale), col(Member.tier),
            col(Member.points_balance), spend, lines]


def _coded(today: date) -> Any:
    """A line as a code of `Shared.codes`: the buy id, negative while still at home (a
    replenishment date after `today`)."""
    return cast(case((col(Order.replenish_on) > today, -col(Order.group_buy_id)),
                     else_=col(Order.group_buy_id)), String)


def open_buys(session: Session, community_id: int, now: datetime) -> list[OpenBuy]:
    """Buys anyone may join now (open, begun, not tier-only, not sold out), with how many
    members are in each."""
    joined = (select(func.count(func.distinct(col(Order.member_id))))  # per open buy only
              .where(col(Order.group_buy_id) == col(GroupBuy.id), col(Order.status).in_(HOLDING))
              .scalar_subquery())
    rows = session.execute(
        select(GroupBuy, joined)
        .where(col(GroupBuy.community_id) == community_id, col(GroupBuy.status) == BuyStatus.OPEN,
               col(GroupBuy.opens_at) <= now, col(GroupBuy.deadline) > now,
               col(GroupBuy.exclusive_tier).is_(None))).all()
    return [OpenBuy(b.id or 0, b.number, b.title, b.category, int(n), b.price) for b, n in rows
            if b.stock is None or b.allocated < b.stock]


def shared(session: Session, community_id: int, now: datetime) -> Shared:
    """Open buys and co-purchase counts: how many members who received X also received Y, Y
    an open buy's product (`_co_purchases`)."""
    buys = tuple(open_buys(session, community_id, now))
    wanted = {b.product for b in buys}
    every = session.execute(select(col(GroupBuy.id), col(GroupBuy.title), col(GroupBuy.category))
                            .where(col(GroupBuy.community_id) == community_id)).all()
    keys = {title: product_key(title) for title in {title for _, title, _ in every}}
    co = _co_purchases(session, {buy_id: title for buy_id, title, _ in every}, keys, wanted)
    relevant = wanted | set(co)
    categories = frozenset(b.category for b in buys if b.category)
    products = {buy_id: (keys[title], category) for buy_id, title, category in every
                if keys[title] in relevant or category in categories}
    codes: dict[str, Held] = {}
    for buy_id, (product, category) in products.items():
        codes[str(buy_id)], codes[f"-{buy_id}"] = (product, category, False), (product, category, True)
    return Shared(buys, co, products, codes)


def _co_purchases(session: Session, titles: dict[int, str], keys: dict[str, str],
                  wanted: set[str]) -> dict[str, dict[str, int]]:
    """Per product X, per open product Y: the members who received both (each title pair
    counted once per member, titles of one product added up). One row per member who
    received an open product, listing every buy they received; counted here."""
    open_ids = sorted(buy_id for buy_id, title in titles.items() if keys[title] in wanted)
    if not open_ids:
        return {}
    buyers = select(col(Order.member_id)).where(col(Order.group_buy_id).in_(open_ids),
                                                col(Order.status) == LineStatus.DELIVERED)
    rows = plain_rows(session, select(func.aggregate_strings(cast(col(Order.group_buy_id), String), ","))
                      .where(col(Order.member_id).in_(buyers),
                             col(Order.status) == LineStatus.DELIVERED)
                      .group_by(col(Order.member_id)))
    names = sorted(set(titles.values()))
    at = {name: i for i, name in enumerate(names)}
    title_of = {str(buy_id): at[title] for buy_id, title in titles.items()}
    counted: dict[int, Counter[int]] = {title_of[str(buy_id)]: Counter() for buy_id in open_ids}
    known = title_of.get  # open title → title → members who received both
    for lines, in rows:
        mine = set(map(known, lines.split(","), repeat(-1)))  # -1: a buy of no title here
        mine.discard(-1)
        for y in mine & counted.keys():
            counted[y].update(mine)
    co: dict[str, dict[str, int]] = {}
    for y, received in counted.items():
        other = keys[names[y]]
        for x, count in received.items():
            bought = keys[names[x]]
            if bought != other:
                also = co.setdefault(bought, {})
                also[other] = also.get(other, 0) + count
    return co


def cards(session: Session, ids: Sequence[int], *, spend_at: datetime | None = None,
          today: date | None = None) -> list[Card]:
    """`segment_cards` for these members."""
    rows = plain_rows(session, select(*_card_columns(spend_at, today))
                      .where(among(col(Member.id), ids)).order_by(col(Member.id)))
    wanted, card = set(ids), Card._make
    return [card(row) for row in rows if row[0] in wanted]


def histories(session: Session, ids: Sequence[int], common: Shared
              ) -> dict[int, list[tuple[str, str, date | None]]]:
    """Per member, what they received of the products and categories that matter now, with
    when it runs out (the latest replenishment date; None: no cycle known). One row per
    member ('buy:date,buy:date,…'), read from the index on (member, status, buy, replenish
    date) alone; ISO dates compare as text."""
    if not common.open_buys:
        return {}
    wanted, products = set(ids), common.products
    line = (cast(col(Order.group_buy_id), String) + ":"
            + func.coalesce(cast(col(Order.replenish_on), String), ""))
    rows = session.connection().execute(
        select(col(Order.member_id), func.aggregate_strings(line, ","))
        .where(among(col(Order.member_id), ids), col(Order.status) == LineStatus.DELIVERED)
        .group_by(col(Order.member_id)))
    found: dict[int, list[tuple[str, str, date | None]]] = {}
    for member_id, lines in rows:
        if member_id not in wanted:
            continue
        latest: dict[tuple[str, str], str] = {}
        for item in lines.split(","):
            buy_id, _, due_on = item.partition(":")
            product = products.get(int(buy_id))
            if product is not None and (product not in latest or due_on > latest[product]):
                latest[product] = due_on
        if latest:
            found[member_id] = [(name, category, _date(due))  # as Bought, without its cost
                                for (name, category), due in latest.items()]
    return found


@lru_cache(maxsize=4096)
def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _day(value: date | str | None) -> date | None:
    """MAX() of a date column comes back as text on SQLite."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def joined(session: Session, ids: Sequence[int] | None, common: Shared) -> dict[int, set[int]]:
    """Per member, the open buys they are in (holding or waiting); every member's when `ids`
    is None (one query per run: open buys' lines are few)."""
    buy_ids = [b.buy_id for b in common.open_buys]
    if not buy_ids:
        return {}
    query = (select(col(Order.member_id), col(Order.group_buy_id))
             .where(col(Order.group_buy_id).in_(buy_ids), col(Order.status).in_(HOLDING)))
    if ids is not None:
        query = query.where(among(col(Order.member_id), ids))
    rows = plain_rows(session, query.distinct())
    found: dict[int, set[int]] = {}
    for member_id, buy_id in rows:
        found.setdefault(member_id, set()).add(buy_id)
    return found
