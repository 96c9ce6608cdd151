"""The rewards catalogue, the points shop (積分商城): leaders add rewards, members redeem points for them.

A redemption is one transaction: the points leave the balance (a ledger entry, never below
zero), one unit of stock goes (one conditional UPDATE, `WHERE stock > 0`), the member's limit
is checked while their row is locked by that debit, the coupon is issued and the redemption
recorded under a key unique to the inbound message (a double tap or a redelivery redeems
once). Any refusal rolls the whole of it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from models import coupons, ledger
from models.errors import DomainError
from models.rules.coupons import GIFT
from models.rules.offers import Offer
from models.tables import Coupon, CouponTemplate, Member, Redemption, Reward
from models.types import id_of, rows_matched

DOUBLE_TAP = timedelta(seconds=30)  # the same reward again within: the first tap's answer


@dataclass(frozen=True, slots=True)
class Redeemed:
    reward: Reward
    coupon: Coupon
    template: CouponTemplate
    balance: int
    again: bool = False  # the same message redeemed it already: nothing new happened


def last_moment(day: date, tz: tzinfo) -> datetime:
    """The end of `day` in the community's time zone: a coupon 'until 12-31' works all day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) - timedelta(microseconds=1)


def add(session: Session, *, community_id: int, offer: Offer, actor_id: int | None,
        now: datetime, tz: tzinfo) -> Reward:
    """A new catalogue item, numbered after the community's last one. Its coupon terms are a
    template of their own (so changing a reward never changes coupons already issued)."""
    if offer.points is None:
        raise DomainError("bad_offer", mistake="needs_points", word="", command="reward")
    number = 1 + int(session.execute(
        select(func.coalesce(func.max(col(Reward.number)), 0))
        .where(col(Reward.community_id) == community_id)).scalar_one())
    tmpl = CouponTemplate(
        community_id=community_id, key=f"reward_{number}", name=(offer.gift or offer.name)[:64],
        kind=offer.kind, value=offer.value, min_spend=offer.min_spend,
        valid_days=offer.days or 30,
        valid_until=last_moment(offer.until, tz) if offer.until else None)
    session.add(tmpl)
    session.flush()
    reward = Reward(community_id=community_id, number=number, name=offer.name,
                    template_id=id_of(tmpl), points=offer.points, stock=offer.stock,
                    per_member_limit=offer.limit, created_by_id=actor_id, created_at=now)
    session.add(reward)
    session.flush()
    return reward


def take_off(session: Session, community_id: int, number: int) -> Reward:
    """`/reward off N`: no longer offered (redemptions made stay as they are)."""
    reward = find(session, community_id, number)
    if reward is None or not reward.active:
        raise DomainError("no_such_reward", number=number)
    session.execute(update(Reward).where(col(Reward.id) == reward.id, col(Reward.active))
                    .values(active=False).execution_options(synchronize_session="fetch"))
    return reward


def find(session: Session, community_id: int, number: int) -> Reward | None:
    return session.execute(select(Reward).where(
        col(Reward.community_id) == community_id, col(Reward.number) == number)).scalar_one_or_none()


def catalogue(session: Session, community_id: int) -> list[tuple[Reward, CouponTemplate]]:
    """What members may redeem now, cheapest first (sold-out ones too: they say so)."""
    rows = session.execute(
        select(Reward, CouponTemplate)
        .join(CouponTemplate, col(CouponTemplate.id) == col(Reward.template_id))
        .where(col(Reward.community_id) == community_id, col(Reward.active))
        .order_by(col(Reward.points), col(Reward.number))).all()
    return [(r, t) for r, t in rows]


def redeem(session: Session, *, community_id: int, number: int, member: Member, key: str,
           now: datetime, today: date) -> Redeemed:
    """Points for the reward: refused (nothing written) when it is gone, sold out, over the
    member's limit, or the balance is short."""
    again = _already(session, key)
    if again is not None:
        return again
    reward = find(session, community_id, number)
    if reward is None or not reward.active:
        raise DomainError("no_such_reward", number=number)
    if reward.stock is not None and reward.stock <= 0:
        raise DomainError("reward_sold_out", reward=_brief(reward))
    session.execute(select(col(Member.id)).where(col(Member.id) == member.id).with_for_update())
    tapped = _already(session, None, reward=reward, member=member, since=now - DOUBLE_TAP)
    if tapped is not None:  # the member's second tap of the same button, a moment later
        return tapped
    _within_limit(session, reward, member)
    if member.points_balance < reward.points:  # the debit below refuses too, whatever happened
        raise DomainError("reward_short", reward=_brief(reward), balance=member.points_balance)
    ledger.post(session, member, -reward.points, "redeem", f"reward:{key}", today,
                reason=f"#{reward.number} {reward.name}"[:200])
    _take_stock(session, reward)
    tmpl = session.get(CouponTemplate, reward.template_id)
    assert tmpl is not None
    coupon = coupons.issue(session, member, tmpl, now, issue_key=f"reward:{key}")
    assert coupon is not None, "a reward's template has no limit of its own"
    session.add(Redemption(reward_id=id_of(reward), member_id=id_of(member), points=reward.points,
                           coupon_id=id_of(coupon), redemption_key=key[:128], created_at=now))
    session.flush()
    return Redeemed(reward, coupon, tmpl, member.points_balance)


def _already(session: Session, key: str | None, *, reward: Reward | None = None,
             member: Member | None = None, since: datetime | None = None) -> Redeemed | None:
    """The redemption made under this key, or the member's of this reward since `since`."""
    query = (select(Redemption, Reward, Coupon, CouponTemplate)
             .join(Reward, col(Reward.id) == col(Redemption.reward_id))
             .join(Coupon, col(Coupon.id) == col(Redemption.coupon_id))
             .join(CouponTemplate, col(CouponTemplate.id) == col(Coupon.template_id)))
    if key is not None:
        query = query.where(col(Redemption.redemption_key) == key[:128])
    else:
        assert reward is not None and member is not None and since is not None
        query = query.where(col(Redemption.reward_id) == reward.id,
                            col(Redemption.member_id) == member.id,
                            col(Redemption.created_at) >= since)
    row = session.execute(query.order_by(col(Redemption.id).desc()).limit(1)).first()
    if row is None:
        return None
    balance = session.execute(select(col(Member.points_balance))
                              .where(col(Member.id) == row[0].member_id)).scalar_one()
    return Redeemed(row[1], row[2], row[3], int(balance), again=True)


def _within_limit(session: Session, reward: Reward, member: Member) -> None:
    """Counted with the member's row locked: a second redemption of theirs waits for this
    one, then counts it."""
    if reward.per_member_limit is None:
        return
    held = int(session.execute(select(func.count(col(Redemption.id))).where(
        col(Redemption.reward_id) == reward.id, col(Redemption.member_id) == member.id)).scalar_one())
    if held >= reward.per_member_limit:
        raise DomainError("reward_limit", reward=_brief(reward), limit=reward.per_member_limit)


def _take_stock(session: Session, reward: Reward) -> None:
    if reward.stock is None:
        return
    done = session.execute(
        update(Reward).where(col(Reward.id) == reward.id, col(Reward.stock) > 0)
        .values(stock=col(Reward.stock) - 1).execution_options(synchronize_session=False))
    if rows_matched(done) != 1:
        raise DomainError("reward_sold_out", reward=_brief(reward))


def _brief(reward: Reward) -> dict[str, object]:
    """What a refusal may mention, safe after the transaction rolled back."""
    return {"number": reward.number, "name": reward.name, "points": reward.points}


def is_gift(tmpl: CouponTemplate) -> bool:
    return tmpl.kind == GIFT
