"""Evaluation, prime DEFI and closing in two browsers, axe-core on every page and state.

Organisme A's operation is in the employment follow-up; every +6 months follow-up is
answered and the evaluation is open with three of its four parts written. The organisme
writes the last part, submits the evaluation and requests the prime DEFI (after forgetting
its justification). The Région accepts the evaluation and grants the prime (after
forgetting the amount). The organisme closes the operation.
"""

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from portal.design.models import SectionKey
from portal.extensions import db
from tests.assessment.factories import TEXTS, Evaluated
from tests.browser.support import (
    card,
    check_a11y,
    expect_same_document,
    flash,
    heading,
    logged_in,
    mark_document,
    visit,
)

pytestmark = pytest.mark.browser


@dataclass
class Journey:
    operation_id: int
    of_email: str
    region_email: str


@pytest.fixture
def journey(app, live_server) -> Journey:
    with app.test_request_context(base_url=live_server.url):
        world = Evaluated()
        world.open()
        world.write(keys=[k for k in TEXTS if k != SectionKey.EVAL_CERTIFICATION])
        m = world.market
        m.a_user.first_name, m.a_user.last_name = "Louise", "Formatrice"
        m.region_admin.first_name, m.region_admin.last_name = "Sophie", "Région"
        db.session.commit()
        return Journey(world.operation.id, m.a_user.email, m.region_admin.email)


def status(page: Page):
    return page.locator("#assessment-status")


def of_writes_and_submits(of: Page, journey: Journey) -> None:
    visit(of, f"/operations/{journey.operation_id}", "operation page in follow-up")
    card(of, "Évaluation et prime DEFI").get_by_role(
        "link", name="Évaluation de l'opération"
    ).click()
    expect(heading(of)).to_have_text("Évaluation de l'opération")
    expect(status(of)).to_contain_text("Parties à rédiger avant la soumission")
    check_a11y(of, "evaluation, one part missing")
    of.get_by_role("link", name="Modifier « Propositions d'évolution des certifications »").click()
    section = of.locator("#section-eval_certification")
    section.get_by_label("Texte").fill("Un bloc de compétences numériques.")
    check_a11y(of, "evaluation part in edit mode")
    section.get_by_role("button", name="Enregistrer").click()
    expect(section).to_contain_text("Un bloc de compétences numériques.")
    of.reload()
    check_a11y(of, "evaluation written")
    mark_document(of)
    status(of).get_by_role("button", name="Soumettre l'évaluation à la Région").click()
    expect(status(of).get_by_role("status")).to_have_text("Évaluation soumise à la Région.")
    expect(status(of)).to_contain_text("Soumise à la Région")
    check_a11y(of, "evaluation submitted")
    status(of).get_by_role("button", name="Demander la prime DEFI").click()
    expect(status(of).locator("#error-summary")).to_contain_text("Justifiez la demande.")
    check_a11y(of, "prime request refused")
    status(of).get_by_label("Justification").fill("Formation sur le plateau de l'employeur.")
    status(of).get_by_role("button", name="Demander la prime DEFI").click()
    expect(status(of).get_by_role("status")).to_have_text("Prime DEFI demandée à la Région.")
    expect_same_document(of)
    check_a11y(of, "prime requested")


def region_decides(region: Page, journey: Journey) -> None:
    visit(region, f"/operations/{journey.operation_id}/evaluation", "region's evaluation page")
    mark_document(region)
    status(region).get_by_role("group", name="Décision").first.get_by_label(
        "Accepter l'évaluation"
    ).check()
    status(region).get_by_role("button", name="Enregistrer la décision sur l'évaluation").click()
    expect(status(region).get_by_role("status")).to_have_text("Évaluation acceptée.")
    check_a11y(region, "evaluation accepted")
    status(region).get_by_label("Accorder la prime").check()
    status(region).get_by_role("button", name="Enregistrer la décision sur la prime").click()
    expect(status(region).get_by_role("alert").first).to_be_visible()
    check_a11y(region, "prime decision refused")
    status(region).get_by_label("Accorder la prime").check()
    status(region).get_by_label("Montant accordé (euros)").fill("3500")
    status(region).get_by_role("button", name="Enregistrer la décision sur la prime").click()
    expect(status(region).get_by_role("status")).to_have_text("Prime DEFI accordée.")
    expect(status(region)).to_contain_text("3500 €")
    expect_same_document(region)
    check_a11y(region, "prime granted")


def of_closes(of: Page, journey: Journey) -> None:
    visit(of, f"/operations/{journey.operation_id}", "operation ready to close")
    step = card(of, "Étape suivante")
    expect(step).to_contain_text("Toutes les conditions sont réunies pour passer à « Clôturée »")
    step.get_by_role("button", name="Passer à « Clôturée »").click()
    expect(flash(of)).to_be_visible()
    expect(of.locator(".lead .status, .status").first).to_be_visible()
    expect(card(of, "Évaluation et prime DEFI")).to_contain_text("accordée : 3500 €")
    check_a11y(of, "operation closed")


def test_evaluation_prime_and_closing(browsers, journey):
    of = logged_in(browsers, journey.of_email, "Louise")
    of_writes_and_submits(of, journey)
    region = logged_in(browsers, journey.region_email, "Sophie")
    region_decides(region, journey)
    of_closes(of, journey)
