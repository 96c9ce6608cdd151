"""A local fake of the LINE Messaging API for tests.

The real line-bot-sdk talks real HTTP to it::

    with FakeLineAPI(token="T") as fake:
        config = Configuration(host=fake.base_url, access_token="T")

It records reply / push / multicast calls and serves profiles. It checks what LINE checks
and a test would otherwise miss: the bearer token, one to five messages per call, text of
at most 5,000 characters, quick replies (at most 13; labels of at most 20 characters; data
of at most 300), https image URLs, at most 500 multicast recipients, and reply tokens that
work once, and a repeated X-Line-Retry-Key already accepted answered 409 (never delivered
twice); Flex messages with an altText of at most 400 characters, a bubble of at most
30 KB of JSON and no empty text component. Failures can be injected: 429 with Retry-After,
400 "Invalid reply token", 403.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from itertools import count
from typing import Any

from tests.fakes.server import LocalServer, QuietHandler, send_json

ENDPOINTS: dict[tuple[str, tuple[str, ...]], str] = {
    ("POST", ("v2", "bot", "message", "reply")): "reply",
    ("POST", ("v2", "bot", "message", "push")): "push",
    ("POST", ("v2", "bot", "message", "multicast")): "multicast",
}


Answer = tuple[int, dict[str, Any], dict[str, str]]
MAX_ALT_TEXT = 400
MAX_BUBBLE = 30 * 1024


@dataclass
class Call:
    """One recorded request; ``failed`` when it was answered with an error."""

    endpoint: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 200
    at: float = field(default_factory=time.monotonic)

    @property
    def failed(self) -> bool:
        return self.status != 200


@dataclass
class Failure:
    status: int
    message: str
    retry_after: int | None = None


class FakeLineAPI(LocalServer):
    def __init__(self, token: str = "test-access-token") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.profiles: dict[str, dict[str, Any]] = {}
        self.group_members: dict[tuple[str, str], str] = {}
        self.used_tokens: set[str] = set()
        self._failures: dict[str, list[Failure]] = {}
        self.accepted_keys: dict[str, str] = {}  # X-Line-Retry-Key -> the accepted request id
        self._lose: dict[str, int] = {}  # answers to lose (accepted, yet answered 500)
        self._ids = count(100_000_000)
        self._lock = threading.RLock()

    # ---- lifecycle ------------------------------------------------------------------
    name = "fake-line"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    def recent(self) -> str:
        return f"calls: {self.calls[-5:]}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- test helpers ---------------------------------------------------------------
    def add_user(self, user_id: str, name: str, language: str | None = None,
                 groups: tuple[str, ...] = ()) -> None:
        """A LINE user with a profile (seen by /profile) and, optionally, in groups."""
        with self._lock:
            profile: dict[str, Any] = {"userId": user_id, "displayName": name,
                                       "pictureUrl": f"https://profile.line-scdn.net/{user_id}"}
            if language:
                profile["language"] = language
            self.profiles[user_id] = profile
            for group in groups:
                self.group_members[(group, user_id)] = name

    def fail_next(self, endpoint: str, status: int = 429, *, retry_after: int | None = None,
                  message: str | None = None, times: int = 1) -> None:
        """The next calls to ``endpoint`` (reply, push, multicast, profile, group_member) fail."""
        default = {429: "Too many requests", 400: "Invalid reply token",
                   403: "Not authorized to send to this user", 500: "Internal error"}
        failure = Failure(status, message or default.get(status, "Error"), retry_after)
        with self._lock:
            self._failures.setdefault(endpoint, []).extend([failure] * times)

    def lose_next_answer(self, endpoint: str, times: int = 1) -> None:
        """The next calls to ``endpoint`` are carried out, but answered 500 (a lost answer)."""
        with self._lock:
            self._lose[endpoint] = self._lose.get(endpoint, 0) + times

    def sent(self, endpoint: str = "push", to: str | None = None) -> list[dict[str, Any]]:
        """Bodies of successful calls to ``endpoint`` (push/multicast: only those to ``to``)."""
        with self._lock:
            return [c.body for c in self.calls
                    if c.endpoint == endpoint and not c.failed
                    and (to is None or c.body.get("to") == to)]

    def failed(self, endpoint: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.failed and endpoint in (None, c.endpoint)]

    def messages(self, endpoint: str = "push", to: str | None = None) -> list[dict[str, Any]]:
        """Every message object sent through ``endpoint`` (to ``to``), in order."""
        return [m for body in self.sent(endpoint, to) for m in body["messages"]]

    def texts(self, endpoint: str = "push", to: str | None = None) -> list[str]:
        """What each text or Flex message says (a Flex message: its altText, the reply's text)."""
        return [m["text"] if m["type"] == "text" else m["altText"]
                for m in self.messages(endpoint, to) if m["type"] in ("text", "flex")]

    def replied_texts(self) -> list[str]:
        return self.texts("reply")

    def message_calls(self) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.endpoint in ("reply", "push", "multicast")]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()

    # ---- request handling -----------------------------------------------------------
    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        """(status, JSON body, extra headers) for one request."""
        parts = tuple(p for p in urllib.parse.urlsplit(path).path.split("/") if p)
        endpoint = self._endpoint(method, parts)
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {"_raw": raw.decode("latin-1")}
        call = Call(endpoint or "unknown", path, body, headers)
        with self._lock:
            self.calls.append(call)
            if headers.get("authorization") != f"Bearer {self.token}":
                return self._error(call, 401, "Authentication failed. Confirm that the access "
                                   "token in the authorization header is valid.")
            if endpoint is None:
                return self._error(call, 404, "Not found")
            pending = self._failures.get(endpoint)
            if pending:
                failure = pending.pop(0)
                extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
                return self._error(call, failure.status, failure.message, extra)
            retry_key = headers.get("x-line-retry-key")
            if retry_key and retry_key in self.accepted_keys:  # as LINE: never delivered twice
                return self._error(call, 409, "The retry key is already accepted",
                                   {"x-line-accepted-request-id": self.accepted_keys[retry_key]})
            answer = self._route(call, parts)
            if retry_key and answer[0] == 200:
                self.accepted_keys[retry_key] = f"req-{next(self._ids)}"
            if answer[0] == 200 and self._lose.get(call.endpoint, 0) > 0:
                self._lose[call.endpoint] -= 1
                return 500, {"message": "Internal error (the request was carried out)"}, {}
            return answer

    @staticmethod
    def _endpoint(method: str, parts: tuple[str, ...]) -> str | None:
        known = ENDPOINTS.get((method, parts))
        if known:
            return known
        if method == "GET" and parts[:3] == ("v2", "bot", "profile") and len(parts) == 4:
            return "profile"
        if (method == "GET" and len(parts) == 6 and parts[:2] == ("v2", "bot")
                and parts[2] in ("group", "room") and parts[4] == "member"):
            return "group_member"
        return None

    def _route(self, call: Call, parts: tuple[str, ...]) -> Answer:
        if call.endpoint == "profile":
            profile = self.profiles.get(parts[3])
            return (200, profile, {}) if profile else self._error(call, 404, "Not found")
        if call.endpoint == "group_member":
            name = self.group_members.get((parts[3], parts[5]))
            if name is None:
                return self._error(call, 404, "Not found")
            return 200, {"userId": parts[5], "displayName": name}, {}
        problems = self._problems(call.endpoint, call.body)
        if problems:
            return self._error(call, 400, "The request body has "
                               f"{len(problems)} error(s)", details=problems)
        if call.endpoint == "reply":
            token = call.body["replyToken"]
            if token in self.used_tokens:
                return self._error(call, 400, "Invalid reply token")
            self.used_tokens.add(token)
        if call.endpoint == "multicast":
            return 200, {}, {}
        sent = [{"id": str(next(self._ids)), "quoteToken": f"q{next(self._ids)}"}
                for _ in call.body["messages"]]
        return 200, {"sentMessages": sent}, {}

    def _error(self, call: Call, status: int, message: str, headers: dict[str, str] | None = None,
               details: list[dict[str, str]] | None = None) -> Answer:
        call.status = status
        body: dict[str, Any] = {"message": message}
        if details:
            body["details"] = details
        return status, body, headers or {}

    @staticmethod
    def _problems(endpoint: str | None, body: dict[str, Any]) -> list[dict[str, str]]:
        problems: list[dict[str, str]] = []

        def bad(prop: str, message: str) -> None:
            problems.append({"message": message, "property": prop})

        messages = body.get("messages")
        if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
            bad("messages", "Size must be between 1 and 5")
            return problems
        if endpoint == "reply" and not body.get("replyToken"):
            bad("replyToken", "Must not be empty")
        if endpoint == "push" and not body.get("to"):
            bad("to", "Must not be empty")
        if endpoint == "multicast":
            to = body.get("to")
            if not isinstance(to, list) or not 1 <= len(to) <= 500:
                bad("to", "Size must be between 1 and 500")
        for i, message in enumerate(messages):
            _check_message(f"messages[{i}]", message, bad)
        return problems


