"""Members found by what people type: a @handle, a referral code."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from models.members import live, normal_handle
from models.tables import ChannelAccount, Member


def by_handle(session: Session, community_id: int, handle: str) -> Member | None:
    """The one person with this handle (one person's accounts on two platforms count once)."""
    accounts = session.execute(
        select(Member)
        .join(ChannelAccount, col(ChannelAccount.member_id) == Member.id)
        .where(col(ChannelAccount.community_id) == community_id,
               col(ChannelAccount.handle) == normal_handle(handle))
        .limit(10)
    ).scalars()
    people = {person.id: person for person in (live(session, m) for m in accounts)}
    return next(iter(people.values())) if len(people) == 1 else None


def by_referral_code(session: Session, code: str) -> Member | None:
    """The code's member; a merged-away member's code stands for the member it became; an
    erased (/forget) member's code stands for nobody."""
    found = session.execute(
        select(Member).where(col(Member.referral_code) == code.upper()[:16])
    ).scalar_one_or_none()
    person = live(session, found) if found is not None else None
    return person if person is not None and person.forgotten_at is None else None
