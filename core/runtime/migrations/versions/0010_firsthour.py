"""Sign-in throttles per (account, address), spent refresh tokens (reuse detection), email
verification (accounts.email_verified_at, email_verifications) and the mail outbox.

Revision ID: 0010_firsthour
Revises: 0009_binding
Create Date: 2026-11-29 03:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0010_firsthour'
down_revision = '0009_binding'
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


    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
    # accounts that exist already keep signing in
    op.execute('UPDATE accounts SET email_verified_at = created_at')
    op.create_table('email_verifications',
    sa.Column('id', ID, nullable=False),
    sa.Column('account_id', ID, nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_email_verifications_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_verifications')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_verifications_token_hash'))
    )
    with op.batch_alter_table('email_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_verifications_account_id'), ['account_id'], unique=False)
    op.create_table('outbox_messages',
    sa.Column('id', ID, nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_messages_recipient'), ['recipient'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_messages_sent_at'), ['sent_at'], unique=False)


def downgrade() -> None:
    op.drop_table('outbox_messages')
    op.drop_table('email_verifications')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
    with op.batch_alter_table('spent_refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spent_refresh_tokens_session_id'))
    op.drop_table('spent_refresh_tokens')
    op.drop_table('login_throttles')
