"""Report charts over the tables of distribution (and, once merged, campaigns): the
distributor leaderboard is the month's board of models/settlement.py, as /leaderboard ranks it."""

from __future__ import annotations

from sqlmodel import Session

from models import settlement
from models.reporting import TOP, Chart, Scope


def distributor_leaderboard(session: Session, scope: Scope) -> Chart:
    """The 10 distributors with the most level-1 sales this month (local), most first."""
    month = f"{scope.today.year}-{scope.today.month:02d}"
    board = settlement.leaderboard(session, scope.community_id, [month], limit=TOP)
    return Chart("leaderboard", "hbars", "money", tuple(m.display_name for m, _, _ in board),
                 tuple(float(sales) for _, sales, _ in board))
