"""Coupon templates, issued coupons, the wallet; a coupon is redeemed at most once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlmodel import Session, col

from models.db import table_of
from models.errors import DomainError
from models.rules import coupons as rules
from models.rules.offers import Offer
from models.tables import Coupon, CouponTemplate, Member
from models.types import id_of, rows_matched


def template(
    session: Session, community_id: int, key: str, *, name: str, kind: str, value: int,
    valid_days: int = 30, per_member_limit: int | None = None, min_spend: int = 0,
) -> CouponTemplate:
    """The community's template with this key, created with these terms if it is missing."""
    found: CouponTemplate | None = session.execute(
        select(CouponTemplate).where(
            col(CouponTemplate.community_id) == community_id, col(CouponTemplate.key) == key
        )
    ).scalar_one_or_none()
    if found is not None:
        return found
    created = CouponTemplate(
        community_id=community_id, key=key, name=name, kind=kind, value=value,
        valid_days=valid_days, per_member_limit=per_member_limit, min_spend=min_spend,
    )
    session.add(created)
    session.flush()
    return created


def issue(
    session: Session, member: Member, tmpl: CouponTemplate, now: datetime,
    issue_key: str | None = None,
) -> Coupon | None:
    """Issue one coupon; None when the issue key was used before or the member's limit is hit."""
    if issue_key is not None:
        seen = session.execute(select(col(Coupon.id)).where(col(Coupon.issue_key) == issue_key)).first()
        if seen:
            return None
    if tmpl.per_member_limit is not None:  # two issues at once wait for each other here
        session.execute(select(col(Member.id)).where(col(Member.id) == member.id).with_for_update())
    held = session.execute(
        select(func.count(col(Coupon.id))).where(
            col(Coupon.member_id) == member.id, col(Coupon.template_id) == tmpl.id
        )
    ).scalar_one()
    if not rules.within_limit(int(held), tmpl.per_member_limit):
        return None
    coupon = Coupon(
        template_id=id_of(tmpl),
        member_id=id_of(member),
        code=_unused_code(session),
        issue_key=issue_key,
        issued_at=now,
        valid_from=now,
        valid_until=tmpl.valid_until or now + timedelta(days=tmpl.valid_days),
    )
    session.add(coupon)
    session.flush()
    return coupon


@dataclass(frozen=True, slots=True)
class Issued:
    """A coupon issue_many wrote (what a message about it needs)."""

    member_id: int
    code: str
    issue_key: str
    valid_until: datetime


def issue_many(session: Session, tmpl: CouponTemplate, member_ids: Sequence[int],
               issue_keys: Sequence[str], now: datetime) -> dict[int, Issued]:
    """`issue` for many members (a job's recipients): one coupon per member and key, none
    when the key was used before or the member is at the template's limit. A few queries
    and one INSERT per chunk; returns the coupons issued, by member id."""
    issued: dict[int, Issued] = {}
    until = tmpl.valid_until or now + timedelta(days=tmpl.valid_days)
    for start in range(0, len(member_ids), CHUNK):
        ids, keys = member_ids[start:start + CHUNK], issue_keys[start:start + CHUNK]
        seen = set(session.execute(select(col(Coupon.issue_key))
                                   .where(col(Coupon.issue_key).in_(keys))).scalars())
        held = _held(session, tmpl, ids)
        fresh = [Issued(member_id, rules.new_code(), key, until)
                 for member_id, key in zip(ids, keys, strict=True)
                 if key not in seen and rules.within_limit(held.get(member_id, 0),
                                                           tmpl.per_member_limit)]
        fresh = _unique_codes(session, fresh)
        if fresh:
            session.execute(insert(table_of(Coupon)), [
                {"template_id": tmpl.id, "member_id": c.member_id, "code": c.code,
                 "issue_key": c.issue_key, "issued_at": now, "valid_from": now,
                 "valid_until": until, "redeemed_at": None} for c in fresh])
        issued.update((c.member_id, c) for c in fresh)
    return issued


CHUNK = 500


def _held(session: Session, tmpl: CouponTemplate, member_ids: Sequence[int]) -> dict[int, int]:
    if tmpl.per_member_limit is None:
        return {}
    rows = session.execute(
        select(col(Coupon.member_id), func.count(col(Coupon.id)))
        .where(col(Coupon.member_id).in_(member_ids), col(Coupon.template_id) == tmpl.id)
        .group_by(col(Coupon.member_id)))
    return {int(member_id): int(n) for member_id, n in rows}


def _unique_codes(session: Session, fresh: list[Issued]) -> list[Issued]:
    """New codes for any that are taken already, or twice in the batch."""
    while True:
        taken = set(session.execute(select(col(Coupon.code)).where(
            col(Coupon.code).in_([c.code for c in fresh]))).scalars())
        kept: set[str] = set()
        clash = False
        for index, coupon in enumerate(fresh):
            if coupon.code in taken or coupon.code in kept:
                fresh[index] = replace(coupon, code=rules.new_code())
                clash = True
            kept.add(fresh[index].code)
        if not clash:
            return fresh


def _unused_code(session: Session) -> str:
    while True:
        code = rules.new_code()
        if session.execute(select(col(Coupon.id)).where(col(Coupon.code) == code)).first() is None:
            return code


def wallet(session: Session, member_id: int, now: datetime) -> list[tuple[Coupon, CouponTemplate]]:
    """Coupons the member can still use, soonest to expire first."""
    rows = session.execute(
        select(Coupon, CouponTemplate)
        .join(CouponTemplate, col(CouponTemplate.id) == col(Coupon.template_id))
        .where(
            col(Coupon.member_id) == member_id,
            col(Coupon.redeemed_at).is_(None),
            col(Coupon.valid_until) > now,
        )
        .order_by(col(Coupon.valid_until))
    ).all()
    return [(c, t) for c, t in rows]


