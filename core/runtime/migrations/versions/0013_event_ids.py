"""Domain event ids are never reused on SQLite (AUTOINCREMENT): they are subscription cursors.

Revision ID: 0013_event_ids
Revises: 0012_marketplace
Create Date: 2026-11-29 05:15:00.000000
"""

from alembic import op

revision = '0013_event_ids'
down_revision = '0012_marketplace'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PostgreSQL's sequences never hand an id out twice already.
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "domain_events", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("domain_events", recreate="always"):
        pass
