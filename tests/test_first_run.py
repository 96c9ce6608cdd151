"""A first run: the console's first screen, and no folder made where nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.cli import WELCOME_LEADER, WELCOME_MEMBER, welcome
from messages.render import TEMPLATES
from tests.conftest import say

REPO = Path(__file__).resolve().parent.parent


def _run_cli(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("TUANBOT_HOME", "DATABASE_URL", "TELEGRAM_TOKEN", "LINE_CHANNEL_SECRET",
                          "WECHAT_TOKEN")}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path, input="",
                          env={**clean, "PYTHONPATH": str(REPO), **env}, capture_output=True,
                          text=True, timeout=120, check=True)


def test_no_var_folder_is_made_when_the_database_is_elsewhere(tmp_path: Path):
    work = tmp_path / "cwd"
    work.mkdir()
    elsewhere = tmp_path / "db" / "bot.sqlite3"
    _run_cli(work, {"DATABASE_URL": f"sqlite:///{elsewhere}"})
    assert elsewhere.exists()  # its own folder was made for it
    assert list(work.iterdir()) == []  # no var/, no media/


def test_the_default_sqlite_database_still_lives_under_var(tmp_path: Path):
    _run_cli(tmp_path, {})
    assert (tmp_path / "var" / "tuanbot.sqlite3").exists()


def test_the_first_screen_names_the_demo_owner_and_lines_to_try(tmp_path: Path):
    shown = _run_cli(tmp_path, {"TUANBOT_HOME": str(tmp_path / "home")}).stderr
    assert "`leader`" in shown and "owner" in shown
    for line in (*WELCOME_LEADER, *WELCOME_MEMBER):
        assert f"  {line}" in shown
    assert welcome().count("\n  ") == 6


def test_every_line_the_first_screen_suggests_works(console):
    for line in (*WELCOME_MEMBER[:1], *WELCOME_LEADER, *WELCOME_MEMBER[1:]):
        out = say(console, line)
        assert out, line
        assert not any(word in " ".join(out) for word in ("用法", "我不認得", "只有團主")), out


def test_simplified_chinese_calls_points_jifen_everywhere():
    for template in (TEMPLATES / "zh-Hans").glob("*.j2"):
        assert "分数" not in template.read_text(encoding="utf-8"), template.name
