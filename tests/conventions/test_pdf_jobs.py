"""The convention PDF as a background job (issue #16): the link answers at once with a
page « PDF en préparation » that polls (htmx every 2 s, 204 until there is news, in a live
region), then offers the file; a failed conversion says why in French and offers
« Réessayer » (POST, CSRF); someone outside the operation gets 404. In a thread without
Redis, on RQ with it (jobs run by RQ's SimpleWorker in burst mode)."""

import os
import stat
import time

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.conventions import pdf
from portal.conventions.documents import convention_docx
from portal.conventions.models import ConventionVersion, IssuedDocument
from portal.core import jobs, storage
from portal.extensions import db
from tests.conventions.helpers_documents import submit_convention
from tests.operations.factories import OF_A, OF_B
from tests.support import HTMX, count, fetch_pdf, login_as, text

PREPARING = "Le PDF est en préparation"
FAILED = "La conversion en PDF a échoué."


@pytest.fixture
def submitted(app):
    return submit_convention(app)


def soffice(app, monkeypatch, tmp_path, body: str):
    """A LibreOffice stand-in running ``body``; ``SOFFICE_PATH`` points at it."""
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setitem(app.config, "SOFFICE_PATH", str(script))
    return script


WRITES_PDF = 'echo run >> "{runs}"\nmkdir -p "$7"\nprintf "%%PDF-1.4 job" > "$7/convention.pdf"'


@pytest.fixture
def gated(app, monkeypatch, tmp_path):
    """A conversion that waits for ``gate`` to exist, then writes a PDF; ``runs`` counts."""
    gate, runs = tmp_path / "gate", tmp_path / "runs"
    body = f'while [ ! -e "{gate}" ]; do sleep 0.05; done\n' + WRITES_PDF.format(runs=runs)
    soffice(app, monkeypatch, tmp_path, body)
    return gate, runs


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


def test_the_link_answers_a_polling_page_at_once_then_offers_the_file(
    app, client, submitted, gated
):
    gate, runs = gated
    login_as(client, OF_A)
    url = submitted.url("pdf")
    page = client.get(url)
    assert page.status_code == 200 and page.mimetype == "text/html"
    body = text(page)
    assert PREPARING in body
    with app.app_context():
        docx = convention_docx(db.session.get(ConventionVersion, submitted.version_id))
    poll = f"{url}?empreinte={pdf.digest_of(docx)}"
    assert f'hx-get="{poll}" hx-trigger="every 2s" hx-swap="outerHTML"' in body
    assert '<div role="status" aria-live="polite">' in body
    assert "Retour à la version 1" in body
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in body
    assert client.get(poll, headers=HTMX).status_code == 204  # still converting: no swap
    assert client.get(url, headers=HTMX).status_code == 204  # a poll naming no DOCX too
    assert PREPARING in text(client.get(url))  # asked again: not queued twice
    assert count(app, IssuedDocument) == 0
    assert count(app, AuditEvent, AuditEvent.action == "convention.downloaded") == 0

    gate.touch()
    wait_for(lambda: client.get(poll, headers=HTMX).status_code == 200)
    ready = client.get(poll, headers=HTMX)
    fragment = text(ready)
    assert ready.mimetype == "text/html" and "Le PDF est prêt." in fragment
    assert f'<a class="button" href="{url}">Télécharger le PDF</a>' in fragment
    assert "hx-trigger" not in fragment  # the polling stops
    assert count(app, IssuedDocument) == 0  # htmx never gets the file
    download = client.get(url)
    assert download.mimetype == "application/pdf" and download.data == b"%PDF-1.4 job"
    assert runs.read_text().count("run") == 1
    assert count(app, IssuedDocument) == 1


def test_someone_outside_the_operation_gets_404_and_queues_nothing(
    app, client, submitted, gated, documents_dir
):
    login_as(client, OF_B)
    assert client.get(submitted.url("pdf")).status_code == 404
    assert client.get(submitted.url("pdf"), headers=HTMX).status_code == 404
    assert client.post(submitted.url("pdf") + "/reessayer").status_code == 404
    assert not list(documents_dir.rglob("*.queued"))


@pytest.fixture
def failed(app, client, submitted, monkeypatch, tmp_path):
    """The version's conversion has failed (LibreOffice exits 1)."""
    soffice(app, monkeypatch, tmp_path, "exit 1")
    login_as(client, OF_A)
    response = fetch_pdf(client, submitted.url("pdf"))
    assert response.status_code == 503
    return response


