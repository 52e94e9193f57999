"""Issue #17: the backup drill — back up the demo, change things (rows added, a version
signed, a document replaced), restore, and find everything as it was: row counts, the
convention versions' hashes, the signatures, the documents and an intact audit chain.

Each test runs on a database of its own (SQLite file or PostgreSQL database), since a
restore replaces the whole database.
"""

import tarfile
import time

import pytest
from sqlalchemy import select, text

from portal.accounts.models import Organisation, OrgKind
from portal.audit.services import record
from portal.backups import archive
from portal.conventions.models import ConventionVersion, Signature, VersionStatus
from portal.conventions.signing import signing_problems
from portal.conventions.state import signer_for, signing_parties, snapshot_of
from portal.core import storage
from portal.extensions import db
from tests.conventions.factories import sign_as
from tests.factories import make_org
from tests.support import another_app, load_demo_copy, temporary_database

BASE_URL = "http://portail.test"
TIMINGS: dict[str, float] = {}


@pytest.fixture
def drill_app(tmp_path, database_at_head):
    """An app on a database of its own (at head) with the demo committed and one generated
    document."""
    with (
        temporary_database("backup_drill", tmp_path, template=database_at_head) as url,
        another_app(url, DOCUMENTS_DIR=str(tmp_path / "documents")) as application,
    ):
        load_demo_copy(application)
        with application.app_context():
            storage.write("conventions/v1.pdf", b"%PDF-1.7 version 1")
        yield application


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def _state(app) -> dict:
    """What must come back: row counts, versions' hashes, signatures, documents, chain."""
    with app.app_context():
        state = {
            "tables": archive.database_facts(
                lambda sql: db.session.execute(text(sql)).all(), db.engine.dialect.name
            ),
            "versions": db.session.execute(
                select(
                    ConventionVersion.id, ConventionVersion.sha256, ConventionVersion.status
                ).order_by(ConventionVersion.id)
            ).all(),
            "signatures": db.session.execute(
                select(Signature.version_id, Signature.organisation_id).order_by(Signature.id)
            ).all(),
            "documents": {
                p.relative_to(archive.documents_dir()).as_posix(): p.read_bytes()
                for p in archive.documents_dir().rglob("*")
                if p.is_file()
            },
        }
        db.session.remove()
    return state


def _sign_one_more(app) -> None:
    """A designated signer of the demo signs a version still open to signature."""
    with app.test_request_context(base_url=BASE_URL):
        open_versions = db.session.scalars(
            select(ConventionVersion).where(
                ConventionVersion.status.in_(
                    [VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED]
                )
            )
        ).all()
        for version in open_versions:
            signed = {s.organisation_id for s in version.signatures}
            for party in signing_parties(snapshot_of(version)):
                org = db.session.get(Organisation, party["organisation_id"])
                designation = signer_for(version.convention, org.id)
                if org.id in signed or designation is None:
                    continue
                if not signing_problems(version, designation.user, org):
                    sign_as(version, designation.user, org)
                    db.session.commit()
                    return
        pytest.fail("the demo has no version a designated signer can still sign")


def _change_everything(app) -> None:
    _sign_one_more(app)
    with app.test_request_context(base_url=BASE_URL):
        make_org(OrgKind.EMPLOYER, "Entreprise ajoutée après la sauvegarde")
        record("drill.after_backup", note="ajouté après la sauvegarde")
        storage.write("conventions/v1.pdf", b"%PDF-1.7 overwritten")
        storage.write("conventions/v2.pdf", b"%PDF-1.7 version 2")
        db.session.commit()


def test_backup_change_restore_gives_back_everything(drill_app, tmp_path):
    app, runner = drill_app, drill_app.test_cli_runner()
    before = _state(app)
    target = tmp_path / "sauvegardes" / "portail.tar"

    started = time.perf_counter()
    result = runner.invoke(args=["backup", "--to", str(target)])
    TIMINGS[f"{_dialect(app)}: backup of the demo"] = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert f"Sauvegarde écrite : {target}" in result.output
    assert f"{len(before['documents'])} document(s)" in result.output

    with tarfile.open(target) as tar:
        manifest = archive.read_manifest(tar)
    assert manifest["tables"] == before["tables"]["tables"]  # read from the copy itself
    assert manifest["audit_chain_head"] == before["tables"]["audit_chain_head"]
    documents = {f"documents/{name}" for name in before["documents"]}
    assert set(manifest["files"]) == {manifest["database"], *documents}

    _change_everything(app)
    changed = _state(app)
    assert changed["signatures"] != before["signatures"]
    assert (
        changed["tables"]["tables"]["organisations"]
        == before["tables"]["tables"]["organisations"] + 1
    )
    assert changed["documents"] != before["documents"]

    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0
    assert "relancez la commande avec --yes" in refused.output
    assert _state(app) == changed

    started = time.perf_counter()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    TIMINGS[f"{_dialect(app)}: restore of the demo"] = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert "chaîne d'audit intacte" in result.output
    assert _state(app) == before

    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert f"{before['tables']['audit_chain_head']['seq']} événement(s)" in verified.output


def test_an_altered_or_foreign_archive_is_refused_and_nothing_is_touched(drill_app, tmp_path):
    app, runner = drill_app, drill_app.test_cli_runner()
    target = tmp_path / "portail.tar"
    assert runner.invoke(args=["backup", "--to", str(target)]).exit_code == 0
    _change_everything(app)
    changed = _state(app)
    with tarfile.open(target) as tar:
        member = tar.getmember(archive.DATABASE_MEMBER[_dialect(app)])
    data = bytearray(target.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0xFF  # one byte of the database copy
    target.write_bytes(bytes(data))

    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code != 0
    assert "Empreinte SHA-256 incorrecte" in result.output
    assert _state(app) == changed

    foreign = tmp_path / "autre.tar"
    foreign.write_bytes(b"pas une archive")
    result = runner.invoke(args=["restore", str(foreign), "--yes"])
    assert result.exit_code != 0
    assert "Restauration impossible" in result.output
    assert _state(app) == changed


def test_without_the_postgresql_client_the_backup_says_so(app, tmp_path, monkeypatch):
    if _dialect(app) != "postgresql":
        pytest.skip("SQLite is backed up by the sqlite3 module itself")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump there
    target = tmp_path / "portail.tar"
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert result.exit_code != 0
    assert "pg_dump est introuvable : installez le client PostgreSQL" in result.output
    assert not target.exists() and list(tmp_path.iterdir()) == []  # no partial archive


@pytest.fixture(scope="module", autouse=True)
def _report_timings():
    yield
    for label, seconds in TIMINGS.items():
        print(f"\n[backup] {label}: {seconds:.2f} s")  # noqa: T201
