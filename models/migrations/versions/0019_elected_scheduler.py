"""the elected scheduler (lease, last completed period per job, APScheduler's job store) and
the LINE delivery rules (a retry key and a body hash per outbox row, a stop on the pacing row)

Revision ID: 0019
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = '0019'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'schedulerlease',
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('expires_at', models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'jobrun',
        sa.Column('job_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('scope', sa.Integer(), nullable=False),
        sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('done_at', models.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('job_id', 'scope'),
    )
    op.create_table(
        'apscheduler_jobs',
        sa.Column('id', sa.Unicode(length=191), nullable=False),
        sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
        sa.Column('job_state', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_apscheduler_jobs_next_run_time', 'apscheduler_jobs', ['next_run_time'])
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_key', sqlmodel.sql.sqltypes.AutoString(length=36),
                                      nullable=True))
        batch_op.add_column(sa.Column('body_hash', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=True))
    with op.batch_alter_table('pacingstate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stopped_reason',
                                      sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('pacingstate', schema=None) as batch_op:
        batch_op.drop_column('stopped_reason')
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('body_hash')
        batch_op.drop_column('retry_key')
    op.drop_index('ix_apscheduler_jobs_next_run_time', table_name='apscheduler_jobs')
    op.drop_table('apscheduler_jobs')
    op.drop_table('jobrun')
    op.drop_table('schedulerlease')
