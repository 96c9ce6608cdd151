"""Segments: rules saved by name, and the set-based SQL that finds their members.

    rule = rule_for(community, "category=母嬰 orders>=2 last_order>30d tier>=silver")
    session.execute(segment_query(community.id, rule, local_now))  # rows of member_id

`segment_query` is one SELECT over all the community's live members (no Python loop over
rows), the same on SQLite and PostgreSQL. Every condition is a column test or `member.id
[NOT] IN (subquery)`; an aggregate where a member with no rows counts as 0 (spend, orders) is
turned around (NOT IN the members whose total fails) so those members are judged too.
Calendar conditions (birthday=this_month, joined>=DATE) use `now`'s own date and zone: pass
the community's local time.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select
from sqlmodel import Session, col

from models.errors import DomainError
from models.programme import programme_for
from models.rules.segments import THIS_MONTH, Condition, Rule, RuleError, parse_rule, tier_choices
from models.tables import (
    ChannelAccount,
    Community,
    GroupBuy,
    LineStatus,
    Member,
    MemberTag,
    Order,
    Segment,
    SpendEntry,
)
from models.types import id_of

COUNTED = (LineStatus.ALLOCATED, LineStatus.PAID, LineStatus.DELIVERED)  # an order that stands
YEAR = timedelta(days=365)
WECHAT_WINDOW = timedelta(hours=48)
WECHAT_PER_INBOUND = 5
_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "!=": operator.ne, ">=": operator.ge, "<=": operator.le,
    ">": operator.gt, "<": operator.lt,
}
_FLIP = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "=": "=", "!=": "!="}


def rule_for(community: Community, text: str) -> Rule:
    """`text` parsed with the community's tiers and their names (RuleError when bad)."""
    programme = programme_for(community)
    tiers = tier_choices(programme.tier_names, [t.key for t in programme.tiers])
    return parse_rule(text, tiers=tiers)


class BadRule(DomainError):
    """A rule the parser refused: `problem` is RuleError's code, `details` its details."""

    key = "segment_bad_rule"


def checked_rule(community: Community, text: str) -> Rule:
    """`rule_for`, refusing a bad rule with BadRule (answered in the leader's language)."""
    try:
        return rule_for(community, text)
    except RuleError as bad:
        raise BadRule(problem=bad.code, details=bad.details) from None


def segment_query(community_id: int, rule: Rule, now: datetime) -> Select[tuple[int]]:
    """The ids of the community's live members the rule holds for: `select(member_id)`."""
    live = (col(Member.community_id) == community_id, col(Member.merged_into_id).is_(None))
    tests = [_test(community_id, c, now) for c in rule.conditions]
    return select(col(Member.id).label("member_id")).where(*live, *tests)


def count_and_sample(session: Session, community_id: int, rule: Rule, now: datetime,
                     sample: int = 5) -> tuple[int, list[Member]]:
    """How many members the rule holds for, and the first `sample` of them."""
    ids = segment_query(community_id, rule, now).subquery()
    count = int(session.execute(select(func.count()).select_from(ids)).scalar_one())
    members = list(session.execute(
        select(Member).where(col(Member.id).in_(select(ids.c.member_id)))
        .order_by(col(Member.id)).limit(sample)).scalars())
    return count, members


def counted_segments(session: Session, community: Community,
                     now: datetime) -> list[tuple[Segment, int | None]]:
    """Every saved segment with its count now (None: its rule no longer parses, e.g. a tier
    renamed since)."""
    found: list[tuple[Segment, int | None]] = []
    for saved in list_segments(session, id_of(community)):
        try:
            rule = rule_for(community, saved.rule_text)
        except RuleError:
            found.append((saved, None))
            continue
        ids = segment_query(id_of(community), rule, now).subquery()
        found.append((saved, int(session.execute(select(func.count()).select_from(ids)).scalar_one())))
    return found


def save_segment(session: Session, *, community_id: int, name: str, rule_text: str,
                 by: int | None, now: datetime) -> Segment:
    """Save the rule under the name (a name saved before gets the new rule)."""
    found = find_segment(session, community_id, name)
    if found is None:
        found = Segment(community_id=community_id, name=name[:32], rule_text=rule_text[:500],
                        created_by=by, created_at=now)
    else:
        found.rule_text, found.created_by, found.created_at = rule_text[:500], by, now
    session.add(found)
    session.flush()
    return found


def find_segment(session: Session, community_id: int, name: str) -> Segment | None:
    return session.execute(select(Segment).where(
        col(Segment.community_id) == community_id,
        func.lower(col(Segment.name)) == name.lower()[:32])).scalar_one_or_none()


def list_segments(session: Session, community_id: int) -> list[Segment]:
    return list(session.execute(select(Segment).where(col(Segment.community_id) == community_id)
                                .order_by(col(Segment.name))).scalars())


def delete_segment(session: Session, community_id: int, name: str) -> bool:
    found = find_segment(session, community_id, name)
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True


