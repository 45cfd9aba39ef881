"""Binding decisions: provider bars after a veto, four-eyes approval requests, the state a
termination ended, who decided a tier change.

Revision ID: 0009_binding
Revises: 0008_verdicts
Create Date: 2026-11-29 03:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_binding'
down_revision = '0008_verdicts'
branch_labels = None
depends_on = None

STATES = ("DRAFT", "SUBMITTED", "IN_REVIEW", "MORE_INFORMATION_REQUESTED", "INTERVIEW_SCHEDULED",
          "INTERVIEWED", "PROBATION", "ACTIVE", "REJECTED", "WITHDRAWN", "TERMINATED")
ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('provider_bars',
    sa.Column('id', ID, nullable=False),
    sa.Column('provider_id', ID, nullable=False),
    sa.Column('registration_key', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('violation_id', ID, nullable=True),
    sa.Column('created_by', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by', sa.String(length=254), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_bars_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_bars'))
    )
    with op.batch_alter_table('provider_bars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_bars_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_bars_registration_key'), ['registration_key'], unique=False)
    op.create_table('approval_requests',
    sa.Column('id', ID, nullable=False),
    sa.Column('provider_id', ID, nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('subject_id', ID, nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('pending_key', sa.String(length=80), nullable=True),
    sa.Column('requested_by', sa.String(length=254), nullable=False),
    sa.Column('requested_by_account_id', ID, nullable=True),
    sa.Column('decided_by', sa.String(length=254), nullable=True),
    sa.Column('decided_by_account_id', ID, nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_approval_requests_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approval_requests')),
    sa.UniqueConstraint('pending_key', name=op.f('uq_approval_requests_pending_key'))
    )
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_requests_provider_id'), ['provider_id'], unique=False)
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terminated_from', sa.Enum(*STATES, name='terminated_from', native_enum=False, create_constraint=True, length=40), nullable=True))
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_by_account_id', ID, nullable=True))
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_ids', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_column('document_ids')
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.drop_column('decided_by_account_id')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('terminated_from')
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_requests_provider_id'))
    op.drop_table('approval_requests')
    with op.batch_alter_table('provider_bars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_bars_registration_key'))
        batch_op.drop_index(batch_op.f('ix_provider_bars_provider_id'))
    op.drop_table('provider_bars')
