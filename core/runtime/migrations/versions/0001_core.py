"""Core tables: providers, applications, profiles, documents, metric versions, observations, events.

Revision ID: 0001_core
Revises: 
Create Date: 2026-11-28 12:26:56.506677
"""

from alembic import op
import sqlalchemy as sa


revision = '0001_core'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('metric_definition_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('metric_key', sa.String(length=63), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metric_definition_versions')),
    sa.UniqueConstraint('category_key', 'metric_key', 'fingerprint', name=op.f('uq_metric_definition_versions_category_key_metric_key_fingerprint'))
    )
    op.create_table('providers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('legal_name', sa.String(length=200), nullable=False),
    sa.Column('region', sa.Enum('MAINLAND_CHINA', 'HK_MACAU_TAIWAN', 'OVERSEAS', name='region', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('registration_number', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_providers')),
    sa.UniqueConstraint('registration_number', name=op.f('uq_providers_registration_number'))
    )
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_providers_region'), ['region'], unique=False)

    op.create_table('applications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'SUBMITTED', 'IN_REVIEW', 'MORE_INFORMATION_REQUESTED', 'INTERVIEW_SCHEDULED', 'INTERVIEWED', 'PROBATION', 'ACTIVE', 'REJECTED', 'WITHDRAWN', name='application_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('tier', sa.Enum('REGULAR', 'PREFERRED', 'STRATEGIC_PARTNER', name='tier', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_applications_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications'))
    )
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.create_index('ix_applications_category_status', ['category_key', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_applications_provider_id'), ['provider_id'], unique=False)

    op.create_table('category_profiles',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_category_profiles_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_profiles')),
    sa.UniqueConstraint('provider_id', 'category_key', name=op.f('uq_category_profiles_provider_id_category_key'))
    )
    with op.batch_alter_table('category_profiles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_profiles_provider_id'), ['provider_id'], unique=False)

    op.create_table('domain_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('event_type', sa.String(length=80), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_domain_events_provider_id_providers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_events'))
    )
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_domain_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_domain_events_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index('ix_domain_events_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('kpi_observations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('metric_key', sa.String(length=63), nullable=False),
    sa.Column('subject_ref', sa.String(length=120), nullable=False),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.Enum('PLATFORM', 'SELF_REPORTED', name='observation_source', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('attributable', sa.Boolean(), nullable=False),
    sa.Column('non_attributable_reason', sa.Text(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('evidence_ref', sa.String(length=255), nullable=True),
    sa.Column('supersedes_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reported_by', sa.String(length=120), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_kpi_observations_provider_id_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supersedes_id'], ['kpi_observations.id'], name=op.f('fk_kpi_observations_supersedes_id_kpi_observations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_observations')),
    sa.UniqueConstraint('provider_id', 'idempotency_key', name=op.f('uq_kpi_observations_provider_id_idempotency_key'))
    )
    with op.batch_alter_table('kpi_observations', schema=None) as batch_op:
        batch_op.create_index('ix_kpi_observations_metric_time', ['category_key', 'metric_key', 'observed_at'], unique=False)
        batch_op.create_index('ix_kpi_observations_provider_metric', ['provider_id', 'metric_key', 'observed_at'], unique=False)

    op.create_table('provider_marketplaces',
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('marketplace', sa.Enum('AMAZON', 'SHOPEE', 'TIKTOK_SHOP', 'LAZADA', 'TEMU', 'ALIEXPRESS', 'SHEIN', 'EBAY', 'WALMART', 'MERCADO_LIBRE', 'SHOPIFY', name='marketplace', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_provider_marketplaces_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('provider_id', 'marketplace', name=op.f('pk_provider_marketplaces'))
    )
    with op.batch_alter_table('provider_marketplaces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_marketplaces_marketplace'), ['marketplace'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('application_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('requirement_key', sa.String(length=63), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=127), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('PENDING', 'ACCEPTED', 'REJECTED', name='document_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_documents_application_id_applications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], name=op.f('fk_documents_provider_id_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_provider_id'), ['provider_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_sha256'), ['sha256'], unique=False)



def downgrade() -> None:
    
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_sha256'))
        batch_op.drop_index(batch_op.f('ix_documents_provider_id'))
        batch_op.drop_index(batch_op.f('ix_documents_application_id'))

    op.drop_table('documents')
    with op.batch_alter_table('provider_marketplaces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_marketplaces_marketplace'))

    op.drop_table('provider_marketplaces')
    with op.batch_alter_table('kpi_observations', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_observations_provider_metric')
        batch_op.drop_index('ix_kpi_observations_metric_time')

    op.drop_table('kpi_observations')
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.drop_index('ix_domain_events_subject')
        batch_op.drop_index(batch_op.f('ix_domain_events_provider_id'))
        batch_op.drop_index(batch_op.f('ix_domain_events_occurred_at'))

    op.drop_table('domain_events')
    with op.batch_alter_table('category_profiles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_profiles_provider_id'))

    op.drop_table('category_profiles')
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_applications_provider_id'))
        batch_op.drop_index('ix_applications_category_status')

    op.drop_table('applications')
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_providers_region'))

    op.drop_table('providers')
    op.drop_table('metric_definition_versions')
