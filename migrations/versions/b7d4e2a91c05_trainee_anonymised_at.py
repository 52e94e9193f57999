"""Trainees: when their identity was replaced by a pseudonym (issue #17, RGPD)

Revision ID: b7d4e2a91c05
Revises: e3982a021b27
Create Date: 2026-12-06 15:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d4e2a91c05'
down_revision = 'e3982a021b27'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trainees', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('trainees', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
