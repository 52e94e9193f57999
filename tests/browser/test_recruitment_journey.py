"""Recruitment to a trainee's path, in two browsers, axe-core on every page and state.

The organisme records three candidates in one form (after a typo it corrects) and retains
two, each matched to a job promise of Entreprise E; it generates the immersions from the
rhythm, which suggests Paul, the employer's only tutor; Entreprise E's admin confirms him
(issue #12: the host employer designates); the organisme completes one preparation
checklist until the immersion shows « Prête ». The
period then takes place: the tutor logs in (a browser of their own), finds both trainees
among the immersions ended recently and records an assessment (after forgetting a required
answer). The organisme records a collective debrief of the two, whose levels start from
the tutor's; the trainee's path then shows the immersion, the assessment, the debrief and
the skills progress, on the path page and on the trainee's record.

The starting state (an operation at the recruitment step with promises, a tutor, a design
with skills and an immersion period in the rhythm) is built with the factories, apart from
the demo. Immersions follow the Paris calendar (``portal.immersions.rules.today``): the
``clock`` fixture moves that calendar past the period, as the weeks between preparing an
immersion and assessing it would.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect

from portal.core.french import de
from portal.design.models import Design, DesignSection, SectionKey
from portal.design.services import new_id
from portal.extensions import db
from portal.immersions import rules
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
from tests.factories import make_user
from tests.operations.factories import Market
from tests.recruitment.factories import make_recruiting_operation

pytestmark = pytest.mark.browser

TUTOR_EMAIL = "paul.tuteur@example.fr"
# (last name, first name, email, birth year) of the three candidates.
CANDIDATES = [
    ("Moreau", "Inès", "ines.moreau@example.fr", "1998"),
    ("Garnier", "Hugo", "hugo.garnier@example.fr", "2001"),
    ("Petit", "Léa", "lea.petit@example.fr", "1995"),
]
INES, HUGO = (f"{first} {last}" for last, first, _e, _y in CANDIDATES[:2])
# Skills of the design: the first two asked by Entreprise E (the immersion's objectives).
AUTOLAVEUSE = "Utiliser une autolaveuse"
HYGIENE = "Respecter les protocoles d'hygiène"
DECHETS = "Trier les déchets"


@dataclass
class Journey:
    """What the browsers need: the operation, who logs in, the immersion period."""

    operation_id: int
    title: str
    of_email: str
    employer_email: str
    starts_on: date
    ends_on: date


@pytest.fixture
def clock(monkeypatch) -> SimpleNamespace:
    """The immersions' calendar as the live server reads it (state, assessment, debrief):
    ``clock.today``, which the test moves."""
    clock = SimpleNamespace(today=rules.today())
    monkeypatch.setattr(rules, "today", lambda: clock.today)
    return clock


def _design(operation, employer, starts_on: date, ends_on: date) -> None:
    """A design with three skills (two asked by ``employer``) and a rhythm: a week at the
    centre, then the immersion period, then the centre again."""

    def period(kind: str, start: date, end: date) -> dict:
        return {"id": new_id(), "kind": kind, "start": str(start), "end": str(end), "hours": 35}

    def skill(label: str, block: str, employer_id: int | None) -> dict:
        return {"id": new_id(), "label": label, "block_code": block, "employer_id": employer_id}

    items = {
        SectionKey.SKILLS: [
            skill(AUTOLAVEUSE, "BC01", employer.id),
            skill(HYGIENE, "BC01", employer.id),
            skill(DECHETS, "BC02", None),
        ],
        SectionKey.RHYTHM: [
            period("centre", starts_on - timedelta(days=6), starts_on - timedelta(days=1)),
            period("immersion", starts_on, ends_on),
            period("centre", ends_on + timedelta(days=3), ends_on + timedelta(days=7)),
        ],
    }
    design = Design(operation=operation)
    db.session.add(design)
    for key in SectionKey.design_keys():
        content = {"items": items.get(key, [])} if key.is_list else {"text": "Contenu."}
        db.session.add(DesignSection(design=design, key=key, version=1, content=content))


@pytest.fixture
def journey(app, live_server, clock) -> Journey:
    """Organisme A's operation at the recruitment step: 2 promises at Entreprise E, 1 at
    Entreprise F, a target of 2, Partenaire P as prescriber, Paul the only tutor of E."""
    starts_on = clock.today + timedelta(days=7)
    ends_on = starts_on + timedelta(days=4)
    with app.test_request_context(base_url=live_server.url):
        market = Market()
        operation = make_recruiting_operation(market, target=2, counts=(2, 1))
        market.a_user.first_name, market.a_user.last_name = "Louise", "Formatrice"
        make_user(
            market.employer, tutor=True, email=TUTOR_EMAIL, first_name="Paul", last_name="Lefèvre"
        )
        _design(operation, market.employer, starts_on, ends_on)
        db.session.commit()
        return Journey(
            operation.id,
            operation.title,
            market.a_user.email,
            market.employer_user.email,
            starts_on,
            ends_on,
        )


# --- Helpers -----------------------------------------------------------------------------


def fill_candidate(page: Page, number: int, candidate: tuple[str, str, str, str]) -> None:
    last_name, first_name, email, birth_year = candidate
    row = page.get_by_role("group", name=f"Candidat·e n° {number}", exact=True)
    row.get_by_label("Nom", exact=True).fill(last_name)
    row.get_by_label("Prénom").fill(first_name)
    row.get_by_label("Adresse électronique").fill(email)
    row.get_by_label("Année de naissance").fill(birth_year)
    row.get_by_label("Prescripteur").select_option(label="Partenaire P")
    row.get_by_label("Public").select_option(label="Demandeurs d'emploi")


def expect_links_to_fields(page: Page, summary) -> None:
    """Each link of an error summary leads to an element of the page (the field at fault)."""
    summary.get_by_role("link").first.wait_for()
    hrefs = summary.get_by_role("link").evaluate_all("links => links.map(a => a.hash)")
    for href in hrefs:
        expect(page.locator(f"[id='{href[1:]}']"), f"target of {href}").to_have_count(1)


def record_cell(page: Page, term: str):
    """The value (``<dd>``) of ``term`` in the trainee's record."""
    return page.locator("#trainee-record dt", has_text=term).locator(
        "xpath=following-sibling::dd[1]"
    )


