"""What a handler gets: the message, the member, the community, a session, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from handlers.notify import Message, notify
from messages.render import Renderer
from messages.types import Button, Incoming, Reply
from models import tiers as tier_ops
from models.db import SessionFactory
from models.members import Membership
from models.programme import Programme
from models.rules.notify import WECHAT_WINDOW, Kind, ReplyWindow
from models.rules.pacing import Limits
from models.rules.privacy import Retention
from models.tables import ChannelAccount, Community, Member
from models.types import id_of

REFERRAL_LINKS = {
    "console": "tuanbot://start?ref={code}",
    "telegram": "https://t.me/{bot}?start=ref_{code}",
    "line": "https://line.me/R/oaMessage/{bot}/?%2Fstart%20ref_{code}",
    "wechat": "weixin://tuanbot/{bot}?ref_{code}",
}


@dataclass
class Deps:
    """Everything handlers need from the outside, built once by the composition root."""

    sessions: SessionFactory
    renderer: Renderer
    clock: Callable[[], datetime]
    media_dir: Path
    default_community: str | None = None
    bot_names: dict[str, str] = field(default_factory=dict)
    limits: dict[str, Limits] = field(default_factory=dict)  # empty: each platform's defaults
    reply_windows: dict[str, ReplyWindow] = field(
        default_factory=lambda: {"wechat": WECHAT_WINDOW})
    retention: Retention = field(default_factory=Retention)  # what the retention job removes

    def referral_link(self, channel: str, code: str) -> str:
        pattern = REFERRAL_LINKS.get(channel, REFERRAL_LINKS["console"])
        return pattern.format(bot=self.bot_names.get(channel, "tuanbot"), code=code)


class Voice:
    """How a context speaks to the sender: their language, the community's time zone and
    currency, private when they can be answered there. Subclasses give `msg`, `deps`,
    `programme`, `now` and the `community`, `member` and `account` (models or their values)."""

    msg: Incoming
    deps: Deps
    programme: Programme
    now: datetime
    _tz: ZoneInfo | None

    @property
    def community(self) -> Any:
        raise NotImplementedError

    @property
    def member(self) -> Any:
        raise NotImplementedError

    @property
    def account(self) -> Any:
        raise NotImplementedError

    @property
    def locale(self) -> str:
        return str(self.member.locale or self.community.default_locale)

    @property
    def today(self) -> date:
        return self.local_now.date()

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.tz)

    @property
    def tz(self) -> tzinfo:
        """The community's time zone."""
        if self._tz is None:
            self._tz = ZoneInfo(self.community.timezone)
        return self._tz

    @property
    def can_reply_privately(self) -> bool:
        return self.msg.is_group and self.account.private_chat is not None

    def tier_name(self, key: str | None = None) -> str:
        return self.programme.tier_name(key or self.member.tier, self.locale)

    def text(self, template: str, **context: Any) -> str:
        return self.deps.renderer.render(
            self.locale, template, member=self.member, community=self.community,
            currency=self.community.currency, tz=self.tz, **context,
        )

    def reply(
        self, template: str, *, private: bool = False, buttons: tuple[Button, ...] = (),
        image: str | None = None, **context: Any,
    ) -> Reply:
        return Reply(self.text(template, **context), buttons=buttons, image=image, private=private)

    def card(self, template: str, **context: Any) -> Reply:
        """A personal answer: in private when the member has started the bot, else here."""
        return self.reply(template, private=self.can_reply_privately, **context)


@dataclass
class Ctx(Voice):
    msg: Incoming
    args: str
    session: Session
    deps: Deps
    membership: Membership
    programme: Programme
    now: datetime
    _tz: ZoneInfo | None = None

    @property
    def community(self) -> Community:
        return self.membership.community

    @property
    def member(self) -> Member:
        return self.membership.member

    @property
    def account(self) -> ChannelAccount:
        return self.membership.account

    @property
    def runner(self) -> Session:
        return self.session

    @property
    def first_contact(self) -> bool:
        """The member was created by this very message."""
        return self.membership.is_new

    def standing(self) -> tuple[int, int]:
        """The member's rolling 12-month spend and invites (models.tiers.standing)."""
        return tier_ops.standing(self.session, id_of(self.member), self.now)

    def push(self, to: Member, template: str, dedupe_key: str, kind: Kind = Kind.SERVICE,
             **context: Any) -> bool:
        """Notify a member (in their language), this channel first; False if not sent."""
        return notify(self.session, self.deps, to, Message(template, **context), kind,
                      key=dedupe_key, prefer=self.msg.channel, community=self.community,
                      now=self.now)
