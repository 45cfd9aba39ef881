"""KPI scorecards (immutable revisions) and the index corrections are found by.

Revision ID: 0004_scorecards
Revises: 0003_onboarding
Create Date: 2026-11-28 13:16:47.829605
"""

from alembic import op
import sqlalchemy as sa


revision = '0004_scorecards'
down_revision = '0003_onboarding'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('scorecards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('period_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('composite', sa.BigInteger(), nullable=True),
    sa.Column('history_score', sa.BigInteger(), nullable=True),
    sa.Column('standing', sa.String(length=40), nullable=False),
    sa.Column('results', sa.JSON(), nullable=False),
    sa.Column('definitions', sa.JSON(), nullable=False),
    sa.Column('inputs_digest', sa.String(length=64), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_scorecards_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecards')),
    sa.UniqueConstraint('provider_id', 'category_key', 'period', 'revision', name=op.f('uq_scorecards_provider_id_category_key_period_revision'))
    )
    op.create_index(
        'ix_kpi_observations_supersedes_id', 'kpi_observations', ['supersedes_id'], unique=False,
        postgresql_where=sa.text('supersedes_id IS NOT NULL'), sqlite_where=sa.text('supersedes_id IS NOT NULL'),
    )
    with op.batch_alter_table('kpi_observations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correction_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.create_index('ix_scorecards_category_period', ['category_key', 'period'], unique=False)
        batch_op.create_index(batch_op.f('ix_scorecards_provider_id'), ['provider_id'], unique=False)



def downgrade() -> None:
    
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecards_provider_id'))
        batch_op.drop_index('ix_scorecards_category_period')

    op.drop_table('scorecards')
    with op.batch_alter_table('kpi_observations', schema=None) as batch_op:
        batch_op.drop_column('correction_reason')
    op.drop_index('ix_kpi_observations_supersedes_id', table_name='kpi_observations')