def retain_and_match(page: Page, name: str, promise: str) -> None:
    """On the trainee's record: retain the candidate, then place them on ``promise``."""
    page.locator("#trainee-results").get_by_role("link", name=" ".join(name.split()[::-1])).click()
    expect(heading(page)).to_have_text(name)
    check_a11y(page, f"record of {name}")
    mark_document(page)
    record = page.locator("#trainee-record")
    page.get_by_label("Nouveau statut").select_option(label="Retenir la candidature")
    page.get_by_role("button", name="Enregistrer le statut").click()
    expect(record.get_by_role("status")).to_have_text("Statut enregistré : Retenu·e.")
    expect(record_cell(page, "Statut")).to_have_text("Retenu·e")
    check_a11y(page, f"{name} retained")
    page.get_by_label("Promesse d'embauche").select_option(label=promise)
    page.get_by_role("button", name="Positionner sur cette promesse").click()
    expect(record.get_by_role("status")).to_have_text(
        "Positionné·e sur la promesse « Agent·e de propreté » d'Entreprise E."
    )
    expect(record_cell(page, "Promesse d'embauche")).to_have_text(
        "Entreprise E — Agent·e de propreté (CDI)"
    )
    history = record.locator(".timeline__item strong")  # oldest first
    expect(history).to_have_text(["Candidat·e", "Retenu·e"])
    expect_same_document(page)
    check_a11y(page, f"{name} matched")
    page.get_by_role("navigation", name="Fil d'Ariane").get_by_role(
        "link", name="Recrutement"
    ).click()
    expect(heading(page)).to_have_text("Recrutement")


def expect_figures(page: Page, promises, target, retained, matched, open_) -> None:
    """The recruitment figures, side by side: promises, target, retained, matched, open."""
    cells = card(page, "Où en est le recrutement").locator("tbody td")
    expect(cells).to_have_text([str(n) for n in (promises, target, retained, matched, open_)])


def immersion_row(page: Page, name: str):
    """The immersions page's rows of trainee ``name`` (one ``<tbody>`` per trainee)."""
    return page.locator("tbody").filter(has=page.get_by_role("link", name=name, exact=True))


