"""Anchors of the audit chain (issue #17, « Evidence »): a rewrite of the whole log — one
event changed, every later hash recomputed, the chain head moved — verifies as a chain,
but not against an anchor kept outside the database: the line ``audit anchor`` printed,
or the validation anchor every party's copy of a validated convention carries."""

import json
import re

import pytest
from sqlalchemy import select, text

from portal.audit.anchors import (
    Anchor,
    anchor_line,
    check_anchors,
    current_anchor,
    parse_anchor,
    read_anchors,
)
from portal.audit.chain import GENESIS, canonical_event, event_hash
from portal.audit.models import AuditEvent
from portal.audit.services import FIELDS, record, verify_chain
from portal.conventions.documents import convention_docx
from portal.conventions.evidence_page import hash_cell, validation_anchor
from portal.extensions import db
from tests.conventions.factories import make_convention_ready, sign_all, validated_convention
from tests.conventions.helpers_documents import all_text, read_docx, table_rows
from tests.support import login_as


def raw(sql: str, **params) -> None:
    """SQL on a connection of its own: no ORM guard, as a person with DB access would."""
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def rewrite_from(seq: int, detail: dict) -> None:
    """The perfect forger: change event ``seq``'s detail, recompute every later hash and
    move the chain head, so that the chain verifies again."""
    db.session.expire_all()
    found = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    prev = next(e.hash for e in found if e.seq == seq - 1) if seq > 1 else GENESIS
    for event in (e for e in found if e.seq >= seq):
        fields = {name: getattr(event, name) for name in FIELDS}
        if event.seq == seq:
            fields["detail"] = detail
        digest = event_hash(prev, canonical_event(seq=event.seq, **fields))
        raw(
            "UPDATE audit_events SET detail = :d, prev_hash = :p, hash = :h WHERE seq = :s",
            d=json.dumps(fields["detail"]),
            p=prev,
            h=digest,
            s=event.seq,
        )
        prev = digest
    raw("UPDATE audit_chain_head SET hash = :h WHERE id = 1", h=prev)
    db.session.expire_all()


