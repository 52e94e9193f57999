"""The partnership convention from submission to recruitment, in four browsers.

The organisme submits the convention; the employer signs version 1 (after a wrong
password, which signs nothing); the organisme then changes a clause and submits version 2,
which voids that signature: the employer sees what changed (<ins>/<del>) and signs again;
the partner, who never opened version 1, sees no diff; the organisme signs; the Région
validates; the operation passes to recruitment from its own page. Each person has their
own browser context (cookies), and axe-core runs on every page and significant state.

The starting state (an operation at the convention step, signers designated) is built with
the services, on organisations of its own, so that the journey does not depend on the demo.
"""

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.conventions.models import Convention, ConventionVersion, Signature, VersionStatus
from portal.extensions import db
from portal.operations.models import Operation, Status
from tests.browser.support import check_a11y, log_in, visit
from tests.conventions.factories import make_convention_ready
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

CLAUSE = "Objet de la convention"
OLD_WORDS = "CDD de six mois ou plus"
NEW_WORDS = "CDD de douze mois ou plus"
NAMES = {  # distinct names, so that each signature row says who signed
    "provider": ("Julie", "Organisme"),
    "employer": ("Émile", "Employeur"),
    "partner": ("Paula", "Partenaire"),
    "region": ("Régis", "Région"),
}


@dataclass
class Journey:
    """What the browsers need: the operation, its URLs and who logs in."""

    operation_id: int
    title: str
    emails: dict[str, str]

    @property
    def operation_url(self) -> str:
        return f"/operations/{self.operation_id}"

    @property
    def convention_url(self) -> str:
        return f"{self.operation_url}/convention"

    def version_url(self, number: int) -> str:
        return f"{self.convention_url}/versions/{number}"


@pytest.fixture
def journey(app, live_server) -> Journey:
    """An operation of « Organisme A » at the convention step, its three signers named."""
    with app.test_request_context(base_url=live_server.url):
        ready = make_convention_ready(partner=True)
        market = ready.market
        people = {
            "provider": market.a_user,
            "employer": market.employer_user,
            "partner": market.partner_user,
            "region": market.referent,
        }
        for key, user in people.items():
            user.first_name, user.last_name = NAMES[key]
        db.session.commit()
        return Journey(
            operation_id=ready.operation.id,
            title=ready.operation.title,
            emails={key: user.email for key, user in people.items()},
        )


# --- Helpers -----------------------------------------------------------------------------


def logged_in(open_for, journey: Journey, who: str) -> Page:
    """A browser of its own for ``who``, logged in with the test password."""
    page = open_for(who)
    log_in(page, journey.emails[who], PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {NAMES[who][0]}")
    check_a11y(page, f"home ({who})")
    return page


def signatures(page: Page):
    return page.locator("#version-signatures")


def party_row(page: Page, organisation: str):
    """The row of ``organisation`` in the signature table of a version."""
    return (
        signatures(page)
        .get_by_role("row")
        .filter(has=page.get_by_role("rowheader", name=organisation))
    )


def fill_signature(page: Page, number: int, password: str) -> None:
    """Tick the consent (its label is the exact text stored) and confirm the password."""
    consent = signatures(page).get_by_label(f"J'ai pris connaissance de la version {number}")
    consent.check()
    signatures(page).get_by_label("Votre mot de passe, pour confirmer votre identité").fill(
        password
    )
    signatures(page).get_by_role("button", name=f"Signer la version {number}").click()


def sign(page: Page, number: int, organisation: str, who: str) -> None:
    """Sign ``number`` for ``organisation`` and check the row now names the signer."""
    fill_signature(page, number, PASSWORD)
    expect(signatures(page).get_by_role("status")).to_have_text(
        f"Votre signature pour {organisation} est enregistrée sur la version {number}."
    )
    expect(party_row(page, organisation)).to_contain_text(f"par {' '.join(NAMES[who])}")
    expect(
        signatures(page).get_by_role("button", name=f"Signer la version {number}")
    ).to_have_count(0)
    check_a11y(page, f"version {number} signed for {organisation}")


def open_version_from_convention(page: Page, journey: Journey, number: int) -> None:
    """From the operation page to the convention, then to the version to sign."""
    visit(page, journey.operation_url, "operation")
    page.get_by_role("link", name="Ouvrir la convention de partenariat").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Convention de partenariat")
    check_a11y(page, "convention page")
    page.locator("#convention-status").get_by_role(
        "link", name=f"Ouvrir la version {number}"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"version {number}")
    check_a11y(page, f"version {number}")


def expect_path(page: Page, path: str) -> None:
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def submit(page: Page, journey: Journey, button: str, number: int) -> None:
    """Press the submit button of the convention page; the browser lands on the version."""
    page.locator("#convention-status").get_by_role("button", name=button).click()
    expect_path(page, journey.version_url(number))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"version {number}")
    expect(page.locator("#flashes")).to_contain_text(
        f"Version {number} soumise aux signatures des parties."
    )
    check_a11y(page, f"version {number} submitted")