def open_checklist(page: Page, name: str):
    """Open the preparation checklist of ``name``'s immersion in place (htmx)."""
    row = immersion_row(page, name)
    row.get_by_role("link", name=f"Compléter la préparation de l'immersion {de(name)}").click()
    checklist = row.get_by_role("group", name=f"Préparation de l'immersion {de(name)}")
    expect(checklist).to_be_focused()  # keyboard users land on the form swapped in
    return row, checklist


# --- The journey, step by step ------------------------------------------------------------


def open_recruitment(of: Page, journey: Journey) -> None:
    """The operation's recruitment: three promises, none matched, under the target."""
    visit(of, f"/operations/{journey.operation_id}", "operation page")
    expect(heading(of)).to_have_text(journey.title)
    card(of, "Recrutement").get_by_role("link", name="Ouvrir le recrutement").click()
    expect(heading(of)).to_have_text("Recrutement")
    expect_figures(of, 3, 2, 0, 0, 3)
    expect(card(of, "Où en est le recrutement").get_by_role("status")).to_contain_text(
        "Le recrutement reste sous l'effectif ciblé : 0 stagiaire(s) retenu·e(s) pour un "
        "effectif ciblé de 2."
    )
    check_a11y(of, "recruitment page")


def add_three_candidates(of: Page) -> None:
    """One form for three candidates; a birth year typed on two digits is refused first."""
    of.get_by_role("link", name="Ajouter des candidatures").click()
    expect(heading(of)).to_have_text("Ajouter des candidatures")
    check_a11y(of, "bulk form")
    for number, candidate in enumerate(CANDIDATES, start=1):
        fill_candidate(of, number, candidate)
    mark_document(of)
    of.get_by_role("button", name="Ajouter une ligne").click()
    sixth = of.get_by_role("group", name="Candidat·e n° 6", exact=True)
    expect(sixth).to_be_focused()  # htmx swapped the form in with one more row
    expect(of.get_by_role("group", name="Candidat·e n° 3").get_by_label("Prénom")).to_have_value(
        "Léa"
    )
    expect_same_document(of)
    check_a11y(of, "bulk form with a sixth row")
    third = of.get_by_role("group", name="Candidat·e n° 3", exact=True)
    third.get_by_label("Année de naissance").fill("95")
    of.get_by_role("button", name="Enregistrer les candidatures").click()
    summary = of.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("aucune candidature n'a été enregistrée")
    expect(summary.get_by_role("link")).to_have_text(
        "Candidat·e n° 3 — Année de naissance : Année de naissance attendue entre 1940 et 2015."
    )
    expect(third.get_by_label("Année de naissance")).to_have_attribute("aria-invalid", "true")
    expect_links_to_fields(of, summary)
    check_a11y(of, "bulk form refused")
    third.get_by_label("Année de naissance").fill("1995")
    of.get_by_role("button", name="Enregistrer les candidatures").click()
    expect(heading(of)).to_have_text("Recrutement")
    expect(flash(of)).to_contain_text("3 candidatures enregistrées.")
    results = of.locator("#trainee-results")
    expect(results.get_by_role("heading")).to_have_text("3 stagiaires ou candidatures")
    expect(results.locator("tbody tr").filter(has_text="Candidat·e")).to_have_count(3)
    check_a11y(of, "three candidates recorded")


def retain_two(of: Page) -> None:
    """Inès and Hugo are retained, each on one of Entreprise E's promises; Léa waits."""
    retain_and_match(of, INES, "Agent·e de propreté (CDI)")
    retain_and_match(of, HUGO, "Agent·e de propreté (CDI)")
    expect_figures(of, 3, 2, 2, 2, 1)
    expect(card(of, "Où en est le recrutement").get_by_role("status")).to_have_count(0)
    expect(card(of, "Promesses encore à pourvoir", exact=False)).to_contain_text(
        "Entreprise F — Laveur·se de vitres (CDD de 12 mois)"
    )
    promised = of.get_by_role("table", name="Entreprise E — 2 promesses")
    expect(promised.get_by_role("link")).to_have_text([INES, HUGO])
    lea = of.locator("#trainee-results").get_by_role("row").filter(has_text="Petit Léa")
    expect(lea).to_contain_text("Candidat·e")
    check_a11y(of, "two retained and matched")


