"""outbound state in the database: opt-out per channel, WeChat's window and count per
account, LINE reply tokens while fresh; outbox kinds named as notify's

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('channelaccount', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opted_out', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('last_inbound_at', models.types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('pushes_since_inbound', sa.Integer(), nullable=False,
                                      server_default='0'))
    op.create_table(
        'replytoken',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('event_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('received_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('used_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'event_key'),
    )
    op.create_index('ix_replytoken_token', 'replytoken', ['token'])
    op.create_index('ix_replytoken_received_at', 'replytoken', ['received_at'])
    # Opting out was global: it now holds on every channel the member had.
    op.execute("UPDATE channelaccount SET opted_out = true WHERE member_id IN "
               "(SELECT id FROM member WHERE opted_out = true)")
    op.execute("UPDATE outboxmessage SET kind = 'promotion' WHERE kind = 'promo'")
    op.execute("UPDATE outboxmessage SET kind = 'service' WHERE kind = 'notice'")


def downgrade() -> None:
    op.execute("UPDATE outboxmessage SET kind = 'promo' WHERE kind = 'promotion'")
    op.execute("UPDATE outboxmessage SET kind = 'notice' WHERE kind IN ('service', 'reminder')")
    op.drop_index('ix_replytoken_received_at', table_name='replytoken')
    op.drop_index('ix_replytoken_token', table_name='replytoken')
    op.drop_table('replytoken')
    with op.batch_alter_table('channelaccount', schema=None) as batch_op:
        batch_op.drop_column('pushes_since_inbound')
        batch_op.drop_column('last_inbound_at')
        batch_op.drop_column('opted_out')
