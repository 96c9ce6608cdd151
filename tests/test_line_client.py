"""The LINE SDK's HTTP session: the environment read once, not on every call.

aiohttp with `trust_env` (the SDK's default) reads ~/.netrc and the proxy variables in a
worker thread for every request; the channel reads the proxy once, when it is built."""

from __future__ import annotations

import pytest

from bot.line_send import client, configuration


@pytest.mark.asyncio
async def test_the_sdk_session_does_not_look_in_the_environment_on_each_call() -> None:
    made = client(configuration("https://api.line.me", "token"))
    try:
        assert made.rest_client.pool_manager.trust_env is False
    finally:
        await made.close()


def test_a_proxy_the_environment_names_is_taken_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert configuration("https://api.line.me", "t").proxy == "http://proxy.example:3128"
    monkeypatch.setenv("no_proxy", "api.line.me")
    assert configuration("https://api.line.me", "t").proxy is None


def test_without_a_proxy_the_api_is_called_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert configuration("http://127.0.0.1:8080/", "t").proxy is None
    assert configuration("http://127.0.0.1:8080/", "t").host == "http://127.0.0.1:8080"
