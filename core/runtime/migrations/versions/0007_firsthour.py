"""Sign-in throttles per (account, address), spent refresh tokens (reuse detection).

Revision ID: 0007_firsthour
Revises: 0006_alerts_appeals
Create Date: 2026-11-29 03:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0007_firsthour'
down_revision = '0006_alerts_appeals'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('login_throttles',
    sa.Column('account_key', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('account_key', 'address', name=op.f('pk_login_throttles'))
    )
    op.create_table('spent_refresh_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('session_id', ID, nullable=False),
    sa.Column('spent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['auth_sessions.id'], name=op.f('fk_spent_refresh_tokens_session_id_auth_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_spent_refresh_tokens'))
    )
    with op.batch_alter_table('spent_refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spent_refresh_tokens_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('spent_refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spent_refresh_tokens_session_id'))
    op.drop_table('spent_refresh_tokens')
    op.drop_table('login_throttles')
