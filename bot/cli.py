"""`tuanbot run | console [--script FILE] | db upgrade | export COMMUNITY KIND |
config export|import COMMUNITY [FILE]`."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import OperationalError

from bot.app import bootstrap
from bot.console import ConsoleChannel, interactive
from bot.demo import DEMO_GROUP, DEMO_OWNER
from bot.settings import Settings, make_database_folder
from messages.render import LOCALES
from models import exporting, members
from models.db import UnitOfWork, make_engine, session_factory
from models.migrate import upgrade
from models.programme import programme_for
from models.rules.exports import KINDS

WELCOME_LEADER = (
    f"{DEMO_OWNER}@{DEMO_GROUP}: /open 有機蘋果 | 350 | 20 | 明天 20:00",
    f"{DEMO_OWNER}@{DEMO_GROUP}: /grant @amy 50 welcome gift",
    f"{DEMO_OWNER}@{DEMO_GROUP}: /export",
)
WELCOME_MEMBER = (
    f"amy@{DEMO_GROUP}: /me",
    f"amy@{DEMO_GROUP}: +2",
    "amy: /points",
)


def welcome() -> str:
    """The console's first screen: who owns the demo, and lines to try on each side."""
    return "\n".join((
        "No platform token set: opening the console on the demo community.",
        f"The demo community's owner (its leader) is the sender `{DEMO_OWNER}`; "
        f"its group is `{DEMO_GROUP}`.",
        "Type `SENDER@GROUP: TEXT` to write in the group, `SENDER: TEXT` to write privately.",
        "Try as the leader:", *(f"  {line}" for line in WELCOME_LEADER),
        "Try as a member:", *(f"  {line}" for line in WELCOME_MEMBER),
        "`/help` lists every command; Ctrl-D quits.",
    ))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tuanbot", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run every configured channel (console when no token is set)")
    console = sub.add_parser("console", help="chat with the bot in the terminal")
    console.add_argument("--script", type=Path, help="lines of `SENDER[@GROUP]: TEXT` to play")
    console.add_argument("--as", dest="sender", default="me", help="sender of bare lines")
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade"])
    export = sub.add_parser("export", help="a community's data as CSV (UTF-8 with BOM) on stdout")
    export.add_argument("community", help="the community's slug, e.g. demo")
    export.add_argument("kind", choices=KINDS)
    export.add_argument("--lang", choices=LOCALES, help="headers' language (default: the community's)")
    config = sub.add_parser("config", help="the programme configuration as a TOML file")
    config.add_argument("action", choices=["export", "import"])
    config.add_argument("community", help="the community's slug")
    config.add_argument("file", nargs="?", type=Path, help="the TOML file to import")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    _logging(settings)
    if args.command == "db":
        make_database_folder(settings.database_url)
        upgrade(make_engine(settings.database_url))
        print("database is at the latest schema")
        return 0
    if args.command == "export":
        try:
            return _export(settings, args.community, args.kind, args.lang)
        except OperationalError as problem:  # no such file, no tables yet, server down
            print(f"cannot read the database ({problem.orig}): is it there, and upgraded "
                  "(tuanbot db upgrade)?", file=sys.stderr)
            return 2
    if args.command == "console":
        return _console(settings, args.script, args.sender)
    if args.command == "config":
        return _config(settings, args.action, args.community, args.file)
    if args.command in (None, "run"):
        from bot.settings import platforms

        if platforms(settings):
            from bot.runner import run

            return run(settings)
        print(welcome(), file=sys.stderr)
        return _console(settings, None, "me")
    parser.print_help()
    return 2


def _export(settings: Settings, slug: str, kind: str, lang: str | None) -> int:
    """The CSV on stdout, UTF-8 with a BOM (so `> file.csv` opens in Excel); 2 without the
    community."""
    with UnitOfWork(session_factory(make_engine(settings.database_url))) as uow:
        community = members.community_by_slug(uow.session, slug)
        if community is None:
            print(f"no community {slug!r}", file=sys.stderr)
            return 2
        locale = lang or community.default_locale
        programme = programme_for(community)
        text = exporting.export_csv(uow.session, community, kind, locale,
                                    lambda key: programme.tier_name(key, locale))
    sys.stdout.buffer.write(("\ufeff" + text).encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0


def _logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(), stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("httpx", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _config(settings: Settings, action: str, slug: str, file: Path | None) -> int:
    """Export to stdout, or import a file: the changes (or the problems) printed, 0 on success."""
    from bot import config_file

    app = bootstrap(settings)
    try:
        if action == "export":
            sys.stdout.write(config_file.export(app.deps.sessions, slug))
            return 0
        if file is None:
            print("usage: tuanbot config import COMMUNITY programme.toml", file=sys.stderr)
            return 2
        changed = config_file.import_file(app.deps.sessions, slug, file, app.deps.clock(),
                                          app.deps.renderer)
    except config_file.ConfigFileError as error:
        print(str(error), file=sys.stderr)
        return 1
    from models.rules.config_text import as_text

    for key, old, new in changed:
        print(f"{key}: {as_text(old)} -> {as_text(new)}")
    print(f"{len(changed)} setting(s) changed" if changed else "nothing changed")
    return 0


def _console(settings: Settings, script: Path | None, sender: str) -> int:
    app = bootstrap(settings)
    channel = ConsoleChannel(app.deps, default_sender=sender)
    if script is not None:
        with script.open(encoding="utf-8") as lines:
            for printed in channel.run_lines(lines):
                print(printed, flush=True)
        return 0
    from scheduler.election import Elector
    from scheduler.jobs import build_scheduler

    scheduler = build_scheduler(app.deps, app.engine, background=True)  # pushes print later
    elector = Elector(app.deps.sessions, scheduler, app.deps.clock,
                      lease=timedelta(seconds=settings.scheduler_lease))
    stop = threading.Event()
    electing = threading.Thread(target=elector.run_blocking, args=(stop,), daemon=True)
    electing.start()
    try:
        interactive(channel)
    finally:
        stop.set()
        electing.join(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
