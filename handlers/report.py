"""/report: the business at a glance, as pictures, answered in private.

Each chart is one entry of CHARTS: a data function in models/ (reporting.py) and a picture
function in messages/ (charts.py). Campaign conversion and the distributor leaderboard are
one entry each (the leaderboard: models/reporting_partners.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session

from handlers.context import Ctx
from messages import charts
from messages.money import format_money
from messages.render import Renderer
from messages.types import Reply
from models import reporting, reporting_partners
from models.errors import DomainError, Usage
from models.programme import Programme
from models.reporting import Chart, KeyNumbers, Scope
from models.rules.text import normalize
from models.tables import Community
from models.types import id_of

SPANS = {"week": 7, "週": 7, "周": 7, "本週": 7, "本周": 7, "month": 30, "月": 30, "本月": 30}


@dataclass(frozen=True)
class Builder:
    data: Callable[[Session, Scope], Chart]
    picture: Callable[[charts.Picture], bytes] = charts.draw


CHARTS: tuple[Builder, ...] = (
    Builder(reporting.members_by_tier),
    Builder(reporting.new_members_weekly),
    Builder(reporting.repurchase_monthly),
    Builder(reporting.order_value_monthly),
    Builder(reporting.top_products),
    Builder(reporting.points_redemption_monthly),
    Builder(reporting.coupon_usage_monthly),
    Builder(reporting_partners.distributor_leaderboard),
    Builder(reporting_partners.campaign_conversion),
)


@dataclass(frozen=True)
class Page:
    """What a report is written for: the community, its programme, the reader's language."""

    community: Community
    programme: Programme
    locale: str
    renderer: Renderer

    def text(self, template: str, **context: object) -> str:
        return self.renderer.render(self.locale, template, community=self.community,
                                    currency=self.community.currency, **context)


def report(ctx: Ctx) -> list[Reply]:
    """/report, /report week, /report month: pictures with captions, in private."""
    word = normalize(ctx.args).strip().lower()
    if word and word not in SPANS:
        raise Usage("report")
    if ctx.msg.is_group and not ctx.can_reply_privately:
        raise DomainError("private_only", command="report")
    page = Page(ctx.community, ctx.programme, ctx.locale, ctx.deps.renderer)
    scope = Scope(id_of(ctx.community), ctx.now, ctx.tz, tuple(t.key for t in ctx.programme.tiers))
    made = (summary(ctx.session, scope, page, SPANS[word]) if word
            else pictures(ctx.session, scope, page))
    folder = ctx.deps.media_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{ctx.community.slug}-{ctx.now:%Y%m%d%H%M%S}-{id_of(ctx.member)}"
    replies = [Reply(caption, image=str(_save(folder / f"{stem}-{key}.png", png)),
                     private=ctx.msg.is_group) for key, caption, png in made]
    if ctx.msg.is_group:
        replies.append(ctx.reply("sent_private"))
    return replies


def _save(path: Path, png: bytes) -> Path:
    path.write_bytes(png)
    return path


def pictures(session: Session, scope: Scope, page: Page) -> list[tuple[str, str, bytes]]:
    """Every chart of CHARTS: (its key, caption, PNG bytes)."""
    made = []
    for builder in CHARTS:
        chart = builder.data(session, scope)
        title = page.text("report_title", chart=chart.key)
        png = builder.picture(charts.Picture(
            title, chart.style, chart.unit, _labels(chart, page), chart.values,
            empty_text=page.text("report_empty"), currency=page.community.currency,
            empty=chart.empty))
        made.append((chart.key, page.text("report_caption", chart=chart.key, title=title,
                               figure=_figure(chart)), png))
    return made


def _labels(chart: Chart, page: Page) -> tuple[str, ...]:
    if chart.key == "tiers":
        return tuple(page.programme.tier_name(key, page.locale) for key in chart.labels)
    if chart.key == "campaign_conversion":  # '<name> H' is the holdout
        holdout = page.text("report_title", chart="holdout")
        return tuple(f"{label[:-1]}{holdout}" if label.endswith(" H") else label
                     for label in chart.labels)
    return chart.labels


@dataclass(frozen=True)
class Figure:
    """The caption's number: the latest bucket (or the first product, or the total)."""

    label: str
    count: int
    numerator: int
    denominator: int
    amount: int


def _figure(chart: Chart) -> Figure:
    if chart.key == "tiers":
        return Figure("", int(sum(chart.values)), 0, 0, 0)
    if not chart.labels:
        return Figure("", 0, 0, 0, 0)
    index = 0 if chart.style == "hbars" else len(chart.labels) - 1
    numerator, denominator = chart.parts[index] if chart.parts else (0, 0)
    value = int(chart.values[index])
    return Figure(chart.labels[index], value, numerator, denominator, value)


METRICS = ("new_members", "active_members", "orders", "revenue", "order_value", "repurchase")


@dataclass(frozen=True)
class Item:
    metric: str
    name: str
    now: str
    change: str  # '+25%', '-3.0', '–' when there is nothing to compare with
    points: bool  # the change is in percentage points


def summary(session: Session, scope: Scope, page: Page,
            days: int) -> list[tuple[str, str, bytes]]:
    """The key numbers of the last `days` days against the `days` before: one picture (the
    change of each, in percent) and a caption with every number."""
    before, now = reporting.key_numbers(session, scope, days)
    items = [_item(page, metric, before, now) for metric in METRICS]
    edges = reporting.period_edges(scope, days)
    caption = page.text("report_summary", days=days, key_figures=items,
                        since=edges[1].date(), until=(edges[2] - timedelta(days=1)).date())
    png = charts.draw(charts.Picture(
        page.text("report_title", chart="key_numbers"), "table", "count",
        [item.name for item in items], [1.0] * len(items),
        rows=[(item.now, page.text("report_change", item=item)) for item in items],
        empty_text=page.text("report_empty"), currency=page.community.currency,
        empty=now == before == KeyNumbers()))
    return [(f"summary{days}", caption, png)]


def _value(numbers: KeyNumbers, metric: str) -> float:
    if metric == "repurchase":
        return numbers.repurchase
    found: int = getattr(numbers, metric)
    return float(found)


def _ratio(before: float, now: float) -> float | None:
    return (now - before) / before if before else None


def _item(page: Page, metric: str, before: KeyNumbers, now: KeyNumbers) -> Item:
    name = page.text("report_metric", metric=metric)
    was, value = _value(before, metric), _value(now, metric)
    if metric == "repurchase":
        return Item(metric, name, f"{value * 100:.1f}%", f"{(value - was) * 100:+.1f}", True)
    if metric in ("revenue", "order_value"):
        shown = format_money(int(value), page.community.currency)
    else:
        shown = f"{int(value):,}"
    ratio = _ratio(was, value)
    return Item(metric, name, shown, "–" if ratio is None else f"{ratio * 100:+.0f}%", False)
