"""Report pictures: PNG bytes drawn with matplotlib (Agg, no display, no pyplot state).

Every text is given already localized (titles, labels, "no data yet"); the one CJK font of
messages/fonts.py is registered with matplotlib once, so Chinese labels draw as characters,
not boxes. Values come as floats: counts, ratios (0..1) for percent, minor units for money.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from messages.fonts import cjk_font_path
from messages.money import format_money

COLOUR, ACCENT, GREY = "#2f6f9f", "#e07b39", "#888888"
SIZE, DPI = (9, 4.5), 100
LABEL_CHARS = 12  # a longer product name is cut with "…"


@lru_cache(maxsize=1)
def font_family() -> str:
    """Register the CJK font with matplotlib (once) and give its family name."""
    path = str(cjk_font_path())
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


@dataclass(frozen=True)
class Picture:
    """What to draw: style is bars, hbars or line; unit is count, percent or money."""

    title: str
    style: str
    unit: str
    labels: Sequence[str]
    values: Sequence[float]
    empty_text: str = ""  # shown instead of the data when there is none
    currency: str = "TWD"
    empty: bool | None = None  # None: empty when every value is zero
    rows: Sequence[Sequence[str]] = ()  # style "table": the cells after each label


def _formatter(picture: Picture) -> FuncFormatter:
    def shown(value: float, _position: object = None) -> str:
        if picture.unit == "percent":
            return f"{value * 100:.0f}%"
        if picture.unit == "money":
            return format_money(int(value), picture.currency)
        return f"{value:,.0f}"
    return FuncFormatter(shown)


def _figure(title: str) -> tuple[Figure, Axes]:
    family = font_family()
    figure = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.set_title(title, fontfamily=family, fontsize=15)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure, axes


def draw(picture: Picture) -> bytes:
    """The picture as PNG bytes; with no data, the title and the empty text."""
    family = font_family()
    figure, axes = _figure(picture.title)
    empty = picture.empty if picture.empty is not None else not any(picture.values)
    if empty or not picture.values:
        axes.set_axis_off()
        axes.text(0.5, 0.5, picture.empty_text, ha="center", va="center",
                  fontsize=18, color=GREY, fontfamily=family, transform=axes.transAxes)
        return _png(figure)
    if picture.style == "table":
        _table(axes, picture, family)
    else:
        _plot(axes, picture, family)
        # fixed margins: tight_layout would lay every text out once more (a third of the time)
        left = 0.24 if picture.style == "hbars" else 0.12
        figure.subplots_adjust(left=left, right=0.9 if picture.style == "hbars" else 0.97,
                               top=0.88, bottom=0.1 if picture.style == "hbars" else 0.2)
    return _png(figure)


def _plot(ax: Axes, picture: Picture, family: str) -> None:
    labels = [label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "…"
              for label in picture.labels]
    values = list(picture.values)
    formatter = _formatter(picture)
    if picture.style == "hbars":
        positions = list(range(len(labels)))[::-1]  # the first (largest) on top
        bars = ax.barh(positions, values, color=COLOUR)
        ax.set_yticks(positions, labels, fontfamily=family)
        ax.bar_label(bars, labels=[formatter(v) for v in values], padding=3,
                     fontfamily=family, fontsize=9)
        ax.set_xlim(0, max(values) * 1.2 if max(values) > 0 else 1)
        ax.xaxis.set_visible(False)  # each bar carries its value
        ax.spines["bottom"].set_visible(False)
        return
    positions = list(range(len(labels)))
    if picture.style == "line":
        ax.plot(positions, values, marker="o", color=ACCENT)
        ax.set_ylim(0, max(1.0, max(values) * 1.1) if picture.unit == "percent"
                    else max(values) * 1.15)
    else:
        bars = ax.bar(positions, values, color=COLOUR)
        ax.bar_label(bars, labels=[formatter(v) if v else "" for v in values],
                     padding=2, fontfamily=family, fontsize=7 if len(labels) > 8 else 9)
    rotate = 45 if len(labels) > 6 else 0
    ax.set_xticks(positions, labels, fontfamily=family, rotation=rotate,
                  ha="right" if rotate else "center")
    ax.yaxis.set_major_formatter(formatter)
    if picture.unit == "money" and picture.style == "bars":
        ax.yaxis.set_visible(False)  # each bar carries its value; the axis' would crowd it
        ax.spines["left"].set_visible(False)
    if picture.unit == "count":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))


def _table(ax: Axes, picture: Picture, family: str) -> None:
    """Each label with its cells, one row each (the key numbers)."""
    ax.set_axis_off()
    cells = [[label, *row] for label, row in zip(picture.labels, picture.rows, strict=True)]
    table = ax.table(cellText=cells, loc="center", cellLoc="left", edges="horizontal")
    table.auto_set_font_size(False)
    table.set_fontsize(14)
    table.scale(1, 2.2)
    for cell in table.get_celld().values():
        cell.get_text().set_fontfamily(family)


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()
