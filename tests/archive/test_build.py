"""The archive itself: the same operation gives the same bytes (in one session, in a new
application, in a new process with another hash seed), the manifest's hashes match the
files, the operation's audit events are listed with their chain hashes, and nothing in
the manifest names a person."""

import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from sqlalchemy import select

from portal.archive.manifest import FORMAT
from portal.audit.chain import canonical_event, event_hash
from portal.audit.models import AuditEvent
from portal.audit.services import FIELDS, record
from portal.conventions.models import Convention, ConventionVersion
from portal.core.time import utcnow
from portal.demo.closed import TRAINEES
from portal.extensions import db
from portal.immersions.models import Immersion
from portal.operations.models import Operation
from portal.recruitment.models import Trainee
from portal.steering.documents import minutes_docx
from portal.steering.models import SteeringCommittee, SteeringMeeting
from tests.archive.factories import archive_bytes, built, entries, manifest_of
from tests.support import another_app, committed

ROOT = Path(__file__).resolve().parents[2]
# A fresh interpreter builds the archive: another process, another hash seed.
IN_A_NEW_PROCESS = """
import hashlib, sys
from portal import create_app
from portal.archive.build import build_archive
from portal.extensions import db
from portal.operations.models import Operation
from tests.support import app_config
app = create_app(app_config(sys.argv[1]))
with app.test_request_context(base_url="http://portail.test"):
    archive = build_archive(db.session.get(Operation, int(sys.argv[2])))
    print(hashlib.sha256(archive.file.read()).hexdigest())
"""