def _test(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    return _TESTS[c.field](community_id, c, now)


def _in(ids: Select[Any], keep: bool = True) -> ColumnElement[bool]:
    return col(Member.id).in_(ids) if keep else col(Member.id).not_in(ids)


def _total(ids: Select[Any], member_id: Any, total: Any, c: Condition) -> ColumnElement[bool]:
    """A per-member total where a member without rows has 0: when 0 passes, the members
    whose total fails are taken out; otherwise those whose total passes are taken in."""
    compare = _CMP[c.op]
    passes = compare(total, c.value)
    grouped = ids.group_by(member_id)
    if compare(0, c.value):
        return _in(grouped.having(not_(passes)), keep=False)
    return _in(grouped.having(passes))


def _bought(community_id: int) -> Select[Any]:
    return (select(col(Order.member_id))
            .join(GroupBuy, col(GroupBuy.id) == col(Order.group_buy_id))
            .where(col(GroupBuy.community_id) == community_id, col(Order.status).in_(COUNTED)))


def _days_since(stamp: Any, op: str, days: int, now: datetime) -> ColumnElement[bool]:
    """'days since `stamp` OP days' as a test on the stamp itself (index-friendly)."""
    edge = now - timedelta(days=days)
    if op == "=":
        return and_(stamp <= edge, stamp > edge - timedelta(days=1))
    result: ColumnElement[bool] = _CMP[_FLIP[op]](stamp, edge)
    return result


def _tier(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    assert isinstance(c.value, tuple)
    return col(Member.tier).in_(c.value)


def _tag(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    ids = select(col(MemberTag.member_id)).where(col(MemberTag.community_id) == community_id,
                                                  col(MemberTag.tag) == c.value)
    return _in(ids, keep=c.op == "=")


def _spend(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    ids = (select(col(SpendEntry.member_id))
           .join(Member, col(Member.id) == col(SpendEntry.member_id))
           .where(col(Member.community_id) == community_id,
                  col(SpendEntry.occurred_at) >= now - YEAR))
    return _total(ids, col(SpendEntry.member_id), func.sum(col(SpendEntry.amount)), c)


def _orders(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    ids = _bought(community_id)
    if c.days is not None:
        ids = ids.where(col(Order.created_at) >= now - timedelta(days=c.days))
    return _total(ids, col(Order.member_id), func.count(col(Order.id)), c)


def _last_order(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    """Never ordered: no last order, so no last_order test holds."""
    assert isinstance(c.value, int)
    last = func.max(col(Order.created_at))
    return _in(_bought(community_id).group_by(col(Order.member_id))
               .having(_days_since(last, c.op, c.value, now)))


def _category(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    return _in(_bought(community_id).where(col(GroupBuy.category) == c.value), keep=c.op == "=")


def _product(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    assert isinstance(c.value, str)
    same = func.lower(col(GroupBuy.title)) == c.value.lower()
    return _in(_bought(community_id).where(same), keep=c.op == "=")


def _birthday(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    month = now.month if c.value == THIS_MONTH else c.value
    result: ColumnElement[bool] = _CMP[c.op](col(Member.birthday_month), month)
    return result


def _joined(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    if isinstance(c.value, int):
        return _days_since(col(Member.joined_at), c.op, c.value, now)
    assert isinstance(c.value, date)
    start = datetime.combine(c.value, time(), tzinfo=now.tzinfo)
    end = start + timedelta(days=1)
    joined = col(Member.joined_at)
    return {"=": and_(joined >= start, joined < end), ">=": joined >= start, ">": joined >= end,
            "<": joined < start, "<=": joined < end}[c.op]


def _accounts(community_id: int, *where: Any) -> Select[Any]:
    return select(col(ChannelAccount.member_id)).where(
        col(ChannelAccount.community_id) == community_id, *where)


def _channel(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    return _in(_accounts(community_id, col(ChannelAccount.channel) == c.value), keep=c.op == "=")


def reachable_account(now: datetime) -> ColumnElement[bool]:
    """An account a push can reach now: a private chat, and on WeChat an open reply window."""
    since = func.coalesce(col(ChannelAccount.last_inbound_at), col(ChannelAccount.last_seen_at))
    window = and_(since > now - WECHAT_WINDOW,
                  col(ChannelAccount.pushes_since_inbound) < WECHAT_PER_INBOUND)
    return and_(col(ChannelAccount.private_chat).is_not(None),
                or_(col(ChannelAccount.channel) != "wechat", window))


def _reachable(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    return _in(_accounts(community_id, reachable_account(now)), keep=c.value is True)


def _opted_in(community_id: int, c: Condition, now: datetime) -> ColumnElement[bool]:
    willing = _accounts(community_id, col(ChannelAccount.opted_out).is_(False))
    return _in(willing, keep=c.value is True)


_TESTS: dict[str, Callable[[int, Condition, datetime], ColumnElement[bool]]] = {
    "tier": _tier, "tag": _tag, "spend": _spend, "orders": _orders, "last_order": _last_order,
    "category": _category, "product": _product, "birthday_month": _birthday, "joined": _joined,
    "channel": _channel, "reachable": _reachable, "opted_in": _opted_in,
}