def signature_rows(app, operation_id: int) -> list[tuple[int, str, bool]]:
    """(version number, organisation, still valid) of every signature, oldest first."""
    with app.app_context():
        rows = db.session.execute(
            select(ConventionVersion.number, Organisation.name, Signature.voided_at)
            .join(Signature.version)
            .join(ConventionVersion.convention)
            .join(Signature.organisation)
            .where(Convention.operation_id == operation_id)
            .order_by(Signature.id)
        ).all()
        return [(number, name, voided is None) for number, name, voided in rows]


# --- The journey -------------------------------------------------------------------------


def test_convention_signed_resigned_validated_then_recruitment(app, browsers, journey):
    provider = logged_in(browsers, journey, "provider")
    employer = logged_in(browsers, journey, "employer")
    partner = logged_in(browsers, journey, "partner")

    # 1. The organisme submits version 1 from the convention page.
    visit(provider, journey.convention_url, "convention, draft")
    expect(provider.locator("#convention-status")).to_contain_text("Brouillon")
    submit(provider, journey, "Soumettre aux signatures", 1)
    expect(provider.locator("main .lead .status")).to_have_text("À signer")

    # 2. The employer opens version 1; a wrong password shows a French error, signs nothing.
    open_version_from_convention(employer, journey, 1)
    fill_signature(employer, 1, "pas le bon mot de passe")
    expect(signatures(employer).get_by_role("alert")).to_have_text(
        "Mot de passe incorrect : la signature n'est pas enregistrée."
    )
    expect(party_row(employer, "Entreprise E")).to_contain_text("en attente")
    password = signatures(employer).get_by_label(
        "Votre mot de passe, pour confirmer votre identité"
    )
    expect(password).to_have_value("")  # never sent back to the page
    assert signature_rows(app, journey.operation_id) == []
    check_a11y(employer, "version 1, wrong password")
    sign(employer, 1, "Entreprise E", "employer")
    assert signature_rows(app, journey.operation_id) == [(1, "Entreprise E", True)]

    # 3. The organisme changes a clause: the convention page says version 1 is overtaken,
    #    and the organisme submits version 2, which voids the employer's signature.
    visit(provider, journey.convention_url, "convention, version 1 partially signed")
    clause = provider.locator("#section-conv_object")
    clause.get_by_role("link", name=f"Modifier « {CLAUSE} »").click()
    expect(clause).to_have_attribute("data-mode", "edit")
    check_a11y(provider, "convention, clause in edit mode")
    text = clause.get_by_label("Texte", exact=True)
    assert OLD_WORDS in text.input_value()
    text.fill(text.input_value().replace(OLD_WORDS, NEW_WORDS))
    clause.get_by_role("button", name=f"Enregistrer « {CLAUSE} »").click()
    expect(clause).to_have_attribute("data-mode", "view")
    expect(clause).to_contain_text(NEW_WORDS)
    expect(provider.locator("#convention-status")).to_contain_text(
        "Ont changé depuis la version 1 : Articles de la convention."
    )
    check_a11y(provider, "convention, clause changed since version 1")
    submit(provider, journey, "Soumettre une nouvelle version aux signatures", 2)
    assert signature_rows(app, journey.operation_id) == [(1, "Entreprise E", False)]

    # 4. The employer is told, opens version 2, sees the diff since the version it signed,
    #    and finds its signature of version 1 annulée in the history.
    visit(employer, "/notifications/", "notifications")
    notice = employer.get_by_role("listitem").filter(has_text="La version 2 de la convention")
    expect(notice).to_contain_text("les signatures déjà données sont annulées")
    notice.get_by_role("link", name="Ouvrir").click()
    expect_path(employer, journey.version_url(2))
    changes = employer.get_by_role("region", name="Ce qui a changé depuis la version 1")
    expect(changes).to_contain_text("Vous avez lu ou signé la version 1.")
    expect(changes).to_contain_text(
        "Votre signature de la version 1 pour Entreprise E a été annulée"
    )
    expect(changes.get_by_role("heading", name=CLAUSE)).to_be_visible()
    expect(changes.locator("del")).to_contain_text("six")
    expect(changes.locator("ins")).to_contain_text("douze")
    expect(changes.locator("del")).not_to_contain_text("douze")
    expect(changes.locator("ins")).not_to_contain_text("six")
    expect(party_row(employer, "Entreprise E")).to_contain_text("en attente")
    check_a11y(employer, "version 2 with the diff since version 1")

    employer.locator(".breadcrumb").get_by_role("link", name="Convention de partenariat").click()
    history = employer.locator("#versions")
    v1_row = history.get_by_role("row").filter(
        has=employer.get_by_role("rowheader", name="Version 1")
    )
    expect(v1_row).to_contain_text("Annulée le")
    expect(v1_row).to_contain_text("Remplacée par la version 2.")
    employer_name = " ".join(NAMES["employer"])
    expect(v1_row).to_contain_text(
        re.compile(rf"Entreprise E : {employer_name} \(gérant\), le .+ — annulée")
    )
    check_a11y(employer, "convention, history of versions")
    v1_row.get_by_role("link", name="Version 1").click()
    voided = employer.locator("#version-signatures")
    expect(voided.get_by_role("heading", name="Signatures annulées")).to_be_visible()
    expect(voided.get_by_role("listitem").filter(has_text="Entreprise E")).to_contain_text(
        "annulée : Remplacée par la version 2."
    )
    expect(voided.get_by_role("button", name="Signer la version 1")).to_have_count(0)
    check_a11y(employer, "version 1, voided")

    # 5. The employer signs version 2 again; the partner, who never opened version 1, gets
    #    no diff and signs; the organisme, who submitted both, sees the diff and signs last.
    visit(employer, journey.version_url(2), "version 2, back to sign")
    sign(employer, 2, "Entreprise E", "employer")
    open_version_from_convention(partner, journey, 2)
    expect(partner.locator("#changes")).to_have_count(0)
    sign(partner, 2, "Partenaire P", "partner")
    visit(provider, journey.version_url(2), "version 2, organisme")
    expect(provider.locator("#changes ins")).to_contain_text("douze")
    sign(provider, 2, "Organisme A", "provider")
    visit(provider, journey.version_url(2), "version 2, fully signed")
    expect(provider.locator("main .lead .status")).to_have_text("Signée")
    assert sorted(signature_rows(app, journey.operation_id)) == [
        (1, "Entreprise E", False),
        (2, "Entreprise E", True),
        (2, "Organisme A", True),
        (2, "Partenaire P", True),
    ]

    # 6. Before the Région validates, the operation cannot pass to recruitment.
    visit(provider, journey.operation_url, "operation, convention signed")
    next_step = provider.get_by_role("region", name="Étape suivante")
    expect(next_step).to_contain_text(
        "La convention de partenariat n'est pas encore validée par la Région."
    )

    # 7. The Région validates version 2.
    region = logged_in(browsers, journey, "region")
    open_version_from_convention(region, journey, 2)
    expect(party_row(region, "Organisme A")).to_contain_text("Signée le")
    signatures(region).get_by_role("button", name="Valider la version 2").click()
    expect(signatures(region).get_by_role("status")).to_have_text(
        "Version 2 validée par la Région : l'opération peut passer au recrutement."
    )
    expect(signatures(region)).to_contain_text("Validée par la Région le")
    expect(signatures(region).get_by_role("button", name="Valider la version 2")).to_have_count(0)
    check_a11y(region, "version 2 validated")

    # 8. The organisme moves the operation to recruitment from its page.
    visit(provider, journey.operation_url, "operation, convention validated")
    next_step = provider.get_by_role("region", name="Étape suivante")
    expect(next_step).to_contain_text(
        "Toutes les conditions sont réunies pour passer à « Recrutement »"
    )
    next_step.get_by_role("button", name="Passer à « Recrutement »").click()
    expect(provider.locator("#flashes")).to_contain_text(
        "L'opération passe à l'étape « Recrutement »."
    )
    expect(provider.locator("main .lead .status")).to_have_text("Recrutement")
    check_a11y(provider, "operation in recruitment")
    with app.app_context():
        operation = db.session.get(Operation, journey.operation_id)
        assert operation.status == Status.RECRUITMENT
        statuses = db.session.scalars(
            select(ConventionVersion.status)
            .where(ConventionVersion.convention.has(operation_id=journey.operation_id))
            .order_by(ConventionVersion.number)
        ).all()
        assert statuses == [VersionStatus.VOIDED, VersionStatus.VALIDATED]