def _check_message(prop: str, message: dict[str, Any], bad: Callable[[str, str], None]) -> None:
    kind = message.get("type")
    if kind == "text":
        text = message.get("text") or ""
        if not text or len(text) > 5000:
            bad(f"{prop}.text", "Length must be between 1 and 5000")
    elif kind == "image":
        for key in ("originalContentUrl", "previewImageUrl"):
            if not str(message.get(key, "")).startswith("https://"):
                bad(f"{prop}.{key}", "Must be a valid HTTPS URL")
    elif kind == "flex":
        _check_flex(prop, message, bad)
    else:
        bad(f"{prop}.type", f"Unsupported message type {kind!r}")
    items = (message.get("quickReply") or {}).get("items")
    if items is None:
        return
    if not 1 <= len(items) <= 13:
        bad(f"{prop}.quickReply.items", "Size must be between 1 and 13")
    for j, item in enumerate(items):
        action = item.get("action") or {}
        if not 1 <= len(action.get("label") or "") <= 20:
            bad(f"{prop}.quickReply.items[{j}].action.label", "Length must be between 1 and 20")
        if action.get("type") == "postback" and not 1 <= len(action.get("data") or "") <= 300:
            bad(f"{prop}.quickReply.items[{j}].action.data", "Length must be between 1 and 300")


