"""A leader's campaign message: checked, then compiled once in a sandbox, then rendered with a
plain dict per recipient.

Only placeholders are allowed: `{{name}}`, `{{tier}}`, `{{points}}`, `{{missing}}` (what the
member still needs for the next tier), `{{buy}}` (the open group buy recommended to the member,
sent with its join button); in Chinese too (`{{名字}}`, `{{等級}}`/`{{等级}}`,
`{{積分}}`/`{{积分}}`, `{{差額}}`/`{{差额}}`, `{{推薦}}`/`{{推荐}}`). Anything else Jinja would
evaluate — a statement (`{% … %}`), attribute or item access, a filter, a call, a literal, an
operator — is refused before anything is saved, and the text is rendered by
`ImmutableSandboxedEnvironment`, so it can never reach a Python object or the file system.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from models.rules.campaigns import MAX_MESSAGE

MAX_LENGTH = MAX_MESSAGE
PLACEHOLDERS: dict[str, str] = {
    "name": "name", "名字": "name", "姓名": "name",
    "tier": "tier", "等級": "tier", "等级": "tier",
    "points": "points", "積分": "points", "积分": "points", "點數": "points", "点数": "points",
    "missing": "missing", "差額": "missing", "差额": "missing",
    "buy": "buy", "推薦": "buy", "推荐": "buy",
}
CANONICAL = ("name", "tier", "points", "missing", "buy")

_ENV = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                     keep_trailing_newline=False)


class LeaderTextError(ValueError):
    """Why a leader's message is refused: 'too_long', 'syntax', 'expression' or
    'placeholder'; `detail` shows the offending part."""

    def __init__(self, problem: str, detail: str = "") -> None:
        super().__init__(f"{problem}: {detail}")
        self.problem = problem
        self.detail = detail


@dataclass(frozen=True)
class LeaderText:
    """A checked message: which placeholders it uses (their canonical names), how each name
    written in it maps to one, and the sandbox's parse of it as text and placeholders."""

    source: str
    uses: frozenset[str]
    written: tuple[tuple[str, str], ...]  # (name as written, canonical name)
    parts: tuple[tuple[str, str], ...]  # (text, canonical placeholder after it or '')

    def render(self, values: Mapping[str, str]) -> str:
        """The message for one member; `values` by canonical name. The checked template is
        only text and placeholders, so filling it in is joining the parts (what the sandbox
        renders, without its per-call context: see `render_sandboxed`, tested equal): one
        `str.format_map` over the parts, braces in the text doubled."""
        return self._format.format_map(values).strip()

    @cached_property
    def _format(self) -> str:
        return "".join(text.replace("{", "{{").replace("}", "}}") + ("{" + name + "}" if name else "")
                       for text, name in self.parts)

    def render_sandboxed(self, values: Mapping[str, str]) -> str:
        """The same through ImmutableSandboxedEnvironment (previews, and the tests)."""
        return _compiled(self.source).render({name: values[canonical]
                                              for name, canonical in self.written}).strip()


def check(text: str) -> LeaderText:
    """The message if it only uses known placeholders; LeaderTextError otherwise."""
    if len(text) > MAX_LENGTH:
        raise LeaderTextError("too_long", str(len(text)))
    if "{%" in text:
        raise LeaderTextError("expression", "{% … %}")
    try:
        tree = _ENV.parse(text)
    except TemplateSyntaxError as wrong:
        raise LeaderTextError("syntax", str(wrong.message or "")[:80]) from None
    written: dict[str, str] = {}
    parts: list[tuple[str, str]] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            raise LeaderTextError("expression", type(node).__name__)
        for part in node.nodes:
            if isinstance(part, nodes.TemplateData):
                parts.append((part.data, ""))
                continue
            if not isinstance(part, nodes.Name):
                raise LeaderTextError("expression", type(part).__name__)
            if part.name not in PLACEHOLDERS:
                raise LeaderTextError("placeholder", part.name[:40])
            written[part.name] = PLACEHOLDERS[part.name]
            parts.append(("", PLACEHOLDERS[part.name]))
    return LeaderText(text, frozenset(written.values()), tuple(written.items()), tuple(parts))


@lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    return _ENV.from_string(source)
