"""A distributor's standing, for their card (/distributor): status, this month's sales and
ladder step (and what the next step needs), commission totals, rank, downline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlmodel import Session

from models import commission, distributors, settlement
from models.errors import DomainError
from models.programme import Programme
from models.rules import commission as rules
from models.tables import Member
from models.tables_distribution import Distributor
from models.types import id_of


@dataclass(frozen=True)
class Standing:
    row: Distributor
    month: str
    sales: int
    step: int
    pct: int
    missing: int | None  # sales still missing for the next step (None: at the top)
    next_pct: int | None
    rank: int | None
    level1: int
    level2: int


def of(session: Session, member: Member, programme: Programme, now: datetime,
       tz: tzinfo) -> Standing:
    """The member's standing; DomainError "distributor_not_yet" when they are none (under
    人人分銷 / 滿額分銷 a member who qualifies becomes one here)."""
    row = distributors.row_of(session, id_of(member))
    if row is None and distributors.qualifies(session, id_of(member), programme):
        distributors.active_among(session, member.community_id, [id_of(member)], programme, now)
        row = distributors.row_of(session, id_of(member))
    if row is None:
        raise DomainError("distributor_not_yet", mode=programme.distribution.mode,
                          min_spend=programme.distribution.min_spend)
    month = commission.month_of(now, tz)
    sales = commission.monthly_sales(session, id_of(member), month)
    ladder = programme.distribution.ladder
    ahead = rules.next_step(ladder, sales)
    level1, level2 = distributors.downline(session, id_of(member))
    return Standing(row=row, month=month, sales=sales, step=rules.step_of(ladder, sales),
                    pct=rules.rate(ladder, sales), missing=ahead[0] if ahead else None,
                    next_pct=ahead[1] if ahead else None,
                    rank=settlement.rank(session, member.community_id, id_of(member), month),
                    level1=level1, level2=level2)
