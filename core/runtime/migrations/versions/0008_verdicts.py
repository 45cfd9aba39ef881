"""Trustworthy verdicts (issue #9): the evaluation claim of each closed (category, month), and
the review of a provider's corrections and not-attributable claims on its own observations.

Revision ID: 0008_verdicts
Revises: 0007_money
Create Date: 2026-11-29 03:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_verdicts"
down_revision = "0007_money"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category_key", sa.String(length=63), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("evaluated_by", sa.String(length=120), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
        sa.UniqueConstraint(
            "category_key", "period", name=op.f("uq_evaluation_runs_category_key_period")
        ),
    )
    with op.batch_alter_table("kpi_observations") as batch:
        batch.add_column(sa.Column("review_status", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=120), nullable=True))
        batch.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("kpi_observations") as batch:
        batch.drop_column("review_note")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
        batch.drop_column("review_status")
    op.drop_table("evaluation_runs")
