"""Marketplace: stores, service requests, capacities, offers, orders, milestones.

Revision ID: 0012_marketplace
Revises: 0011_live
Create Date: 2026-11-29 03:39:40.361503
"""

from alembic import op
import sqlalchemy as sa


revision = '0012_marketplace'
down_revision = '0011_live'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('provider_capacities',
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('max_open_orders', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_capacities_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'category_key', name=op.f('pk_provider_capacities'))
    )
    op.create_table('service_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seller_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('marketplaces', sa.JSON(), nullable=False),
    sa.Column('regions', sa.JSON(), nullable=False),
    sa.Column('requirements', sa.JSON(), nullable=False),
    sa.Column('budget_amount', sa.BigInteger(), nullable=False),
    sa.Column('budget_currency', sa.String(length=3), nullable=False),
    sa.Column('desired_start', sa.Date(), nullable=False),
    sa.Column('excluded_provider_ids', sa.JSON(), nullable=False),
    sa.Column('direct_provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.Enum('OPEN', 'OFFERED', 'ORDERED', 'UNMATCHED', 'CANCELLED', name='request_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['direct_provider_id'], ['providers.id'], name=op.f('fk_service_requests_direct_provider_id_providers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['seller_account_id'], ['accounts.id'], name=op.f('fk_service_requests_seller_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_requests'))
    )
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_requests_seller_account_id'), ['seller_account_id'], unique=False)
        batch_op.create_index('ix_service_requests_status', ['status'], unique=False)

    op.create_table('stores',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seller_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('marketplace', sa.Enum('AMAZON', 'SHOPEE', 'TIKTOK_SHOP', 'LAZADA', 'TEMU', 'ALIEXPRESS', 'SHEIN', 'EBAY', 'WALMART', 'MERCADO_LIBRE', 'SHOPIFY', name='marketplace', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('site', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['seller_account_id'], ['accounts.id'], name=op.f('fk_stores_seller_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stores')),
    sa.UniqueConstraint('seller_account_id', 'marketplace', 'site', 'name', name=op.f('uq_stores_seller_account_id_marketplace_site_name'))
    )
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stores_seller_account_id'), ['seller_account_id'], unique=False)

    op.create_table('offers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('PENDING', 'ACCEPTED', 'DECLINED', 'EXPIRED', 'WITHDRAWN', name='offer_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('pilot', sa.Boolean(), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('respond_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('explanation', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_offers_provider_id_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_offers_request_id_service_requests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers')),
    sa.UniqueConstraint('request_id', 'provider_id', name=op.f('uq_offers_request_id_provider_id'))
    )
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.create_index('ix_offers_one_pending', ['request_id'], unique=True, postgresql_where=sa.text("status = 'PENDING'"), sqlite_where=sa.text("status = 'PENDING'"))
        batch_op.create_index('ix_offers_provider_id', ['provider_id'], unique=False)
        batch_op.create_index('ix_offers_status_deadline', ['status', 'respond_by'], unique=False)

    op.create_table('service_request_stores',
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('store_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_service_request_stores_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_service_request_stores_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('request_id', 'store_id', name=op.f('pk_service_request_stores'))
    )
    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('request_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('offer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seller_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('status', sa.Enum('IN_PROGRESS', 'DELIVERED', 'DISPUTED', 'COMPLETED', 'CANCELLED', name='order_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('price_amount', sa.BigInteger(), nullable=False),
    sa.Column('price_currency', sa.String(length=3), nullable=False),
    sa.Column('pilot', sa.Boolean(), nullable=False),
    sa.Column('needs_reassignment', sa.Boolean(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('blame', sa.Enum('SELLER', 'PROVIDER', 'PLATFORM', 'NONE', name='blame', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_orders_offer_id_offers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_orders_provider_id_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['request_id'], ['service_requests.id'], name=op.f('fk_orders_request_id_service_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['seller_account_id'], ['accounts.id'], name=op.f('fk_orders_seller_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('offer_id', name=op.f('uq_orders_offer_id')),
    sa.UniqueConstraint('request_id', name=op.f('uq_orders_request_id'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_provider_status', ['provider_id', 'category_key', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_seller_account_id'), ['seller_account_id'], unique=False)

    op.create_table('order_milestones',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivery_note', sa.Text(), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_milestones_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_milestones'))
    )
    with op.batch_alter_table('order_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_milestones_order_id'), ['order_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('order_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_milestones_order_id'))

    op.drop_table('order_milestones')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_orders_seller_account_id'))
        batch_op.drop_index('ix_orders_provider_status')

    op.drop_table('orders')
    op.drop_table('service_request_stores')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_index('ix_offers_status_deadline')
        batch_op.drop_index('ix_offers_provider_id')
        batch_op.drop_index('ix_offers_one_pending', postgresql_where=sa.text("status = 'PENDING'"), sqlite_where=sa.text("status = 'PENDING'"))

    op.drop_table('offers')
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stores_seller_account_id'))

    op.drop_table('stores')
    with op.batch_alter_table('service_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_service_requests_status')
        batch_op.drop_index(batch_op.f('ix_service_requests_seller_account_id'))

    op.drop_table('service_requests')
    op.drop_table('provider_capacities')
