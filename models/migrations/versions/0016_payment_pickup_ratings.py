"""payment and pickup: when a buy closed and its goods arrived (where, until when), when a
line was picked up; one rating per member per buy

Revision ID: 0016
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0016'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('groupbuy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', models.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('arrived_at', models.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('pickup_place', sqlmodel.sql.sqltypes.AutoString(length=100),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('pickup_until', models.types.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('picked_up_at', models.types.UTCDateTime(timezone=True),
                                      nullable=True))
    op.create_table(
        'rating',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('group_buy_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('created_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['group_buy_id'], ['groupbuy.id']),
        sa.ForeignKeyConstraint(['member_id'], ['member.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('group_buy_id', 'member_id'),
    )


def downgrade() -> None:
    op.drop_table('rating')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('picked_up_at')
    with op.batch_alter_table('groupbuy', schema=None) as batch_op:
        batch_op.drop_column('pickup_until')
        batch_op.drop_column('pickup_place')
        batch_op.drop_column('arrived_at')
        batch_op.drop_column('closed_at')
