"""points debt and referral time; no account or referral left on a merged-away member

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-25 10:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0008'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('points_debt', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('referred_at', models.types.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('pointsentry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('debt_delta', sa.Integer(), nullable=False,
                                      server_default='0'))
    # Attribution happens only when a member joins: the join time is the attribution time.
    op.execute("UPDATE member SET referred_at = joined_at WHERE referred_by_id IS NOT NULL")
    _heal_tombstones(op.get_bind())
    _negative_balances_become_debt(op.get_bind())


def _heal_tombstones(connection: sa.Connection) -> None:
    """Point every merged-away member, its accounts, link codes and referees at the member
    that finally holds it (earlier releases could leave them on a tombstone)."""
    merged = dict(connection.execute(sa.text(
        "SELECT id, merged_into_id FROM member WHERE merged_into_id IS NOT NULL")).all())
    for gone in merged:
        final, seen = merged[gone], {gone}
        while final in merged and final not in seen:
            seen.add(final)
            final = merged[final]
        params = {"gone": gone, "final": final}
        connection.execute(sa.text("UPDATE member SET merged_into_id = :final WHERE id = :gone"),
                           params)
        for table in ("channelaccount", "linkcode"):
            connection.execute(sa.text(
                f"UPDATE {table} SET member_id = :final WHERE member_id = :gone"), params)
        connection.execute(sa.text(
            "UPDATE member SET referred_by_id = :final WHERE referred_by_id = :gone"), params)
    connection.execute(sa.text("UPDATE member SET referred_by_id = NULL WHERE referred_by_id = id"))


_ENTRY = sa.table('pointsentry', sa.column('member_id', sa.Integer()), sa.column('delta', sa.Integer()),
                  sa.column('debt_delta', sa.Integer()), sa.column('kind', sa.String()),
                  sa.column('reason', sa.String()), sa.column('idem_key', sa.String()),
                  sa.column('created_at', models.types.UTCDateTime(timezone=True)))


def _negative_balances_become_debt(connection: sa.Connection) -> None:
    """A balance below zero (refunds used to allow it) becomes zero plus a points debt, with
    one ledger entry, so the cached balance and the debt stay the sums of the ledger."""
    rows = connection.execute(sa.text(
        "SELECT id, points_balance FROM member WHERE points_balance < 0")).all()
    for member_id, balance in rows:
        connection.execute(_ENTRY.insert().values(
            member_id=member_id, delta=-balance, debt_delta=-balance, kind='debt', reason='',
            idem_key=f'debt:0008:{member_id}', created_at=datetime.now(UTC)))
        connection.execute(sa.text(
            "UPDATE member SET points_balance = 0, points_debt = points_debt - :balance "
            "WHERE id = :id"), {"id": member_id, "balance": balance})


def downgrade() -> None:
    with op.batch_alter_table('pointsentry', schema=None) as batch_op:
        batch_op.drop_column('debt_delta')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('referred_at')
        batch_op.drop_column('points_debt')
