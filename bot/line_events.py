"""LINE's inbound edge, pure: webhook events → Incoming, the webhook's body, signed media links.

No SDK client and no database here; `bot.line.LineChannel` puts these to work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.settings import Settings
from messages.types import Incoming

CHANNEL = "line"
# What translating an authentic event of an odd shape raises (a field of the wrong type).
MALFORMED = (AttributeError, TypeError, ValueError, KeyError, IndexError)

GROUP_SOURCES = {"group": "groupId", "room": "roomId"}


# ---- inbound: webhook event → Incoming ---------------------------------------------------

def to_incomings(event: Mapping[str, Any]) -> list[Incoming]:
    """The messages a webhook event stands for; [] for what the bot does not answer.

    A text message or a postback (its data is the text) → one; follow → "/start" in
    private; join (the bot added to a group) → "/help" in the group (answered by "type
    /bind" while the group is unbound); memberJoined → "/start" from each new member in
    the group. Standby-mode events, unfollow, leave and every other type → [].
    """
    if event.get("mode") == "standby":
        return []
    source = event.get("source") or {}
    chat, is_group = _chat_of(source)
    key = str(event.get("webhookEventId") or "")
    if chat is None or not key:
        return []
    user = _id(source.get("userId")) or ""
    kind = event.get("type")
    if kind == "message" and user:
        message = event.get("message") or {}
        if message.get("type") != "text":
            return []
        text, target = strip_mentions(message)
        return [Incoming(
            channel=CHANNEL, chat=chat, sender=user, text=text, is_group=is_group,
            message_id=str(message.get("id") or key), event_key=key,
            reply_to_sender=target[0] if target else None,
            reply_to_name=target[1] if target else "",
        )]
    if kind == "postback" and user:
        data = str((event.get("postback") or {}).get("data") or "")
        return [_said(chat, is_group, user, data, key)] if data else []
    if kind == "follow" and user and not is_group:
        return [_said(chat, False, user, "/start", key)]
    if kind == "join" and is_group:
        return [_said(chat, True, "", "/help", key)]
    if kind == "memberJoined" and is_group:
        joined = (event.get("joined") or {}).get("members") or []
        users = [m["userId"] for m in joined if isinstance(m, dict) and _id(m.get("userId"))]
        return [_said(chat, True, u, "/start", f"{key}:{u}") for u in dict.fromkeys(users)]
    return []


def to_incoming(event: Mapping[str, Any]) -> Incoming | None:
    """The first message of `to_incomings` (only memberJoined can stand for more than one)."""
    found = to_incomings(event)
    return found[0] if found else None


def _said(chat: str, is_group: bool, sender: str, text: str, key: str) -> Incoming:
    return Incoming(channel=CHANNEL, chat=chat, sender=sender, text=text, message_id=key,
                    is_group=is_group, event_key=key)


def _id(value: object) -> str | None:
    """A LINE id is a non-empty string; anything else is no id."""
    return value if isinstance(value, str) and value else None


def _chat_of(source: Mapping[str, Any]) -> tuple[str | None, bool]:
    kind = source.get("type")
    if kind == "user":
        return _id(source.get("userId")), False
    field = GROUP_SOURCES.get(str(kind))
    chat = _id(source.get(field)) if field is not None else None
    return chat, chat is not None


def strip_mentions(message: Mapping[str, Any]) -> tuple[str, tuple[str, str] | None]:
    """The text without "@bot" and without the first "@member"; that member (id, name).

    "@tuanbot /me" → "/me"; "/grant @Amy Chen 50 thanks" → "/grant 50 thanks" with Amy as
    the member meant, the way a Telegram leader replies to a member's message. LINE counts
    mention positions in UTF-16 code units; a span that does not start with "@" is left.
    """
    text = str(message.get("text") or "")
    mentionees = (message.get("mention") or {}).get("mentionees") or []
    units = text.encode("utf-16-le")
    cuts: list[tuple[int, int]] = []
    target: tuple[str, str] | None = None
    users = [m for m in mentionees if isinstance(m, dict) and m.get("type", "user") == "user"]
    for m in sorted(users, key=lambda m: m.get("index", 0)):
        index, length = m.get("index"), m.get("length")
        if not isinstance(index, int) or not isinstance(length, int):
            continue
        try:
            span = units[2 * index: 2 * (index + length)].decode("utf-16-le")
        except UnicodeDecodeError:
            continue
        if not span.startswith("@"):
            continue
        if m.get("isSelf"):
            cuts.append((index, length))
        elif target is None and m.get("userId"):
            target = (str(m["userId"]), span[1:].strip())
            cuts.append((index, length))
    for index, length in sorted(cuts, reverse=True):
        units = units[: 2 * index] + units[2 * (index + length):]
    return units.decode("utf-16-le").strip(), target


# ---- the webhook's edges -----------------------------------------------------------------

def signature_of(secret: bytes, body: bytes) -> str:
    """X-Line-Signature: base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def parse_events(body: bytes) -> list[dict[str, Any]] | None:
    """The webhook's events, or None when the body is not a webhook object."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
        return None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        return None
    return [event for event in data["events"] if isinstance(event, dict)]


# ---- media: LINE fetches images by https URL ---------------------------------------------

def media_key(channel_secret: str | None) -> bytes | None:
    if not channel_secret:
        return None
    return hmac.new(channel_secret.encode(), b"tuanbot media links", hashlib.sha256).digest()


def media_signature(key: bytes, name: str) -> str:
    digest = hmac.new(key, name.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def media_route(settings: Settings) -> Route:
    """GET /media/{name}: a file of the media folder, only through a link this module signed."""
    root = settings.media_dir.resolve()
    key = media_key(settings.line_channel_secret)

    async def media(request: Request) -> Response:
        name = str(request.path_params["name"])
        given = request.query_params.get("s", "")
        if key is None or not hmac.compare_digest(given, media_signature(key, name)):
            return PlainTextResponse("not found", status_code=404)
        path = (root / name).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path)

    return Route("/media/{name:path}", media, methods=["GET", "HEAD"])