def prepare_an_immersion(of: Page, journey: Journey) -> None:
    """Immersions from the rhythm, Paul suggested as their tutor."""
    of.get_by_role("link", name=journey.title).click()
    card(of, "Immersions, retours d'expérience et évaluations").get_by_role(
        "link", name="Périodes d'immersion"
    ).click()
    expect(heading(of)).to_have_text("Périodes d'immersion")
    check_a11y(of, "immersions page, none yet")
    of.get_by_role("button", name="Générer les immersions").click()
    expect(flash(of)).to_contain_text("2 immersion(s) créée(s) depuis le rythme.")
    for name in (INES, HUGO):
        row = immersion_row(of, name)
        expect(row).to_contain_text("Entreprise E")
        expect(row).to_contain_text(  # the employer's only tutor, suggested
            "Paul Lefèvre (suggestion à confirmer par l'entreprise)"
        )
        expect(row.get_by_role("listitem")).to_have_text([AUTOLAVEUSE, HYGIENE])
        expect(row.locator(".status")).to_have_text("À préparer")
    check_a11y(of, "immersions generated")


def employer_confirms_paul(employer: Page) -> None:
    """Entreprise E's admin confirms the suggested tutor of both immersions, in place."""
    employer.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Immersions et tutorat"
    ).click()
    expect(heading(employer)).to_have_text("Immersions et tutorat")
    check_a11y(employer, "immersions and tutoring")
    coming = card(employer, "À venir")
    for name in (INES, HUGO):
        row = coming.get_by_role("row").filter(has=employer.get_by_role("rowheader", name=name))
        row.get_by_role("button", name="Confirmer la suggestion : Paul Lefèvre").click()
        expect(row.get_by_role("status")).to_contain_text(
            f"Paul Lefèvre est désigné·e tuteur·rice {de(name)}"
        )
    check_a11y(employer, "tutors confirmed")


def complete_a_checklist(of: Page, journey: Journey) -> None:
    """Inès's checklist, in two goes, until her immersion is « Prête »."""
    of.reload()
    mark_document(of)
    row, checklist = open_checklist(of, INES)
    check_a11y(of, "checklist open")
    checklist.get_by_label("Objectifs fixés avec le ou la stagiaire").check()
    checklist.get_by_label("Tuteur·rice informé·e et préparé·e").check()
    checklist.get_by_label("Informations pratiques (horaires, lieu, tenue, contact)").fill(
        "Rendez-vous à 8 h à l'accueil, tenue fournie."
    )
    row.get_by_role("button", name="Enregistrer la préparation").click()
    expect(row.get_by_role("status")).to_have_text("Préparation enregistrée.")
    expect(row.get_by_role("status")).to_be_focused()
    expect(row.locator(".status")).to_have_text("À préparer")
    expect(row.locator("summary")).to_have_text("Préparation : 3 sur 5")
    check_a11y(of, "checklist partly done")
    row, checklist = open_checklist(of, INES)
    expect(checklist.get_by_label("Objectifs fixés avec le ou la stagiaire")).to_be_checked()
    checklist.get_by_label("Consignes de sécurité et équipements de protection (EPI)").check()
    checklist.get_by_label("Référence de la convention de stage").fill("CS-2026-014")
    row.get_by_role("button", name="Enregistrer la préparation").click()
    expect(row.get_by_role("status")).to_have_text("Immersion prête.")
    expect(row.locator(".status")).to_have_text("Prête")
    expect(row.locator("summary")).to_have_text("Préparation : 5 sur 5")
    expect(immersion_row(of, HUGO).locator(".status")).to_have_text("À préparer")
    expect_same_document(of)
    check_a11y(of, "immersion ready")
    row.get_by_role("link", name=f"du {journey.starts_on:%d/%m/%Y}", exact=False).click()
    expect(heading(of)).to_have_text(f"Immersion {de(INES)}")
    expect(card(of, "État et préparation").locator(".status")).to_have_text("Prête")
    check_a11y(of, "immersion page")


