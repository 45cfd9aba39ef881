"""Live: webhook endpoints and their delivery outbox; on PostgreSQL every domain event
announces itself (LISTEN/NOTIFY) at commit.

A row trigger calls pg_notify('linkstar_events', '<id>') for every inserted domain event, so
events written by any process (another app worker, `linkstar evaluate` on the command line,
a future domain's code) reach every listening worker, and only once the writing transaction
commits. SQLite has no such channel: its workers poll `domain_events` instead.

Revision ID: 0011_live
Revises: 0010_firsthour
"""

from alembic import op
import sqlalchemy as sa


revision = '0011_live'
down_revision = '0010_firsthour'
branch_labels = None
depends_on = None


ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('webhook_endpoints',
    sa.Column('id', ID, nullable=False),
    sa.Column('provider_id', ID, nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('event_types', sa.JSON(), nullable=False),
    sa.Column('secret', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_account_id', ID, nullable=True),
    sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_webhook_endpoints_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_endpoints'))
    )
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_endpoints_provider_id'), ['provider_id'], unique=False)

    op.create_table('webhook_deliveries',
    sa.Column('id', ID, nullable=False),
    sa.Column('endpoint_id', ID, nullable=False),
    sa.Column('event_id', ID, nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'DELIVERED', 'DEAD', name='webhook_delivery_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'], name=op.f('fk_webhook_deliveries_endpoint_id_webhook_endpoints'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['event_id'], ['domain_events.id'], name=op.f('fk_webhook_deliveries_event_id_domain_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('endpoint_id', 'event_id', name=op.f('uq_webhook_deliveries_endpoint_id_event_id'))
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_endpoint_id'), ['endpoint_id'], unique=False)

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
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_endpoints')
