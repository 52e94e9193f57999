"""The register of processing covers every personal column of the models (issue #17)."""

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

from portal.extensions import db
from portal.privacy.register import (
    NOT_PERSONAL,
    PROCESSINGS,
    LegalBasis,
    declared_columns,
    personal_columns,
)
from tests.support import text


def _all_columns(metadata) -> set[str]:
    return {f"{t.name}.{c.name}" for t in metadata.tables.values() for c in t.columns}


def test_every_personal_column_is_declared_in_the_register():
    undeclared = sorted(personal_columns(db.metadata) - set(declared_columns()))
    assert not undeclared, f"personal columns missing from portal/privacy/register.py: {undeclared}"


def test_every_declared_column_exists():
    columns = _all_columns(db.metadata)
    assert not sorted(set(declared_columns()) - columns)
    assert not sorted(set(NOT_PERSONAL) - columns)


def test_a_new_personal_column_is_named_until_declared():
    # A copy of the schema with a new table below ``trainees`` and an address elsewhere.
    metadata = MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(metadata)
    Table(
        "trainee_notes",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("trainee_id", ForeignKey("trainees.id")),
        Column("nickname", String(50)),
    )
    metadata.tables["lot_trades"].append_column(Column("email", String(254)))
    undeclared = personal_columns(metadata) - set(declared_columns())
    assert undeclared == {"trainee_notes.nickname", "lot_trades.email"}


def test_the_rule_finds_the_known_personal_columns():
    found = personal_columns(db.metadata)
    for column in (
        "trainees.last_name",
        "users.email",
        "candidate_proposals.consent_text",
        "followup_answers.comment",
        "trainee_accesses.ip",
        "user_sessions.user_agent",
        "login_failures.key",
        "convention_signatures.ip",
        "audit_events.ip",
        "outbox_messages.recipient",
        "email_changes.new_email",  # by the end of its name
    ):
        assert column in found
    assert "organisations.email" not in found
    assert "trainees.operation_id" not in found  # a key


def test_each_processing_is_complete():
    keys = [p.key for p in PROCESSINGS]
    assert len(keys) == len(set(keys))
    for processing in PROCESSINGS:
        assert processing.purposes and processing.categories and processing.recipients
        assert isinstance(processing.basis, LegalBasis)
        assert str(processing.retention.text)


def test_the_public_page_summarises_the_register(client):
    page = text(client.get("/donnees-personnelles"))
    for processing in PROCESSINGS:
        assert str(processing.name) in page
    assert "24 mois" in page and "12 mois" in page
