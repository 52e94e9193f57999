"""convention_versions.status indexed: « À faire » reads the versions out for signature or
validation across operations, few among the validated ones (issue #16)

Revision ID: 5d1e7a3c9b20
Revises: 9f62e94d3689
Create Date: 2026-12-07 04:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "5d1e7a3c9b20"
down_revision = "9f62e94d3689"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("convention_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_convention_versions_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("convention_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_convention_versions_status"))
