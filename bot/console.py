"""The console channel: type (or script) lines `SENDER[@GROUP]: TEXT`, read `bot -> ...` lines.

`leader@demo: >alice /grant 100 thanks` means leader, in group demo, replies to alice's message.
Pushes print as `bot -> RECIPIENT: TEXT`; a roster edit as `bot ~> @GROUP: TEXT`.
"""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from typing import TextIO

from bot.channel import Supports
from bot.policy import route
from handlers.context import Deps
from handlers.dispatch import handle
from messages.records import reply_record
from messages.types import Button, Incoming, Reply
from scheduler import roster
from scheduler.delivery import take_all

CHANNEL = "console"
_LINE = re.compile(r"^(?P<sender>[^\s@:>]+)(?:@(?P<group>[^\s:]+))?:\s?(?P<text>.*)$", re.S)
_REPLY_TO = re.compile(r"^>(?P<name>[^\s]+)\s+(?P<text>.*)$", re.S)


class ConsoleChannel:
    """Turns console lines into Incoming messages and replies into `bot -> ...` lines.

    The Channel protocol (bot.channel) with no limits: answers are printed at once, where
    the delivery policy routes them (bot.policy.route); pushes are drained from the outbox.
    """

    name = CHANNEL
    supports = Supports(buttons=False, cards=False, edits=True, files=True)
    transient: tuple[type[Exception], ...] = ()

    def __init__(self, deps: Deps, default_sender: str = "me") -> None:
        self.deps = deps
        self.default_sender = default_sender
        self._run = uuid.uuid4().hex[:8]
        self._count = 0
        self.printed: list[str] = []

    def to_incoming(self, line: str) -> Incoming | None:
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            return None
        match = _LINE.match(line)
        sender, group, text = (
            (match["sender"], match["group"], match["text"]) if match
            else (self.default_sender, None, line)
        )
        reply_to = None
        quoted = _REPLY_TO.match(text)
        if quoted:
            reply_to, text = quoted["name"], quoted["text"]
        self._count += 1
        return Incoming(
            channel=CHANNEL, chat=group or sender, sender=sender, text=text,
            message_id=f"{self._run}-{self._count}", is_group=group is not None,
            sender_name=sender, handle=sender, reply_to_sender=reply_to,
            reply_to_name=reply_to or "", reply_to_handle=reply_to,
        )

    @staticmethod
    def render(msg: Incoming, reply: Reply) -> list[str]:
        where = route(msg, reply)
        target = f"{msg.sender}@{msg.chat}" if where.is_group else where.chat_id
        lines = [f"bot -> {target}: {reply.as_text()}"] if reply.text else []
        if reply.image or reply.file:
            lines.append(f"bot -> {target}: {reply.image or reply.file}")
        return lines

    def exchange(self, line: str) -> list[str]:
        """One line in; the replies, then any pushes and roster updates it caused."""
        msg = self.to_incoming(line)
        if msg is None:
            return []
        printed = [out for reply in handle(msg, self.deps) for out in self.render(msg, reply)]
        return printed + self.pushes()

    def pushes(self) -> list[str]:
        """Drain the console's outbox and publish changed rosters (the console has no limits)."""
        lines = [push_line(row.chat_id, row.is_group, row.body)
                 for row in take_all(self.deps.sessions, CHANNEL, self.deps.clock())]
        for item in roster.due(self.deps, CHANNEL, timedelta(0)):
            verb = "->" if item.message_id is None else "~>"
            lines.append(f"bot {verb} @{item.chat_id}: {item.text}")
            roster.published(self.deps, item, item.message_id or f"roster-{item.buy_id}")
        return lines

    async def answer(self, msg: Incoming, chat_id: str, is_group: bool, reply: Reply) -> None:
        self.printed += self.render(msg, reply)

    async def send(self, chat_id: str, is_group: bool, reply: Reply) -> None:
        self.printed.append(push_line(chat_id, is_group, reply_record(reply)))

    async def post_roster(self, chat_id: str, message_id: str | None, text: str,
                          buttons: tuple[Button, ...],
                          card: Mapping[str, object] | None = None) -> str | None:
        self.printed.append(f"bot {'->' if message_id is None else '~>'} @{chat_id}: {text}")
        return message_id or f"roster-{chat_id}"

    def run_lines(self, lines: Iterable[str]) -> Iterator[str]:
        for line in lines:
            yield from self.exchange(line)


def push_line(chat_id: str, is_group: bool, body: dict[str, object]) -> str:
    """How an outbox push looks on the console."""
    target = f"@{chat_id}" if is_group else chat_id
    text = str(body.get("text", "")) or str(body.get("image", ""))
    return f"bot -> {target}: {text}"


def interactive(channel: ConsoleChannel, stdin: TextIO = sys.stdin,
                out: Callable[[str], None] = print) -> None:
    """Read lines until EOF; `SENDER[@GROUP]: TEXT`, or bare text as the default sender."""
    prompt = stdin.isatty()
    while True:
        if prompt:
            sys.stdout.write("> ")
            sys.stdout.flush()
        line = stdin.readline()
        if not line:
            return
        for printed in channel.exchange(line):
            out(printed)
