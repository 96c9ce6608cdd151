"""Channel-neutral messages: what comes in, what goes out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

# C0 controls but tab and newline, and UTF-16 surrogates (a name cut in the middle of an emoji)
_UNCLEAN = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff]")
_CONTROLS = dict.fromkeys(c for c in range(32) if c not in (9, 10))


def clean(text: str) -> str:
    """Text the database can store: a lone surrogate becomes U+FFFD (a well-formed pair
    becomes its character), NUL and other C0 controls but tab and newline are dropped."""
    if not _UNCLEAN.search(text):
        return text
    whole = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return whole.translate(_CONTROLS)


FILE_LINK_HINT = "file_link"  # Reply.hints: the words before a file's download link


@dataclass(frozen=True, slots=True)
class Incoming:
    """One inbound message, normalised by an adapter. Ids are strings from the start."""

    channel: str
    chat: str
    sender: str
    text: str
    message_id: str
    is_group: bool = False
    sender_name: str = ""
    handle: str | None = None
    reply_to_sender: str | None = None
    reply_to_name: str = ""
    reply_to_handle: str | None = None
    payload: str | None = None
    language_code: str | None = None
    event_key: str = ""

    def __post_init__(self) -> None:
        """Every text from outside is cleaned here, once, for every channel."""
        for name in _INCOMING_FIELDS:
            value = getattr(self, name)
            if isinstance(value, str) and _UNCLEAN.search(value):
                object.__setattr__(self, name, clean(value))
        if not self.event_key:
            object.__setattr__(self, "event_key", f"{self.chat}:{self.message_id}")


_INCOMING_FIELDS = tuple(item.name for item in fields(Incoming))


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """Text, optionally with buttons (numbered text where a channel has none) or an image.

    `private` sends it to the sender's private chat instead of the chat it came from.
    """

    text: str
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    file: str | None = None
    private: bool = False
    card: dict[str, object] = field(default_factory=dict)
    hints: dict[str, str] = field(default_factory=dict)  # facts a channel may use to do better

    def as_text(self) -> str:
        """The message for a channel with no buttons: choices become numbered lines."""
        if not self.buttons:
            return self.text
        lines = [self.text] + [f"{i}. {b.label}" for i, b in enumerate(self.buttons, 1)]
        return "\n".join(lines)

