"""A leader's campaign message for one member: the checked text (compiled once) filled in
from plain values, the parts in the member's language made once per language, tier and buy.

    person = Personaliser(deps, community, texts_of(campaign), audience.shared(...), now)
    person.reply("A", card, spend_12m, recommended_buy)  # → Reply, with the join button
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.context import Deps
from messages.leader_text import LeaderText, check
from messages.money import format_money
from messages.records import text_json
from messages.types import Button, Reply
from models.audience import Card, Shared
from models.programme import Programme, programme_for
from models.rules import tiers as tier_rules
from models.rules.campaigns import VARIANT_A
from models.rules.recommend import OpenBuy, Recommender
from models.tables import Campaign, Community

_MARKER = 987_654_321_987  # an amount no gap is: where the amount goes in a cached sentence


@dataclass
class Personaliser:
    """The leader's message for one member: placeholders filled from plain values; the parts
    in the member's language (tier name, what is missing, the buy and its button) are made
    once per language, tier and buy; per member only the amount missing."""

    deps: Deps
    community: Community
    texts: dict[str, LeaderText]
    common: Shared
    now: datetime
    joined: dict[int, set[int]] = field(default_factory=dict)  # member → open buys they are in
    uses: frozenset[str] = field(init=False)
    programme: Programme = field(init=False)
    _parts: dict[tuple[Any, ...], str] = field(default_factory=dict)
    _offers: dict[tuple[str, int], tuple[str, tuple[Button, ...]]] = field(default_factory=dict)
    _tiers: dict[tuple[str, str], str] = field(default_factory=dict)  # (tier, language) → name
    _above: dict[tuple[str, str], tuple[int, str] | str] = field(default_factory=dict)
    _money: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.programme = programme_for(self.community)
        self.currency, self.default_locale = self.community.currency, self.community.default_locale
        self.marker = format_money(_MARKER, self.currency)
        self.uses = uses_of(self.texts)
        self.wants_missing, self.wants_buy = "missing" in self.uses, "buy" in self.uses
        self.today = self.now.astimezone(ZoneInfo(self.community.timezone)).date()
        self.recommender = Recommender(self.common.open_buys, self.common.co_bought,
                                       self.common.codes)
        self._joined = {member_id: self.recommender.joined_bits(buys)
                        for member_id, buys in self.joined.items()}
        self._recommends = self.wants_buy and bool(self.common.open_buys)

    def _part(self, locale: str, part: str, **context: Any) -> str:
        return self.deps.renderer.render(locale, "campaign_part", part=part,
                                         currency=self.currency, **context)

    def _cached(self, locale: str, part: str, buy: OpenBuy) -> str:
        key = (locale, part, buy.buy_id)
        found = self._parts.get(key)
        if found is None:
            found = self._parts[key] = self._part(locale, part, buy=buy)
        return found

    def reply(self, which: str, card: Card) -> Reply:
        """Variant `which` for the member of this card (with its spend and lines when the
        message says what is missing or recommends a buy)."""
        text, buttons = self.filled(which, card)
        return Reply(text, buttons=buttons)

    def body(self, which: str, card: Card) -> str:
        """`reply` as the outbox keeps it (JSON text), without making the Reply."""
        return text_json(*self.filled(which, card))

    def recommended(self, card: Card) -> OpenBuy | None:
        if not self._recommends:
            return None
        lines = card.lines
        return self.recommender.pick_coded(lines.split(",") if lines else (),
                                           self._joined.get(card.member_id, 0))

    def filled(self, which: str, card: Card) -> tuple[str, tuple[Button, ...]]:
        """The text of variant `which` for this member, and its buttons."""
        locale = card.locale or self.default_locale
        tier = self._tiers.get((card.tier, locale))
        if tier is None:
            tier = self._tiers[card.tier, locale] = self.programme.tier_name(card.tier, locale)
        values = {"name": card.name, "points": str(card.points), "tier": tier}
        if self.wants_missing:
            values["missing"] = self._missing(locale, card.tier, int(card.spend or 0))
        text = self.texts[which]
        if not self.wants_buy:
            return text.render(values), ()
        buy = self.recommended(card)
        key = (locale, buy.buy_id if buy else 0)
        offer = self._offers.get(key) or self._offer(key, buy)
        values["buy"] = offer[0]
        return text.render(values), offer[1] if "buy" in text.uses else ()

    def _offer(self, key: tuple[str, int], buy: OpenBuy | None) -> tuple[str, tuple[Button, ...]]:
        """The recommended buy in this language with its join button (no buy: a line saying
        none is open, no button)."""
        locale = key[0]
        found = self._offers[key] = (
            (self._cached_part(locale, "no_buy", None), ()) if buy is None else
            (self._cached(locale, "buy", buy),
             (Button(self._cached(locale, "join", buy), f"/join #{buy.number}"),)))
        return found

    def _missing(self, locale: str, tier: str, spend: int) -> str:
        """'NT$1,200 more to reach Silver': the sentence is rendered once per language and
        tier with a marker amount, then only the amount changes (what `gap_to_next` gives:
        the next tier's spend less the member's, never below 0)."""
        above = self._above.get((tier, locale))
        if above is None:
            gap = tier_rules.gap_to_next(tier, 0, 0, self.programme.tiers)
            above = self._above[tier, locale] = (
                self._cached_part(locale, "top", None) if gap is None else
                (tier_rules.find(gap.tier, self.programme.tiers).min_spend,
                 self._cached_part(locale, "missing", gap.tier)))
        if isinstance(above, str):
            return above
        amount = max(0, above[0] - spend)
        money = self._money.get(amount)
        if money is None:
            money = self._money[amount] = format_money(amount, self.currency)
        return above[1].replace(self.marker, money)

    def _cached_part(self, locale: str, part: str, tier: str | None) -> str:
        key = (locale, part, tier)
        found = self._parts.get(key)
        if found is None:
            found = self._parts[key] = self._part(
                locale, part, amount=_MARKER,
                tier=self.programme.tier_name(tier, locale) if tier else "")
        return found


def uses_of(texts: dict[str, LeaderText]) -> frozenset[str]:
    """The placeholders any of the texts uses."""
    return frozenset().union(*(t.uses for t in texts.values()))


def texts_of(campaign: Campaign) -> dict[str, LeaderText]:
    found = {VARIANT_A: check(campaign.message_a)}
    if campaign.message_b:
        found["B"] = check(campaign.message_b)
    return found
