"""Which open group buy to recommend to a member (pure).

In order: the same product again, then the same category, once the member is due for it
(last delivery + consumption cycle × quantity − lead days ≤ today; no cycle known: due);
then what members who bought the member's products also bought (co-purchases); else the
most-joined open buy. Never a buy the member already joined, never a product the member
still has at home (not yet due). Ties go to the most-joined buy, then the lowest number.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple


def product_key(title: str) -> str:
    """The same product across buys: its title, trimmed, case and spacing folded."""
    return " ".join(title.split()).casefold()


@dataclass(frozen=True, slots=True)
class OpenBuy:
    buy_id: int
    number: int
    title: str
    category: str
    joined: int  # members in it now
    price: int = 0
    product: str = field(default="", compare=False)  # product_key(title), filled in

    def __post_init__(self) -> None:
        if not self.product:
            object.__setattr__(self, "product", product_key(self.title))


class Bought(NamedTuple):
    """A product the member received: its category and when it runs out (None: no cycle)."""

    product: str
    category: str
    due_on: date | None


History = Sequence[tuple[str, str, date | None]]  # Bought, or plain (product, category, due_on)
CoPurchases = Mapping[str, Mapping[str, int]]  # product X → product Y → members who bought both


def _best(buys: Sequence[OpenBuy]) -> OpenBuy | None:
    if not buys:
        return None
    return min(buys, key=lambda b: (-b.joined, b.number))


def recommend(open_buys: Sequence[OpenBuy], history: History, joined: Collection[int],
              co_bought: CoPurchases, today: date) -> OpenBuy | None:
    """The one open buy to put in front of this member, or None when none fits."""
    bought, not_due, categories, waiting = set(), set(), set(), set()
    for product, category, due_on in history:
        bought.add(product)
        categories.add(category)
        if due_on is not None and due_on > today:
            not_due.add(product)
            waiting.add(category)
    candidates = [b for b in open_buys if b.buy_id not in joined and b.product not in not_due]
    if not candidates:
        return None
    again = _best([b for b in candidates if b.product in bought])
    if again is not None:
        return again
    categories -= waiting
    same_kind = _best([b for b in candidates if b.category and b.category in categories])
    if same_kind is not None:
        return same_kind
    also = _also_bought(candidates, bought, co_bought)
    return also if also is not None else _best(candidates)


def _also_bought(candidates: Sequence[OpenBuy], bought: Collection[str],
                 co_bought: CoPurchases) -> OpenBuy | None:
    scores: dict[str, int] = {}
    for product in bought:
        for other, count in co_bought.get(product, {}).items():
            scores[other] = scores.get(other, 0) + count
    scored = [b for b in candidates if scores.get(b.product, 0) > 0]
    if not scored:
        return None
    return min(scored, key=lambda b: (-scores[b.product], -b.joined, b.number))
