"""The referral graph: who invited whom, first-touch attribution, qualified invites."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session, col

from models import lookups
from models.members import Membership
from models.rules import referral as rules
from models.tables import Member
from models.types import id_of


def referrer_chain(session: Session, member: Member, limit: int = 50) -> list[int]:
    """The member's referrer, their referrer, and so on (bounded; never the member itself)."""
    return ancestors(session, member.referred_by_id, limit, stop=member.id)


def ancestors(session: Session, start: int | None, limit: int = 50,
              stop: int | None = None) -> list[int]:
    """`start`, its referrer, theirs… until nobody, a repeat, `stop`, or `limit` ids."""
    chain: list[int] = []
    current = start
    while current is not None and current != stop and current not in chain and len(chain) < limit:
        chain.append(current)
        current = session.execute(
            select(col(Member.referred_by_id)).where(col(Member.id) == current)
        ).scalar_one_or_none()
    return chain


def attribute_payload(session: Session, referee: Membership,
                      payload: str) -> tuple[str, Member | None]:
    """`/start ref_CODE`: (ATTRIBUTED, the referrer), or (why it is refused, None) — a
    garbled payload, a code nobody has, another community's, an existing member's…"""
    code = rules.code_in(payload)
    if code is None:
        return rules.GARBLED, None
    referrer = lookups.by_referral_code(session, code)
    if referrer is None:
        return rules.UNKNOWN, None
    why = refused(session, referee, referrer)
    if why is not None:
        return why, None
    _attribute(session, referee, referrer)
    return rules.ATTRIBUTED, referrer


def refused(session: Session, referee: Membership, referrer: Member) -> str | None:
    same = referrer.community_id == referee.member.community_id
    return rules.refusal(id_of(referee.member), id_of(referrer), same, referee.is_new,
                         referee.member.referred_by_id is not None,
                         referrer_chain(session, referrer) if same else [])


def attribute_referral(session: Session, referee: Membership, referrer: Member) -> bool:
    """First touch only: a member new to the community, never oneself, never a cycle."""
    if refused(session, referee, referrer) is not None:
        return False
    _attribute(session, referee, referrer)
    return True


def _attribute(session: Session, referee: Membership, referrer: Member) -> None:
    referee.member.referred_by_id = referrer.id
    referee.member.referred_at = referee.member.joined_at  # only a member new here is attributed
    session.add(referee.member)


def qualified_invites(session: Session, member_id: int) -> int:
    """Invited members who have bought at least once."""
    total = session.execute(
        select(func.count(col(Member.id))).where(
            col(Member.referred_by_id) == member_id,
            col(Member.first_purchase_at).is_not(None),
        )
    ).scalar_one()
    return int(total)


def invited(session: Session, member_id: int, limit: int = 20) -> list[Member]:
    return list(
        session.execute(
            select(Member).where(col(Member.referred_by_id) == member_id).order_by(col(Member.id))
            .limit(limit)
        ).scalars()
    )
