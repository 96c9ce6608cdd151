"""What a leader writes to put a reward in the catalogue or to make a coupon, in one line.

    /reward add 100元折價券 coupon=amount:100 points=500 stock=50 limit=1
    /reward add 保溫杯 gift=保溫杯 points=800 stock=20
    /coupon new 週年慶 percent:10 days=14 limit=1 min=300
    /coupon new 年終 amount:50 until=2026-12-31

A word with `=` (or `:` for the coupon itself) is a term; the words before the first term are
the name. Money is written in whole currency units (NT$, as the leader thinks of it) and kept
in minor units. Every mistake is an OfferError naming what is wrong, so the answer can say it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from models.rules.coupons import AMOUNT_OFF, FREE_SHIPPING, GIFT, PERCENT_OFF
from models.rules.text import parse_amount

MAX_POINTS = 1_000_000
MAX_MONEY = 1_000_000  # whole units: NT$1,000,000
MAX_STOCK = 1_000_000
MAX_LIMIT = 100
MAX_DAYS = 3650
MAX_NAME = 24
MINOR = 100  # minor units per whole unit (NT$1 = 100)

_KINDS = {"amount": AMOUNT_OFF, "percent": PERCENT_OFF, "shipping": FREE_SHIPPING,
          "freeshipping": FREE_SHIPPING, "gift": GIFT, "折抵": AMOUNT_OFF, "折": PERCENT_OFF,
          "免運": FREE_SHIPPING, "免运": FREE_SHIPPING, "贈品": GIFT, "赠品": GIFT}
_NAMES = {"coupon": "coupon", "券": "coupon", "points": "points", "積分": "points",
          "积分": "points", "stock": "stock", "庫存": "stock", "库存": "stock",
          "limit": "limit", "限": "limit", "每人限": "limit", "days": "days", "天": "days",
          "until": "until", "至": "until", "到": "until", "min": "min", "低消": "min",
          "滿": "min", "满": "min", "gift": "gift", "贈品": "gift", "赠品": "gift"}


class OfferError(ValueError):
    """`problem` names the mistake (a template key), `word` is what the leader typed."""

    def __init__(self, problem: str, word: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.word = word[:40]


@dataclass(frozen=True, slots=True)
class Offer:
    name: str
    kind: str  # models.rules.coupons KINDS
    value: int  # minor units off (amount), percent (percent), 0 (shipping, gift)
    gift: str = ""  # what the gift is
    points: int | None = None
    stock: int | None = None
    limit: int | None = None
    days: int | None = None
    until: date | None = None
    min_spend: int = 0


def parse_offer(words: list[str], today: date) -> Offer:
    """The words after `/reward add` or `/coupon new`; raises OfferError."""
    name_words: list[str] = []
    terms: dict[str, str] = {}
    for word in words:
        key, value = _term(word)
        if key is None:
            if terms:
                raise OfferError("unknown_term", word)
            name_words.append(word)
        elif key in terms:
            raise OfferError("repeated_term", word)
        else:
            terms[key] = value
    return _offer(" ".join(name_words), terms, today)


def _term(word: str) -> tuple[str | None, str]:
    """('points', '500') for 'points=500'; ('coupon', 'percent:10') for a bare 'percent:10'."""
    head, sep, value = word.partition("=")
    if sep:
        key = _NAMES.get(head.lower())
        if key is None:
            raise OfferError("unknown_term", word)
        return key, value
    kind, colon, _ = word.partition(":")
    kind = kind.lower()
    if kind in _KINDS and (colon or kind.isascii()) and kind not in ("gift", "贈品", "赠品"):
        return "coupon", word  # 'percent:10', 'shipping'; a bare '免運' may be a name
    if kind in ("gift", "贈品", "赠品") and ":" in word:
        return "gift", word.partition(":")[2]
    return None, word


def _offer(name: str, terms: dict[str, str], today: date) -> Offer:
    if ("coupon" in terms) == ("gift" in terms):
        raise OfferError("needs_kind")
    gift = terms.get("gift", "").strip()
    if "gift" in terms and not gift:
        raise OfferError("bad_gift", "gift=")
    kind, value = (GIFT, 0) if gift else parse_kind(terms["coupon"])
    name = (name or gift).strip()
    if not name or len(name) > MAX_NAME:
        raise OfferError("bad_name", name)
    if "days" in terms and "until" in terms:
        raise OfferError("days_or_until")
    until = _until(terms["until"], today) if "until" in terms else None
    return Offer(
        name=name, kind=kind, value=value, gift=gift[:MAX_NAME * 2],
        points=_number(terms, "points", 1, MAX_POINTS),
        stock=_number(terms, "stock", 1, MAX_STOCK),
        limit=_number(terms, "limit", 1, MAX_LIMIT),
        days=_number(terms, "days", 1, MAX_DAYS), until=until,
        min_spend=_money(terms["min"], f"min={terms['min']}", zero=True) if "min" in terms else 0,
    )


def parse_kind(text: str) -> tuple[str, int]:
    """'amount:100' → (amount, 10000 minor units); 'percent:10' → (percent, 10);
    'shipping' → (shipping, 0)."""
    head, _, value = text.partition(":")
    kind = _KINDS.get(head.lower())
    if kind is None or kind == GIFT:
        raise OfferError("bad_coupon_kind", text)
    if kind == FREE_SHIPPING:
        if value:
            raise OfferError("bad_coupon_kind", text)
        return kind, 0
    if kind == PERCENT_OFF:
        pct = parse_amount(value.rstrip("%"))
        if pct is None or not 1 <= pct <= 100:
            raise OfferError("bad_percent", text)
        return kind, pct
    return kind, _money(value, text)


def _money(text: str, word: str, *, zero: bool = False) -> int:
    typed = text.strip().removeprefix("NT$").removeprefix("$")
    if zero and typed == "0":
        return 0
    amount = parse_amount(typed)
    if amount is None or amount > MAX_MONEY:
        raise OfferError("bad_money", word)
    return amount * MINOR


def _number(terms: dict[str, str], key: str, low: int, high: int) -> int | None:
    if key not in terms:
        return None
    value = parse_amount(terms[key])
    if value is None or not low <= value <= high:
        raise OfferError(f"bad_{key}", f"{key}={terms[key]}")
    return value


def _until(text: str, today: date) -> date:
    try:
        day = date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise OfferError("bad_until", text) from None
    if day < today or (day - today).days > MAX_DAYS:
        raise OfferError("bad_until", text)
    return day
