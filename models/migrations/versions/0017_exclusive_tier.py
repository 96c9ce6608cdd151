"""tier-only group buys (專屬團購): the tier a buy is open to, for its whole life

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('groupbuy', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exclusive_tier', sqlmodel.sql.sqltypes.AutoString(length=16),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('groupbuy', schema=None) as batch_op:
        batch_op.drop_column('exclusive_tier')
