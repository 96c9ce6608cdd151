"""outbox member and kind

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 22:15:32.303746
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='reply'))
        batch_op.create_index(batch_op.f('ix_outboxmessage_member_id'), ['member_id'], unique=False)
        batch_op.create_foreign_key('fk_outbox_member', 'member', ['member_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_constraint('fk_outbox_member', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outboxmessage_member_id'))
        batch_op.drop_column('kind')
        batch_op.drop_column('member_id')

