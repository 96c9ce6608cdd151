"""Changing the programme configuration: one path for `/config set KEY VALUE` and
`tuanbot config import`. The current settings as the leader sees them (models/config_keys.py),
the new values laid over them, converted to what is stored, and `validate` run on the whole
result; nothing is saved unless it passes, and every change is audited with its old and new
value.

New rules plug in with `CHECKS.append(check)`: a check gets the stored configuration (merged
over the defaults) and the time zone and returns Problems.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from models.config_keys import (
    BAD,
    MINOR,
    ConfigInvalid,
    Problem,
    coerce,
    merged,
    set_value,
    spec_for,
    stored_path,
    unknown,
    view,
    zone_problem,
)
from models.programme import programme_from
from models.rules.config_text import as_text
from models.tables import AuditLog, Community

CHECKS: list[Callable[[dict[str, Any], str], list[Problem]]] = []


def apply(stored: dict[str, Any] | None, timezone: str,
          changes: dict[str, Any]) -> tuple[dict[str, Any], str, list[tuple[str, Any, Any]]]:
    """Lay `changes` (flat leader keys → values as TOML gives them) over the current settings:
    (new stored configuration, new time zone, [(key, old, new)] of what changed). Raises
    ConfigInvalid with every problem found (unknown keys, wrong types, the rules)."""
    config = merged(stored)
    before = view(stored, timezone)
    problems: list[Problem] = []
    zone = timezone
    for key, value in changes.items():
        spec = spec_for(key, config)
        if spec is None:
            problems.append(unknown(key, value))
            continue
        checked = coerce(spec, key, value, problems)
        if checked is BAD:
            continue
        if spec.kind == "zone":
            zone = str(checked)
        else:
            set_value(config, stored_path(spec, key), checked)
    problems += [p for p in validate(config, zone) if p.key not in {q.key for q in problems}]
    if problems:
        raise ConfigInvalid(problems)
    after = view(config, zone)
    changed = [(k, before.get(k), after[k]) for k in after if before.get(k) != after[k]]
    return config, zone, changed


def validate(config: dict[str, Any], timezone: str) -> list[Problem]:
    """Every rule over the whole configuration (stored units); [] when it is fine."""
    problems = [problem for check in (_check_zone, _check_tiers, _check_commission, *CHECKS)
                for problem in check(config, timezone)]
    if not problems:
        try:
            programme_from(config)
        except (KeyError, TypeError, ValueError) as wrong:  # a value the programme cannot use
            problems.append(Problem("programme", "unusable", str(wrong)[:80]))
    return problems


def _check_zone(config: dict[str, Any], timezone: str) -> list[Problem]:
    problems: list[Problem] = []
    zone_problem("timezone", timezone, problems)
    return problems


def _check_tiers(config: dict[str, Any], timezone: str) -> list[Problem]:
    problems: list[Problem] = []
    tiers = config["tiers"]
    for lower, upper in zip(tiers, tiers[1:], strict=False):
        if int(upper["min_spend"]) <= int(lower["min_spend"]):
            problems.append(Problem(f"tiers.{upper['key']}.min_spend", "not_increasing",
                                    _money_text(upper["min_spend"]),
                                    {"lower": lower["key"], "floor": _money_text(lower["min_spend"])}))
    invites = [(t["key"], t["min_invites"]) for t in tiers if t.get("min_invites") is not None]
    for (_, low), (key, high) in zip(invites, invites[1:], strict=False):
        if int(high) <= int(low):
            problems.append(Problem(f"tiers.{key}.min_invites", "not_increasing", str(high),
                                    {"lower": "", "floor": str(low)}))
    return problems


def _check_commission(config: dict[str, Any], timezone: str) -> list[Problem]:
    problems: list[Problem] = []
    ladder = config["commission_ladder"]
    if ladder and int(ladder[0][0]) != 0:
        problems.append(Problem("commission_ladder", "ladder_from_zero", _money_text(ladder[0][0])))
    for (low, low_rate), (high, rate) in zip(ladder, ladder[1:], strict=False):
        if int(high) <= int(low):
            problems.append(Problem("commission_ladder", "not_increasing", _money_text(high),
                                    {"lower": "", "floor": _money_text(low)}))
        elif int(rate) <= int(low_rate):  # each step pays more than the one before
            problems.append(Problem("commission_ladder", "not_increasing", f"{int(rate)}%",
                                    {"lower": "", "floor": f"{int(low_rate)}%"}))
    top = max((int(rate) for _, rate in ladder), default=0)
    cap = int(config["commission_cap_pct"])
    if cap < top:
        problems.append(Problem("commission_cap_pct", "cap_below_level1", str(cap), {"rate": top}))
    if int(config.get("commission_levels", 2)) > 2:
        problems.append(Problem("commission_levels", "too_many_levels",
                                str(config["commission_levels"])))
    for key in ("commission_cap_pct", "commission_level2_pct"):
        if int(config[key]) < 0:
            problems.append(Problem(key, "negative", str(config[key])))
    return problems


def _money_text(minor: Any) -> str:
    return f"{int(minor) // MINOR}" if int(minor) % MINOR == 0 else f"{int(minor) / MINOR:.2f}"


def change(session: Session, *, community_id: int, changes: dict[str, Any], actor: str,
           actor_member_id: int | None, now: datetime) -> list[tuple[str, Any, Any]]:
    """Apply and save the leader's changes with the community's row locked (two owners at
    once: the second works on the first's result), each change audited with its old and new
    value. Raises ConfigInvalid, and nothing is saved."""
    community = session.execute(select(Community).where(col(Community.id) == community_id)
                                .with_for_update()).scalar_one()
    session.refresh(community)
    config, zone, changed = apply(community.programme, community.timezone, changes)
    community.programme = config
    community.timezone = zone
    session.add(community)
    for key, old, new in changed:
        session.add(AuditLog(community_id=community_id, actor=actor[:96], action="config",
                             allowed=True, detail=key[:500], actor_member_id=actor_member_id,
                             old_value=_text(old), new_value=_text(new), at=now))
    session.flush()
    return changed


def _text(value: Any) -> str | None:
    shown = as_text(value)
    return None if shown is None else shown[:200]
