"""Standings: violations, sanctions, tier history, and the TERMINATED application state.

Revision ID: 0005_standings
Revises: 0004_scorecards
Create Date: 2026-11-28 13:26:21.121436
"""

from alembic import op
import sqlalchemy as sa


revision = '0005_standings'
down_revision = '0004_scorecards'
branch_labels = None
depends_on = None


OLD_STATES = ("DRAFT", "SUBMITTED", "IN_REVIEW", "MORE_INFORMATION_REQUESTED", "INTERVIEW_SCHEDULED",
              "INTERVIEWED", "PROBATION", "ACTIVE", "REJECTED", "WITHDRAWN")
NEW_STATES = OLD_STATES + ("TERMINATED",)


def _states(states):
    return "status IN (" + ", ".join(f"'{s}'" for s in states) + ")"


def _replace_status_check(states) -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_applications_application_status'), type_='check')
        batch_op.create_check_constraint('application_status', _states(states))


def upgrade() -> None:
    _replace_status_check(NEW_STATES)
    
    op.create_table('sanctions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('kind', sa.Enum('WARNING', 'RESTRICTED_INTAKE', 'DOWNGRADE', 'TERMINATION_PROPOSED', 'TERMINATED', name='sanction_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('status', sa.Enum('ACTIVE', 'LIFTED', 'CONFIRMED', 'REVERSED', name='sanction_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('dedupe_key', sa.String(length=120), nullable=False),
    sa.Column('period', sa.String(length=10), nullable=True),
    sa.Column('cause', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by', sa.String(length=254), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_sanctions_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sanctions')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_sanctions_dedupe_key'))
    )
    with op.batch_alter_table('sanctions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sanctions_provider_id'), ['provider_id'], unique=False)

    op.create_table('violations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('severity', sa.Enum('MINOR', 'MAJOR', 'SEVERE', 'VETO', name='severity', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('evidence_ref', sa.String(length=255), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('overturned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_violations_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_violations'))
    )
    with op.batch_alter_table('violations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_violations_provider_id'), ['provider_id'], unique=False)

    op.create_table('tier_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('from_tier', sa.Enum('REGULAR', 'PREFERRED', 'STRATEGIC_PARTNER', name='from_tier', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('to_tier', sa.Enum('REGULAR', 'PREFERRED', 'STRATEGIC_PARTNER', name='to_tier', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('cause', sa.JSON(), nullable=False),
    sa.Column('decided_by', sa.String(length=254), nullable=False),
    sa.Column('dedupe_key', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reversed_by', sa.String(length=254), nullable=True),
    sa.Column('reversal_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_tier_changes_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_tier_changes_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tier_changes')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_tier_changes_dedupe_key'))
    )
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tier_changes_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tier_changes_provider_id'), ['provider_id'], unique=False)



def downgrade() -> None:
    _replace_status_check(OLD_STATES)
    
    with op.batch_alter_table('tier_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tier_changes_provider_id'))
        batch_op.drop_index(batch_op.f('ix_tier_changes_application_id'))

    op.drop_table('tier_changes')
    with op.batch_alter_table('violations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_violations_provider_id'))

    op.drop_table('violations')
    with op.batch_alter_table('sanctions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sanctions_provider_id'))

    op.drop_table('sanctions')
