"""A local fake of the Telegram Bot API for tests.

A real python-telegram-bot ``Application`` talks real HTTP to it::

    with FakeTelegramAPI() as fake:
        app = (ApplicationBuilder().token("123:ABC")
               .base_url(fake.base_url).base_file_url(fake.base_file_url).build())
"""

from __future__ import annotations

import email
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message as MimePart
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.server import LocalServer, QuietHandler, send_json

BOT_USER: dict[str, Any] = {
    "id": 999,
    "is_bot": True,
    "first_name": "tuanbot",
    "username": "tuanbot_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}

# Free-text params that must stay strings even if they look like JSON ("42", "true", "[x]").
_RAW_KEYS = frozenset(
    {"text", "caption", "data", "query", "title", "description", "callback_query_id",
     "first_name", "last_name", "username", "url", "secret_token", "parse_mode", "action"}
)


_NOT_FOUND: dict[str, Any] = {"ok": False, "error_code": 404,
                              "description": "Not Found: method not found"}


@dataclass
class Call:
    """One recorded API request (``failed`` = answered by an injected error)."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)
    failed: bool = False


def _decode(key: str, value: str) -> Any:
    if key in _RAW_KEYS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _chat(chat_id: int, chat_type: str | None = None, **extra: Any) -> dict[str, Any]:
    kind = chat_type or ("private" if chat_id > 0 else "supergroup")
    return {"id": chat_id, "type": kind, **extra}


def _user(user_id: int, username: str | None, first_name: str = "User",
          language_code: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


def text_update(update_id: int, text: str, user_id: int, chat_id: int | None = None,
                username: str | None = None, first_name: str = "User",
                chat_type: str | None = None, message_id: int | None = None,
                reply_to: dict[str, Any] | None = None,
                language_code: str | None = None) -> dict[str, Any]:
    """An incoming text message update. ``reply_to``: {message_id, user_id, username}."""
    chat_id = user_id if chat_id is None else chat_id
    chat_type = chat_type or ("private" if chat_id == user_id else "supergroup")
    now = int(time.time())
    message: dict[str, Any] = {
        "message_id": update_id if message_id is None else message_id,
        "date": now,
        "chat": _chat(chat_id, chat_type),
        "from": _user(user_id, username, first_name, language_code),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if reply_to is not None:
        replied_user = reply_to.get("user_id", BOT_USER["id"])
        message["reply_to_message"] = {
            "message_id": reply_to["message_id"],
            "date": now,
            "chat": _chat(chat_id, chat_type),
            "from": BOT_USER if replied_user == BOT_USER["id"]
            else _user(replied_user, reply_to.get("username")),
            "text": reply_to.get("text", ""),
        }
    return {"update_id": update_id, "message": message}


def callback_update(update_id: int, data: str, user_id: int, chat_id: int, message_id: int,
                    username: str | None = None) -> dict[str, Any]:
    """A callback query (inline button press) on a bot message."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cbq-{update_id}",
            "from": _user(user_id, username),
            "chat_instance": str(chat_id),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": _chat(chat_id),
                "from": BOT_USER,
                "text": "",
            },
        },
    }


