"""Immersions: indexes on tutor, employer and dates, and on employer, dates and tutor, instead
of the tutor's and the employer's alone (issue #16: the tutor space counted and sorted a
tutor's — or, for the employer's admins, the employer's — immersions row by row: 22,000 of
them for the bench tutor at 10,000 operations)

Revision ID: af0e56cd7fd1
Revises: a7c2e4f19b3d
Create Date: 2026-12-07 00:51:18.684808

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'af0e56cd7fd1'
down_revision = "a7c2e4f19b3d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('immersions', schema=None) as batch_op:
        batch_op.create_index(
            'ix_immersions_tutor_employer_dates',
            ['tutor_id', 'employer_id', 'starts_on', 'ends_on'],
            unique=False,
        )
        batch_op.create_index(
            'ix_immersions_employer_dates',
            ['employer_id', 'starts_on', 'ends_on', 'tutor_id'],
            unique=False,
        )
        batch_op.drop_index(batch_op.f('ix_immersions_tutor_id'))
        batch_op.drop_index(batch_op.f('ix_immersions_employer_id'))


def downgrade():
    with op.batch_alter_table('immersions', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_immersions_employer_id'), ['employer_id'], unique=False
        )
        batch_op.create_index(batch_op.f('ix_immersions_tutor_id'), ['tutor_id'], unique=False)
        batch_op.drop_index('ix_immersions_employer_dates')
        batch_op.drop_index('ix_immersions_tutor_employer_dates')
