"""Report charts over the tables of distribution and campaigns: the distributor leaderboard is
the month's board of models/settlement.py, as /leaderboard ranks it; campaign conversion is the
latest campaign's report (models/campaign_report.py), as /campaign report counts it."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from models import campaign_report, settlement
from models.reporting import TOP, Chart, Scope
from models.tables import Campaign


def distributor_leaderboard(session: Session, scope: Scope) -> Chart:
    """The 10 distributors with the most level-1 sales this month (local), most first."""
    month = f"{scope.today.year}-{scope.today.month:02d}"
    board = settlement.leaderboard(session, scope.community_id, [month], limit=TOP)
    return Chart("leaderboard", "hbars", "money", tuple(m.display_name for m, _, _ in board),
                 tuple(float(sales) for _, sales, _ in board))


def campaign_conversion(session: Session, scope: Scope) -> Chart:
    """The buying rate of each variant (and the holdout) of the campaign that ran last:
    members who bought within the conversion window ÷ members assigned to the variant."""
    latest = session.execute(
        select(Campaign).where(col(Campaign.community_id) == scope.community_id,
                               col(Campaign.runs) > 0)
        .order_by(col(Campaign.last_run_at).desc(), col(Campaign.id).desc()).limit(1)
    ).scalar_one_or_none()
    if latest is None:
        return Chart("campaign_conversion", "bars", "percent", (), ())
    arms = campaign_report.report(session, latest)
    return Chart("campaign_conversion", "bars", "percent",
                 tuple(f"{latest.name} {arm.variant}" for arm in arms.values()),
                 tuple(arm.converted / arm.assigned if arm.assigned else 0.0
                       for arm in arms.values()),
                 tuple((arm.converted, arm.assigned) for arm in arms.values()))
