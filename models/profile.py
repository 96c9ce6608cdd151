"""What a member sets about themselves: birthday (once), language, opting out of pushes;
and what they collect: the daily check-in, the birthday coupon."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from models import coupons, ledger
from models.errors import AlreadyClaimed, DomainError, NoBirthday, NotBirthdayMonth
from models.programme import Programme
from models.rules import birthday as birthday_rules
from models.rules import points as points_rules
from models.rules.coupons import AMOUNT_OFF
from models.tables import Coupon, Member
from models.types import id_of, rows_matched


def _set_if(session: Session, member: Member, condition: Any, **values: Any) -> bool:
    """One conditional UPDATE of the member; the loaded member follows. False: 0 rows."""
    done = session.execute(
        update(Member).where(col(Member.id) == member.id, condition).values(**values)
        .execution_options(synchronize_session="fetch"))
    if rows_matched(done) == 1:
        return True
    session.refresh(member, list(values))  # someone else was first: what they wrote
    return False


def set_birthday(session: Session, *, member: Member, month: int, day: int) -> None:
    """A birthday is set once; setting the same again is fine, another one is refused."""
    if member.birthday_month is None and _set_if(
            session, member, col(Member.birthday_month).is_(None),
            birthday_month=month, birthday_day=day):
        return
    if (member.birthday_month, member.birthday_day) != (month, day):
        raise DomainError("birthday_locked", month=member.birthday_month,
                          day=member.birthday_day)


def set_locale(session: Session, *, member: Member, locale: str) -> None:
    member.locale = locale
    session.add(member)


@dataclass(frozen=True)
class CheckIn:
    points: int
    streak: int


def check_in(session: Session, *, member: Member, programme: Programme,
             today: date) -> CheckIn | None:
    """Today's check-in points (a bonus every so many days in a row); None when the member
    has checked in today already."""
    last = member.last_checkin_on
    streak = points_rules.next_streak(last, member.checkin_streak, today)
    if streak is None:
        return None
    same_last = col(Member.last_checkin_on).is_(None) if last is None else (
        col(Member.last_checkin_on) == last)
    if not _set_if(session, member, same_last, last_checkin_on=today, checkin_streak=streak):
        return None
    earned = points_rules.checkin_points(
        streak, programme.checkin_base, programme.checkin_bonus_every, programme.checkin_bonus)
    ledger.post(session, member, earned, "checkin", f"checkin:{member.id}:{today.isoformat()}",
                today, reason="checkin", expiry_months=programme.points_expiry_months)
    return CheckIn(earned, streak)


def claim_birthday(session: Session, *, member: Member, programme: Programme, today: date,
                   now: datetime, coupon_name: str) -> tuple[Coupon, int]:
    """The birthday coupon of the member's tier, in the birthday month, once a year;
    (the coupon, its value)."""
    if member.birthday_month is None:
        raise NoBirthday()
    if not birthday_rules.can_claim(member.birthday_month, today):
        raise NotBirthdayMonth(month=member.birthday_month)
    value = programme.birthday_coupon.get(member.tier, 0)
    tmpl = coupons.template(
        session, member.community_id, f"birthday_{member.tier}", name=coupon_name,
        kind=AMOUNT_OFF, value=value, valid_days=programme.birthday_coupon_valid_days,
    )
    key = birthday_rules.coupon_key(id_of(member), today.year)
    coupon = coupons.issue(session, member, tmpl, now, issue_key=key)
    if coupon is None:
        raise AlreadyClaimed(year=today.year)
    return coupon, value
