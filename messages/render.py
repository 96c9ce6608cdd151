"""Jinja2 templates per locale. Render, then send: this module only renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from jinja2.runtime import new_context

from messages.money import format_money

LOCALES = ("zh-Hant", "zh-Hans", "en")
TEMPLATES = Path(__file__).parent / "templates"

_LOCALE_ALIASES = {
    "zh-hant": "zh-Hant", "zh-tw": "zh-Hant", "zh-hk": "zh-Hant", "tw": "zh-Hant",
    "繁體": "zh-Hant", "繁体": "zh-Hant", "繁": "zh-Hant", "正體": "zh-Hant", "中文": "zh-Hant",
    "zh-hans": "zh-Hans", "zh-cn": "zh-Hans", "zh-sg": "zh-Hans", "cn": "zh-Hans", "zh": "zh-Hans",
    "简体": "zh-Hans", "簡體": "zh-Hans", "简": "zh-Hans", "簡": "zh-Hans",
    "en": "en", "en-us": "en", "en-gb": "en", "english": "en", "英文": "en", "英語": "en",
    "繁體中文": "zh-Hant", "繁体中文": "zh-Hant", "正體中文": "zh-Hant",
    "简体中文": "zh-Hans", "簡體中文": "zh-Hans", "英语": "en",
}


def locale_from(text: str | None) -> str | None:
    """'繁體', 'zh-TW', 'English' → a supported locale, or None."""
    if not text:
        return None
    return _LOCALE_ALIASES.get(text.strip().lower())


class Renderer:
    def __init__(self, root: Path = TEMPLATES) -> None:
        self._envs = {locale: self._env(root / locale) for locale in LOCALES}
        # templates do not change at run time: each compiled once, with its globals as a
        # plain dict (Template.render merges a ChainMap of them into every call's context)
        self._templates: dict[tuple[str, str], tuple[Template, dict[str, Any]]] = {}

    @staticmethod
    def _env(folder: Path) -> Environment:
        env = Environment(
            loader=FileSystemLoader(folder),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,
        )
        env.filters["money"] = format_money
        env.filters["mult"] = lambda pct: f"{pct / 100:g}"
        env.filters["day"] = lambda moment, tz: moment.astimezone(tz).strftime("%Y-%m-%d")
        env.filters["setting"] = _setting
        env.filters["clock"] = lambda moment, tz: moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        return env

    def render(self, locale: str, template: str, **context: Any) -> str:
        found = self._templates.get((locale, template)) or self._compiled(locale, template)
        compiled, names = found
        env = compiled.environment
        try:  # Template.render, without rebuilding its globals per call
            made = new_context(env, compiled.name, compiled.blocks, context, False, names)
            text: str = env.concat(compiled.root_render_func(made))
        except Exception:
            env.handle_exception()  # the template's line in the traceback, as render does
        return text.strip()

    def _compiled(self, locale: str, template: str) -> tuple[Template, dict[str, Any]]:
        env = self._envs.get(locale) or self._envs["en"]
        compiled = env.get_template(f"{template}.j2")
        found = self._templates[(locale, template)] = (compiled, dict(compiled.globals))
        return found

    def names(self, locale: str) -> list[str]:
        return sorted(n[:-3] for n in self._envs[locale].list_templates() if n.endswith(".j2"))


def _setting(value: Any, none: str) -> str:
    """A setting's value as the leader types it: a ladder as `0:5,10000:8`, nothing as `none`."""
    if value is None:
        return none
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ",".join(f"{a}:{b}" for a, b in value)
    return str(value)
