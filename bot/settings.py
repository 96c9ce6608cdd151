"""Settings from the environment. Read only by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import make_url

from bot.limits import parse
from models.rules.notify import WECHAT_WINDOW, ReplyWindow
from models.rules.pacing import Limits
from models.rules.privacy import Retention, parse_retention
from scheduler.delivery import LIMITS

LIMIT_VARIABLES = {"telegram": "TELEGRAM_LIMITS", "line": "LINE_LIMITS", "wechat": "WECHAT_LIMITS"}


def _default_windows() -> dict[str, ReplyWindow]:
    return {"wechat": WECHAT_WINDOW}


def platform_limits(env: Mapping[str, str]) -> tuple[dict[str, Limits], dict[str, ReplyWindow]]:
    """Each platform's published limits, with what TELEGRAM_LIMITS, LINE_LIMITS or
    WECHAT_LIMITS set (e.g. `bot=30/1s,chat=1/1s,group=20/1m`, `window=48h,per_message=5`)."""
    limits, windows = dict(LIMITS), _default_windows()
    for channel, variable in LIMIT_VARIABLES.items():
        if env.get(variable):
            found, window = parse(env[variable], limits[channel], windows.get(channel))
            limits[channel] = found
            if window is not None:
                windows[channel] = window
    return limits, windows


@dataclass(frozen=True)
class Settings:
    database_url: str
    home: Path
    default_community: str | None = "demo"
    seed_demo: bool = True
    telegram_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_bot_name: str = "tuanbot"
    line_channel_secret: str | None = None
    line_access_token: str | None = None
    line_api_base_url: str = "https://api.line.me"
    line_data_base_url: str = "https://api-data.line.me"
    line_bot_id: str = "@tuanbot"
    wechat_token: str | None = None
    wechat_app_id: str | None = None
    wechat_app_secret: str | None = None
    wechat_aes_key: str | None = None
    wechat_api_base_url: str = "https://api.weixin.qq.com"
    public_url: str | None = None
    link_secret: str | None = None  # signs download links (TUANBOT_LINK_SECRET)
    link_ttl: int = 86_400  # seconds a download link lives (TUANBOT_LINK_TTL)
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    log_level: str = "INFO"
    inbox_lease: float = 30.0  # seconds a worker holds an inbound event before another may
    wechat_passive_timeout: float = 4.0  # seconds of handling waited for a passive reply
    scheduler_lease: float = 30.0  # seconds; a dead scheduler leader is replaced after this
    delivery_lease: float = 60.0  # seconds a delivery worker holds the messages it claimed
    limits: dict[str, Limits] = field(default_factory=lambda: dict(LIMITS))
    reply_windows: dict[str, ReplyWindow] = field(default_factory=_default_windows)
    retention: Retention = field(default_factory=Retention)  # RETENTION=inbox=30,outbox=90,…

    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    def link_key(self) -> bytes | None:
        """The key of download links: TUANBOT_LINK_SECRET, else derived from a platform's."""
        from bot.downloads import link_secret

        return link_secret(self.link_secret, self.line_channel_secret, self.wechat_app_secret,
                           self.wechat_token, self.telegram_token)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("TUANBOT_HOME", "var")).resolve()
        default_db = f"sqlite:///{home / 'tuanbot.sqlite3'}"
        default_community = env.get("TUANBOT_DEFAULT_COMMUNITY", "demo") or None
        limits, windows = platform_limits(env)
        return cls(
            limits=limits, reply_windows=windows,
            retention=parse_retention(env.get("RETENTION", "")),
            database_url=env.get("DATABASE_URL") or default_db,
            home=home,
            default_community=default_community,
            seed_demo=env.get("TUANBOT_SEED_DEMO", "1") not in ("0", "false", "no"),
            telegram_token=env.get("TELEGRAM_TOKEN") or None,
            telegram_base_url=env.get("TELEGRAM_BASE_URL", cls.telegram_base_url),
            telegram_base_file_url=env.get("TELEGRAM_BASE_FILE_URL", cls.telegram_base_file_url),
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            telegram_bot_name=env.get("TELEGRAM_BOT_NAME", "tuanbot"),
            line_channel_secret=env.get("LINE_CHANNEL_SECRET") or None,
            line_access_token=env.get("LINE_CHANNEL_ACCESS_TOKEN") or None,
            line_api_base_url=env.get("LINE_API_BASE_URL", cls.line_api_base_url),
            line_data_base_url=env.get("LINE_DATA_BASE_URL", cls.line_data_base_url),
            line_bot_id=env.get("LINE_BOT_ID", cls.line_bot_id),
            wechat_token=env.get("WECHAT_TOKEN") or None,
            wechat_app_id=env.get("WECHAT_APP_ID") or None,
            wechat_app_secret=env.get("WECHAT_APP_SECRET") or None,
            wechat_aes_key=env.get("WECHAT_ENCODING_AES_KEY") or None,
            wechat_api_base_url=env.get("WECHAT_API_BASE_URL", cls.wechat_api_base_url),
            public_url=env.get("TUANBOT_PUBLIC_URL") or None,
            link_secret=env.get("TUANBOT_LINK_SECRET") or None,
            link_ttl=int(env.get("TUANBOT_LINK_TTL", cls.link_ttl)),
            listen_host=env.get("TUANBOT_HOST", "127.0.0.1"),
            listen_port=int(env.get("TUANBOT_PORT", "8080")),
            log_level=env.get("LOG_LEVEL", "INFO"),
            inbox_lease=float(env.get("TUANBOT_INBOX_LEASE", cls.inbox_lease)),
            wechat_passive_timeout=float(env.get("WECHAT_PASSIVE_TIMEOUT",
                                                 cls.wechat_passive_timeout)),
            scheduler_lease=float(env.get("TUANBOT_SCHEDULER_LEASE", cls.scheduler_lease)),
            delivery_lease=float(env.get("TUANBOT_DELIVERY_LEASE", cls.delivery_lease)),
        )


def make_database_folder(database_url: str) -> None:
    """A SQLite file's folder is made for it; nothing else is made before it is written.

    TUANBOT_HOME (default ./var) holds the default database and media (QR codes, exports,
    uploads); those folders are made by whoever first writes there, so a deployment whose
    DATABASE_URL points elsewhere and writes no media leaves no `var/` behind.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def platforms(settings: Settings) -> list[str]:
    """The chat platforms this deployment is configured for (none: the console)."""
    found = []
    if settings.telegram_token:
        found.append("telegram")
    if settings.line_channel_secret and settings.line_access_token:
        found.append("line")
    if settings.wechat_token and settings.wechat_app_id and settings.wechat_app_secret:
        found.append("wechat")
    return found
