"""campaigns and their recipients (variant, send, outbox key) for the conversion report;
what a member bought, and spent, readable from one index each

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        'campaign',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('community_id', sa.Integer(), nullable=False),
        sa.Column('name', _text(32), nullable=False),
        sa.Column('segment', _text(64), nullable=False),
        sa.Column('message_a', _text(1000), nullable=False),
        sa.Column('message_b', _text(1000), nullable=True),
        sa.Column('holdout_pct', sa.Integer(), nullable=False),
        sa.Column('multiplier_pct', sa.Integer(), nullable=False),
        sa.Column('schedule', _text(24), nullable=False),
        sa.Column('next_run_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('status', _text(16), nullable=False),
        sa.Column('runs', sa.Integer(), nullable=False),
        sa.Column('last_run_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('ended_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['community.id']),
        sa.ForeignKeyConstraint(['created_by'], ['member.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('community_id', 'name'),
    )
    op.create_index('ix_campaign_due', 'campaign', ['status', 'next_run_at'], unique=False)
    op.create_table(
        'campaignrecipient',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('run', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('variant', _text(1), nullable=False),
        sa.Column('sent_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('window_until', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('outbox_key', _text(128), nullable=True),
        sa.Column('skipped', _text(16), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id']),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('campaign_id', 'run', 'member_id'),
    )
    op.create_index('ix_campaignrecipient_member', 'campaignrecipient', ['member_id', 'sent_at'],
                    unique=False)
    op.create_index('ix_order_member_history', 'order',
                    ['member_id', 'status', 'group_buy_id', 'replenish_on'], unique=False)
    op.create_index('ix_spendentry_member_time', 'spendentry',
                    ['member_id', 'occurred_at', 'amount'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_spendentry_member_time', table_name='spendentry')
    op.drop_index('ix_order_member_history', table_name='order')
    op.drop_index('ix_campaignrecipient_member', table_name='campaignrecipient')
    op.drop_table('campaignrecipient')
    op.drop_index('ix_campaign_due', table_name='campaign')
    op.drop_table('campaign')
