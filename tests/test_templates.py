"""Every template renders in every locale with the context the code gives it (StrictUndefined:
a variable or attribute the code does not give fails), and the locales have the same templates."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import meta

from messages.render import LOCALES, Renderer
from models import config_keys
from models.campaign_report import ArmCounts
from models.config_keys import Problem
from models.fulfilment import Effects
from models.programme import programme_from
from models.rules.abtest import Verdict
from models.rules.champions import Period
from models.rules.offers import parse_offer
from models.rules.orders_csv import RowError
from models.rules.points import Lot
from models.rules.referral import Reward
from models.rules.tiers import Gap
from models.settlement import Figures
from models.standing import Standing
from models.tables import (
    AuditLog,
    Campaign,
    CampaignStatus,
    Community,
    Coupon,
    CouponTemplate,
    Distributor,
    GroupBuy,
    Member,
    Order,
    PointsEntry,
)
from models.tables_rewards import Reward as CatalogueReward

RENDERER = Renderer()
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _full() -> dict[str, Any]:
    """A value for every variable any template uses, shaped as the code passes it."""
    programme = programme_from(None)
    tier = programme.tiers[0]
    community = Community(id=1, slug="demo", name="Demo", programme={})
    member = Member(id=1, community_id=1, display_name="amy", referral_code="AMY1")
    buy = GroupBuy(id=1, community_id=1, number=3, channel="console", chat_id="demo",
                   title="Apples", price=35_000, stock=10, allocated=4, per_member_limit=2,
                   opens_at=NOW, deadline=NOW)
    order = Order(id=7, group_buy_id=1, member_id=1, quantity=2, status="allocated",
                  source_key="k", unit_price=35_000, list_price=70_000, tier_discount=3_500,
                  coupon_discount=10_000, points_used=50, points_value=5_000, net=51_500,
                  created_at=NOW)
    coupon = Coupon(id=1, template_id=1, member_id=1, code="BDAY1", valid_until=NOW)
    effects = Effects()
    effects.points, effects.upgraded_to, effects.gift_code = 515, "silver", "GIFT1"
    joined = SimpleNamespace(allocated=1, waitlisted=1, orders=[order])
    campaign = Campaign(id=1, community_id=1, name="會員日", segment="媽媽", message_a="hi",
                        message_b="yo", holdout_pct=10, multiplier_pct=200,
                        schedule="month:8@10:00", runs=2, status=CampaignStatus.RUNNING)
    brief = SimpleNamespace(number=3, title="Apples")
    return {
        "member": member, "community": community, "currency": "TWD", "tz": ZoneInfo("Asia/Taipei"),
        "buy": buy, "order": order, "buys": [brief, brief], "orders": [(order, buy)],
        "target": member, "friend": member, "kept": member, "referrer": "bob",
        "staff": [(member, "owner")], "p": programme, "tiers": [("Bronze", tier, 10_000)],
        "current": tier, "next": programme.tiers[1], "next_name": "Silver",
        "gap": Gap("silver", 300_000, 3), "spend": 100_000, "balance": 40, "debt": 5,
        "entries": [PointsEntry(member_id=1, delta=40, debt_delta=5, kind="grant", reason="hi",
                                idem_key="k", created_at=NOW)],
        "expiring": [Lot(date(2026, 3, 31), 40)],
        "coupons": [(coupon, CouponTemplate(community_id=1, key="birthday_bronze", name="B",
                                            kind="amount", value=10_000))],
        "tier_names": {"bronze": "Bronze"}, "coupon": coupon, "value": 10_000, "until": date(2026, 3, 31),
        "tier": "Bronze", "before": "Bronze", "after": "Silver", "reason": "loyal", "delta": 10,
        "effects": effects, "joined": joined, "net": 51_500, "held": 2, "limit": 2,
        "units": 2, "refunded": True, "count": 3, "rows": [("amy", 2)], "waiting": 1,
        "closed": False, "deadline": "2026-03-11 20:00", "weekday": 2, "opens": "12:00", "early": "Gold",
        "at": "12:30", "when": "03-01 20:00", "action": "paid", "added": 2, "skipped": 1,
        "errors": [RowError(2, "bad_quantity", "quantity", "x")] * 21, "missing": ["quantity"],
        "path": "/tmp/x.csv", "ids": ["9"], "code": "AMY1", "link": "tuanbot://start?ref=AMY1",
        "people": [member], "bought": 1, "minutes": 10, "points": 5, "streak": 3, "bonus": 20,
        "to_bonus": 4, "day": 15, "month": 3, "year": 2026, "is_new": True, "field": "price",
        "step": 2, "steps": 8, "word": "pizza", "name": "@nobody", "max": 1_000_000,
        "choices": ["demo", "north"], "invalid": "02-30", "owner_only": True,
        "commands": ["me", "points"], "leader_commands": ["grant"], "channel": "line",
        "platform": "LINE",
        "unreachable": True, "side": "referrer", "owed": 20, "wanted": 30, "exclusive": "Gold",
        "needs": {"zh-Hant": "金", "zh-Hans": "金", "en": "Gold"},
        "has": {"zh-Hant": "銅", "zh-Hans": "铜", "en": "Bronze"},
        "place": "Lobby", "days": 3, "amount": 51_500, "total": 51_500, "number": 99,
        "unpaid_lines": [SimpleNamespace(member=member, units=2, amount=51_500)], "arrived": True,
        "summary": SimpleNamespace(count=2, ratings=[(SimpleNamespace(score=2, comment="soft"), member)]),
        "average": "4.5", "rater": member, "score": 2, "comment": "soft",
        "command": "close", "lines": [order, order],
        "campaign": campaign, "campaign_rows": [(campaign, "2026-12-08 10:00")],
        "variant": "A", "text": "hi amy", "question": "holdout", "part": "missing",
        "arms": [(ArmCounts("A", 100, 90, 80, 10, 12, 420_000), 12.0),
                 (ArmCounts("H", 10, 0, 0, 0, 1, 35_000), 10.0)],
        "lifts": {"A": 20, "B": None}, "verdict": Verdict("B", "A", 18, 0.34, False),
        "rule": "category=母嬰 orders>=2", "replaced": True, "problem": "unknown_field",
        "details": {"field": "colour", "token": "colour=red"}, "tag": "母嬰", "removed": False,
        "changed": True,
        "open_buy": buy, "product": "Apples", "gift": coupon,
        "saved": [(SimpleNamespace(name="moms", rule_text="tag=x"), 3),
                  (SimpleNamespace(name="old", rule_text="tier=gone"), None)],
        "refused": "unknown", "min_purchase": 50_000, "prize": Reward("coupon", 10_000),
        "released": True, "what": "@bob", "held_total": 3, "sales": 1_250_000,
        "period": Period("quarter", "2026-Q1", ("2026-01", "2026-02", "2026-03"), 2026, 1),
        "holds": [SimpleNamespace(reward=SimpleNamespace(id=4, created_at=NOW), referee=member,
                                  referrer=member)] * 2,
        "chart": "repurchase", "title": "Repurchase rate per month", "metric": "orders",
        "figure": SimpleNamespace(label="2026-03", count=3, numerator=2, denominator=5,
                                  amount=51_500),
        "kind": "members", "mb": 5, "since": date(2026, 3, 4),
        "item": SimpleNamespace(name="Repurchase", now="40.0%", change="+2.5", points=True),
        "key_figures": [SimpleNamespace(name="Orders", now="12", change="+20%", points=False),
                  SimpleNamespace(name="Repurchase", now="40.0%", change="+2.5", points=True)],
        **_distribution(member),
        **_admin_samples(coupon, member),
    }


def _distribution(member: Member) -> dict[str, Any]:
    """What the distribution templates are given (handlers/distributors.py, commission.py)."""
    row = Distributor(id=1, community_id=1, member_id=1, status="approved", note="I sell a lot",
                      applied_at=NOW, pending=5_000, confirmed=-2_000, paid=10_000)
    figures = Figures("2026-02", 3, 100_000, 7_000, 5_000, 1_000, 2_000, -500, 3_000, True)
    card = Standing(row=row, month="2026-03", sales=400_000, step=1, pct=5, missing=600_000,
                    next_pct=8, rank=2, level1=3, level2=1)
    return {
        "applicants": [(row, member)], "mode": "everyone", "automatic": True, "status": "suspended",
        "wanted": "approved", "min_spend": 100_000, "short": 20_000, "s": card,
        "ladder": ((0, 5), (1_000_000, 8)), "f": figures, "left": -2_000, "paid": 10_000,
        "boards": [("month", [(member, 100_000, 2)]), ("all", [])], "line_count": 4,
        "this_month": "2026-03", "confirmed": 5_000, "ym": "2026-02",
    }


def _admin_samples(coupon: Coupon, member: Member) -> dict[str, Any]:
    """The rewards catalogue, leaders' coupons, configuration and audit."""
    tmpl = CouponTemplate(id=2, community_id=1, key="c_週年慶", name="週年慶", kind="percent",
                          value=15, min_spend=30_000, valid_days=14, valid_until=NOW,
                          per_member_limit=1)
    reward = CatalogueReward(id=1, community_id=1, number=2, name="100元折價券", template_id=2, points=500,
                    stock=0, per_member_limit=1)
    settings = config_keys.view({}, "Asia/Taipei")
    audit_entry = AuditLog(community_id=1, actor="console:leader", action="config", allowed=False,
                           detail="tiers.gold.min_spend", old_value="8000", new_value="9000", at=NOW)
    return {
        "items": [(reward, tmpl)], "reward": reward, "tmpl": tmpl, "again": True,
        "offer": parse_offer(["贈品", "gift=保溫杯", "points=800"], NOW.date()),
        "mistake": "bad_until", "made": [(tmpl, 3)], "names": ["週年慶"],
        "changes": [("quiet_hours.start", "22:00", "22:30"), ("tiers.gold.min_invites", 3, None)],
        "settings": settings, "key": "frequency_cap_per_week",
        "problems": [Problem("tiers.gold.min_spend", "not_increasing", "100", {"floor": "3000"}),
                     Problem("quiet_hours.start", "wrong_type", "25:00", {"kind": "clock"}),
                     Problem("x", "out_of_range", "200", {"low": 0, "high": 100}),
                     Problem("commission_cap_pct", "cap_below_level1", "5", {"rate": 10})],
        "log": [(audit_entry, "leader"), (AuditLog(community_id=1, actor="console:amy",
                    action="grant", allowed=True, detail="/grant @bob 5 hi", at=NOW), "amy")],
        "most": 50, "minimum": 30_000, "segment": "moms", "matched": 3, "issued": 2, "told": 1,
        "question": "holdout", "coupon_field": "kind",
    }