def test_the_same_operation_gives_the_same_bytes(app, demo, database_url):
    with app.test_request_context(base_url="http://portail.test"):
        first = archive_bytes(demo.fleury)
        db.session.expire_all()
        assert archive_bytes(demo.fleury) == first
    with (
        another_app(database_url) as again,  # a restart: a new app, engine and session
        again.test_request_context(base_url="http://portail.test"),
    ):
        assert archive_bytes(demo.fleury) == first
    environment = {**os.environ, "PYTHONHASHSEED": "12345"}
    process = subprocess.run(  # noqa: S603 - our own interpreter on our own script
        [sys.executable, "-c", IN_A_NEW_PROCESS, database_url, str(demo.fleury)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert process.stdout.strip() == hashlib.sha256(first).hexdigest()


def test_the_zip_is_laid_out_the_same_way_every_time(app, demo):
    with app.test_request_context(base_url="http://portail.test"):
        archive = built(demo.fleury)
        with archive.file:
            data = archive.file.read()
        closing = db.session.scalars(
            select(AuditEvent.at)
            .where(
                AuditEvent.object_type == "Operation",
                AuditEvent.object_id == demo.fleury,
                AuditEvent.action == "operation.advanced",
            )
            .order_by(AuditEvent.seq.desc())
        ).first()
    assert archive.final and archive.as_of == closing.replace(microsecond=0)
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        infos = package.infolist()
    names = [i.filename for i in infos]
    folder = f"archive-operation-{demo.fleury}/"
    assert all(n.startswith(folder) for n in names)
    documents = names[:-3]
    assert documents == sorted(documents)
    assert names[-3:] == [folder + n for n in ("manifeste.json", "manifeste.md", "SHA256SUMS")]
    stamp = archive.as_of.replace(second=archive.as_of.second // 2 * 2)  # zip: 2 s steps
    for info in infos:
        assert info.date_time == stamp.timetuple()[:6]
        assert info.external_attr >> 16 == 0o100644
        assert info.compress_type == zipfile.ZIP_DEFLATED
    assert archive.sha256 == hashlib.sha256(data).hexdigest()
    assert archive.size == len(data)


def test_the_manifest_gives_each_file_its_hash_and_size(app, demo):
    with app.test_request_context(base_url="http://portail.test"):
        data = archive_bytes(demo.fleury)
        reference = db.session.scalar(
            select(Convention.reference).where(Convention.operation_id == demo.fleury)
        )
    files = entries(data)
    manifest = manifest_of(data)
    assert manifest["format"] == FORMAT
    assert manifest["final"] is True
    assert manifest["operation"]["convention_reference"] == reference
    assert manifest["operation"]["status"] == "closed"
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifeste.json", "manifeste.md", "SHA256SUMS"}
    for path, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[path]).hexdigest(), path
        assert entry["size"] == len(files[path])
    assert {f["kind"] for f in manifest["files"]} == {
        "convention",
        "design",
        "evaluation",
        "bilan",
    }
    assert f"convention/convention-{reference}-v1.docx" in listed
    # The manifest's own hash: in its French version and in SHA256SUMS.
    digest = hashlib.sha256(files["manifeste.json"]).hexdigest()
    text = files["manifeste.md"].decode()
    assert f"Empreinte SHA-256 du manifeste (manifeste.json) : `{digest}`" in text
    assert "Opération close le " in text and "archive définitive" in text
    sums = dict(reversed(line.split("  ", 1)) for line in files["SHA256SUMS"].decode().splitlines())
    assert sums.pop("manifeste.json") == digest
    assert sums.pop("manifeste.md") == hashlib.sha256(files["manifeste.md"]).hexdigest()
    assert sums == {path: entry["sha256"] for path, entry in listed.items()}


def test_the_operation_audit_events_are_listed_with_their_chain_hashes(app, demo):
    with committed(app):
        operation = db.session.get(Operation, demo.fleury)
        version = db.session.scalar(
            select(ConventionVersion).join(Convention).where(Convention.operation_id == demo.fleury)
        )
        # Downloads leave a trace in the log, not in the archive.
        record("convention.downloaded", obj=version, number=version.number)
        record("archive.downloaded", obj=operation)
    with app.test_request_context(base_url="http://portail.test"):
        listed = manifest_of(archive_bytes(demo.fleury))["audit_events"]
        stored = {e.seq: e for e in db.session.scalars(select(AuditEvent))}
        trainees = set(
            db.session.scalars(select(Trainee.id).where(Trainee.operation_id == demo.fleury))
        )
    seqs = [e["seq"] for e in listed]
    assert seqs == sorted(seqs) and len(seqs) > 100
    for entry in listed:
        event = stored[entry["seq"]]
        assert (entry["hash"], entry["prev_hash"]) == (event.hash, event.prev_hash)
        assert entry["at"] == event.at.isoformat(timespec="microseconds")
        assert (entry["action"], entry["object_type"]) == (event.action, event.object_type)
        # The hash is the chain's: recomputed from the stored event and its predecessor's.
        fields = {name: getattr(event, name) for name in FIELDS}
        assert (
            event_hash(event.prev_hash, canonical_event(seq=event.seq, **fields)) == (entry["hash"])
        )
    kinds = {(e["object_type"], e["action"]) for e in listed}
    assert ("Operation", "operation.advanced") in kinds
    assert ("ConventionVersion", "convention.validated") in kinds
    assert ("Assessment", "assessment.accepted") in kinds and ("Bonus", "bonus.granted") in kinds
    assert {e["object_id"] for e in listed if e["object_type"] == "Trainee"} == trainees
    assert not any(e["action"].endswith(".downloaded") for e in listed)
    # Another operation's events are not there.
    assert {e["object_id"] for e in listed if e["object_type"] == "Operation"} == {demo.fleury}


def test_the_manifest_names_no_one(app, demo):
    with app.test_request_context(base_url="http://portail.test"):
        files = entries(archive_bytes(demo.saran))
        names = db.session.scalars(
            select(Trainee.last_name).where(Trainee.operation_id == demo.saran)
        ).all()
    assert names
    for manifest in ("manifeste.json", "manifeste.md"):
        text = files[manifest].decode()
        for last_name in [*names, *(trainee[0] for trainee in TRAINEES)]:
            assert last_name not in text, (manifest, last_name)


def test_before_closing_the_archive_is_provisional_with_sheets_and_certificates(app, demo):
    with app.test_request_context(base_url="http://portail.test"):
        archive = built(demo.saran)
        with archive.file:
            data = archive.file.read()
        ended = db.session.execute(
            select(Immersion.id, Immersion.trainee_id).where(
                Immersion.operation_id == demo.saran,
                Immersion.ends_on <= archive.as_of.date(),
            )
        ).all()
        versions = db.session.scalar(
            select(ConventionVersion.number)
            .join(Convention)
            .where(Convention.operation_id == demo.saran)
            .order_by(ConventionVersion.number.desc())
        )
    manifest = manifest_of(data)
    assert manifest["final"] is False and not archive.final
    by_kind = {}
    for entry in manifest["files"]:
        by_kind.setdefault(entry["kind"], []).append(entry)
    assert len(by_kind["convention"]) == versions == 2
    assert "(avenant)" in by_kind["convention"][1]["title"]
    assert {e["path"] for e in by_kind["certificate"]} == {
        f"attestations/attestation-stage-{immersion_id}.docx" for immersion_id, _t in ended
    }
    assert by_kind["debrief"] and "evaluation" not in by_kind
    sheet_trainees = {int(e["path"].rsplit("-", 1)[1][:-5]) for e in by_kind["debrief"]}
    assert set(archive.trainee_ids) == sheet_trainees | {t for _i, t in ended}
    text = entries(data)["manifeste.md"].decode()
    assert "Archive provisoire : l'opération est à l'étape « Formation en cours »" in text


def test_the_minutes_of_each_meeting_held_are_archived_as_downloaded(app, demo):
    """Saran's committee met once (minutes approved) and meets again in three weeks: the
    archive holds the launch meeting's minutes, the very bytes of the minutes' download,
    and not the meeting still to come."""
    with app.test_request_context(base_url="http://portail.test"):
        data = archive_bytes(demo.saran)
        meetings = db.session.scalars(
            select(SteeringMeeting)
            .join(SteeringCommittee)
            .where(SteeringCommittee.operation_id == demo.saran)
            .order_by(SteeringMeeting.starts_at)
        ).all()
        assert [m.starts_at < utcnow() for m in meetings] == [True, False]
        held = meetings[0]
        expected = minutes_docx(held)
    files = [e for e in manifest_of(data)["files"] if e["kind"] == "steering"]
    path = f"comite-de-pilotage/compte-rendu-comite-{held.id}.docx"
    assert [e["path"] for e in files] == [path]
    assert files[0]["title"].startswith("Compte rendu du comité de pilotage du ")
    assert entries(data)[path] == expected
