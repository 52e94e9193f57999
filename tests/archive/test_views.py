"""The archive's routes: who may download it (the organisme porteur and the Région; the
other participants 403, outsiders 404, anonymous visitors to the login page), the final
archive by a link once closed, a provisional one only by the button (POST, CSRF) before,
and the evidence a download leaves (issued archive, convention files, access log, audit)."""

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import delete, func, select

from portal.archive import build as archive_build
from portal.archive.models import IssuedArchive
from portal.audit.models import AuditEvent
from portal.conventions.models import IssuedDocument
from portal.core.locking import first_or_add
from portal.extensions import db
from portal.operations.events import region_organisation
from portal.operations.lifecycle import cancel
from portal.operations.models import Operation
from portal.recruitment.models import TraineeAccess
from tests.archive.factories import entries, manifest_of
from tests.support import client_as, committed, snapshot, text, user_with

DOMAIN = "demo.defi.test"
ZIP = "application/zip"


def page(operation_id: int) -> str:
    return f"/operations/{operation_id}/archive/"


def zip_url(operation_id: int) -> str:
    return f"/operations/{operation_id}/archive/archive.zip"


@pytest.mark.parametrize("account", ["of", "region", "referent.orleans"])
def test_the_carrier_and_the_region_download_the_final_archive(app, demo, account):
    browser = client_as(app, f"{account}@{DOMAIN}")
    response = browser.get(zip_url(demo.fleury))
    assert response.status_code == 200
    assert response.mimetype == ZIP
    disposition = response.headers["Content-Disposition"]
    assert f"archive-operation-{demo.fleury}.zip" in disposition
    data = response.get_data()
    assert response.content_length == len(data)
    assert manifest_of(data)["final"] is True
    shown = text(browser.get(page(demo.fleury)))
    assert "l'archive est définitive" in shown
    assert "Télécharger l'archive (ZIP)" in shown and "Produire l'archive provisoire" not in shown


@pytest.mark.parametrize("account", ["employeur", "tuteur", "partenaire"])
def test_other_participants_are_refused(app, demo, account):
    browser = client_as(app, f"{account}@{DOMAIN}")
    before = snapshot(app)
    assert browser.get(page(demo.fleury)).status_code == 403
    assert browser.get(zip_url(demo.fleury)).status_code == 403
    assert browser.post(zip_url(demo.saran)).status_code == 403
    assert snapshot(app) == before
    operation_page = text(browser.get(f"/operations/{demo.fleury}"))
    assert "Archive de l'opération" not in operation_page


@pytest.mark.parametrize("account", ["referente.tours", "menuiserie", "of2"])
def test_outsiders_get_404(app, demo, account):
    browser = client_as(app, f"{account}@{DOMAIN}")
    before = snapshot(app)
    for path in (page(demo.fleury), zip_url(demo.fleury)):
        assert browser.get(path).status_code == 404
    assert browser.post(zip_url(demo.fleury)).status_code == 404
    assert snapshot(app) == before


def test_anonymous_visitors_are_sent_to_the_login_page(client, demo):
    for response in (
        client.get(page(demo.fleury)),
        client.get(zip_url(demo.fleury)),
        client.post(zip_url(demo.saran)),
    ):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/connexion")


def test_before_closing_a_get_leads_to_the_page_and_the_button_makes_it(app, demo):
    browser = client_as(app, f"of@{DOMAIN}")
    before = snapshot(app)
    response = browser.get(zip_url(demo.saran))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(page(demo.saran))
    shown = text(browser.get(page(demo.saran)))
    assert snapshot(app) == before
    assert "L'opération n'est pas close" in shown
    assert "Produire l'archive provisoire (ZIP)" in shown
    assert 'name="csrf_token"' in shown
    assert "Feuilles de retour d'expérience" in shown and "Attestations de stage" in shown
    refused = browser.post(zip_url(demo.saran), csrf=False)
    assert refused.status_code == 400
    response = browser.post(zip_url(demo.saran))
    assert response.status_code == 200 and response.mimetype == ZIP
    assert manifest_of(response.get_data())["final"] is False


