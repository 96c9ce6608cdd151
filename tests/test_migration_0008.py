"""Revision 0008 repairs what earlier releases could leave: negative balances become a
points debt, and nothing stays on a merged-away member."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

from models import ledger
from models.db import make_engine
from models.migrate import upgrade
from models.tables import Member

WHEN = "2026-03-10 04:00:00"


def test_0008_turns_a_negative_balance_into_a_debt_and_moves_accounts_off_tombstones(
        tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0005")
    with engine.begin() as db:
        db.execute(text("INSERT INTO community (id, slug, name, timezone, currency, default_locale,"
                        " programme, created_at) VALUES (1, 'c', 'c', 'Asia/Taipei', 'TWD',"
                        " 'en', '{}', :at)"), {"at": WHEN})
        for member_id, balance, merged_into, referred_by in (
                (1, -35, None, None), (2, 0, 1, None), (3, 0, 2, None), (4, 0, None, 3)):
            db.execute(text(
                "INSERT INTO member (id, community_id, display_name, tier, points_balance,"
                " referral_code, opted_out, checkin_streak, joined_at, merged_into_id,"
                " referred_by_id) VALUES (:id, 1, 'm', 'bronze', :balance, :code, 0, 0, :at,"
                " :merged, :referred)"),
                {"id": member_id, "balance": balance, "code": f"CODE{member_id}", "at": WHEN,
                 "merged": merged_into, "referred": referred_by})
        db.execute(text("INSERT INTO pointsentry (member_id, delta, kind, reason, idem_key,"
                        " created_at) VALUES (1, -35, 'reversal', '', 'old', :at)"), {"at": WHEN})
        db.execute(text("INSERT INTO channelaccount (member_id, community_id, channel,"
                        " external_id, last_seen_at) VALUES (3, 1, 'line', 'U1', :at)"),
                   {"at": WHEN})
    upgrade(engine)
    with Session(engine) as session:
        amy = session.get(Member, 1)
        assert amy is not None
        assert (amy.points_balance, amy.points_debt) == (0, 35)
        assert ledger.ledger_sum(session, 1) == 0 and ledger.debt_sum(session, 1) == 35
        assert session.get(Member, 3).merged_into_id == 1  # type: ignore[union-attr]
        assert session.get(Member, 4).referred_by_id == 1  # type: ignore[union-attr]
        assert session.get(Member, 4).referred_at is not None  # type: ignore[union-attr]
        owner = session.execute(text("SELECT member_id FROM channelaccount")).scalar_one()
    assert owner == 1
    engine.dispose()
