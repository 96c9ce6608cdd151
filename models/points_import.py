"""Bulk points: the rows of a leader's points CSV (models/rules/points_csv.py) into the ledger.

Each row is posted once: its ledger key is the file's SHA-256 and the row's line, so the same
file imported again changes nothing. A row whose member cannot be told apart, whose deduction
would go below zero, or that gives a second opening balance is reported by line and left out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from models import ledger, lookups
from models.errors import InsufficientPoints
from models.rules.orders_csv import MAX_VALUE, RowError
from models.rules.points_csv import PointsRow
from models.tables import Member, PointsEntry
from models.types import id_of


@dataclass
class PointsImported:
    applied: int = 0
    skipped: int = 0  # imported before (the same file and line)
    points: int = 0  # the sum of what was applied
    errors: list[RowError] = field(default_factory=list)


def file_key(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:32]


def import_points(session: Session, rows: list[PointsRow], *, community_id: int, file_hash: str,
                  actor_id: int, today: date, now: datetime,
                  expiry_months: int | None) -> PointsImported:
    """Post each row not posted before; what cannot be posted is a row error."""
    done = PointsImported()
    for row in rows:
        key = f"pimport:{community_id}:{file_hash}:{row.line}"
        if session.execute(select(col(PointsEntry.id))
                           .where(col(PointsEntry.idem_key) == key)).first():
            done.skipped += 1
            continue
        member, problem = _member(session, community_id, row.member)
        if member is not None and row.kind == "opening" and _has_opening(session, id_of(member)):
            problem = "opening_exists"
        if member is None or problem:
            done.errors.append(RowError(row.line, problem, "member", row.member[:MAX_VALUE]))
            continue
        kind = "opening" if row.kind == "opening" else "grant" if row.points > 0 else "deduct"
        try:
            ledger.post(session, member, row.points, kind, key, today, reason=row.reason or "import",
                        expiry_months=expiry_months, actor_id=actor_id, at=now)
        except InsufficientPoints:
            done.errors.append(RowError(row.line, "insufficient", "points", str(row.points)))
            continue
        done.applied += 1
        done.points += row.points
    return done


def _member(session: Session, community_id: int, written: str) -> tuple[Member | None, str]:
    """'@handle', a display name that only one member has, or a referral code."""
    if written.startswith("@"):
        found = lookups.by_handle(session, community_id, written)
        return found, "" if found is not None else "unknown_member"
    named = list(session.execute(select(Member).where(
        col(Member.community_id) == community_id, col(Member.merged_into_id).is_(None),
        col(Member.display_name) == written[:64]).limit(2)).scalars())
    if len(named) == 1:
        return named[0], ""
    coded = lookups.by_referral_code(session, written) if written.isalnum() else None
    if coded is not None and coded.community_id == community_id:
        return coded, ""
    return None, "ambiguous_member" if named else "unknown_member"


def _has_opening(session: Session, member_id: int) -> bool:
    return session.execute(select(col(PointsEntry.id)).where(
        col(PointsEntry.member_id) == member_id,
        col(PointsEntry.kind) == "opening").limit(1)).first() is not None
