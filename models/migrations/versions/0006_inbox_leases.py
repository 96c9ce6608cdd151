"""inbox leases: claimed_until, attempts, the kept answer, answered_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('inboundevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_until', models.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('replies', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('answered_at', models.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.drop_index('ix_inbound_pending')
        batch_op.create_index('ix_inbound_open', ['answered_at', 'claimed_until'], unique=False)
    # what was processed before this revision was answered then (no answer was kept)
    op.execute("UPDATE inboundevent SET answered_at = processed_at WHERE processed_at IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('inboundevent', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_open')
        batch_op.create_index('ix_inbound_pending', ['processed_at', 'received_at'], unique=False)
        batch_op.drop_column('answered_at')
        batch_op.drop_column('replies')
        batch_op.drop_column('attempts')
        batch_op.drop_column('claimed_until')
