"""Marketplace loop: each provider's current composite (dispatch reads one row), sellers'
tickets to providers, stores' monthly GMV snapshots.

Revision ID: 0016_market_loop
Revises: 0015_money_flows
Create Date: 2026-11-29 06:50:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0016_market_loop'
down_revision = '0015_money_flows'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('current_composites',
    sa.Column('provider_id', ID, nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('scorecard_id', ID, nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('composite', sa.BigInteger(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_current_composites_provider_id_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['scorecard_id'], ['scorecards.id'], name=op.f('fk_current_composites_scorecard_id_scorecards'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'category_key', name=op.f('pk_current_composites'))
    )
    # Existing scorecards: each provider's latest period's latest revision, per category.
    op.execute(
        "INSERT INTO current_composites "
        "(provider_id, category_key, scorecard_id, period, revision, composite, updated_at) "
        "SELECT provider_id, category_key, id, period, revision, composite, computed_at FROM ("
        " SELECT s.*, row_number() OVER (PARTITION BY provider_id, category_key"
        " ORDER BY period DESC, revision DESC) AS rank FROM scorecards s) latest "
        "WHERE rank = 1"
    )
    op.create_table('seller_tickets',
    sa.Column('id', ID, nullable=False),
    sa.Column('seller_account_id', ID, nullable=False),
    sa.Column('provider_id', ID, nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('order_id', ID, nullable=True),
    sa.Column('store_id', ID, nullable=True),
    sa.Column('kind', sa.Enum('GENERAL', 'NEGATIVE_REVIEW', 'COMPLAINT', name='ticket_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'ANSWERED', 'CLOSED', name='ticket_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_response_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_provider', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['seller_account_id'], ['accounts.id'], name=op.f('fk_seller_tickets_seller_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_seller_tickets_provider_id_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_seller_tickets_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_seller_tickets_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seller_tickets'))
    )
    op.create_index('ix_seller_tickets_provider_status', 'seller_tickets', ['provider_id', 'status'], unique=False)
    op.create_index(op.f('ix_seller_tickets_seller_account_id'), 'seller_tickets', ['seller_account_id'], unique=False)
    op.create_index(op.f('ix_seller_tickets_order_id'), 'seller_tickets', ['order_id'], unique=False)
    op.create_table('store_gmv_snapshots',
    sa.Column('id', ID, nullable=False),
    sa.Column('store_id', ID, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('source', sa.Enum('SELLER', 'INTEGRATION', name='snapshot_source', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('reported_by', sa.String(length=120), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_store_gmv_snapshots_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_gmv_snapshots')),
    sa.UniqueConstraint('store_id', 'month', name=op.f('uq_store_gmv_snapshots_store_id_month'))
    )


def downgrade() -> None:
    op.drop_table('store_gmv_snapshots')
    op.drop_index(op.f('ix_seller_tickets_order_id'), table_name='seller_tickets')
    op.drop_index(op.f('ix_seller_tickets_seller_account_id'), table_name='seller_tickets')
    op.drop_index('ix_seller_tickets_provider_status', table_name='seller_tickets')
    op.drop_table('seller_tickets')
    op.drop_table('current_composites')
