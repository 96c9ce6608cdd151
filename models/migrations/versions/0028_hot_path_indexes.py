"""hot-path indexes: the inbox's open-events index holds only the events not yet answered (a
partial index: each message's transaction writes one index page fewer, and the index stays a
few pages); the send log by channel and time (a reservation reads a channel's newest sends
from the index alone)

Revision ID: 0028
Revises: 0027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text('answered_at IS NULL')


def upgrade() -> None:
    op.drop_index('ix_inbound_open', table_name='inboundevent')
    op.create_index('ix_inbound_open', 'inboundevent', ['claimed_until', 'received_at'],
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index('ix_sendlog_channel_sent', 'sendlog', ['channel', 'sent_at'])


def downgrade() -> None:
    op.drop_index('ix_sendlog_channel_sent', table_name='sendlog')
    op.drop_index('ix_inbound_open', table_name='inboundevent')
    op.create_index('ix_inbound_open', 'inboundevent', ['answered_at', 'claimed_until'])
