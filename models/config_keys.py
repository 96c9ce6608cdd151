"""The programme's keys as a leader writes them: dotted (`tiers.gold.min_spend`), money in
whole currency units (NT$), the same keys as tables in `programme.toml`.

A key is a Spec (its type and range); new keys plug in with `register(Spec(...))`. A `*` in a
key stands for a tier's key. `view` gives the current values as the leader writes them,
`nested`/`flatten` turn them into TOML's tables and back, `coerce` checks one value.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.programme import DEFAULT_PROGRAMME
from models.rules.groupbuy import DEFAULT_MEMBER_CAP

MINOR = 100  # minor units in one whole unit of money
MAX_INT = 100_000_000
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_NONE_WORDS = ("none", "-", "無", "无", "off")
_TRUE = {"on": True, "true": True, "yes": True, "1": True, "開": True, "开": True,
         "off": False, "false": False, "no": False, "0": False, "關": False, "关": False}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: `code` picks the sentence (config_problem.j2), the rest fills it."""

    key: str
    code: str
    value: str = ""
    params: dict[str, object] = field(default_factory=dict)


class ConfigInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.key}: {p.code}" for p in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Spec:
    key: str  # as the leader writes it; `*` stands for a tier
    kind: str  # int | money | pct | clock | zone | ladder
    low: int = 0
    high: int = MAX_INT
    stored: str = ""  # the stored path, when it differs from `key`
    optional: bool = False  # "none" clears it
    default: Any = None  # shown when nothing is stored and the defaults have no value


SPECS: dict[str, Spec] = {}
def register(*specs: Spec) -> None:
    for spec in specs:
        SPECS[spec.key] = spec


register(
    Spec("timezone", "zone"),
    Spec("spend_per_point", "money", 1, stored="minor_per_point"),
    Spec("points_expiry_months", "int", 1, 120),
    Spec("birthday_coupon_valid_days", "int", 1, 366),
    Spec("frequency_cap_per_week", "int", 0, 100),
    Spec("commission_ladder", "ladder"),
    Spec("commission_level2_pct", "pct"),
    Spec("commission_cap_pct", "pct"),
    Spec("pickup_days", "int", 1, 60),
    Spec("rating_after_hours", "int", 0, 24 * 30),
    Spec("member_cap", "int", 0, 10_000, default=DEFAULT_MEMBER_CAP),
    Spec("quiet_hours.start", "clock"),
    Spec("quiet_hours.end", "clock"),
    Spec("checkin.base", "int", 0, 10_000),
    Spec("checkin.bonus_every", "int", 1, 365),
    Spec("checkin.bonus", "int", 0, 10_000),
    Spec("referral_reward_points.referrer", "int", 0, 1_000_000),
    Spec("referral_reward_points.referee", "int", 0, 1_000_000),
    Spec("payment_reminders.after_hours", "int", 0, 24 * 30),
    Spec("payment_reminders.gap_hours", "int", 1, 24 * 30),
    Spec("payment_reminders.count", "int", 0, 10),
    Spec("tiers.*.min_spend", "money"),
    Spec("tiers.*.min_invites", "int", 1, 10_000, optional=True),
    Spec("tiers.*.discount_pct", "pct", 1),
    Spec("tiers.*.points_multiplier_pct", "int", 0, 10_000),
    Spec("tiers.*.birthday_coupon", "money"),
)

if "commission_levels" in DEFAULT_PROGRAMME:  # the distribution programme's own key (i11)
    register(Spec("commission_levels", "int", 1, 10))
if "automations" in DEFAULT_PROGRAMME:  # the automated messages' keys (i10)
    register(
        *(Spec(f"automations.{name}.on", "bool") for name in DEFAULT_PROGRAMME["automations"]),
        Spec("automations.welcome.coupon", "money", 0, 100_000),
        Spec("automations.welcome.valid_days", "int", 1, 365),
        Spec("automations.welcome.within_days", "int", 1, 365),
        Spec("automations.winback.days", "int", 1, 365),
        Spec("automations.expiry_reminder.days", "int", 1, 365),
        Spec("automations.tier_nudge.days", "int", 1, 365),
        Spec("interest_tags.min_purchases", "int", 1, 1000),
    )

_LEVELS = re.compile(r"^(commission_level(\d+)_pct|commission_levels|levels)$")


def merged(stored: dict[str, Any] | None) -> dict[str, Any]:
    """What is stored, over the defaults (a deep copy: safe to change)."""
    return copy.deepcopy({**DEFAULT_PROGRAMME, **(stored or {})})


def tier_keys(config: dict[str, Any]) -> list[str]:
    return [str(t["key"]) for t in config["tiers"]]


def spec_for(key: str, config: dict[str, Any]) -> Spec | None:
    """The spec of a dotted key (`tiers.gold.min_spend` → `tiers.*.min_spend`)."""
    parts = key.split(".")
    if len(parts) == 3 and parts[0] == "tiers" and parts[1] in tier_keys(config):
        return SPECS.get(f"tiers.*.{parts[2]}")
    return SPECS.get(key) if "*" not in key else None


