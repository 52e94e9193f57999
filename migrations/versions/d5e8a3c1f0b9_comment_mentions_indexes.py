"""Comment mentions: indexes on user_id and organisation_id (issue #16: « À faire » finds
the mentions of the user or of the organisation — the table was scanned)

Revision ID: d5e8a3c1f0b9
Revises: 6b95348b1598
Create Date: 2026-12-06 22:55:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd5e8a3c1f0b9'
down_revision = '6b95348b1598'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('comment_mentions', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_comment_mentions_user_id'), ['user_id'], unique=False
        )
        batch_op.create_index(
            batch_op.f('ix_comment_mentions_organisation_id'), ['organisation_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('comment_mentions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_comment_mentions_organisation_id'))
        batch_op.drop_index(batch_op.f('ix_comment_mentions_user_id'))