def tutor_assesses(tutor: Page) -> None:
    """The period over, Paul assesses Inès (after forgetting her attendance)."""
    mine = card(tutor, "Mes stagiaires en immersion")
    expect(mine).to_contain_text("2 immersion(s) attendent votre évaluation.")
    expect(mine).not_to_contain_text("Aucun·e stagiaire ne vous est encore confié·e.")
    tutor.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Mes stagiaires en immersion"
    ).click()
    expect(heading(tutor)).to_have_text("Mes stagiaires en immersion")
    recent = card(tutor, "Terminées récemment")
    expect(recent.get_by_role("rowheader")).to_have_text([INES, HUGO])
    check_a11y(tutor, "tutor's space")
    recent.get_by_role("link", name=f"Évaluer l'immersion {de(INES)}").click()
    expect(heading(tutor)).to_have_text(f"Évaluation de l'immersion {de(INES)}")
    check_a11y(tutor, "assessment form")
    tutor.get_by_label(AUTOLAVEUSE, exact=True).select_option(label="Acquis")
    tutor.get_by_label(f"Commentaire sur « {AUTOLAVEUSE} »").fill("Autonome dès le 2e jour.")
    tutor.get_by_label(HYGIENE, exact=True).select_option(label="En cours d'acquisition")
    tutor.get_by_label("Appréciation générale").fill("Sérieuse et ponctuelle.")
    tutor.get_by_role("group", name="Embaucheriez-vous ce ou cette stagiaire ?").get_by_label(
        "Oui"
    ).check()
    tutor.get_by_role("button", name="Enregistrer l'évaluation").click()  # presence forgotten
    summary = tutor.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Assiduité : Indiquez l'assiduité.")
    expect_links_to_fields(tutor, summary)
    expect(tutor.get_by_label("Appréciation générale")).to_have_value("Sérieuse et ponctuelle.")
    check_a11y(tutor, "assessment refused")
    tutor.get_by_role("group", name="Assiduité").get_by_label("Assidu·e").check()
    tutor.get_by_role("button", name="Enregistrer l'évaluation").click()
    expect(heading(tutor)).to_have_text("Mes stagiaires en immersion")
    expect(flash(tutor)).to_contain_text(
        "Évaluation enregistrée : l'organisme de formation en est informé."
    )
    ines_row = recent.get_by_role("row").filter(has_text=INES)
    expect(ines_row).to_contain_text("Enregistrée le")
    expect(ines_row.get_by_role("link")).to_have_text(
        f"Modifier l'évaluation de l'immersion {de(INES)}"
    )
    check_a11y(tutor, "assessment recorded")


def read_the_assessment(of: Page) -> None:
    """The organisme is told, and finds the assessment on Inès's path."""
    of.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Notifications"
    ).click()
    notice = of.locator("#notifications li").filter(
        has_text=f"Paul Lefèvre (Entreprise E) a enregistré l'évaluation de l'immersion {de(INES)}."
    )
    expect(heading(of)).to_have_text("Notifications")
    expect(notice).to_have_count(1)
    check_a11y(of, "notifications")
    notice.get_by_role("link", name="Ouvrir", exact=False).click()
    expect(heading(of)).to_have_text(f"Parcours {de(INES)}")
    expect(card(of, "Immersions en entreprise")).to_contain_text("Terminée — à débriefer")
    expect(card(of, "Progression des compétences")).to_contain_text("Tuteur·rice : Acquis")
    expect(card(of, "Retours d'expérience")).to_contain_text("Aucun retour d'expérience")
    check_a11y(of, "path before the debrief")


