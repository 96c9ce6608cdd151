"""How long what we keep is kept, and what /forget leaves behind.

Retention is a deployment setting (inbound events are not tied to one community):
`RETENTION=inbox=30,outbox=90,audit=730` (days). Inbound payloads are only needed while a
platform may redeliver an event and while a crashed worker may still answer it; sent pushes
only while a member might ask "did you send it?"; the audit log for the leader's books.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

MIN_DAYS = 2  # the inbox must outlive any redelivery and any in-doubt answer
MAX_DAYS = 3650


class RetentionError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Retention:
    inbox_days: int = 30
    outbox_days: int = 90
    audit_days: int = 730

    def cutoffs(self, now: datetime) -> tuple[datetime, datetime, datetime]:
        """Older than these (inbox, outbox, audit) is removed."""
        return (now - timedelta(days=self.inbox_days), now - timedelta(days=self.outbox_days),
                now - timedelta(days=self.audit_days))


def parse_retention(text: str) -> Retention:
    """'inbox=30,outbox=90,audit=730' (any subset) → Retention; RetentionError names the fault."""
    default = Retention()
    values = {"inbox": default.inbox_days, "outbox": default.outbox_days,
              "audit": default.audit_days}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, raw = part.partition("=")
        key = key.strip()
        if not sep or key not in values:
            raise RetentionError(f"unknown retention setting {part!r} (inbox, outbox, audit)")
        if not raw.strip().isdigit() or not MIN_DAYS <= int(raw) <= MAX_DAYS:
            raise RetentionError(f"{key}: days must be a whole number {MIN_DAYS}–{MAX_DAYS}")
        values[key] = int(raw)
    return Retention(values["inbox"], values["outbox"], values["audit"])


def forgotten_id(account_id: int) -> str:
    """What a forgotten platform account's id becomes: unique, and no longer anybody's."""
    return f"forgotten-{account_id}"


def forgotten_actor(member_id: int) -> str:
    return f"member #{member_id} (forgotten)"
