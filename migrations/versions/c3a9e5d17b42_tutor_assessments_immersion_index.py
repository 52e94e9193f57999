"""Tutor assessments: an index on immersion_id (issue #16: « not yet assessed » scanned the
table once per immersion — the tutor's home took 151 s at 10,000 operations)

Revision ID: c3a9e5d17b42
Revises: b7d4e2a91c05
Create Date: 2026-12-06 19:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c3a9e5d17b42'
down_revision = 'b7d4e2a91c05'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tutor_assessments', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_tutor_assessments_immersion_id'), ['immersion_id'], unique=False
        )


def downgrade():
    with op.batch_alter_table('tutor_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tutor_assessments_immersion_id'))
