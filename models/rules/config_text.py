"""A setting as a leader writes it in chat or in a TOML file (pure)."""

from __future__ import annotations

from typing import Any


def as_text(value: Any) -> str | None:
    """A value as a leader types it: a ladder as `0:5,10000:8`, nothing as None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, list):
        return ",".join(f"{a}:{b}" for a, b in value)
    return str(value)
