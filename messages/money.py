"""Money for people: integer minor units in, 'NT$1,200' out."""

from __future__ import annotations

CURRENCIES: dict[str, tuple[str, int]] = {
    "TWD": ("NT$", 2),
    "CNY": ("¥", 2),
    "HKD": ("HK$", 2),
    "USD": ("US$", 2),
    "JPY": ("¥", 0),
}


def format_money(amount: int, currency: str) -> str:
    symbol, exponent = CURRENCIES.get(currency, (currency + " ", 2))
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exponent)
    text = f"{sign}{symbol}{major:,}"
    if exponent and minor:
        text += f".{minor:0{exponent}d}"
    return text
