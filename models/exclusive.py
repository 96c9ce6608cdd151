"""Tier-only group buys (專屬團購): open to members of a tier and above for their whole life."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from models import tiers as tier_ops
from models.db import Runner
from models.errors import DomainError
from models.programme import Programme
from models.rules import tiers as tier_rules
from models.tables import GroupBuy, Member

LOCALES = ("zh-Hant", "zh-Hans", "en")  # the refusal names the tier in each (messages/render.py)


def admits(session: Runner, buy: GroupBuy, member: Member, programme: Programme,
           now: datetime) -> None:
    """Refuse (DomainError 'tier_only', naming the tier in every language and what the member
    still misses to reach it) a member below the buy's tier; writes nothing."""
    needed = buy.exclusive_tier
    tiers = programme.tiers
    if needed is None or tier_rules.rank(member.tier, tiers) >= tier_rules.rank(needed, tiers):
        return
    spend, invites = tier_ops.standing(session, member.id, now)
    raise DomainError(
        "tier_only", buy=SimpleNamespace(number=buy.number, title=buy.title),
        gap=tier_rules.gap_to(needed, spend, invites, tiers),
        needs={locale: programme.tier_name(needed, locale) for locale in LOCALES},
        has={locale: programme.tier_name(member.tier, locale) for locale in LOCALES})
