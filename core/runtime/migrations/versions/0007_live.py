"""Live: on PostgreSQL every domain event announces itself (LISTEN/NOTIFY) at commit.

A row trigger calls pg_notify('linkstar_events', '<id>') for every inserted domain event, so
events written by any process (another app worker, `linkstar evaluate` on the command line,
a future domain's code) reach every listening worker, and only once the writing transaction
commits. SQLite has no such channel: its workers poll `domain_events` instead.

Revision ID: 0007_live
Revises: 0006_alerts_appeals
"""

from alembic import op


revision = '0007_live'
down_revision = '0006_alerts_appeals'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        """
        CREATE FUNCTION linkstar_notify_domain_event() RETURNS trigger AS $$
        BEGIN
            PERFORM pg_notify('linkstar_events', NEW.id::text);
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE TRIGGER domain_events_notify AFTER INSERT ON domain_events
        FOR EACH ROW EXECUTE FUNCTION linkstar_notify_domain_event()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS domain_events_notify ON domain_events')
        op.execute('DROP FUNCTION IF EXISTS linkstar_notify_domain_event()')

