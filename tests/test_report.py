"""/report as a leader uses it: PNG charts in private with captions, Chinese that draws, an
empty community's charts saying "no data yet", the key numbers against the previous period."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from bot.console import ConsoleChannel
from handlers.report import CHARTS
from messages import charts
from tests.conftest import Clock, say
from tests.groupbuy_helpers import started

APPLES = "/open 有機蘋果 | 350 | 50 | 2h"


def images(out: list[str]) -> list[Path]:
    return [Path(line.split(": ", 1)[1]) for line in out if line.endswith(".png")]


def test_a_leader_gets_every_chart_as_a_png_in_private_and_a_word_in_the_group(console):
    started(console, "leader")
    say(console, f"leader@demo: {APPLES}", "amy@demo: +2", "bob@demo: +1")
    out = say(console, "leader@demo: /report")
    pictures = images(out)
    assert len(pictures) == len(CHARTS) == 9
    assert all(line.startswith("bot -> leader: ") for line in out[:-1])
    assert out[-1] == "bot -> leader@demo: 已私訊給你。"
    for path in pictures:
        with Image.open(path) as picture:
            assert picture.format == "PNG" and picture.size[0] > 400
            picture.load()
    assert "第一名：有機蘋果（NT$1,050）" in "\n".join(out)


def test_a_leader_who_never_started_the_bot_in_private_is_asked_to_and_nothing_is_drawn(
        console, app):
    out = say(console, "leader@demo: /report")
    assert out == ["bot -> leader@demo: 這只在私訊中傳送：請先私訊我 /start，再傳 /report。"]
    assert not (app.settings.media_dir / "reports").exists()


def test_a_member_asking_for_the_report_is_refused_in_their_language(console, app):
    out = say(console, "amy: /lang en", "amy: /report")
    assert out[-1] == "bot -> amy: Only the group leader or an admin can do that."
    assert not (app.settings.media_dir / "reports").exists()


def test_an_empty_community_gets_charts_that_say_no_data_yet(console):
    out = say(console, "leader: /report")
    assert len(images(out)) == len(CHARTS)
    text = "\n".join(out)
    assert "2026-03：還沒有資料" in text and "第一名" not in text


def test_the_english_report_has_english_captions(console):
    out = say(console, "leader: /lang en", "leader: /report")
    assert "Members by tier\n1 member in all" in "\n".join(out)


def test_report_week_compares_the_key_numbers_with_the_week_before(console, clock: Clock):
    started(console, "leader", "amy")
    say(console, f"leader@demo: {APPLES}", "amy@demo: +1")
    clock.advance(days=7)
    say(console, "leader@demo: /open 梨 | 100 | 50 | 2h", "amy@demo: +1", "bob@demo: +3")
    out = say(console, "leader: /report week")
    assert out[0] == "\n".join((
        "bot -> leader: 近 7 天（2026-03-11 至 2026-03-17），與前 7 天相比：",
        "新會員：1（-50%）", "活躍會員：2（+100%）", "訂單數：2（+100%）", "營收：NT$400（+14%）",
        "客單價：NT$200（-43%）", "回購率：0.0%（+0.0 個百分點）"))
    assert len(images(out)) == 1


def test_an_unknown_period_gets_the_usage(console):
    assert say(console, "leader: /report year") == [
        "bot -> leader: 用法：/report（全部圖表）、/report week（近 7 天關鍵數字）、"
        "/report month（近 30 天關鍵數字）"]


def glyph_warnings(draw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw()
    return [str(w.message) for w in caught if "Glyph" in str(w.message)]


def test_chinese_labels_draw_with_the_cjk_font_and_no_glyph_is_missing():
    picture = charts.Picture("各等級會員人數 团购", "bars", "count", ["銅", "鑽石", "钻石"],
                             [3, 1, 0], empty_text="還沒有資料")
    drawn: list[bytes] = []
    assert glyph_warnings(lambda: drawn.append(charts.draw(picture))) == []
    assert Image.open(io.BytesIO(drawn[0])).format == "PNG"
    empty = charts.Picture("熱銷商品", "hbars", "money", [], [], empty_text="还没有数据")
    assert glyph_warnings(lambda: charts.draw(empty)) == []


def test_without_the_cjk_font_matplotlib_would_say_glyphs_are_missing():
    """The check above can fail: the default font has no Chinese, and matplotlib says so."""
    def default_font() -> None:
        figure = Figure()
        FigureCanvasAgg(figure)
        figure.add_subplot().set_title("會員", fontfamily="DejaVu Sans")
        figure.savefig(io.BytesIO(), format="png")

    assert glyph_warnings(default_font)


@pytest.mark.parametrize("style,unit", [("bars", "money"), ("line", "percent"),
                                        ("hbars", "count"), ("table", "count")])
def test_every_style_draws_a_png(style, unit):
    picture = charts.Picture("標題", style, unit, ["一", "二"], [0.25, 0.5],
                             rows=[("1", "+5%"), ("2", "–")])
    assert charts.draw(picture).startswith(b"\x89PNG\r\n\x1a\n")


def test_a_report_asked_for_twice_in_a_second_keeps_both_sets(console: ConsoleChannel):
    first = images(say(console, "leader: /report"))
    second = images(say(console, "leader: /report week"))
    assert set(first).isdisjoint(second) and all(p.is_file() for p in first + second)


def test_the_distributor_leaderboard_ranks_this_months_level_one_sales(console):
    from tests.distribution_helpers import approve
    from tests.groupbuy_helpers import member, orders_of

    say(console, "amy: /invite", "cat: /invite")
    amy, cat = member(console, "amy"), member(console, "cat")
    approve(console, amy.id, cat.id)
    say(console, f"bob: /start ref_{amy.referral_code}", f"dan: /start ref_{cat.referral_code}",
        f"leader@demo: {APPLES}", "bob@demo: +3", "dan@demo: +1")
    for buyer in ("bob", "dan"):
        say(console, f"leader@demo: /delivered {orders_of(console, buyer)[0].id}")
    text = "\n".join(say(console, "leader: /report"))
    assert "分銷排行榜（本月業績）\n第一名：amy（NT$1,050）" in text


def test_the_report_shows_the_latest_campaigns_buying_rate_per_variant(console, clock: Clock):
    from handlers.campaignrun import run_due
    from tests.test_campaign_conversations import segment

    started(console, "leader", "amy", "bob")
    say(console, f"leader@demo: {APPLES}")
    segment(console, "all", "orders>=0")
    say(console, "leader: /campaign new 春季 segment=all holdout=10% | {{name}}，{{buy}}")
    assert run_due(console.deps) == 1
    clock.advance(minutes=5)
    say(console, "amy@demo: +1")
    out = say(console, "leader: /report")
    assert len(images(out)) == len(CHARTS) == 9
    caption = next(line for line in out if "最近一次活動" in line)
    assert "春季" in caption and "位在活動期間購買" in caption


def test_before_any_campaign_the_conversion_chart_says_so(console):
    out = "\n".join(say(console, "leader: /report"))
    assert "最近一次活動：各版本的購買率" in out and "還沒有執行過活動" in out
