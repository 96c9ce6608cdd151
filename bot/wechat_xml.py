"""WeChat's messages as text: inbound fields → Incoming, and the passive reply's XML. Pure.

No client and no database here; `bot.wechat.WechatChannel` puts these to work.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.wechat_crypto import cdata
from messages.types import Incoming, Reply

CHANNEL = "wechat"
TEXT_BYTES = 2048  # WeChat's limit for one text message's content
MAX_EVENT_KEY = 128  # a menu key is at most 128 bytes, a QR scene string at most 64


def to_incoming(fields: Mapping[str, str]) -> Incoming | None:
    """A text message, a follow, a QR scan or a menu click as a channel-neutral message."""
    openid, created = fields.get("FromUserName", ""), fields.get("CreateTime", "")
    kind, key = fields.get("MsgType", ""), fields.get("EventKey", "").strip()
    event = fields.get("Event", "").lower() if kind == "event" else ""
    if not openid or len(key) > MAX_EVENT_KEY:  # WeChat's keys are short: this one is forged
        return None
    if kind == "text":
        text, message_id = fields.get("Content", ""), fields.get("MsgId") or f"text-{created}"
    elif event == "subscribe":  # EventKey "qrscene_ref_CODE" when followed from our QR code
        scene = key.removeprefix("qrscene_") if key.startswith("qrscene_") else ""
        text, message_id = f"/start {scene}".strip(), f"subscribe-{created}"
    elif event == "scan":  # already a follower; EventKey is the scene itself
        text, message_id = f"/start {key}".strip(), f"scan-{created}"
    elif event == "click" and key:
        text, message_id = key, f"click-{created}"
    else:
        return None
    msg_id = fields.get("MsgId", "") if kind == "text" else ""
    event_key = msg_id or f"{openid}:{message_id}"
    return Incoming(channel=CHANNEL, chat=openid, sender=openid, text=text,
                    message_id=message_id, is_group=False, sender_name=f"wx_{openid[-6:]}",
                    event_key=event_key)


def text_chunks(text: str, limit: int = TEXT_BYTES) -> list[str]:
    """The text in pieces of at most `limit` UTF-8 bytes, cut between lines where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:  # one very long line: cut it by characters
            pieces.append(current)
            head = line.encode()[:limit].decode("utf-8", "ignore")
            pieces.append(head)
            current, line = "", line[len(head):]
        if len((current + line).encode()) > limit:
            pieces.append(current)
            current = ""
        current += line
    pieces.append(current)
    return [p.strip("\n") for p in pieces if p.strip()]


def passive_and_later(replies: list[Reply]) -> tuple[str, list[Reply]]:
    """One text for the HTTP answer; what does not fit (more text, images) to send after."""
    chunks = text_chunks("\n\n".join(r.as_text() for r in replies if r.as_text().strip()))
    later = [Reply(c) for c in chunks[1:]] + [Reply("", image=r.image) for r in replies if r.image]
    return (chunks[0] if chunks else ""), later


def reply_xml(fields: Mapping[str, str], text: str, now: int) -> bytes:
    """The passive text reply: back to the sender, from the account the message went to."""
    return (
        f"<xml><ToUserName>{cdata(fields['FromUserName'])}</ToUserName>"
        f"<FromUserName>{cdata(fields.get('ToUserName', ''))}</FromUserName>"
        f"<CreateTime>{now}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(text)}</Content></xml>"
    ).encode()
