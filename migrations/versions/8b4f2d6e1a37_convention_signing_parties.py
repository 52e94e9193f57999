"""convention_signing_parties: who signs each version, as its frozen text says, kept with
the version for « À faire » across operations (issue #16)

Revision ID: 8b4f2d6e1a37
Revises: 5d1e7a3c9b20
Create Date: 2026-12-07 04:25:00.000000

"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "8b4f2d6e1a37"
down_revision = "5d1e7a3c9b20"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "convention_signing_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"], name=op.f("fk_convention_signing_parties_organisation_id_organisations")),
        sa.ForeignKeyConstraint(["version_id"], ["convention_versions.id"], name=op.f("fk_convention_signing_parties_version_id_convention_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_convention_signing_parties")),
        sa.UniqueConstraint("version_id", "organisation_id", name=op.f("uq_convention_signing_parties_version_id")),
    )
    # The existing versions' parties, read from their frozen texts; the texts never change,
    # so this is done once.
    connection = op.get_bind()
    read = sa.text(
        "SELECT id, canonical FROM convention_versions WHERE id > :last ORDER BY id LIMIT 500"
    )
    last = 0
    while True:
        versions = connection.execute(read, {"last": last}).all()
        if not versions:
            break
        rows = [row for v in versions for row in signing_party_rows(v[0], v[1])]
        if rows:
            op.bulk_insert(table, rows)
        last = versions[-1][0]


def signing_party_rows(version_id: int, canonical: str) -> list[dict]:
    """The rule of ``portal.conventions.models.signing_party_rows`` as it stood when this
    migration was written, frozen here so that a later change of the app's code cannot
    change what this migration did (tests/core/test_migrations.py compares the two on
    the demo's texts)."""
    parties = json.loads(canonical)["parties"]
    signing = sorted({p["organisation_id"] for p in parties if p["signs"]})
    return [{"version_id": version_id, "organisation_id": o} for o in signing]


def downgrade():
    op.drop_table("convention_signing_parties")
