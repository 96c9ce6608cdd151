"""the referral reward: one row per referee (held, paid, reversed, void), rounds after a refund;
rewards already paid are carried over from the points ledger; the distributor champions

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'referralreward',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('referee_id', sa.Integer(), nullable=False),
        sa.Column('referrer_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('round', sa.Integer(), nullable=False),
        sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.ForeignKeyConstraint(['decided_by_id'], ['member.id']),
        sa.ForeignKeyConstraint(['order_id'], ['order.id']),
        sa.ForeignKeyConstraint(['referee_id'], ['member.id']),
        sa.ForeignKeyConstraint(['referrer_id'], ['member.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('referee_id'),
    )
    op.create_index('ix_referralreward_referrer_id', 'referralreward', ['referrer_id'])
    op.create_index('ix_referralreward_status', 'referralreward', ['community_id', 'status'])
    _carry_over_paid_rewards()
    op.create_table(
        'champion',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('sales', sa.Integer(), nullable=False),
        sa.Column('first_sale_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reward_kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column('reward_value', sa.Integer(), nullable=False),
        sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('community_id', 'period'),
    )


def _carry_over_paid_rewards() -> None:
    """A reward paid before this table existed is its referrer-side ledger entry."""
    bind = op.get_bind()
    paid = bind.execute(sa.text(
        "SELECT p.idem_key, p.member_id, m.community_id, p.created_at FROM pointsentry p "
        "JOIN member m ON m.id = p.member_id WHERE p.idem_key LIKE :paid"),
        {"paid": "referral:%:referrer"}).all()
    reversed_keys = {row[0] for row in bind.execute(sa.text(
        "SELECT idem_key FROM pointsentry WHERE idem_key LIKE :rev"), {"rev": "referral:%:referrer:rev"})}
    for key, referrer_id, community_id, at in paid:
        referee = key.split(":")[1]
        if not referee.isdigit():
            continue
        status = "reversed" if f"{key}:rev" in reversed_keys else "paid"
        bind.execute(sa.text(
            "INSERT INTO referralreward (community_id, referee_id, referrer_id, status, round, "
            "created_at) VALUES (:c, :e, :r, :s, 1, :at)"),
            {"c": community_id, "e": int(referee), "r": referrer_id, "s": status, "at": at})


def downgrade() -> None:
    op.drop_table('champion')
    op.drop_index('ix_referralreward_status', table_name='referralreward')
    op.drop_index('ix_referralreward_referrer_id', table_name='referralreward')
    op.drop_table('referralreward')
