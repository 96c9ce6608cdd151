"""Signed, expiring download links for files a channel cannot carry (LINE, WeChat OA).

A link names a file of the media folder and an expiry (Unix seconds); its signature is an
HMAC-SHA256 over both with TUANBOT_LINK_SECRET (else a key derived from a platform secret).
`GET /download/{name}?e=EXPIRY&s=SIGNATURE` serves the file until the expiry; a tampered or
expired link is 403, a missing file 404, never a 500.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from messages.types import FILE_LINK_HINT, Reply


def signature(secret: bytes, name: str, expires: int) -> str:
    digest = hmac.new(secret, f"{name}\n{expires}".encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class Downloads:
    """Makes the links: where the public server is, the secret, how long a link lives."""

    public_url: str | None
    secret: bytes | None
    media_dir: Path
    clock: Callable[[], datetime]
    ttl: int = 86_400

    def url(self, path: str | None) -> str | None:
        """A link to a file of the media folder; None without a public URL, a secret or the file."""
        if not path or not self.public_url or not self.secret:
            return None
        root, file = self.media_dir.resolve(), Path(path).resolve()
        if not file.is_relative_to(root) or not file.is_file():
            return None
        name = file.relative_to(root).as_posix()
        expires = int(self.clock().timestamp()) + self.ttl
        return (f"{self.public_url.rstrip('/')}/download/{quote(name)}"
                f"?e={expires}&s={signature(self.secret, name, expires)}")

    def with_link(self, reply: Reply) -> Reply:
        """The reply with its file as a link under the text (the file itself left out)."""
        if not reply.file:
            return reply
        link = self.url(reply.file)
        if link is None:
            return dataclasses.replace(reply, file=None)
        label = reply.hints.get(FILE_LINK_HINT, "")
        text = "\n".join(part for part in (reply.text, label, link) if part)
        return dataclasses.replace(reply, text=text, file=None)


def download_route(media_dir: Path, secret: bytes | None,
                   clock: Callable[[], datetime]) -> Route:
    """GET /download/{name}: the file, only through an unexpired link this module signed."""
    root = media_dir.resolve()

    async def download(request: Request) -> Response:
        name = str(request.path_params["name"])
        given, expiry = request.query_params.get("s", ""), request.query_params.get("e", "")
        if secret is None or not expiry.isascii() or not expiry.isdigit() or len(expiry) > 12:
            return PlainTextResponse("forbidden", status_code=403)
        expires = int(expiry)
        if not hmac.compare_digest(given.encode(), signature(secret, name, expires).encode()):
            return PlainTextResponse("forbidden", status_code=403)
        if expires < clock().timestamp():
            return PlainTextResponse("link expired", status_code=403)
        try:
            path = (root / name).resolve()
            found = path.is_relative_to(root) and path.is_file()
        except (OSError, ValueError):
            found = False
        if not found:
            return PlainTextResponse("not found", status_code=404)
        return FileResponse(path, filename=path.name)

    return Route("/download/{name:path}", download, methods=["GET", "HEAD"])


def link_secret(explicit: str | None, *platform_secrets: str | None) -> bytes | None:
    """TUANBOT_LINK_SECRET, else a key derived from the first platform secret set."""
    if explicit:
        return explicit.encode()
    for found in platform_secrets:
        if found:
            return hmac.new(found.encode(), b"tuanbot download links", hashlib.sha256).digest()
    return None
