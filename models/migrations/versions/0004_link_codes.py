"""link codes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 21:46:57.985849
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('linkcode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_member_merged_into', 'member', ['merged_into_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_constraint('fk_member_merged_into', type_='foreignkey')
        batch_op.drop_column('merged_into_id')

    op.drop_table('linkcode')
