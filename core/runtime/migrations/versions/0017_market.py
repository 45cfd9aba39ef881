"""Dispatch walks a stored order: dispatch_ranks (KPI + tier part per provider and category,
newcomer flag) and their stamps; indexes to see when applications and composites last changed.
The stores' monthly sales snapshots get a name that is no category's metric (the old table is
copied into `store_sales_snapshots` and dropped; a category plugin maps them to its metric).

Revision ID: 0017_market
Revises: 0016_market_loop
Create Date: 2026-11-29 10:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0017_market'
down_revision = '0016_market_loop'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
# 0016's name for the snapshots (a migration has to name what it renames)
OLD_SNAPSHOTS = 'store_gmv_snapshots'
COLUMNS = 'id, store_id, month, amount, currency, source, reported_by, reported_at'


def _move_snapshots(source: str, target: str) -> None:
    op.execute(f"INSERT INTO {target} ({COLUMNS}) SELECT {COLUMNS} FROM {source}")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{target}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {target}), 0) + 1, false)"
        )


def _snapshots_table(name: str) -> None:
    op.create_table(name,
    sa.Column('id', ID, nullable=False),
    sa.Column('store_id', ID, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('source', sa.Enum('SELLER', 'INTEGRATION', name='snapshot_source', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('reported_by', sa.String(length=120), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f(f'fk_{name}_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{name}')),
    sa.UniqueConstraint('store_id', 'month', name=op.f(f'uq_{name}_store_id_month'))
    )


def upgrade() -> None:
    op.create_table('dispatch_ranks',
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('provider_id', ID, nullable=False),
    sa.Column('base', sa.BigInteger(), nullable=False),
    sa.Column('newcomer', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_dispatch_ranks_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('category_key', 'provider_id', name=op.f('pk_dispatch_ranks'))
    )
    op.create_index('ix_dispatch_ranks_walk', 'dispatch_ranks', ['category_key', 'base', 'provider_id'], unique=False)
    op.create_index('ix_dispatch_ranks_newcomers', 'dispatch_ranks', ['category_key', 'base', 'provider_id'], unique=False, postgresql_where=sa.text('newcomer'), sqlite_where=sa.text('newcomer'))
    op.create_index('ix_dispatch_ranks_position', 'dispatch_ranks', ['category_key', 'position'], unique=False)
    op.create_table('dispatch_rank_stamps',
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('inputs', sa.String(length=255), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('category_key', name=op.f('pk_dispatch_rank_stamps'))
    )
    op.create_index('ix_applications_category_changed', 'applications', ['category_key', 'updated_at'], unique=False)
    op.create_index('ix_current_composites_changed', 'current_composites', ['category_key', 'updated_at'], unique=False)
    _snapshots_table('store_sales_snapshots')
    _move_snapshots(OLD_SNAPSHOTS, 'store_sales_snapshots')
    op.drop_table(OLD_SNAPSHOTS)


def downgrade() -> None:
    _snapshots_table(OLD_SNAPSHOTS)
    _move_snapshots('store_sales_snapshots', OLD_SNAPSHOTS)
    op.drop_table('store_sales_snapshots')
    op.drop_index('ix_current_composites_changed', table_name='current_composites')
    op.drop_index('ix_applications_category_changed', table_name='applications')
    op.drop_table('dispatch_rank_stamps')
    op.drop_index('ix_dispatch_ranks_position', table_name='dispatch_ranks')
    op.drop_index('ix_dispatch_ranks_newcomers', table_name='dispatch_ranks')
    op.drop_index('ix_dispatch_ranks_walk', table_name='dispatch_ranks')
    op.drop_table('dispatch_ranks')