def redeem(session: Session, coupon_id: int, now: datetime) -> bool:
    """Mark a coupon used; False if it was already used or is outside its window."""
    done = session.execute(
        update(Coupon)
        .where(
            col(Coupon.id) == coupon_id,
            col(Coupon.redeemed_at).is_(None),
            col(Coupon.valid_from) <= now,
            col(Coupon.valid_until) > now,
        )
        .values(redeemed_at=now)
        .execution_options(synchronize_session=False)
    )
    return rows_matched(done) == 1


def by_code(session: Session, member_id: int, code: str) -> tuple[Coupon, CouponTemplate] | None:
    """The member's own coupon with this code, and its terms."""
    row = session.execute(
        select(Coupon, CouponTemplate)
        .join(CouponTemplate, col(CouponTemplate.id) == col(Coupon.template_id))
        .where(col(Coupon.code) == code.upper()[:16], col(Coupon.member_id) == member_id)
    ).first()
    return (row[0], row[1]) if row else None


def terms(session: Session, coupon_id: int | None) -> tuple[str | None, int]:
    """(kind, value) of a coupon, or (None, 0)."""
    kind, value, _ = terms_with_minimum(session, coupon_id)
    return kind, value


def terms_with_minimum(session: Session, coupon_id: int | None) -> tuple[str | None, int, int]:
    """(kind, value, minimum spend) of a coupon, or (None, 0, 0)."""
    if coupon_id is None:
        return None, 0, 0
    row = session.execute(
        select(col(CouponTemplate.kind), col(CouponTemplate.value), col(CouponTemplate.min_spend))
        .join(Coupon, col(Coupon.template_id) == col(CouponTemplate.id)).where(col(Coupon.id) == coupon_id)
    ).first()
    return (row[0], int(row[1]), int(row[2])) if row else (None, 0, 0)


def give_back(session: Session, coupon_id: int | None) -> None:
    """A coupon taken off a line (cancelled, refunded, below its minimum) is usable again."""
    if coupon_id is None:
        return
    session.execute(update(Coupon).where(col(Coupon.id) == coupon_id).values(redeemed_at=None)
                    .execution_options(synchronize_session=False))


LEADER_PREFIX = "c_"  # a leader's own coupon: the key is the prefix and its name


def create_leader_template(session: Session, community_id: int, offer: Offer,
                           valid_until: datetime | None) -> CouponTemplate:
    """`/coupon new`: a named coupon of the community's; refused when the name is taken."""
    key = f"{LEADER_PREFIX}{offer.name}"[:32]
    if leader_template(session, community_id, offer.name) is not None:
        raise DomainError("coupon_exists", name=offer.name)
    created = CouponTemplate(
        community_id=community_id, key=key, name=_label(offer),
        kind=offer.kind, value=offer.value, min_spend=offer.min_spend,
        valid_days=offer.days or 30, valid_until=valid_until, per_member_limit=offer.limit)
    session.add(created)
    session.flush()
    return created


def _label(offer: Offer) -> str:
    """The name, and for a gift what it is (`週年禮: 保溫杯`) when the name does not say."""
    gift = offer.gift if offer.gift and offer.gift != offer.name else ""
    return f"{offer.name}: {gift}"[:64] if gift else offer.name[:64]


def leader_template(session: Session, community_id: int, name: str) -> CouponTemplate | None:
    return session.execute(select(CouponTemplate).where(
        col(CouponTemplate.community_id) == community_id,
        col(CouponTemplate.key) == f"{LEADER_PREFIX}{name}"[:32])).scalar_one_or_none()


def leader_templates(session: Session, community_id: int) -> list[tuple[CouponTemplate, int]]:
    """The community's own coupons, newest first, with how many were issued."""
    rows = session.execute(
        select(CouponTemplate, func.count(col(Coupon.id)))
        .outerjoin(Coupon, col(Coupon.template_id) == col(CouponTemplate.id))
        .where(col(CouponTemplate.community_id) == community_id,
               col(CouponTemplate.key).startswith(LEADER_PREFIX))
        .group_by(col(CouponTemplate.id)).order_by(col(CouponTemplate.id).desc())).all()
    return [(t, int(n)) for t, n in rows]


DOUBLE_TAP = timedelta(seconds=60)  # the same coupon to the same member again within: once


def give(session: Session, *, member: Member, tmpl: CouponTemplate, now: datetime,
         issue_key: str) -> tuple[Coupon, bool]:
    """`/coupon send`: one coupon to the member, and whether it was sent before (the same
    message redelivered, or the same coupon to the same member within a minute: a double
    tap); refused over the coupon's per-member limit."""
    seen: Coupon | None = session.execute(
        select(Coupon).where(col(Coupon.issue_key) == issue_key[:128])).scalar_one_or_none()
    if seen is None:
        seen = session.execute(select(Coupon).where(
            col(Coupon.template_id) == tmpl.id, col(Coupon.member_id) == member.id,
            col(Coupon.issued_at) >= now - DOUBLE_TAP).limit(1)).scalar_one_or_none()
    if seen is not None:
        return seen, True
    coupon = issue(session, member, tmpl, now, issue_key=issue_key[:128])
    if coupon is None:
        raise DomainError("coupon_limit", name=tmpl.name, limit=tmpl.per_member_limit)
    return coupon, False
