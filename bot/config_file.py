"""`tuanbot config export COMMUNITY > programme.toml` and `tuanbot config import COMMUNITY
programme.toml`: the programme as the leader writes it (models/config_keys.py), one table per
dotted prefix, money in whole currency units. An import lays the file over the current
settings (keys it leaves out stay as they are), through the same validation as `/config set`,
each change audited with its old and new value; with any problem nothing changes.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from messages.render import Renderer
from models import config_keys, configuration, members
from models.config_keys import ConfigInvalid, Problem
from models.db import SessionFactory, UnitOfWork
from models.tables import Community
from models.types import id_of

MAX_FILE = 256 * 1024
HEADER = ("# tuanbot programme for {slug}: money in whole {currency}, percentages as whole numbers.\n"
          "# Edit and load with: tuanbot config import {slug} programme.toml\n")


class ConfigFileError(Exception):
    """What to print instead of importing (the text is final, in English)."""


def export(sessions: SessionFactory, slug: str) -> str:
    with UnitOfWork(sessions) as uow:
        community = _community(uow.session, slug)
        flat = config_keys.view(community.programme, community.timezone)
        body = tomli_w.dumps(config_keys.nested(flat))
        return HEADER.format(slug=slug, currency=community.currency) + body


def load(path: Path) -> dict[str, Any]:
    """The file's keys, flat (`tiers.gold.min_spend`), or ConfigFileError."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigFileError(f"cannot read {path}: {error.strerror}") from None
    if len(raw) > MAX_FILE:
        raise ConfigFileError(f"{path} is larger than {MAX_FILE // 1024} KB: not a programme file")
    try:
        tree = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigFileError(f"{path} is not valid TOML: {error}") from None
    return config_keys.flatten(tree)


def import_file(sessions: SessionFactory, slug: str, path: Path, now: datetime,
                renderer: Renderer) -> list[tuple[str, Any, Any]]:
    """Apply the file; the changes made, or ConfigFileError with every problem found."""
    changes = load(path)
    with UnitOfWork(sessions) as uow:
        community = _community(uow.session, slug)
        try:
            changed = configuration.change(
                uow.session, community_id=id_of(community), changes=changes,
                actor=f"cli:{path.name}"[:96], actor_member_id=None, now=now)
        except ConfigInvalid as wrong:
            raise ConfigFileError(_problems(renderer, community, wrong.problems)) from None
        uow.commit()
        return changed


def _problems(renderer: Renderer, community: Community, problems: list[Problem]) -> str:
    return renderer.render("en", "config_invalid", problems=problems, community=community,
                           currency=community.currency)


def _community(session: Any, slug: str) -> Community:
    community = members.community_by_slug(session, slug)
    if community is None:
        raise ConfigFileError(f"no community called {slug!r}")
    return community
