"""Imports point inward: rules → stdlib; models → no platforms; only bot/ talks to platforms."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = {"telegram", "linebot", "wechatpy", "starlette", "uvicorn", "httpx"}
FORBIDDEN = {
    "models/rules": PLATFORMS | {"sqlmodel", "sqlalchemy", "jinja2", "apscheduler", "models.tables",
                                 "handlers", "messages", "scheduler", "bot"},
    "models": PLATFORMS | {"jinja2", "apscheduler", "handlers", "messages", "scheduler", "bot"},
    "messages": PLATFORMS | {"apscheduler", "handlers", "scheduler", "bot", "sqlmodel", "sqlalchemy"},
    "handlers": PLATFORMS | {"apscheduler", "scheduler", "bot"},
    "scheduler": PLATFORMS | {"bot"},
}


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(folder: str, forbidden: set[str]) -> list[str]:
    found = []
    for path in (ROOT / folder).rglob("*.py"):
        if folder == "models" and "rules" in path.parts:
            continue
        for name in imported(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_imports_point_inward():
    problems = [v for folder, banned in FORBIDDEN.items() for v in violations(folder, banned)]
    assert problems == []


def test_rules_use_only_the_standard_library():
    allowed = set(sys.stdlib_module_names) | {"models.rules"}
    for path in (ROOT / "models" / "rules").rglob("*.py"):
        for name in imported(path):
            top = name.split(".")[0]
            assert top in allowed or name.startswith("models.rules"), f"{path.name}: {name}"
