"""Evidence: observations link uploaded documents; documents purged after their retention.

Revision ID: 0014_evidence
Revises: 0013_event_ids
Create Date: 2026-11-29 06:45:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0014_evidence'
down_revision = '0013_event_ids'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('kpi_observations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('evidence_document_id', ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_kpi_observations_evidence_document_id_documents'),
            'documents',
            ['evidence_document_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade() -> None:
    with op.batch_alter_table('kpi_observations', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_kpi_observations_evidence_document_id_documents'), type_='foreignkey'
        )
        batch_op.drop_column('evidence_document_id')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
