"""From what a member typed to a command name and its arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass

from handlers.commands import TABLE
from models.rules.groupbuy import BadQuantity, join_quantity
from models.rules.text import normalize

# Built from the command table: every word of every command, in every language.
BY_ALIAS: dict[str, str] = {alias.lower(): e.name for e in TABLE for alias in e.aliases}
# Without a slash only these whole first words count as commands, so chatter is never misread.
BARE: dict[str, str] = {a: e.name for e in TABLE if e.bare for a in e.aliases if not a.isascii()}


# '-1', '－２', '-1 #2': the whole message, so '-1度' or '-1 哈哈' stays chatter
_MINUS = re.compile(r"^-\s?(\d{1,4})(\s*#\d{1,6})?$")
_BUY_NUMBER = re.compile(r"^\s*#\d{1,6}\s*|\s*#\d{1,6}\s*$")


@dataclass(frozen=True, slots=True)
class Command:
    name: str | None  # None: a slash command we do not know
    word: str
    args: str


def parse(raw: str) -> Command | None:
    """'/me', '／ｍｅ', '/me@tuanbot_bot', '我的', '/grant @amy 100 thanks' → Command; chatter → None."""
    text = normalize(raw)
    if not text:
        return None
    if text.startswith("/"):
        head, _, args = text[1:].partition(" ")
        word = head.split("@", 1)[0].lower()
        return Command(BY_ALIAS.get(word), word, args.strip())
    if is_join(text):
        return Command("join", "+", text)
    minus = _MINUS.match(text)
    if minus is not None:
        return Command("cancel", "-", f"{minus[1]} {minus[2] or ''}".strip())
    head, _, args = text.partition(" ")
    if head in BARE:
        return Command(BARE[head], head, args.strip())
    return None


def is_join(text: str) -> bool:
    """'+1', '＋１', '加一', '+1 #2', and the bad ones that look like a join ('+0', '+-1')."""
    try:
        return join_quantity(_BUY_NUMBER.sub("", text)) is not None
    except BadQuantity:
        return True
