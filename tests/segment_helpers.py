"""Rows for segment and automation tests, written directly (a community, members, buys, orders)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

from sqlmodel import Session

from models.tables import ChannelAccount, Community, GroupBuy, LineStatus, Member, Order, SpendEntry

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)
_seq = count(1)


class Shop:
    """A community to fill: `shop.member("amy", tier="gold")`, `shop.bought(amy, "尿布", "母嬰")`."""

    def __init__(self, session: Session, slug: str = "shop") -> None:
        self.session = session
        self.community = Community(slug=slug, name=slug, programme={})
        session.add(self.community)
        session.flush()
        self.buys: dict[tuple[str, str], GroupBuy] = {}

    @property
    def id(self) -> int:
        assert self.community.id is not None
        return self.community.id

    def member(self, name: str, *, tier: str = "bronze", channel: str = "telegram",
               private: bool = True, opted_out: bool = False, birthday_month: int | None = None,
               joined_days_ago: int = 400) -> Member:
        n = next(_seq)
        member = Member(community_id=self.id, display_name=name, tier=tier, referral_code=f"R{n}",
                        birthday_month=birthday_month,
                        joined_at=NOW - timedelta(days=joined_days_ago))
        self.session.add(member)
        self.session.flush()
        self.session.add(ChannelAccount(member_id=member.id, community_id=self.id, channel=channel,
                                        external_id=f"{name}{n}", handle=name,
                                        private_chat=f"{name}{n}" if private else None,
                                        opted_out=opted_out, last_seen_at=NOW))
        self.session.flush()
        return member

    def buy(self, title: str, category: str = "") -> GroupBuy:
        found = self.buys.get((title, category))
        if found is None:
            found = GroupBuy(community_id=self.id, number=next(_seq), channel="telegram", chat_id="g",
                             title=title, price=10_000, category=category, cycle_days=30,
                             opens_at=NOW, deadline=NOW)
            self.session.add(found)
            self.session.flush()
            self.buys[(title, category)] = found
        return found

    def bought(self, member: Member, title: str, category: str = "", *, days_ago: int = 10,
               net: int = 10_000, status: LineStatus = LineStatus.DELIVERED, quantity: int = 1,
               buy: GroupBuy | None = None) -> Order:
        buy = buy or self.buy(title, category)
        at = NOW - timedelta(days=days_ago)
        order = Order(group_buy_id=buy.id, member_id=member.id, quantity=quantity, status=status,
                      source_key=f"k{next(_seq)}", unit_price=net, list_price=net, net=net,
                      created_at=at, delivered_at=at if status is LineStatus.DELIVERED else None)
        self.session.add(order)
        if status is LineStatus.DELIVERED:
            self.session.add(SpendEntry(member_id=member.id, amount=net, source_key=f"s{next(_seq)}",
                                        occurred_at=at))
        self.session.flush()
        return order