def _check_flex(prop: str, message: dict[str, Any], bad: Callable[[str, str], None]) -> None:
    if not message.get("altText") or len(message["altText"]) > MAX_ALT_TEXT:
        bad(f"{prop}.altText", f"Length must be between 1 and {MAX_ALT_TEXT}")
    contents = message.get("contents") or {}
    if contents.get("type") not in ("bubble", "carousel"):
        bad(f"{prop}.contents", "Must be a bubble or a carousel")
    if len(json.dumps(contents, ensure_ascii=False).encode()) > MAX_BUBBLE:
        bad(f"{prop}.contents", "Size must be at most 30 KB")
    for component in _components(contents):
        if component.get("type") == "text" and not component.get("text"):
            bad(f"{prop}.contents", "A text component must not be empty")
        label = (component.get("action") or {}).get("label")
        if component.get("type") == "button" and not 1 <= len(label or "") <= 40:
            bad(f"{prop}.contents", "A button's label must be 1 to 40 characters")


def _components(node: Any) -> list[dict[str, Any]]:
    """Every object inside a Flex container (boxes, texts, buttons…), depth first."""
    if isinstance(node, list):
        return [c for item in node for c in _components(item)]
    if not isinstance(node, dict):
        return []
    return [node] + [c for value in node.values() for c in _components(value)]


def _make_handler(api: FakeLineAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real API
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            endpoint = api._endpoint(self.command, tuple(
                p for p in urllib.parse.urlsplit(self.path).path.split("/") if p))
            if endpoint is not None and api.holds(endpoint, raw):
                self.close_connection = True
                return
            status, payload, extra = api.handle(self.command, self.path, headers, raw)
            data = json.dumps(payload).encode()
            send_json(self, status, data,
                      extra={"x-line-request-id": f"req-{time.monotonic_ns()}", **extra})

        do_GET = do_POST = _serve

    return Handler
