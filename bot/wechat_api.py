"""WeChat's HTTP API: an access token cached until shortly before it expires, JSON calls.

Errors come back as WechatError (WeChat's errcode); `bot.wechat` maps them onto the
delivery worker's RateLimited / Undeliverable.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import httpx

STALE_TOKEN = {40001, 40014, 42001}


class WechatError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"wechat errcode {code}: {message}")
        self.code = code


class WechatApi:
    """The HTTP API: an access token cached until shortly before it expires, JSON calls."""

    def __init__(self, base_url: str, app_id: str, secret: str, clock: Any,
                 http: httpx.AsyncClient | None = None) -> None:
        self.base_url, self.app_id, self.secret = base_url.rstrip("/"), app_id, secret
        self.clock = clock
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(10.0))
        self._token: str | None = None
        self._expires: datetime | None = None
        self._lock = asyncio.Lock()
        self.token_fetches = 0

    async def token(self, stale: str | None = None) -> str:
        """The cached token; a fresh one when it expired or when `stale` was refused."""
        async with self._lock:
            now = self.clock()
            if self._token and self._token != stale and self._expires and now < self._expires:
                return self._token
            response = await self.http.get(f"{self.base_url}/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self.app_id, "secret": self.secret})
            data = _json(response)
            if not data.get("access_token"):
                raise WechatError(int(data.get("errcode") or -1), str(data.get("errmsg", "")))
            self.token_fetches += 1
            lifetime = max(60, int(data.get("expires_in") or 7200) - 300)
            self._token = str(data["access_token"])
            self._expires = now + timedelta(seconds=lifetime)
            return self._token

    async def call(self, path: str, *, body: bytes | None = None,
                   files: dict[str, tuple[str, bytes, str]] | None = None,
                   params: dict[str, str] | None = None) -> dict[str, Any]:
        """POST to the API; an expired or revoked token is renewed once and the call repeated."""
        token = await self.token()
        for attempt in (1, 2):
            response = await self.http.post(
                f"{self.base_url}{path}", params={**(params or {}), "access_token": token},
                content=body, files=files,
                headers={"Content-Type": "application/json; charset=utf-8"} if body else None)
            data = _json(response)
            code = int(data.get("errcode") or 0)
            if code in STALE_TOKEN and attempt == 1:
                token = await self.token(stale=token)
                continue
            if code:
                raise WechatError(code, str(data.get("errmsg", "")))
            return data
        raise AssertionError("unreachable")


def _json(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    data = json.loads(response.content)
    if not isinstance(data, dict):
        raise WechatError(-1, "not a JSON object")
    return data