def collective_debrief(of: Page, today: date) -> None:
    """One debrief for both trainees of the period, its levels starting from the tutor's."""
    of.get_by_role("link", name="Périodes d'immersion").click()
    of.get_by_role("navigation", name="Immersions, retours et évaluations").get_by_role(
        "link", name="Retours d'expérience"
    ).click()
    expect(heading(of)).to_have_text("Retours d'expérience")
    due = card(of, "Retours à faire", exact=False)
    expect(due.get_by_role("rowheader")).to_have_text([INES, HUGO])
    check_a11y(of, "debriefs due")
    for name in (INES, HUGO):
        due.get_by_label(f"Inclure {name} dans un retour collectif").check()
    due.get_by_role("button", name="Retour collectif pour les stagiaires cochés").click()
    expect(heading(of)).to_have_text("Nouveau retour d'expérience")
    expect(of.get_by_label("Collectif")).to_be_checked()
    expect(of.get_by_label("Date du retour d'expérience")).to_have_value(today.isoformat())
    ines_autolaveuse = of.get_by_label(f"{AUTOLAVEUSE} — {INES}", exact=True)
    expect(ines_autolaveuse.locator("option:checked")).to_have_text("Acquis")  # the tutor's
    expect(
        of.get_by_text("Avis du ou de la tuteur·rice : Acquis — Autonome dès le 2e jour.")
    ).to_be_visible()
    check_a11y(of, "collective debrief form")
    of.get_by_label(f"{HUGO} était présent·e").uncheck()
    of.get_by_label("Paul Lefèvre", exact=True).check()
    of.get_by_label("Ce qui a bien fonctionné").fill("Accueil soigné par l'entreprise.")
    of.get_by_label("Difficultés rencontrées").fill("Horaires décalés le premier jour.")
    of.get_by_label(f"{HYGIENE} — {INES}", exact=True).select_option(label="Acquis")
    of.get_by_label(f"Commentaire : {HYGIENE} — {INES}").fill("Protocoles revus ensemble.")
    of.get_by_label(f"{AUTOLAVEUSE} — {HUGO}", exact=True).select_option(
        label="En cours d'acquisition"
    )
    of.get_by_label("Décisions").fill("Inès poursuit chez Entreprise E.")
    of.get_by_label("Prochaines étapes").fill("Point individuel avec Hugo.")
    of.get_by_role("button", name="Enregistrer le retour d'expérience").click()
    expect(flash(of)).to_contain_text("Retour d'expérience enregistré.")
    expect(heading(of)).to_contain_text("Retour d'expérience du")
    expect(of.locator("main .lead")).to_contain_text("Collectif — enregistré par Louise Formatrice")
    trainees = card(of, "Stagiaires")
    expect(trainees.get_by_role("listitem").filter(has_text=INES)).to_contain_text("présent·e")
    expect(trainees.get_by_role("listitem").filter(has_text=HUGO)).to_contain_text("absent·e")
    expect(card(of, "Autres présent·es")).to_contain_text("Paul Lefèvre (Entreprise E)")
    check_a11y(of, "debrief recorded")


def path_shows_it_all(of: Page, journey: Journey) -> None:
    """Inès's path: the immersion, the assessment, the debrief, skills progress — on the
    path page and on her record."""
    card(of, "Stagiaires").get_by_role("link", name=INES, exact=True).click()
    expect(heading(of)).to_have_text(f"Parcours {de(INES)}")
    immersions = card(of, "Immersions en entreprise")
    expect(immersions.locator("tbody tr")).to_have_count(1)
    expect(immersions.locator("tbody tr")).to_contain_text("Débriefée")
    expect(immersions).to_contain_text("Assiduité : Assidu·e")
    expect(immersions).to_contain_text("Embaucherait : Oui")
    expect(immersions).to_contain_text("Sérieuse et ponctuelle.")
    progress = card(of, "Progression des compétences")
    expect(progress.get_by_role("row").filter(has_text=AUTOLAVEUSE)).to_contain_text(
        "Tuteur·rice : Acquis Retour : Acquis"
    )
    expect(progress.get_by_role("row").filter(has_text=HYGIENE)).to_contain_text(
        "Tuteur·rice : En cours d'acquisition Retour : Acquis"
    )
    expect(progress.get_by_role("img")).to_be_visible()  # the chart, with its title
    debriefs = card(of, "Retours d'expérience")
    expect(debriefs.get_by_role("listitem")).to_contain_text("présent·e")
    expect(debriefs).to_contain_text("Décisions : Inès poursuit chez Entreprise E.")
    check_a11y(of, "trainee's path")

    visit(of, f"/operations/{journey.operation_id}/recrutement", "recruitment at the end")
    of.locator("#trainee-results").get_by_role("link", name="Moreau Inès").click()
    expect(heading(of)).to_have_text(INES)
    expect(card(of, "Progression des compétences")).to_contain_text("Retour : Acquis")
    expect(card(of, "Retours d'expérience")).to_contain_text("Retour collectif du")
    check_a11y(of, "trainee's record with the path")


def test_candidates_to_the_trainees_path(journey, clock, browsers):
    of = logged_in(browsers, journey.of_email, "Louise")
    open_recruitment(of, journey)
    add_three_candidates(of)
    retain_two(of)
    prepare_an_immersion(of, journey)
    employer_confirms_paul(logged_in(browsers, journey.employer_email, "Camille"))
    complete_a_checklist(of, journey)
    clock.today = journey.ends_on + timedelta(days=1)  # the period takes place
    tutor_assesses(logged_in(browsers, TUTOR_EMAIL, "Paul"))
    read_the_assessment(of)
    collective_debrief(of, clock.today)
    path_shows_it_all(of, journey)
