"""Signed, expiring download links (bot/downloads.py) for the channels that cannot carry a file:
served until they expire; a tampered, expired or forged link is 403, a missing file 404,
never a 500. LINE and WeChat put the link under the answer's text."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from bot.downloads import Downloads, download_route, link_secret
from bot.line_send import to_messages
from messages.types import FILE_LINK_HINT, Reply
from tests.conftest import Clock

SECRET = b"s3cret"


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media" / "exports"
    folder.mkdir(parents=True)
    (folder / "members-demo.csv").write_bytes("\ufeff會員\n".encode())
    (tmp_path / "tuanbot.sqlite3").write_bytes(b"secret data")
    return tmp_path / "media"


class Client:
    """GET through the ASGI app in process (an exception inside would surface as a 500)."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    def get(self, path: str) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.get(path)
        return asyncio.run(fetch())


def served(media: Path, clock: Clock) -> tuple[Downloads, Client]:
    links = Downloads("https://bot.example", SECRET, media, clock, ttl=3600)
    return links, Client(Starlette(routes=[download_route(media, SECRET, clock)]))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_a_link_serves_the_file_until_it_expires(media, clock: Clock):
    links, client = served(media, clock)
    url = links.url(str(media / "exports" / "members-demo.csv"))
    assert url is not None and url.startswith("https://bot.example/download/exports/members-demo.csv?e=")
    got = client.get(path_of(url))
    assert got.status_code == 200 and got.content == "\ufeff會員\n".encode()
    clock.advance(minutes=61)
    assert client.get(path_of(url)).status_code == 403


@pytest.mark.parametrize("forge", [
    lambda u: u.replace("s=", "s=x"),  # a tampered signature
    lambda u: u.replace("?e=", "?e=9"),  # a later expiry with the old signature
    lambda u: u.replace("members-demo", "members-dem0"),  # another file
    lambda u: u.split("?")[0],  # no signature at all
    lambda u: u.replace("?e=", "?e=-"),  # not a number
    lambda u: u.replace("?e=", "?e=１"),  # a full-width digit
])
def test_a_forged_link_is_forbidden_never_an_error(media, clock: Clock, forge):
    links, client = served(media, clock)
    url = links.url(str(media / "exports" / "members-demo.csv"))
    assert url is not None
    assert client.get(path_of(forge(url))).status_code == 403


def test_a_signed_link_to_a_file_that_is_gone_is_not_found(media, clock: Clock):
    links, client = served(media, clock)
    target = media / "exports" / "members-demo.csv"
    url = links.url(str(target))
    assert url is not None
    target.unlink()
    assert client.get(path_of(url)).status_code == 404


def test_a_signed_path_outside_the_media_folder_is_not_served(media, clock: Clock):
    _, client = served(media, clock)
    from bot.downloads import signature

    expires = int((clock() + timedelta(hours=1)).timestamp())
    name = "../tuanbot.sqlite3"
    got = client.get(f"/download/{name}?e={expires}&s={signature(SECRET, name, expires)}")
    assert got.status_code in (403, 404) and b"secret data" not in got.content
    assert links_for_outside(media, clock) is None


def links_for_outside(media: Path, clock: Clock) -> str | None:
    return Downloads("https://bot.example", SECRET, media, clock).url(str(media.parent / "tuanbot.sqlite3"))


def test_without_a_secret_or_public_url_there_is_no_link_and_every_request_is_forbidden(
        media, clock: Clock):
    assert Downloads(None, SECRET, media, clock).url(str(media / "exports" / "members-demo.csv")) is None
    assert Downloads("https://b", None, media, clock).url(str(media / "exports" / "members-demo.csv")) is None
    client = Client(Starlette(routes=[download_route(media, None, clock)]))
    assert client.get("/download/exports/members-demo.csv?e=1&s=x").status_code == 403


def test_the_link_key_comes_from_the_setting_else_a_platform_secret():
    assert link_secret("mine", "line") == b"mine"
    assert link_secret(None, None, "wechat") == link_secret(None, "wechat")
    assert link_secret(None, "wechat") not in (None, b"wechat")
    assert link_secret(None, None, None) is None


def test_line_gets_the_file_as_an_expiring_link_under_the_words(media):
    clock = Clock(datetime(2026, 3, 10, 4, tzinfo=UTC))
    links = Downloads("https://bot.example", SECRET, media, clock)
    reply = Reply("會員資料（CSV）：", file=str(media / "exports" / "members-demo.csv"),
                  hints={FILE_LINK_HINT: "下載連結（限時有效）："})
    [message] = to_messages(links.with_link(reply))
    lines = message.to_dict()["text"].split("\n")
    assert lines[:2] == ["會員資料（CSV）：", "下載連結（限時有效）："]
    assert lines[2].startswith("https://bot.example/download/exports/members-demo.csv?e=")


@pytest.mark.asyncio
async def test_wechat_carries_the_export_as_a_link(app, tmp_path):
    from dataclasses import replace

    from bot.wechat import WechatChannel

    settings = replace(app.settings, wechat_token="t", wechat_app_id="a", wechat_app_secret="s",
                       public_url="https://bot.example")
    channel = WechatChannel(app.deps, settings)
    exports = app.settings.media_dir / "exports"
    exports.mkdir(parents=True)
    (exports / "points.csv").write_text("x", encoding="utf-8")
    prepared = await channel.prepared(Reply("積分紀錄：", file=str(exports / "points.csv")))
    assert prepared.file is None and "https://bot.example/download/exports/points.csv?e=" in prepared.text
    await channel.close()