def test_a_failed_conversion_says_why_and_offers_to_retry(app, client, submitted, failed):
    url = submitted.url("pdf")
    body = text(failed)
    assert FAILED in body
    assert f'<form method="post" action="{url}/reessayer"' in body
    assert 'name="csrf_token"' in body and "Réessayer" in body
    fragment = client.get(url, headers=HTMX)
    assert fragment.status_code == 200 and FAILED in text(fragment)  # htmx swaps a 200
    assert "hx-trigger" not in text(fragment)
    assert count(app, IssuedDocument) == 0


def test_retrying_queues_the_conversion_again(
    app, client, submitted, failed, monkeypatch, tmp_path
):
    runs = tmp_path / "runs"
    soffice(app, monkeypatch, tmp_path, WRITES_PDF.format(runs=runs))  # LibreOffice repaired
    url = submitted.url("pdf")
    retried = client.post(url + "/reessayer", headers=HTMX)
    assert retried.status_code == 200
    assert PREPARING in text(retried) and 'hx-trigger="every 2s"' in text(retried)
    wait_for(lambda: client.get(url, headers=HTMX).status_code == 200)
    assert client.get(url).data == b"%PDF-1.4 job"
    assert runs.read_text().count("run") == 1


def test_retrying_without_the_csrf_token_is_refused(app, client, submitted, failed):
    refused = client.post(submitted.url("pdf") + "/reessayer", csrf=False)
    assert refused.status_code == 400
    assert FAILED in text(fetch_pdf(client, submitted.url("pdf")))  # still failed


def test_a_poll_whose_job_was_lost_queues_it_again_and_it_converts_once(
    app, client, submitted, gated, documents_dir
):
    gate, runs = gated
    login_as(client, OF_A)
    url = submitted.url("pdf")
    client.get(url)
    [marker] = documents_dir.rglob("*.queued")
    poll = f"{url}?empreinte={marker.stem}"
    assert client.get(poll, headers=HTMX).status_code == 204
    marker.unlink()  # as if its job had been lost (a worker killed), or its marker too old
    assert client.get(poll, headers=HTMX).status_code == 204
    assert marker.exists()  # queued again: two jobs now wait for the same DOCX
    gate.touch()
    wait_for(lambda: client.get(poll, headers=HTMX).status_code == 200)
    wait_for(lambda: not marker.exists())
    assert client.get(url).data == b"%PDF-1.4 job"
    assert runs.read_text().count("run") == 1  # the second found the PDF kept


def test_a_lost_job_is_queued_again_once_its_marker_is_old(app, documents_dir):
    with app.app_context():
        assert storage.claim("conventions/1/x.queued", older_than=60)
        assert not storage.claim("conventions/1/x.queued", older_than=60)
        marker = documents_dir / "conventions/1/x.queued"
        old = time.time() - 61
        os.utime(marker, (old, old))
        assert storage.claim("conventions/1/x.queued", older_than=60)
        assert not storage.claim("conventions/1/x.queued", older_than=60)


# ---- on RQ -------------------------------------------------------------------------------


def burst(app) -> bool:
    with app.app_context():
        return jobs.work(burst=True, simple=True)


def test_with_redis_the_conversion_waits_for_a_worker(
    rq_app, client, submitted, monkeypatch, tmp_path
):
    runs = tmp_path / "runs"
    soffice(rq_app, monkeypatch, tmp_path, WRITES_PDF.format(runs=runs))
    login_as(client, OF_A)
    url = submitted.url("pdf")
    assert PREPARING in text(client.get(url))
    assert PREPARING in text(client.get(url))  # not queued twice
    assert client.get(url, headers=HTMX).status_code == 204
    with rq_app.app_context():
        [job] = jobs.queue().get_jobs()
        docx = convention_docx(db.session.get(ConventionVersion, submitted.version_id))
    assert job.args == ("portal.conventions.pdf.convert", submitted.version_id, docx, "conventions")
    assert not runs.exists()  # no thread converted it in the web process
    assert burst(rq_app) is True
    assert runs.read_text().count("run") == 1
    assert "Le PDF est prêt." in text(client.get(url, headers=HTMX))
    assert client.get(url).data == b"%PDF-1.4 job"


def test_with_redis_a_worker_without_libreoffice_says_so(
    rq_app, client, submitted, monkeypatch, tmp_path
):
    """The web hosts need no LibreOffice with RQ (the button stays): the worker's job tells."""
    monkeypatch.setitem(rq_app.config, "SOFFICE_PATH", str(tmp_path / "absent" / "soffice"))
    login_as(client, OF_A)
    url = submitted.url("pdf")
    assert PREPARING in text(client.get(url))
    burst(rq_app)
    response = client.get(url)
    assert response.status_code == 503
    with rq_app.test_request_context():
        assert pdf.missing_message() in text(response) and "Réessayer" in text(response)
        assert db.session.scalars(select(IssuedDocument)).all() == []
