"""pacing state: one row per channel, locked around send reservations, with the 429 pause

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'pacingstate',
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('paused_until', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('channel'),
    )


def downgrade() -> None:
    op.drop_table('pacingstate')
