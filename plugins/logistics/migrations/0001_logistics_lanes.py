"""Logistics plugin: the logistics_lanes table.

Revision ID: 0001_logistics
Revises: 
Depends on: 0001_core
Create Date: 2026-11-29 10:00:00.000000

The plugin's own branch (label "logistics"): it depends on the core's base revision for the
providers table, and the core's revisions never mention it.
"""

from alembic import op
import sqlalchemy as sa


revision = '0001_logistics'
down_revision = None
branch_labels = ('logistics',)
depends_on = '0001_core'


def upgrade() -> None:
    op.create_table('logistics_lanes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('origin_country', sa.String(length=2), nullable=False),
    sa.Column('destination_country', sa.String(length=2), nullable=False),
    sa.Column('mode', sa.Enum('AIR_EXPRESS', 'AIR_FREIGHT', 'SEA_FREIGHT', 'RAIL', 'TRUCK', name='logistics_mode', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('typical_transit_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('typical_transit_days > 0', name=op.f('ck_logistics_lanes_typical_transit_days_positive')),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_logistics_lanes_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_logistics_lanes')),
    sa.UniqueConstraint('provider_id', 'origin_country', 'destination_country', 'mode', name=op.f('uq_logistics_lanes_provider_id_origin_country_destination_country_mode'))
    )
    with op.batch_alter_table('logistics_lanes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_logistics_lanes_provider_id'), ['provider_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('logistics_lanes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_logistics_lanes_provider_id'))

    op.drop_table('logistics_lanes')
