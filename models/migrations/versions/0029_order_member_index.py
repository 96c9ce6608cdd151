"""the order lines' index on member_id alone is dropped: ix_order_member_history starts with
member_id and answers every query it did; each order line inserted ('+1') writes one index
page fewer

Revision ID: 0029
Revises: 0028
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_order_member_id', table_name='order')


def downgrade() -> None:
    op.create_index('ix_order_member_id', 'order', ['member_id'], unique=False)
