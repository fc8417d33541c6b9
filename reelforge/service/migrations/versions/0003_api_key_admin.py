"""admin flag on api keys (server details: health internals, metrics)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_api_key_admin"
down_revision = "0002_api_keys"


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("admin", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("admin")
