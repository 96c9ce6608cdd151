"""A leader's coupon to a whole segment (`/coupon send NAME SEGMENT`): the segment's members
now (models/segments.py, one set-based SELECT), one coupon each in one INSERT per chunk
(coupons.issue_many: none over the coupon's per-member limit, none twice for one message)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from models import coupons, segments
from models.coupons import Issued
from models.errors import DomainError
from models.tables import Community, Coupon, CouponTemplate, Member
from models.types import id_of

DOUBLE_TAP = timedelta(seconds=60)  # the same coupon to the same segment again within: once


@dataclass(frozen=True, slots=True)
class SegmentSend:
    segment: str
    matched: int  # members in the segment now
    issued: list[tuple[Member, Issued]]  # who got one (the rest were at the limit)
    again: bool = False  # sent to this segment a moment ago: nothing new


def to_segment(session: Session, *, community: Community, tmpl: CouponTemplate, name: str,
               event_key: str, now: datetime, local_now: datetime) -> SegmentSend:
    """Issue the coupon to every member of the segment `name` (DomainError when there is none)."""
    saved = segments.find_segment(session, id_of(community), name)
    if saved is None:
        raise DomainError("segment_not_found", name=name[:32])
    prefix = f"seg:{saved.id}:{tmpl.id}:"
    if _recent(session, tmpl, prefix, now):
        return SegmentSend(saved.name, 0, [], again=True)
    rule = segments.checked_rule(community, saved.rule_text)
    ids = [int(i) for i in session.execute(segments.segment_query(id_of(community), rule,
                                                                  local_now)).scalars()]
    keys = [f"{prefix}{event_key}:{member_id}"[:128] for member_id in ids]
    issued = coupons.issue_many(session, tmpl, ids, keys, now)
    people = {m.id: m for m in session.execute(
        select(Member).where(col(Member.id).in_(list(issued)))).scalars()} if issued else {}
    return SegmentSend(saved.name, len(ids),
                       [(people[mid], coupon) for mid, coupon in issued.items() if mid in people])


def _recent(session: Session, tmpl: CouponTemplate, prefix: str, now: datetime) -> bool:
    return session.execute(select(col(Coupon.id)).where(
        col(Coupon.template_id) == tmpl.id, col(Coupon.issue_key).startswith(prefix),
        col(Coupon.issued_at) >= now - DOUBLE_TAP).limit(1)).first() is not None