def view(stored: dict[str, Any] | None, timezone: str) -> dict[str, Any]:
    """The flat leader view: every known key with its value as the leader writes it."""
    config = merged(stored)
    flat: dict[str, Any] = {}
    for spec in SPECS.values():
        for key in _expand(spec.key, config):
            raw = timezone if spec.kind == "zone" else _get(config, stored_path(spec, key))
            flat[key] = _shown(spec, spec.default if raw is None else raw)
    return flat


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    """`{"quiet_hours.start": "22:00"}` → `{"quiet_hours": {"start": "22:00"}}`; None left out
    (TOML has no null: a missing optional key is "none")."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None:
            continue
        *heads, last = key.split(".")
        node = out
        for head in heads:
            node = node.setdefault(head, {})
        node[last] = value
    return out


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def parse_text(spec: Spec, text: str) -> Any:
    """A value typed in chat, as TOML would give it (raises ConfigInvalid on a wrong type)."""
    typed = text.strip().removeprefix("NT$").replace(",", "") if spec.kind != "ladder" else text
    if spec.optional and typed.lower() in _NONE_WORDS:
        return None
    if spec.kind == "bool":
        return _TRUE.get(typed.lower(), typed)
    if spec.kind in ("int", "money", "pct"):
        if not re.fullmatch(r"-?\d{1,12}", typed):
            raise ConfigInvalid([Problem(spec.key, "wrong_type", text[:40], {"kind": spec.kind})])
        return int(typed)
    if spec.kind == "ladder":
        steps = [step.partition(":") for step in re.split(r"[,\s]+", text.strip()) if step]
        try:
            return [[int(a.replace("NT$", "")), int(b.rstrip("%"))] for a, _, b in steps]
        except ValueError:
            raise ConfigInvalid([Problem(spec.key, "wrong_type", text[:40],
                                         {"kind": spec.kind})]) from None
    return typed


BAD = object()


def coerce(spec: Spec, key: str, value: Any, problems: list[Problem]) -> Any:
    """A leader's value (chat or TOML) checked for type and range, in stored units."""
    if value is None or (isinstance(value, str) and value.lower() in _NONE_WORDS and spec.optional):
        if spec.optional:
            return None
        problems.append(Problem(key, "wrong_type", "", {"kind": spec.kind}))
        return BAD
    if spec.kind in ("int", "money", "pct"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(Problem(key, "wrong_type", str(value)[:40], {"kind": spec.kind}))
            return BAD
        if value < 0:
            problems.append(Problem(key, "negative", str(value)))
            return BAD
        high = 100 if spec.kind == "pct" else spec.high
        if not spec.low <= value <= high:
            problems.append(Problem(key, "out_of_range", str(value), {"low": spec.low, "high": high}))
            return BAD
        return value * MINOR if spec.kind == "money" else value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            problems.append(Problem(key, "wrong_type", str(value)[:40], {"kind": spec.kind}))
            return BAD
        return value
    if spec.kind == "clock":
        if not isinstance(value, str) or not _CLOCK.match(value.strip()):
            problems.append(Problem(key, "wrong_type", str(value)[:40], {"kind": spec.kind}))
            return BAD
        hour, minute = value.strip().split(":")
        return f"{int(hour):02d}:{minute}"
    if spec.kind == "zone":
        return zone_problem(key, value, problems)
    return _ladder(key, value, problems)


def zone_problem(key: str, value: Any, problems: list[Problem]) -> Any:
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(Problem(key, "unknown_timezone", str(value)[:40]))
        return BAD
    return str(value)


def _ladder(key: str, value: Any, problems: list[Problem]) -> Any:
    """[[NT$ monthly sales, percent], ...] → stored in minor units."""
    if (not isinstance(value, list) or not value or len(value) > 10
            or not all(isinstance(s, list) and len(s) == 2 and all(
                isinstance(x, int) and not isinstance(x, bool) for x in s) for s in value)):
        problems.append(Problem(key, "wrong_type", str(value)[:40], {"kind": "ladder"}))
        return BAD
    if any(a < 0 or b < 0 for a, b in value):
        problems.append(Problem(key, "negative", str(value)[:40]))
        return BAD
    return [[a * MINOR, b] for a, b in value]


def unknown(key: str, value: Any) -> Problem:
    levels = _LEVELS.match(key.split(".")[-1])
    if levels and (levels[2] is None or int(levels[2]) > 2):
        return Problem(key, "too_many_levels", str(value)[:40])
    return Problem(key, "unknown_key", str(value)[:40])


def _expand(key: str, config: dict[str, Any]) -> list[str]:
    return [key.replace("*", t) for t in tier_keys(config)] if "*" in key else [key]


def stored_path(spec: Spec, key: str) -> str:
    if spec.stored:
        return spec.stored
    return key


def _get(config: dict[str, Any], path: str) -> Any:
    parts = path.split(".")
    if parts[0] == "tiers":
        tier = next(t for t in config["tiers"] if t["key"] == parts[1])
        return tier.get(parts[2])
    node: Any = config
    for part in parts:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def set_value(config: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    if parts[0] == "tiers":
        tier = next(t for t in config["tiers"] if t["key"] == parts[1])
        tier[parts[2]] = value
        return
    node = config
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def _shown(spec: Spec, raw: Any) -> Any:
    """A stored value as the leader writes it (money in whole units)."""
    if raw is None:
        return None
    if spec.kind == "money":
        return int(raw) // MINOR if int(raw) % MINOR == 0 else int(raw) / MINOR
    if spec.kind == "ladder":
        return [[int(a) // MINOR, int(b)] for a, b in raw]
    return raw