def test_a_download_leaves_its_evidence(app, demo):
    browser = client_as(app, f"of@{DOMAIN}")
    first = browser.post(zip_url(demo.saran)).get_data()
    second = browser.post(zip_url(demo.saran)).get_data()
    assert first == second
    manifest = manifest_of(first)
    with app.app_context():
        [issued] = db.session.scalars(select(IssuedArchive)).all()
        assert issued.operation_id == demo.saran and not issued.final
        assert issued.archive_sha256 == hashlib.sha256(first).hexdigest()
        assert issued.files == len(manifest["files"])
        assert issued.events == len(manifest["audit_events"])
        # The convention files it holds are recognised on their own too.
        recorded = set(db.session.scalars(select(IssuedDocument.sha256)))
        conventions = {f["sha256"] for f in manifest["files"] if f["kind"] == "convention"}
        assert conventions and conventions <= recorded
        # The trainees it names: one access log line per download.
        accesses = db.session.scalars(
            select(TraineeAccess).where(TraineeAccess.action == "archive")
        ).all()
        downloads = db.session.scalar(
            select(func.count()).where(AuditEvent.action == "archive.downloaded")
        )
    assert len(accesses) == 2 and downloads == 2
    assert accesses[0].trainee_ids and accesses[0].trainee_ids == sorted(accesses[0].trainee_ids)
    # A download does not change the next archive (downloads are not listed).
    assert browser.post(zip_url(demo.saran)).get_data() == first
    shown = text(browser.get(page(demo.saran)))
    assert f'data-fingerprint="{issued.manifest_sha256}"' in shown
    assert "provisoire (Formation en cours)" in shown


def test_the_operation_page_links_the_archive_for_those_who_may(app, demo):
    for account in ("of", "region"):
        shown = text(client_as(app, f"{account}@{DOMAIN}").get(f"/operations/{demo.fleury}"))
        assert f'href="{page(demo.fleury)}"' in shown


def test_a_cancelled_operation_has_a_final_archive_too(app, demo):
    with committed(app):
        operation = db.session.get(Operation, demo.saran)
        region = user_with(f"region@{DOMAIN}")
        cancel(operation, reason="Employeur retiré.", by=region, org=region_organisation())
    browser = client_as(app, f"of@{DOMAIN}")
    assert "l'archive est définitive" in text(browser.get(page(demo.saran)))
    response = browser.get(zip_url(demo.saran))
    assert response.status_code == 200
    data = response.get_data()
    assert manifest_of(data)["final"] is True
    assert "Opération annulée le " in entries(data)["manifeste.md"].decode()


def test_three_simultaneous_downloads_record_the_archive_once(app, demo, monkeypatch):
    """Three people of the organisme download the same provisional archive at the same
    moment (three threads, three connections). Each looks for the archive's record, finds
    none and waits for the others before adding it (held at a barrier, so the race happens
    every run): the three get the same bytes, the archive is recorded once
    (``first_or_add``: the losers' savepoints fail on the unique key and they read the
    winner's row), and each download leaves its audit event."""
    browser = client_as(app, f"of@{DOMAIN}")
    assert browser.post(zip_url(demo.saran)).status_code == 200  # the convention files' records
    with committed(app):
        db.session.execute(delete(IssuedArchive))
    browsers = [client_as(app, f"of@{DOMAIN}") for _ in range(3)]
    barrier = threading.Barrier(len(browsers), timeout=30)

    def held(query, make):
        return first_or_add(query, lambda: (barrier.wait(), make())[1])

    monkeypatch.setattr(archive_build, "first_or_add", held)

    def download(browser):
        response = browser.post(zip_url(demo.saran))
        return response.status_code, response.get_data()

    with ThreadPoolExecutor(max_workers=len(browsers)) as pool:
        results = list(pool.map(download, browsers))
    assert [status for status, _data in results] == [200, 200, 200]
    assert len({data for _status, data in results}) == 1
    with app.app_context():
        [issued] = db.session.scalars(select(IssuedArchive)).all()
        downloads = db.session.scalar(
            select(func.count()).where(AuditEvent.action == "archive.downloaded")
        )
    assert issued.archive_sha256 == hashlib.sha256(results[0][1]).hexdigest()
    assert downloads == 4
