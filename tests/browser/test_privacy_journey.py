"""A trainee's personal data in a real browser, axe-core on every page (issue #17): the
organisme opens a trainee's record of the running Saran operation, its « Données
personnelles » page, downloads the Word export, follows the rectification link and
corrects the phone number; the Région's admin reads the register of processing and finds
the closed Fleury session's anonymised trainee under her pseudonym."""

import pytest
from docx import Document
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.operations.models import Operation
from portal.recruitment.models import Trainee
from tests.browser.support import OF_EMAIL, check_a11y, flash, heading, log_in, log_out, visit

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo")]

SARAN = "Préparateur·rice de commandes — session de Saran"
FLEURY = "Préparateur·rice de commandes — session de Fleury"


def _first_trainee(app, title: str, **where) -> Trainee:
    with app.app_context():
        operation = db.session.scalar(select(Operation).where(Operation.title == title))
        query = select(Trainee).where(Trainee.operation_id == operation.id).order_by(Trainee.id)
        for column, value in where.items():
            query = query.where(getattr(Trainee, column).isnot(None) if value else False)
        trainee = db.session.scalars(query).first()
        db.session.expunge(trainee)
        return trainee


def test_the_carrier_exports_and_rectifies_and_the_region_reads_the_register(app, page):
    trainee = _first_trainee(app, SARAN)
    log_in(page, OF_EMAIL)
    visit(page, f"/operations/{trainee.operation_id}/recrutement/stagiaires/{trainee.id}", "record")
    page.get_by_role("link", name="Données personnelles : export, effacement").click()
    expect(heading(page)).to_contain_text("Données personnelles")
    check_a11y(page, "personal data page")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le document lisible (Word)").click()
    assert download.value.suggested_filename == f"donnees-stagiaire-{trainee.id}.docx"
    document = Document(download.value.path())
    assert any(trainee.full_name in p.text for p in document.paragraphs)

    page.get_by_role("link", name="Corriger l'identité ou les coordonnées").click()
    check_a11y(page, "rectification form")
    page.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_role("button", name="Enregistrer").click()
    expect(flash(page)).to_contain_text("Fiche enregistrée.")
    check_a11y(page, "record after rectification")
    log_out(page)

    log_in(page, "region@demo.defi.test")
    page.get_by_role("link", name="Registre des traitements").click()
    expect(heading(page)).to_have_text("Registre des traitements")
    expect(page.get_by_role("heading", name="Journaux d'accès et de connexion")).to_be_visible()
    check_a11y(page, "register")
    anonymised = _first_trainee(app, FLEURY, anonymised_at=True)
    assert anonymised.full_name == f"Stagiaire n° {anonymised.id}"
    visit(
        page,
        f"/operations/{anonymised.operation_id}/recrutement/stagiaires/{anonymised.id}"
        "/donnees-personnelles",
        "anonymised trainee",
    )
    expect(page.get_by_text("Ces données ont été anonymisées")).to_be_visible()
