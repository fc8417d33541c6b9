"""summary of a job's result (rank, score, reasons of clips...), shown beside its downloads"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_job_summary"
down_revision = "0003_api_key_admin"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("summary", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("summary")
