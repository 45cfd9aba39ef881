"""Money flows: seller payments per order, statements cut by a watermark instead of a row per
settled line (only held-back lines are recorded), payouts held for an appeal, deposits that
keep a provider out of the pool until paid, completions waiting for the seller's money.

Revision ID: 0015_money_flows
Revises: 0014_evidence
Create Date: 2026-11-29 06:40:00.000000
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0015_money_flows'
down_revision = '0014_evidence'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _period_end(cycle: str) -> datetime:
    """The end of a settlement cycle ("2026-10" or "2026-Q4") at midnight Asia/Shanghai."""
    year, _, part = cycle.partition('-')
    month = (int(part[1:]) * 3) if part.startswith('Q') else int(part)
    next_year, next_month = (int(year) + 1, 1) if month == 12 else (int(year), month + 1)
    return datetime(next_year, next_month, 1, tzinfo=UTC) - timedelta(hours=8)


def upgrade() -> None:
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.create_index('ix_journal_entries_source', ['source_type', 'source_id'], unique=False)
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('watermark', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_for', sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f('ix_payouts_held_for'), ['held_for'], unique=False)
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('blocks_pool', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('commissions', schema=None) as batch_op:
        batch_op.alter_column('entry_id', existing_type=ID, nullable=True)

    # statements written before: the watermark is the last line they settled
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            'SELECT s.id, s.cycle, MAX(sl.journal_line_id) FROM statements s '
            'LEFT JOIN statement_lines sl ON sl.statement_id = s.id GROUP BY s.id, s.cycle'
        )
    ).all()
    for statement_id, cycle, watermark in rows:
        bind.execute(
            sa.text('UPDATE statements SET watermark = :w, period_end = :e WHERE id = :i'),
            {'w': watermark or 0, 'e': _period_end(cycle), 'i': statement_id},
        )
    op.drop_table('statement_lines')

    op.create_table('statement_holds',
    sa.Column('id', ID, nullable=False),
    sa.Column('journal_line_id', ID, nullable=False),
    sa.Column('held_in', ID, nullable=False),
    sa.Column('released_in', ID, nullable=True),
    sa.ForeignKeyConstraint(['journal_line_id'], ['journal_lines.id'], name=op.f('fk_statement_holds_journal_line_id_journal_lines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['held_in'], ['statements.id'], name=op.f('fk_statement_holds_held_in_statements'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['released_in'], ['statements.id'], name=op.f('fk_statement_holds_released_in_statements'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_holds')),
    sa.UniqueConstraint('journal_line_id', name=op.f('uq_statement_holds_journal_line_id'))
    )
    with op.batch_alter_table('statement_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_holds_held_in'), ['held_in'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_holds_released_in'), ['released_in'], unique=False)

    op.create_table('seller_payments',
    sa.Column('id', ID, nullable=False),
    sa.Column('order_id', ID, nullable=False),
    sa.Column('seller_account_id', ID, nullable=False),
    sa.Column('provider_id', ID, nullable=False),
    sa.Column('category_key', sa.String(length=63), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('bank_reference', sa.String(length=120), nullable=False),
    sa.Column('recorded_by', ID, nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entry_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entries.id'], name=op.f('fk_seller_payments_entry_id_journal_entries'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seller_payments')),
    sa.UniqueConstraint('order_id', 'kind', 'bank_reference', name='uq_seller_payment_reference')
    )
    with op.batch_alter_table('seller_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seller_payments_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_seller_payments_seller_account_id'), ['seller_account_id'], unique=False)


def downgrade() -> None:
    op.drop_table('seller_payments')
    op.drop_table('statement_holds')
    op.create_table('statement_lines',
    sa.Column('id', ID, nullable=False),
    sa.Column('statement_id', ID, nullable=False),
    sa.Column('journal_line_id', ID, nullable=False),
    sa.ForeignKeyConstraint(['journal_line_id'], ['journal_lines.id'], name=op.f('fk_statement_lines_journal_line_id_journal_lines'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_lines_statement_id_statements'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_lines')),
    sa.UniqueConstraint('journal_line_id', name=op.f('uq_statement_lines_journal_line_id'))
    )
    with op.batch_alter_table('statement_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_lines_statement_id'), ['statement_id'], unique=False)
    with op.batch_alter_table('commissions', schema=None) as batch_op:
        batch_op.alter_column('entry_id', existing_type=ID, nullable=False)
    with op.batch_alter_table('charges', schema=None) as batch_op:
        batch_op.drop_column('blocks_pool')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payouts_held_for'))
        batch_op.drop_column('held_for')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_column('period_end')
        batch_op.drop_column('watermark')
    with op.batch_alter_table('journal_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_journal_entries_source')
