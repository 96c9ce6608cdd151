"""The command table (handlers/commands.py) is the one place a command is declared: every word
reaches it, its usage renders everywhere, /help lists exactly what the person may use, and
guided flows go through one registry."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from sqlalchemy import select
from sqlmodel import Session

from bot.console import ConsoleChannel
from handlers import answering
from handlers.commands import MEMBER, OWNER, TABLE
from handlers.router import parse
from messages.render import LOCALES, Renderer
from models import flows
from models.db import UnitOfWork
from models.tables import AuditLog, Conversation
from tests.conftest import say


def test_every_word_of_every_command_reaches_it():
    for entry in TABLE:
        for word in entry.aliases:
            assert parse(f"/{word}").name == entry.name, word
            assert parse(f"／{word} x").name == entry.name, word
            bare = parse(word)
            if entry.bare and not word.isascii():
                assert bare is not None and bare.name == entry.name, word
            else:  # without a slash it is chatter, never misread as a command
                assert bare is None or bare.name == "join", word


def test_no_word_names_two_commands():
    words = Counter(w.lower() for entry in TABLE for w in entry.aliases)
    assert [w for w, n in words.items() if n > 1] == []
    assert len({entry.name for entry in TABLE}) == len(TABLE)


def test_every_command_has_its_words_in_every_language():
    for entry in TABLE:
        assert sorted(entry.words) == sorted(LOCALES), entry.name
        assert all(entry.words[locale] for locale in LOCALES), entry.name
        assert entry.name in entry.words["en"], entry.name


def test_every_usage_template_belongs_to_a_command():
    used = {f"usage_{entry.usage}" for entry in TABLE if entry.usage}
    on_disk = {n for n in Renderer().names("en") if n.startswith("usage_")}
    assert used <= on_disk
    assert on_disk - used == {"usage_bind"}  # an unbound group has no member yet: see _run


def test_every_command_usage_renders_in_every_locale_with_what_the_table_gives(console):
    msg = console.to_incoming("leader@demo: /help")
    with UnitOfWork(console.deps.sessions) as uow:
        ctx = answering.context(uow.session, msg, None, console.deps)
        assert ctx is not None
        for locale in LOCALES:
            ctx.member.locale = locale
            for entry in TABLE:
                if entry.usage:
                    text = ctx.text(f"usage_{entry.usage}", **entry.usage_args(ctx))
                    assert text.strip(), (locale, entry.name)


def test_the_help_template_has_a_line_for_every_command_in_every_locale():
    renderer = Renderer()
    names = [entry.name for entry in TABLE]
    for locale in LOCALES:
        text = renderer.render(locale, "help", commands=names, leader_commands=names)
        for name in names:
            assert _listed(text, name), (locale, name)


def _listed(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w/])/{name}(?!\w)", text) is not None


@pytest.mark.parametrize("locale", LOCALES)
def test_help_lists_exactly_the_commands_each_person_may_use(console: ConsoleChannel, locale):
    say(console, "amy: /start", "bob: /start", "leader: /admin add @bob")
    for who in ("amy", "bob", "leader"):
        say(console, f"{who}: /lang {locale}")
        text = say(console, f"{who}: /help")[0]
        may = {"amy": {MEMBER}, "bob": {MEMBER, "staff"}, "leader": {MEMBER, "staff", OWNER}}[who]
        for entry in TABLE:
            assert _listed(text, entry.name) == (entry.help is not None and entry.who in may), \
                (who, entry.name)


def test_an_admin_is_not_offered_the_owners_command(console: ConsoleChannel):
    say(console, "amy: /start", "leader: /admin add @amy")
    assert "/admin" not in say(console, "amy: /help")[0]
    assert "/admin" in say(console, "leader: /help")[0]


def test_a_member_is_refused_every_leader_command_by_any_of_its_words_and_each_is_audited(
        console: ConsoleChannel):
    say(console, "amy: /start")
    leaders = [entry for entry in TABLE if entry.who != MEMBER]
    for entry in leaders:
        for word in entry.aliases:
            out = say(console, f"amy@demo: /{word} 1")
            assert out == ["bot -> amy: 只有團主或管理員可以使用這個指令。"], word
    with Session(console.deps.sessions.kw["bind"]) as session:  # type: ignore[attr-defined]
        refused = session.execute(select(AuditLog.action).where(AuditLog.allowed.is_(False)))
        assert Counter(refused.scalars()) == Counter(
            entry.name for entry in leaders for _ in entry.aliases)


def test_a_leader_command_in_private_is_refused_to_a_member_before_anything_else(console):
    assert say(console, "amy: /bind") == ["bot -> amy: 只有團主或管理員可以使用這個指令。"]
    assert say(console, "leader: /bind") == ["bot -> leader: 請在要綁定的群組裡輸入 /bind。"]


def test_a_chinese_word_gets_the_same_usage_as_the_command(console: ConsoleChannel):
    assert say(console, "leader@demo: /加點") == say(console, "leader@demo: /grant")
    assert say(console, "leader@demo: /設定等級") == say(console, "leader@demo: /settier")
    assert "用法：/settier" in say(console, "leader@demo: /设定等级")[0]


def test_a_guided_flow_nobody_knows_any_more_is_ignored_and_dropped(console):
    say(console, "leader@demo: /me", "leader: /me")
    with UnitOfWork(console.deps.sessions) as uow:
        for chat in ("demo", "leader"):
            flows.start(uow.session, "console", chat, "leader", "retired", console.deps.clock())
        uow.commit()
    assert say(console, "leader@demo: 有機蘋果") == []  # group chatter, as without a flow
    assert "/help" in say(console, "leader: 有機蘋果")[0]  # the private "try /me …" answer
    with Session(console.deps.sessions.kw["bind"]) as session:  # type: ignore[attr-defined]
        left = session.execute(select(Conversation.chat_id)).scalars().all()
    assert left == ["demo"]