class FakeTelegramAPI(LocalServer):
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._updates: list[dict[str, Any]] = []
        self.handed: set[int] = set()  # update ids a getUpdates answer carried
        self._failures: dict[str, list[tuple[int, int]]] = {}
        self._next_msg_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._commands: list[Any] = []
        self.files: dict[str, bytes] = {}  # file_path → content, for getFile and downloads

    # ---- lifecycle ------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    name = "fake-telegram"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    def stop(self) -> None:
        super().stop()
        with self._cond:  # wake a long poll waiting for updates
            self._cond.notify_all()

    # ---- test helpers ---------------------------------------------------------------
    def push_update(self, update: dict[str, Any]) -> None:
        with self._cond:
            msg = update.get("message")
            if msg:  # keep bot message ids ahead of incoming ones, like a real chat
                chat_id = msg["chat"]["id"]
                self._next_msg_id[chat_id] = max(self._next_msg_id.get(chat_id, 1),
                                                 msg["message_id"] + 1)
            self._updates.append(update)
            self._cond.notify_all()

    def fail_next(self, method: str, error_code: int = 429, retry_after: int = 1,
                  times: int = 1) -> None:
        with self._lock:
            queue = self._failures.setdefault(method.lower(), [])
            queue.extend([(error_code, retry_after)] * times)

    def sent(self, method: str = "sendMessage",
             chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Params of successful (non-injected-failure) calls of ``method``."""
        with self._lock:
            return [c.params for c in self.calls
                    if c.method.lower() == method.lower() and not c.failed
                    and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def wait_for(self, predicate: Callable[[FakeTelegramAPI], bool], timeout: float = 5.0) -> None:
        """Block until predicate(self) is true. Not for use inside a running event loop."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s; {self.recent()}")
            time.sleep(0.01)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self._updates.clear()
            self._failures.clear()

    def recent(self) -> str:
        with self._lock:
            recent = [f"{c.method}{' (failed)' if c.failed else ''} {str(c.params)[:300]}"
                      for c in self.calls if c.method != "getUpdates"][-10:]
        listing = "\n  ".join(recent or ["<none>"])
        return f"recent non-getUpdates calls:\n  {listing}"

    # ---- request handling -----------------------------------------------------------
    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        key = method.lower()
        with self._lock:
            pending = self._failures.get(key)
            if pending:
                code, retry = pending.pop(0)
                self.calls.append(Call(method, params, failed=True))
                body: dict[str, Any] = {"ok": False, "error_code": code,
                                        "description": f"Injected error {code}"}
                if code == 429:
                    body["description"] = f"Too Many Requests: retry after {retry}"
                    body["parameters"] = {"retry_after": retry}
                return code, body
            self.calls.append(Call(method, params))
        if key == "getupdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        handler = self._routes().get(key)
        if handler is None:
            return 404, _NOT_FOUND
        with self._lock:
            return 200, {"ok": True, "result": handler(params)}

    def _routes(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        def true(p: dict[str, Any]) -> bool:
            return True

        return {
            "getme": lambda p: BOT_USER,
            "deletewebhook": true, "setwebhook": true, "answercallbackquery": true,
            "sendchataction": true, "deletemessage": true, "close": true, "logout": true,
            "getwebhookinfo": lambda p: {"url": "", "has_custom_certificate": False,
                                         "pending_update_count": len(self._updates)},
            "sendmessage": lambda p: self._new_message(p, text=p.get("text", "")),
            "sendphoto": self._send_photo,
            "editmessagetext": lambda p: self._edit(p, text=p.get("text", "")),
            "editmessagereplymarkup": lambda p: self._edit(p),
            "getchat": self._get_chat,
            "getchatmember": lambda p: {"status": "member", "user": _user(int(p["user_id"]), None)},
            "setmycommands": self._set_commands,
            "getmycommands": lambda p: self._commands,
            "getfile": self._get_file,
        }

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                # Telegram forgets updates below the offset once it is confirmed.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if self._updates or remaining <= 0 or self._server is None:
                    self.handed.update(u["update_id"] for u in self._updates[:limit])
                    return self._updates[:limit]
                self._cond.wait(remaining)

    def _new_message(self, p: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(p["chat_id"])
        message_id = self._next_msg_id.get(chat_id, 1)
        self._next_msg_id[chat_id] = message_id + 1
        msg: dict[str, Any] = {"message_id": message_id, "date": int(time.time()),
                               "chat": _chat(chat_id), "from": BOT_USER, **content}
        if isinstance(p.get("reply_markup"), dict) and "inline_keyboard" in p["reply_markup"]:
            msg["reply_markup"] = p["reply_markup"]
        self._messages[(chat_id, message_id)] = msg
        return msg

    def _send_photo(self, p: dict[str, Any]) -> dict[str, Any]:
        photo = p.get("photo")
        size = photo.get("size", 0) if isinstance(photo, dict) else 0
        n = len(self._messages) + 1
        sizes = [{"file_id": f"photo-{n}-{w}", "file_unique_id": f"uniq-{n}-{w}", "width": w,
                  "height": w, "file_size": size} for w in (90, 320)]
        content: dict[str, Any] = {"photo": sizes}
        if p.get("caption"):
            content["caption"] = p["caption"]
        return self._new_message(p, **content)

    def _edit(self, p: dict[str, Any], **content: Any) -> dict[str, Any] | bool:
        if "inline_message_id" in p:
            return True
        key = (int(p["chat_id"]), int(p["message_id"]))
        msg = dict(self._messages.get(key) or {"message_id": key[1], "chat": _chat(key[0]),
                                               "from": BOT_USER, "text": ""})
        msg.update(content, date=msg.get("date", int(time.time())), edit_date=int(time.time()))
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        else:
            msg.pop("reply_markup", None)
        self._messages[key] = msg
        return msg

    def _get_chat(self, p: dict[str, Any]) -> dict[str, Any]:
        gifts = {"unlimited_gifts": True, "limited_gifts": True, "unique_gifts": True,
                 "premium_subscription": True, "gifts_from_channels": True}
        return _chat(int(p["chat_id"]), accent_color_id=0, max_reaction_count=11,
                     accepted_gift_types=gifts)

    def add_file(self, file_id: str, content: bytes) -> None:
        """A file a user sent (a document): getFile finds it, the file URL serves it."""
        with self._lock:
            self.files[f"documents/{file_id}"] = content

    def _get_file(self, p: dict[str, Any]) -> dict[str, Any]:
        path = f"documents/{p.get('file_id')}"
        content = self.files.get(path, b"")
        return {"file_id": p.get("file_id"), "file_unique_id": f"u-{p.get('file_id')}",
                "file_size": len(content), "file_path": path}

    def _set_commands(self, p: dict[str, Any]) -> bool:
        self._commands = list(p.get("commands") or [])
        return True


def _parse_params(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    params: dict[str, Any] = {k: _decode(k, v) for k, v in urllib.parse.parse_qsl(query)}
    ctype = content_type.split(";")[0].strip().lower()
    if not body:
        return params
    if ctype == "application/json":
        params.update(json.loads(body))
    elif ctype == "multipart/form-data":
        raw = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
        parts: list[MimePart] = email.message_from_bytes(raw).get_payload()  # type: ignore[assignment]
        for part in parts:
            name = str(part.get_param("name", header="content-disposition"))
            data: bytes = part.get_payload(decode=True) or b""  # type: ignore[assignment]
            filename = part.get_filename()
            if filename is not None:
                params[name] = {"filename": filename, "size": len(data),
                                "content_type": part.get_content_type(), "content": data}
            else:
                params[name] = _decode(name, data.decode("utf-8"))
    else:  # application/x-www-form-urlencoded (PTB's default for file-less requests)
        params.update({k: _decode(k, v) for k, v in
                       urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)})
    return params


def _make_handler(api: FakeTelegramAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            parts = url.path.strip("/").split("/")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if len(parts) == 2 and parts[0].startswith("bot"):
                params = _parse_params(self.headers.get("Content-Type", ""), body, url.query)
                if api.holds(parts[1], params):
                    self.close_connection = True
                    return
                status, payload = api.handle(parts[1], params)
            elif len(parts) >= 3 and parts[0] == "file" and parts[1].startswith("bot"):
                content = api.files.get("/".join(parts[2:]))
                if content is not None:
                    send_json(self, 200, content, "application/octet-stream")
                    return
                status, payload = 404, _NOT_FOUND
            else:
                status, payload = 404, _NOT_FOUND
            data = json.dumps(payload).encode()
            send_json(self, status, data)

        do_GET = do_POST = _serve

    return Handler
