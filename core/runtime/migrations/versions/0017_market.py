"""Dispatch walks a stored order: dispatch_ranks (KPI + tier part per provider and category,
newcomer flag) and their stamps; indexes to see when applications and composites last changed.

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


def upgrade() -> None:
    op.create_table('dispatch_ranks',
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('provider_id', ID, nullable=False),
    sa.Column('base', sa.BigInteger(), nullable=False),
    sa.Column('newcomer', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_dispatch_ranks_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('category_key', 'provider_id', name=op.f('pk_dispatch_ranks'))
    )
    op.create_index('ix_dispatch_ranks_walk', 'dispatch_ranks', ['category_key', 'base', 'provider_id'], unique=False)
    op.create_index('ix_dispatch_ranks_newcomers', 'dispatch_ranks', ['category_key', 'base', 'provider_id'], unique=False, postgresql_where=sa.text('newcomer'), sqlite_where=sa.text('newcomer'))
    op.create_table('dispatch_rank_stamps',
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('inputs', sa.String(length=255), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('category_key', name=op.f('pk_dispatch_rank_stamps'))
    )
    op.create_index('ix_applications_category_changed', 'applications', ['category_key', 'updated_at'], unique=False)
    op.create_index('ix_current_composites_changed', 'current_composites', ['category_key', 'updated_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_current_composites_changed', table_name='current_composites')
    op.drop_index('ix_applications_category_changed', table_name='applications')
    op.drop_table('dispatch_rank_stamps')
    op.drop_index('ix_dispatch_ranks_newcomers', table_name='dispatch_ranks')
    op.drop_index('ix_dispatch_ranks_walk', table_name='dispatch_ranks')
    op.drop_table('dispatch_ranks')
