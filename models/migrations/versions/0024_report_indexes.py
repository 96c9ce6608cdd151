"""indexes for /report: orders and points entries by time, covering what the report reads

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_order_created', 'order',
                    ['created_at', 'status', 'group_buy_id', 'member_id', 'net'])
    op.create_index('ix_pointsentry_created', 'pointsentry',
                    ['created_at', 'member_id', 'kind', 'delta'])


def downgrade() -> None:
    op.drop_index('ix_pointsentry_created', table_name='pointsentry')
    op.drop_index('ix_order_created', table_name='order')
