"""inbox payload

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 21:45:20.083699
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inboundevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('processed_at', models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_inbound_pending', ['processed_at', 'received_at'], unique=False)
    # everything stored before this revision was processed when it was stored
    op.execute("UPDATE inboundevent SET processed_at = received_at")



def downgrade() -> None:
    with op.batch_alter_table('inboundevent', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_pending')
        batch_op.drop_column('processed_at')
        batch_op.drop_column('payload')

