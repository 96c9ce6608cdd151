"""The real `tuanbot run` in a subprocess: start it, kill it with SIGKILL, start it again.

Its database is a SQLite file in the test's folder, or a fresh PostgreSQL database when the
suite runs with DATABASE_URL set (named after it, like tests/conftest.py does).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import func, make_url, select, text

from models.db import make_engine
from models.tables import InboundEvent
from tests.conftest import DATABASE_URL

REPO = Path(__file__).resolve().parent.parent
LEASE = "2"  # seconds: a dead worker's events are taken over soon after the restart
WAIT = 90.0  # generous: the machine is shared


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT,
               log: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s\n{log()[-4000:]}")
        time.sleep(0.05)


@contextmanager
def database(tmp_path: Path) -> Iterator[str]:
    """A database URL of this test's own; dropped afterwards on PostgreSQL."""
    url = make_url(DATABASE_URL)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'tuanbot.sqlite3'}"
        return
    name = f"{url.database}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class BotProcess:
    """`python -m bot.cli run` with the given platform settings, listening on `port`."""

    def __init__(self, tmp_path: Path, database_url: str, **env: str) -> None:
        self.port = free_port()
        self.database_url = database_url
        self.folder = tmp_path
        self.env = {**os.environ, "PYTHONPATH": str(REPO), "DATABASE_URL": database_url,
                    "TUANBOT_HOME": str(tmp_path / "home"), "TUANBOT_PORT": str(self.port),
                    "TUANBOT_INBOX_LEASE": LEASE, "LOG_LEVEL": "INFO", **env}
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, serving: bool = True) -> None:
        """Start it; wait until it answers /healthz (`serving` False: no web server, as when
        it only polls Telegram: until it says it runs)."""
        self.runs += 1
        output = (self.folder / f"run{self.runs}.log").open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=self.env,
                                        cwd=self.folder, stdout=output, stderr=subprocess.STDOUT)
        output.close()
        if serving:
            wait_until(self._healthy, "the bot answers /healthz", log=self.log)
        else:
            wait_until(lambda: "running:" in self.log(self.runs), "the bot runs", log=self.log)

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"the bot exited with {self.process.returncode}\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, like a power cut."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self, run: int | None = None) -> str:
        runs = [run] if run is not None else range(1, self.runs + 1)
        return "\n".join((self.folder / f"run{n}.log").read_text(errors="replace")
                         for n in runs if (self.folder / f"run{n}.log").exists())

    def unanswered(self) -> int:
        """Stored events not answered yet (read straight from the bot's database)."""
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return int(connection.execute(
                    select(func.count()).select_from(InboundEvent)
                    .where(InboundEvent.answered_at.is_(None),  # type: ignore[union-attr]
                           InboundEvent.payload.is_not(None))  # type: ignore[union-attr]
                ).scalar_one())
        finally:
            engine.dispose()


@contextmanager
def bot_process(tmp_path: Path, **env: str) -> Iterator[BotProcess]:
    with database(tmp_path) as url:
        bot = BotProcess(tmp_path, url, **env)
        try:
            yield bot
        finally:
            bot.stop()


def crash_and_restart(bot: BotProcess, fake: object) -> None:
    """Kill the bot (SIGKILL) while the fake holds its answers, then start it again."""
    wait_until(lambda: len(fake.held) >= 1, "an answer is on its way (held)",  # type: ignore[attr-defined]
               log=bot.log)
    bot.kill()
    fake.release()  # type: ignore[attr-defined]
    bot.start()
    wait_until(lambda: bot.unanswered() == 0, "every stored event answered", log=bot.log)


def sweep_in_another_process(database_url: str, home: str) -> list[str]:
    """In a process of its own: one sweep of the inbox; the events it delivered answers to."""
    import asyncio

    from bot import inbox
    from bot.app import bootstrap
    from bot.settings import Settings
    from messages.types import Incoming, Reply

    app = bootstrap(Settings(database_url=database_url, home=Path(home), seed_demo=False),
                    migrate=False)
    delivered: list[str] = []

    async def deliver(msg: Incoming, reply: Reply) -> None:
        delivered.append(msg.event_key)

    asyncio.run(inbox.recover(app.deps, {"telegram": deliver}))
    app.engine.dispose()
    return delivered


def campaign(database_url: str, home: Path, count: int, first_chat: int = 500_000) -> list[str]:
    """`count` members of the demo community who started the bot on Telegram, each sent one
    SERVICE push through notify (like a campaign), queued in the outbox; their chat ids."""
    from bot.app import bootstrap
    from bot.settings import Settings
    from handlers.notify import Message, notify
    from models import members, reachability
    from models.db import UnitOfWork
    from models.rules.notify import Kind

    app = bootstrap(Settings(database_url=database_url, home=home))  # migrated, demo seeded
    chats = [str(first_chat + n) for n in range(count)]
    with UnitOfWork(app.deps.sessions) as uow:
        community = members.community_by_slug(uow.session, "demo")
        assert community is not None
        for chat in chats:
            member = members.join(uow.session, community, "telegram", chat, None, f"m{chat}",
                                  app.deps.clock()).member
            reachability.mark_private_reachable(uow.session, "telegram", chat, chat)
            assert notify(uow.session, app.deps, member,
                          Message("tier_down", before="Gold", after="Silver"), Kind.SERVICE,
                          key=f"campaign:{chat}", community=community)
        uow.commit()
    app.engine.dispose()
    return chats


def open_outbox(database_url: str) -> int:
    """Outbox messages not sent (nor failed) yet, read straight from the database."""
    from models.tables import OutboxMessage

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))  # type: ignore[attr-defined]
            ).scalar_one())
    finally:
        engine.dispose()


def telegram_env(fake: object, **more: str) -> dict[str, str]:
    """`tuanbot run` on Telegram against the fake (a webhook, so it serves /healthz)."""
    return {"TELEGRAM_TOKEN": "123:ABC", "TELEGRAM_BASE_URL": fake.base_url,  # type: ignore[attr-defined]
            "TELEGRAM_BASE_FILE_URL": fake.base_file_url,  # type: ignore[attr-defined]
            "TELEGRAM_WEBHOOK_URL": "https://bot.example/telegram",
            "TELEGRAM_WEBHOOK_SECRET": "s3cret", **more}
