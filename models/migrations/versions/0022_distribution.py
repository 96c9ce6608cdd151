"""distribution: distributors, the append-only commission ledger (replacing the commission
events, which held only a base amount and were never settled), each distributor's months, the
confirmation watermark and the monthly statements

Revision ID: 0022
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0022'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('commissionclock',
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('confirmed_through', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ),
    sa.PrimaryKeyConstraint('community_id')
    )
    op.create_table('distributor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('applied_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ),
    sa.ForeignKeyConstraint(['decided_by_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('member_id')
    )
    with op.batch_alter_table('distributor', schema=None) as batch_op:
        batch_op.create_index('ix_distributor_status', ['community_id', 'status'], unique=False)

    op.create_table('commissionmonth',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('sales', sa.Integer(), nullable=False),
    sa.Column('earned', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('reversed', sa.Integer(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.Column('pending_change', sa.Integer(), nullable=False),
    sa.Column('confirmed_change', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('beneficiary_id', 'month')
    )
    with op.batch_alter_table('commissionmonth', schema=None) as batch_op:
        batch_op.create_index('ix_commissionmonth_month', ['community_id', 'month'], unique=False)

    op.create_table('statement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('sales', sa.Integer(), nullable=False),
    sa.Column('earned', sa.Integer(), nullable=False),
    sa.Column('confirmed', sa.Integer(), nullable=False),
    sa.Column('reversed', sa.Integer(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('beneficiary_id', 'month')
    )
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.create_index('ix_statement_month', ['community_id', 'month'], unique=False)

    op.create_table('commissionentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('base', sa.Integer(), nullable=False),
    sa.Column('pct', sa.Integer(), nullable=False),
    sa.Column('pending_delta', sa.Integer(), nullable=False),
    sa.Column('confirmed_delta', sa.Integer(), nullable=False),
    sa.Column('paid_delta', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('booked', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('confirm_after', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('idem_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('actor_member_id', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_member_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idem_key')
    )
    with op.batch_alter_table('commissionentry', schema=None) as batch_op:
        batch_op.create_index('ix_commissionentry_due', ['community_id', 'confirm_after', 'kind',
                                                          'beneficiary_id', 'pending_delta'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_commissionentry_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_commissionentry_sales', ['beneficiary_id', 'month'], unique=False)
        batch_op.create_index('ix_commissionentry_time', ['community_id', 'created_at'], unique=False)

    with op.batch_alter_table('commissionevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commissionevent_beneficiary_id'))
        batch_op.drop_index(batch_op.f('ix_commissionevent_order_id'))

    op.drop_table('commissionevent')


def downgrade() -> None:
    op.create_table('commissionevent',
    sa.Column('id', sa.INTEGER(), nullable=False),
    sa.Column('order_id', sa.INTEGER(), nullable=False),
    sa.Column('beneficiary_id', sa.INTEGER(), nullable=False),
    sa.Column('level', sa.INTEGER(), nullable=False),
    sa.Column('base_amount', sa.INTEGER(), nullable=False),
    sa.Column('idem_key', sa.VARCHAR(length=128), nullable=False),
    sa.Column('created_at', sa.DATETIME(), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idem_key')
    )
    with op.batch_alter_table('commissionevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commissionevent_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commissionevent_beneficiary_id'), ['beneficiary_id'], unique=False)

    with op.batch_alter_table('commissionentry', schema=None) as batch_op:
        batch_op.drop_index('ix_commissionentry_time')
        batch_op.drop_index('ix_commissionentry_sales')
        batch_op.drop_index(batch_op.f('ix_commissionentry_order_id'))
        batch_op.drop_index('ix_commissionentry_due')

    op.drop_table('commissionentry')
    with op.batch_alter_table('statement', schema=None) as batch_op:
        batch_op.drop_index('ix_statement_month')

    op.drop_table('statement')
    with op.batch_alter_table('commissionmonth', schema=None) as batch_op:
        batch_op.drop_index('ix_commissionmonth_month')

    op.drop_table('commissionmonth')
    with op.batch_alter_table('distributor', schema=None) as batch_op:
        batch_op.drop_index('ix_distributor_status')

    op.drop_table('distributor')
    op.drop_table('commissionclock')
