"""Partial indexes on design_sections.meeting_id (the minutes only, still unique) and on
design_comments.parent_id (the replies only) — issue #16: SQLite read every section of no
meeting for « meeting_id IS NULL » (67,000 rows at 10,000 operations), and every thread for
« parent_id IS NULL », through them, instead of one design's sections and their comments

Revision ID: a7c2e4f19b3d
Revises: 84e8c56a450e
Create Date: 2026-12-07 01:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a7c2e4f19b3d'
down_revision = "84e8c56a450e"
branch_labels = None
depends_on = None

MINUTES = sa.text('meeting_id IS NOT NULL')
REPLIES = sa.text('parent_id IS NOT NULL')


def upgrade():
    with op.batch_alter_table('design_sections', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_design_sections_meeting_id'), type_='unique')
        batch_op.create_index(
            'uq_design_sections_meeting_id', ['meeting_id'], unique=True,
            sqlite_where=MINUTES, postgresql_where=MINUTES,
        )
    with op.batch_alter_table('design_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_design_comments_parent_id'))
        batch_op.create_index(
            batch_op.f('ix_design_comments_parent_id'), ['parent_id'], unique=False,
            sqlite_where=REPLIES, postgresql_where=REPLIES,
        )


def downgrade():
    with op.batch_alter_table('design_comments', schema=None) as batch_op:
        batch_op.drop_index(
            batch_op.f('ix_design_comments_parent_id'), sqlite_where=REPLIES,
            postgresql_where=REPLIES,
        )
        batch_op.create_index(
            batch_op.f('ix_design_comments_parent_id'), ['parent_id'], unique=False
        )
    with op.batch_alter_table('design_sections', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_design_sections_meeting_id', sqlite_where=MINUTES, postgresql_where=MINUTES
        )
        batch_op.create_unique_constraint(batch_op.f('uq_design_sections_meeting_id'), ['meeting_id'])