@pytest.fixture
def chain(app):
    """Five committed events (seq 1..5) in an app context."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        for n in range(1, 6):
            record("test.event", n=n)
        db.session.commit()
        yield
        db.session.rollback()


# --- Reading and checking anchors ---------------------------------------------------------


def test_an_anchor_reads_as_seq_colon_hash_or_as_the_line_the_command_writes():
    digest = "AB" * 32
    assert parse_anchor(f" 12 : {digest} ") == Anchor(12, digest.lower())
    line = anchor_line(Anchor(3, "cd" * 32))
    assert parse_anchor(line) == Anchor(3, "cd" * 32)
    assert read_anchors(["# anchors", "", line, f"4:{'ef' * 32}\n"]) == [
        Anchor(3, "cd" * 32),
        Anchor(4, "ef" * 32),
    ]
    for wrong in ("12", "12:abc", f"x:{digest}", '{"seq": 1}', "{not json"):
        with pytest.raises(ValueError):
            parse_anchor(wrong)


def test_the_current_anchor_is_the_chain_head(chain):
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert current_anchor() == Anchor(5, last.hash)
    assert check_anchors([current_anchor(), Anchor(0, GENESIS)]) == []


def test_an_empty_log_is_anchored_at_the_genesis(ctx):
    assert current_anchor() == Anchor(0, GENESIS)
    assert check_anchors([Anchor(0, GENESIS)]) == []
    assert check_anchors([Anchor(0, "1" * 64)]) != []


def test_a_rewritten_log_verifies_as_a_chain_but_not_against_an_earlier_anchor(chain):
    kept = current_anchor()
    third = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 3))
    rewrite_from(2, {"n": 0, "text": "réécrit"})
    assert verify_chain() == []  # the chain alone cannot see it
    problems = check_anchors([kept, Anchor(3, third)])
    assert problems == [
        "anchor 5: the event's hash differs from the anchor (the log was rewritten since)",
        "anchor 3: the event's hash differs from the anchor (the log was rewritten since)",
    ]
    # An anchor taken before the rewritten event still holds: the log up to it is genuine.
    first = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 1))
    assert check_anchors([Anchor(1, first)]) == []


def test_a_log_cut_before_an_anchor_is_caught(chain):
    kept = current_anchor()
    raw("DELETE FROM audit_events WHERE seq >= 4")
    raw("UPDATE audit_chain_head SET seq = 3, hash = (SELECT hash FROM audit_events WHERE seq = 3)")
    assert verify_chain() == []
    assert check_anchors([kept]) == [
        "anchor 5: the event is missing (the log was cut or rewritten)"
    ]


# --- The commands -------------------------------------------------------------------------


def test_audit_anchor_prints_the_head_and_appends_it_to_a_file(app, chain, tmp_path):
    kept = tmp_path / "ancres.jsonl"
    runner = app.test_cli_runner()
    first = runner.invoke(args=["audit", "anchor", "--append", str(kept)])
    assert first.exit_code == 0, first.output
    assert parse_anchor(first.output.strip()) == current_anchor()
    with app.test_request_context():
        record("test.event", n=6)
        db.session.commit()
    runner.invoke(args=["audit", "anchor", "--append", str(kept)])
    lines = kept.read_text(encoding="utf-8").splitlines()
    assert [parse_anchor(line).seq for line in lines] == [5, 6]
    assert json.loads(lines[0])["at"].endswith("Z")


def test_audit_verify_checks_the_anchors_given(app, chain, tmp_path):
    runner = app.test_cli_runner()
    kept = tmp_path / "ancres.jsonl"
    runner.invoke(args=["audit", "anchor", "--append", str(kept)])
    ok = runner.invoke(args=["audit", "verify", "--anchors", str(kept)])
    assert ok.exit_code == 0, ok.output
    assert "1 ancre(s) concordante(s)" in ok.output

    anchor = str(current_anchor())
    rewrite_from(4, {"n": 40})
    plain = runner.invoke(args=["audit", "verify"])
    assert plain.exit_code == 0, plain.output
    caught = runner.invoke(args=["audit", "verify", "--anchor", anchor])
    assert caught.exit_code == 1
    assert "Journal d'audit altéré : 1 problème(s)" in caught.output
    assert "anchor 5: the event's hash differs" in caught.output
    from_file = runner.invoke(args=["audit", "verify", "--anchors", str(kept)])
    assert from_file.exit_code == 1


def test_audit_verify_refuses_an_unreadable_anchor(app, chain):
    result = app.test_cli_runner().invoke(args=["audit", "verify", "--anchor", "5:abc"])
    assert result.exit_code == 2
    assert "Ancre illisible" in result.output


# --- The validated convention carries its anchor ------------------------------------------


def test_the_validated_conventions_evidence_page_prints_the_validation_anchor(ctx):
    ready = make_convention_ready()
    version = ready.submit()
    sign_all(ready, version)
    assert validation_anchor(version) is None
    assert "Ancre du journal d'audit" not in all_text(read_docx(convention_docx(version)))
    ready.validate(version)
    anchor = validation_anchor(version)
    event = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "convention.validated", AuditEvent.object_id == version.id
        )
    ).one()
    assert anchor == Anchor(event.seq, event.hash)
    document = read_docx(convention_docx(version))
    evidence = next(
        t for t in document.tables if any(r[0] == "Calcul de l'empreinte" for r in table_rows(t))
    )
    facts = dict(table_rows(evidence)[1:])
    assert facts["Ancre du journal d'audit : évènement n°"] == str(event.seq)
    assert facts["Ancre du journal d'audit : empreinte"] == hash_cell(event.hash)
    assert f"audit verify --anchor {event.seq}:{event.hash}" in all_text(document)
    # Events after the validation do not change the copy: the anchor is the validation's.
    record("test.later")
    db.session.flush()
    assert convention_docx(version) == convention_docx(version)
    assert validation_anchor(version) == anchor


def test_the_version_page_shows_the_validation_anchor(app, client):
    with app.test_request_context():
        ready = make_convention_ready()
        version = validated_convention(ready)
        anchor = validation_anchor(version)
        operation_id, number = ready.operation.id, version.number
        user, org = ready.carrier
        db.session.commit()
        login_as(client, user.id)
    page = client.get(f"/operations/{operation_id}/convention/versions/{number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"Ancre du journal d'audit à la validation : évènement n° {anchor.seq}" in html
    blocks = re.findall(r'<span class="fingerprint__block">([0-9a-f]{8})</span>', html)
    assert anchor.hash in ["".join(blocks[i : i + 8]) for i in range(len(blocks) - 7)]
