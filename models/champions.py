"""Champions (月度銷售冠軍 / 季度最佳分銷商): the period's top active distributor by confirmed
sales, crowned once per period and community (a unique constraint) with the configured
reward, points or a coupon, keyed by the period so a re-run gives nothing twice."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from models import coupons, ledger
from models.commission import ORDER_KINDS
from models.db import dialect_name, table_of
from models.programme import Programme
from models.rules import champions as rules
from models.rules.coupons import AMOUNT_OFF
from models.rules.referral import COUPON, Reward
from models.tables import Champion, CommissionEntry, Distributor, DistributorStatus, Member


def candidates(session: Session, community_id: int, months: tuple[str, ...],
               mark: datetime) -> list[rules.Candidate]:
    """Each active distributor's confirmed level-1 sales in `months`: per order, what stands
    after refunds, counted when its return window had passed by `mark` (confirmed)."""
    e = table_of(CommissionEntry).c
    per_order = (select(e.beneficiary_id.label("who"), func.sum(e.base).label("net"),
                        func.min(e.created_at).label("at"), func.max(e.confirm_after).label("due"))
                 .where(e.community_id == community_id, e.level == 1, e.month.in_(months),
                        e.kind.in_([k.value for k in ORDER_KINDS]))
                 .group_by(e.beneficiary_id, e.order_id).subquery())
    rows = session.execute(
        select(per_order.c.who, func.sum(per_order.c.net), func.min(per_order.c.at))
        .join(Distributor, col(Distributor.member_id) == per_order.c.who)
        .where(per_order.c.net > 0, per_order.c.due <= mark,
               col(Distributor.status) == DistributorStatus.APPROVED)
        .group_by(per_order.c.who)).all()
    return [rules.Candidate(int(who), int(sales), at) for who, sales, at in rows]


def crown(session: Session, *, community_id: int, period: rules.Period, reward: Reward,
          mark: datetime, programme: Programme, today: date,
          now: datetime) -> tuple[Champion, Member] | None:
    """Crown the period's champion and give the reward; None when it was crowned before or
    nobody had confirmed sales."""
    best = rules.champion(candidates(session, community_id, period.months, mark))
    if best is None:
        return None
    insert = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    added = session.execute(insert(table_of(Champion)).values(
        community_id=community_id, period=period.label, member_id=best.member_id,
        sales=best.sales, first_sale_at=best.first_sale, reward_kind=reward.kind,
        reward_value=reward.value, created_at=now,
    ).on_conflict_do_nothing(index_elements=["community_id", "period"])
        .returning(table_of(Champion).c.id)).first()  # rowcount is -1 on psycopg
    if added is None:
        return None
    winner = session.get_one(Member, best.member_id)
    key = f"champion:{community_id}:{period.label}"
    if reward.kind == COUPON:
        tmpl = coupons.template(session, community_id, f"champion_{reward.value}",
                                name="champion", kind=AMOUNT_OFF, value=reward.value,
                                valid_days=60)
        coupons.issue(session, winner, tmpl, now, issue_key=key)
    else:
        ledger.post(session, winner, reward.value, "champion", key, today, reason=period.label,
                    expiry_months=programme.points_expiry_months)
    row = session.execute(select(Champion).where(col(Champion.community_id) == community_id,
                                                 col(Champion.period) == period.label)).scalar_one()
    return row, winner
