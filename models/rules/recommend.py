"""Which open group buy to recommend to a member (pure).

In order: the same product again, then the same category, once the member is due for it
(last delivery + consumption cycle × quantity − lead days ≤ today; no cycle known: due);
then what members who bought the member's products also bought (co-purchases); else the
most-joined open buy. Never a buy the member already joined, never a product the member
still has at home (not yet due). Ties go to the most-joined buy, then the lowest number.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import reduce
from itertools import repeat
from operator import or_
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


Held = tuple[str, str, bool]  # (product, category, still at home: not yet due)


class Recommender:
    """`recommend` for many members of one run: the open buys ranked once (most joined, then
    lowest number), each member's history given as `Held` triples (`pick`), or as codes of a
    table given once (`pick_coded`, the same answer: what each code means for each ranked buy
    is worked out once, as bits, so a member costs a few integer ORs)."""

    def __init__(self, open_buys: Sequence[OpenBuy], co_bought: CoPurchases,
                 table: Mapping[str, Held] | None = None) -> None:
        self.ranked = sorted(open_buys, key=lambda b: (-b.joined, b.number))
        self.co_bought = co_bought
        self.table = table or {}
        size = self._size = len(self.ranked)
        self._all = (1 << size) - 1
        self._by_id: dict[int, int] = {}
        product: dict[str, int] = {}
        category: dict[str, int] = {}
        for at, buy in enumerate(self.ranked):
            self._by_id[buy.buy_id] = self._by_id.get(buy.buy_id, 0) | 1 << at
            product[buy.product] = product.get(buy.product, 0) | 1 << at
            if buy.category:
                category[buy.category] = category.get(buy.category, 0) | 1 << at
        # a code's bits, four fields of `size` bits: the ranked buys of the same product, of
        # the same category, of the same product still at home, of the same category at home
        self._bits = {code: (product.get(item, 0) | category.get(kind, 0) << size)
                      * (1 + (1 << 2 * size) * at_home)
                      for code, (item, kind, at_home) in self.table.items()}

    def pick(self, history: Iterable[Held], joined: Collection[int]) -> OpenBuy | None:
        history = tuple(history)
        bought, categories = {h[0] for h in history}, {h[1] for h in history}
        home = [h for h in history if h[2]]
        not_due, waiting = {h[0] for h in home}, {h[1] for h in home}
        candidates = (self.ranked if not joined and not not_due else
                      [b for b in self.ranked if b.buy_id not in joined and b.product not in not_due])
        if not candidates:
            return None
        for buy in candidates:  # the same product again, the best ranked first
            if buy.product in bought:
                return buy
        categories -= waiting
        for buy in candidates:  # then the same category
            if buy.category and buy.category in categories:
                return buy
        also = _also_bought(candidates, bought, self.co_bought)
        return also if also is not None else candidates[0]

    def joined_bits(self, joined: Iterable[int]) -> int:
        """The ranked buys among `joined` (buy ids), as bits for `pick_coded`."""
        by_id, bits = self._by_id, 0
        for buy_id in joined:
            bits |= by_id.get(buy_id, 0)
        return bits

    def pick_coded(self, codes: Collection[str], joined: int = 0) -> OpenBuy | None:
        """`pick` for a history given as codes of the table (codes not in it: not a product
        that matters), `joined` as `joined_bits` gives it."""
        size, full = self._size, self._all
        bits = reduce(or_, map(self._bits.get, codes, repeat(0)), 0)
        candidates = full & ~(joined | bits >> 2 * size)
        if not candidates:
            return None
        same = bits & candidates  # the same product again, the best ranked first
        if not same:  # then a category the member buys and has none of at home
            same = (bits >> size) & ~(bits >> 3 * size) & candidates & full
        if same:
            return self.ranked[(same & -same).bit_length() - 1]
        ranked = [b for at, b in enumerate(self.ranked) if candidates >> at & 1]
        bought = {self.table[code][0] for code in codes if code in self.table}
        also = _also_bought(ranked, bought, self.co_bought)
        return also if also is not None else ranked[0]


def recommend(open_buys: Sequence[OpenBuy], history: History, joined: Collection[int],
              co_bought: CoPurchases, today: date) -> OpenBuy | None:
    """The one open buy to put in front of this member, or None when none fits."""
    return Recommender(open_buys, co_bought).pick(
        ((product, category, due_on is not None and due_on > today)
         for product, category, due_on in history), joined)


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
