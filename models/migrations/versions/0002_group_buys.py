"""group buys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 21:39:47.029860
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sender', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('flow', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'chat_id', 'sender')
    )
    op.create_table('groupbuy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('allocated', sa.Integer(), nullable=False),
    sa.Column('per_member_limit', sa.Integer(), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('cycle_days', sa.Integer(), nullable=True),
    sa.Column('early_tier', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('opens_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('roster_rev', sa.Integer(), nullable=False),
    sa.Column('roster_published_rev', sa.Integer(), nullable=False),
    sa.Column('roster_message_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('roster_published_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('community_id', 'number')
    )
    with op.batch_alter_table('groupbuy', schema=None) as batch_op:
        batch_op.create_index('ix_groupbuy_chat', ['channel', 'chat_id', 'status'], unique=False)

    op.create_table('order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_buy_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source_key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('list_price', sa.Integer(), nullable=False),
    sa.Column('tier_discount', sa.Integer(), nullable=False),
    sa.Column('coupon_id', sa.Integer(), nullable=True),
    sa.Column('coupon_discount', sa.Integer(), nullable=False),
    sa.Column('points_used', sa.Integer(), nullable=False),
    sa.Column('points_value', sa.Integer(), nullable=False),
    sa.Column('net', sa.Integer(), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('paid_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replenish_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['coupon_id'], ['coupon.id'], ),
    sa.ForeignKeyConstraint(['group_buy_id'], ['groupbuy.id'], ),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source_key')
    )
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.create_index('ix_order_buy_status', ['group_buy_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_member_id'), ['member_id'], unique=False)

    op.create_table('commissionevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('base_amount', sa.Integer(), nullable=False),
    sa.Column('idem_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['member.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idem_key')
    )
    with op.batch_alter_table('commissionevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commissionevent_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commissionevent_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('commissionevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commissionevent_order_id'))
        batch_op.drop_index(batch_op.f('ix_commissionevent_beneficiary_id'))

    op.drop_table('commissionevent')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_member_id'))
        batch_op.drop_index('ix_order_buy_status')

    op.drop_table('order')
    with op.batch_alter_table('groupbuy', schema=None) as batch_op:
        batch_op.drop_index('ix_groupbuy_chat')

    op.drop_table('groupbuy')
    op.drop_table('conversation')
