"""A local fake of the WeChat Official Account API for tests (real HTTP on 127.0.0.1).

    with FakeWechatAPI(app_id="wxtest", secret="s") as fake:
        settings = replace(settings, wechat_api_base_url=fake.base_url, ...)
        ...
        fake.fail_next("send", 45015)       # the next customer-service message is refused
        fake.expire_tokens()                # every token issued so far answers 42001
        fake.sent("OPENID")                 # customer-service messages that were accepted

Answers like WeChat: HTTP 200 with `{"errcode": N, "errmsg": "..."}` for every error.
"""

from __future__ import annotations

import email
import itertools
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

ERRORS = {
    40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid",
    40125: "invalid appsecret",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
}


@dataclass
class Call:
    """One request: `api` is token / send / upload; `failed` when answered with an errcode."""

    api: str
    query: dict[str, str]
    body: bytes
    data: dict[str, Any] = field(default_factory=dict)
    errcode: int = 0
    at: float = field(default_factory=time.monotonic)

    @property
    def failed(self) -> bool:
        return self.errcode != 0


def _error(code: int) -> dict[str, Any]:
    return {"errcode": code, "errmsg": f"{ERRORS.get(code, 'error')} rid: fake"}


class FakeWechatAPI(LocalServer):
    def __init__(self, app_id: str = "wx0000fake0000app", secret: str = "fake-app-secret") -> None:
        self.app_id, self.secret = app_id, secret
        self.calls: list[Call] = []
        self._tokens: dict[str, bool] = {}  # token → still valid
        self._failures: dict[str, list[int]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.RLock()

    # ---- lifecycle ------------------------------------------------------------------
    name = "fake-wechat"

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _make_handler(self)

    def recent(self) -> str:
        with self._lock:
            return f"calls: {[f'{c.api} {c.errcode} {c.data}'[:200] for c in self.calls[-10:]]}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ---- test helpers ---------------------------------------------------------------
    def fail_next(self, api: str, errcode: int, times: int = 1) -> None:
        """The next `times` calls of `api` (token, send, upload) answer this errcode."""
        with self._lock:
            self._failures.setdefault(api, []).extend([errcode] * times)

    def expire_tokens(self) -> None:
        """Every token issued so far now answers 42001, as after its 7200 s."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, False)

    def sent(self, openid: str | None = None) -> list[dict[str, Any]]:
        """Customer-service messages WeChat accepted, as JSON, oldest first."""
        with self._lock:
            return [c.data for c in self.calls if c.api == "send" and not c.failed
                    and (openid is None or c.data.get("touser") == openid)]

    def texts(self, openid: str | None = None) -> list[str]:
        return [m["text"]["content"] for m in self.sent(openid) if m.get("msgtype") == "text"]

    def count(self, api: str, *, failed: bool | None = None) -> int:
        with self._lock:
            return sum(1 for c in self.calls
                       if c.api == api and (failed is None or c.failed == failed))

    def uploads(self) -> list[dict[str, Any]]:
        with self._lock:
            return [c.data for c in self.calls if c.api == "upload" and not c.failed]

    # ---- the API ----------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], content_type: str,
               body: bytes) -> tuple[int, dict[str, Any]]:
        routes: dict[tuple[str, str], Callable[[Call, str], dict[str, Any]]] = {
            ("GET", "/cgi-bin/token"): self._token,
            ("POST", "/cgi-bin/message/custom/send"): self._send,
            ("POST", "/cgi-bin/media/upload"): self._upload,
            ("POST", "/cgi-bin/qrcode/create"): self._qrcode,
        }
        route = routes.get((method, path))
        if route is None:
            return 404, {"errcode": -1, "errmsg": "not found"}
        api = path.rsplit("/", 1)[-1]
        call = Call(api, query, body)
        with self._lock:
            self.calls.append(call)
            code = self._check_token(query) if api != "token" else 0
            pending = self._failures.get(api)
            if not code and pending:
                code = pending.pop(0)
            if code:
                call.errcode = code
                return 200, _error(code)
            answer = route(call, content_type)
            call.errcode = int(answer.get("errcode") or 0)
            return 200, answer

    def _check_token(self, query: dict[str, str]) -> int:
        valid = self._tokens.get(query.get("access_token", ""))
        return 40001 if valid is None else 0 if valid else 42001

    def _token(self, call: Call, content_type: str) -> dict[str, Any]:
        q = call.query
        if q.get("grant_type") != "client_credential" or q.get("appid") != self.app_id:
            return _error(40013)
        if q.get("secret") != self.secret:
            return _error(40125)
        token = f"FAKE_ACCESS_TOKEN_{next(self._ids)}"
        self._tokens[token] = True
        call.data = {"access_token": token}
        return {"access_token": token, "expires_in": 7200}

    def _send(self, call: Call, content_type: str) -> dict[str, Any]:
        try:
            data = json.loads(call.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(47001)
        if not isinstance(data, dict) or not data.get("touser") or not data.get("msgtype"):
            return _error(44002)
        kind = data["msgtype"]
        content = data.get(kind) if isinstance(data.get(kind), dict) else None
        if content is None or (kind == "text" and not content.get("content")) \
                or (kind == "image" and not content.get("media_id")):
            return _error(47001)
        call.data = data
        return {"errcode": 0, "errmsg": "ok"}

    def _qrcode(self, call: Call, content_type: str) -> dict[str, Any]:
        try:
            data = json.loads(call.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error(47001)
        call.data = data
        return _qrcode_answer(data)

    def _upload(self, call: Call, content_type: str) -> dict[str, Any]:
        kind = call.query.get("type", "")
        parts = _multipart(content_type, call.body)
        media = parts.get("media")
        if kind not in ("image", "voice", "video", "thumb") or media is None:
            return _error(40004 if media is not None else 41005)
        media_id = f"FAKE_MEDIA_{next(self._ids)}"
        call.data = {**media, "type": kind, "media_id": media_id}
        return {"type": kind, "media_id": media_id, "created_at": int(time.time())}


def _qrcode_answer(data: dict[str, Any]) -> dict[str, Any]:
    scene = ((data.get("action_info") or {}).get("scene") or {}).get("scene_str")
    if data.get("action_name") != "QR_LIMIT_STR_SCENE" or not scene or len(scene) > 64:
        return _error(40001 if not scene else 40003)
    return {"ticket": f"TICKET-{scene}", "url": f"http://weixin.qq.com/q/{scene}"}


def _multipart(content_type: str, body: bytes) -> dict[str, dict[str, Any]]:
    if not content_type.lower().startswith("multipart/form-data"):
        return {}
    raw = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body
    found: dict[str, dict[str, Any]] = {}
    parts: list[MimePart] = email.message_from_bytes(raw).get_payload()  # type: ignore[assignment]
    for part in parts:
        name = str(part.get_param("name", header="content-disposition"))
        data: bytes = part.get_payload(decode=True) or b""  # type: ignore[assignment]
        found[name] = {"filename": part.get_filename(), "content_type": part.get_content_type(),
                       "size": len(data), "content": data}
    return found


def _make_handler(api: FakeWechatAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if api.holds(url.path.rsplit("/", 1)[-1], body):
                self.close_connection = True
                return
            status, payload = api.handle(self.command, url.path, query,
                                         self.headers.get("Content-Type", ""), body)
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            send_json(self, status, data, "application/json; encoding=utf-8")

        do_GET = do_POST = _serve

    return Handler