def _empty() -> dict[str, Any]:
    """The other branches: nothing yet, nothing missing, no optional values."""
    full = _full()
    full["effects"].upgraded_to = None
    for key in ("buys", "orders", "staff", "entries", "expiring", "coupons", "errors", "rows",
                "people", "missing", "ids", "choices", "commands", "leader_commands", "unpaid_lines",
                "lines", "saved", "log", "items", "made", "names", "changes", "problems"):
        full[key] = []
    for key in ("gap", "next", "next_name", "referrer", "early", "exclusive", "open_buy", "gift"):
        full[key] = None
    full.update(refused=None, min_purchase=0, prize=Reward("points", 100), released=False,
                reason="", holds=[], held_total=0,
                period=Period("month", "2026-02", ("2026-02",), 2026, 2))
    full["tmpl"] = CouponTemplate(id=3, community_id=1, key="c_x", name="x", kind="amount",
                                  value=5_000, valid_days=30)
    full["reward"] = CatalogueReward(id=1, community_id=1, number=1, name="x", template_id=3, points=5)
    full.update(again=False, mistake="no_such_mistake", limit=0)
    full.update(summary=SimpleNamespace(count=0, ratings=[]), average=None, comment="", number=None,
                arrived=False, points=0, chart="tiers",
                figure=SimpleNamespace(label="", count=0, numerator=0, denominator=0, amount=0))
    full.update(replaced=False, removed=True, changed=False)
    full.update(applicants=[], automatic=False, status="approved", mode="apply",
                s=replace(full["s"], missing=None, next_pct=None, rank=None),
                f=replace(full["f"], final=False, balance=0), boards=[("month", [])])
    full.update(unreachable=False, side="referee", owed=0, balance=0, delta=-10,
                debt=0, held=0, is_new=False, closed=True, word="", owner_only=False, skipped=0,
                joined=SimpleNamespace(allocated=0, waitlisted=2, orders=[]))
    full.update(campaign=Campaign(id=2, community_id=1, name="x", segment="s", message_a="hi",
                                  runs=1, status=CampaignStatus.SCHEDULED),
                campaign_rows=[], arms=[], lifts={}, verdict=None, part="no_buy")
    del full["invalid"]  # usage_birthday without a typed date
    return full


def _variables(locale: str, name: str) -> set[str]:
    env = RENDERER._envs[locale]
    source = env.loader.get_source(env, f"{name}.j2")[0]  # type: ignore[union-attr]
    return meta.find_undeclared_variables(env.parse(source))


def test_every_locale_has_the_same_templates():
    assert RENDERER.names("zh-Hant") == RENDERER.names("zh-Hans") == RENDERER.names("en")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("sample", [_full, _empty], ids=["full", "empty"])
def test_every_template_renders_in_every_locale(locale, sample):
    context = sample()
    for name in RENDERER.names(locale):
        unknown = _variables(locale, name) - set(_full())
        assert not unknown, f"{locale}/{name}.j2 uses {unknown}: add a sample here"
        assert RENDERER.render(locale, name, **context).strip(), f"{locale}/{name}.j2 is empty"
