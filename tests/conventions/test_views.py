"""The convention page over HTTP: state, parties and designation of signers, promises,
preparation, submission with its French problems, the notice of a change since a
version, the operation page's card, and refusals (outsiders 404 on every convention
route, forbidden 403, CSRF 400). Clauses: test_clause_views.py."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.conventions import services
from portal.conventions.models import Convention, ConventionVersion, DesignatedSigner
from portal.design.models import SectionKey
from portal.design.queries import load_design
from portal.extensions import db
from portal.operations.models import Status
from tests.conventions.helpers_views import (
    EMPLOYER_MEMBER,
    build,
    designate_data,
    designation,
    edit_clause,
    url,
)
from tests.design.factories import to_co_design
from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    OF_B,
    PARTNER,
    REFERENT,
    REGION_ADMIN,
    Market,
    set_status,
)
from tests.support import (
    HTMX,
    committed,
    count,
    flashes,
    login_as,
    org_named,
    snapshot,
    text,
    user_with,
)


@pytest.fixture
def op(app):
    """Signers designated (each party's admin): ready to submit."""
    return build(app)


@pytest.fixture
def bare(app):
    """No signer designated yet."""
    return build(app, designate=False)


def versions(app, op) -> list[tuple[int, str]]:
    with app.app_context():
        return [
            (v.number, v.status.value)
            for v in db.session.scalars(
                select(ConventionVersion)
                .where(ConventionVersion.convention_id == op.convention)
                .order_by(ConventionVersion.number)
            )
        ]


# --- The page ------------------------------------------------------------------------------


@pytest.mark.parametrize("email", [REGION_ADMIN, REFERENT, OF_A, EMPLOYER, PARTNER])
def test_every_participant_reads_the_convention(app, client, op, email):
    login_as(client, email)
    response = client.get(url(op))
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Convention de partenariat</h1>" in page
    assert 'id="convention-status"' in page and ">Brouillon</span>" in page
    for key in SectionKey.clause_keys():
        assert f'id="section-{key.value}"' in page and key.title in page
    for name in ("Organisme A", "Entreprise E", "Partenaire P", "Région Centre-Val de Loire"):
        assert f'<th scope="row">{name}</th>' in page
    assert "gérant" in page and "directrice" in page  # designated capacities
    assert "Agent·e d'entretien" in page and "CDI" in page  # the job promise
    assert f'href="/operations/{op.id}/conception"' in page  # the design annex
    assert "Aucune version n'a encore été soumise" in page


def test_the_design_page_does_not_show_the_clauses(client, op):
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{op.id}/conception"))
    assert 'id="section-objectives"' in page
    assert "conv_" not in page


def test_only_the_carrier_and_the_region_may_submit(client, op):
    login_as(client, OF_A)
    assert "Soumettre aux signatures" in text(client.get(url(op)))
    client.post("/deconnexion")
    login_as(client, EMPLOYER)
    page = text(client.get(url(op)))
    assert "Soumettre aux signatures" not in page
    assert "Pour soumettre" not in page


def test_what_is_missing_before_submission_is_said_in_french(client, bare):
    login_as(client, OF_A)
    page = text(client.get(url(bare)))
    assert "Pour soumettre la convention aux signatures, il reste à :" in page
    assert "Signataire à désigner pour : Organisme A, Entreprise E, Partenaire P." in page
    assert page.count("à désigner</span>") == 3


def test_htmx_gets_the_state_block(client, op):
    login_as(client, OF_A)
    response = client.get(url(op), headers=HTMX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="convention-status"')
    assert "<html" not in body and 'hx-trigger="design-refresh from:body"' in body
    assert "HX-Request" in response.headers["Vary"]


ROUTES = [
    ("GET", ""),
    ("POST", "/demarrage"),
    ("POST", "/signataires/{employer}"),
    ("POST", "/soumission"),
    ("GET", "/versions/1"),
    ("POST", "/versions/1/signature"),
    ("POST", "/versions/1/relance/{employer}"),
    ("POST", "/versions/1/validation"),
    ("POST", "/versions/1/rejet"),
]


@pytest.mark.parametrize("email", [OF_B, EMPLOYER2])
def test_outsiders_get_404_everywhere_and_change_nothing(app, client, op, email):
    with committed(app):
        services.submit(
            db.session.get(Convention, op.convention),
            by=user_with(OF_A),
            org=org_named("Organisme A"),
        )
    login_as(client, email)
    before = snapshot(app)
    data = {
        **designate_data(op.employer, op.employer_user, "gérant"),
        "sign-consent": "y",
        "sign-password": "x",
        "reject-reason": "Non",
    }
    for method, path in ROUTES:
        response = client.open(url(op, path.format(employer=op.employer)), method=method, data=data)
        assert response.status_code == 404, (method, path)
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "path",
    ["/demarrage", "/signataires/{employer}", "/soumission"],
)
def test_posts_without_csrf_token_are_refused(app, client, op, path):
    login_as(client, OF_A)
    before = snapshot(app)
    response = client.post(
        url(op, path.format(employer=op.employer)),
        data=designate_data(op.employer, op.employer_user, "présidente"),
        csrf=False,
    )
    assert response.status_code == 400
    assert "Votre session a expiré" in text(response)
    assert snapshot(app) == before


# --- Preparing the convention ------------------------------------------------------------


@pytest.fixture
def co_design(app):
    """An operation in co-design (design started, no convention)."""
    with committed(app):
        return SimpleNamespace(id=to_co_design(Market()).id)


def test_before_its_step_the_page_says_when_it_comes(client, co_design):
    login_as(client, OF_A)
    page = text(client.get(url(co_design)))
    assert "La convention n'est pas encore préparée" in page
    assert "Préparer la convention" not in page
    assert 'id="convention-card-title"' not in text(client.get(f"/operations/{co_design.id}"))


def test_the_carrier_prepares_the_convention_at_its_step(app, client, co_design):
    set_status(app, co_design.id, Status.CONVENTION)
    login_as(client, EMPLOYER)
    assert "Préparer la convention" not in text(client.get(url(co_design)))
    assert client.post(url(co_design, "/demarrage")).status_code == 403
    client.post("/deconnexion")
    login_as(client, OF_A)
    assert "Préparer la convention" in text(client.get(url(co_design)))
    response = client.post(url(co_design, "/demarrage"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(co_design))
    assert count(app, Convention, Convention.operation_id == co_design.id) == 1
    page = text(client.get(url(co_design)))
    assert "Convention préparée" in page and 'id="section-conv_object"' in page
    # The operation page links to it from the convention step on.
    home = text(client.get(f"/operations/{co_design.id}"))
    assert "Ouvrir la convention de partenariat" in home and ">Brouillon</span>" in home


def test_preparing_out_of_its_step_is_refused_in_french(app, client, co_design):
    login_as(client, OF_A)
    response = client.post(url(co_design, "/demarrage"))
    assert response.status_code == 303
    assert ("error", "La convention se rédige quand l'opération est à l'étape convention.") in (
        flashes(client)
    )
    assert count(app, Convention, Convention.operation_id == co_design.id) == 0


# --- Designating signers ---------------------------------------------------------------------


def test_an_employer_admin_designates_its_own_signer(app, client, bare):
    login_as(client, EMPLOYER)
    page = text(client.get(url(bare)))
    assert "Désigner le signataire d'Entreprise E" in page
    assert "Désigner le signataire de Partenaire P" not in page
    with app.app_context():
        member = db.session.scalar(
            select(DesignatedSigner.id).where(DesignatedSigner.convention_id == bare.convention)
        )
    assert member is None
    response = client.post(
        url(bare, f"/signataires/{bare.employer}"),
        data=designate_data(bare.employer, bare.employer_user, "gérant"),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(bare) + "#parties")
    row = designation(app, bare, bare.employer)
    assert (row.user_id, row.capacity) == (bare.employer_user, "gérant")


def test_designation_by_htmx_answers_the_parties_and_the_state_out_of_band(client, bare):
    login_as(client, OF_A)
    response = client.post(
        url(bare, f"/signataires/{bare.partner}"),
        data=designate_data(bare.partner, bare.partner_user, "directeur d'agence"),
        headers=HTMX,
    )
    assert response.status_code == 200
    body = text(response)
    assert body.lstrip().startswith('<section id="parties"')
    assert "Signataire de Partenaire P enregistré." in body
    assert 'id="convention-status"' in body and 'hx-swap-oob="true"' in body
    assert "Signataire à désigner pour : Organisme A, Entreprise E." in body


def test_others_may_not_designate_for_a_party(app, client, bare):
    login_as(client, EMPLOYER)
    data = designate_data(bare.partner, bare.partner_user, "directeur")
    assert client.post(url(bare, f"/signataires/{bare.partner}"), data=data).status_code == 403
    client.post("/deconnexion")
    login_as(client, EMPLOYER_MEMBER)  # a member of the party, not its admin
    data = designate_data(bare.employer, bare.employer_user, "gérant")
    assert client.post(url(bare, f"/signataires/{bare.employer}"), data=data).status_code == 403
    assert "Désigner le signataire" not in text(client.get(url(bare)))
    assert designation(app, bare, bare.employer) is None
    assert designation(app, bare, bare.partner) is None


def test_a_party_that_does_not_sign_is_404(client, bare):
    login_as(client, OF_A)
    data = designate_data(bare.of_b, bare.employer_user, "gérant")
    assert client.post(url(bare, f"/signataires/{bare.of_b}"), data=data).status_code == 404


@pytest.mark.parametrize(
    ("user", "capacity", "message"),
    [
        ("employer_user", "", "Indiquez la qualité du signataire (gérant, directrice…)."),
        ("", "gérant", "Ce champ est obligatoire."),
        ("partner_user", "gérant", None),  # not a member of Entreprise E: not a choice
    ],
)
def test_designation_errors_are_shown_in_french(app, client, bare, user, capacity, message):
    login_as(client, OF_A)
    user_id = getattr(bare, user) if user else ""
    response = client.post(
        url(bare, f"/signataires/{bare.employer}"),
        data=designate_data(bare.employer, user_id, capacity),
        headers=HTMX,
    )
    assert response.status_code == 422
    body = text(response)
    assert "Le signataire n'est pas enregistré : corrigez les erreurs signalées." in body
    assert 'aria-invalid="true"' in body
    if message:
        assert message in body
    assert designation(app, bare, bare.employer) is None


def test_designation_errors_without_javascript_show_the_page(client, bare):
    login_as(client, OF_A)
    response = client.post(
        url(bare, f"/signataires/{bare.employer}"),
        data=designate_data(bare.employer, bare.employer_user, ""),
    )
    assert response.status_code == 422
    page = text(response)
    assert "<h1>Convention de partenariat</h1>" in page
    assert '<details id="designation-' in page and " open>" in page


# --- Submitting ------------------------------------------------------------------------------


def test_submission_is_for_the_carrier_and_the_region(app, client, op):
    login_as(client, EMPLOYER)
    assert client.post(url(op, "/soumission")).status_code == 403
    assert versions(app, op) == []


def test_submission_refused_shows_what_is_missing(app, client, bare):
    login_as(client, OF_A)
    response = client.post(url(bare, "/soumission"), headers=HTMX)
    assert response.status_code == 422
    body = text(response)
    assert body.lstrip().startswith('<section id="convention-status"')
    assert "La convention ne peut pas encore être soumise : voir ce qui manque." in body
    assert "Signataire à désigner pour" in body
    assert versions(app, bare) == []


def test_submission_freezes_version_1_and_goes_to_it(app, client, op):
    login_as(client, OF_A)
    response = client.post(url(op, "/soumission"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(op, "/versions/1"))
    assert versions(app, op) == [(1, "to_sign")]
    page = text(client.get(url(op)))
    assert ">À signer</span>" in page
    assert "La version 1 attend les signatures des parties" in page
    # Nothing to submit until something changes: neither the button nor what it would lack
    # (issue #15: the box said « il reste à : Rien n'a changé » next to the button).
    status = page.split('id="convention-status"', 1)[1].split("</section>", 1)[0]
    assert "Rien n'a changé" not in status
    assert "Pour soumettre la convention aux signatures" not in status
    assert "Soumettre une nouvelle version aux signatures" not in status
    timeline = text(client.get(f"/operations/{op.id}"))
    assert "Convention : version 1 soumise aux signatures" in timeline


def test_submission_by_htmx_sends_the_browser_to_the_new_version(app, client, op):
    login_as(client, REFERENT)  # the Région may submit too
    response = client.post(url(op, "/soumission"), headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].endswith(url(op, "/versions/1"))
    assert versions(app, op) == [(1, "to_sign")]


def test_a_change_after_submission_is_noticed_and_calls_for_a_new_version(app, client, op):
    login_as(client, OF_A)
    client.post(url(op, "/soumission"))
    edit_clause(app, op, "Un objet reformulé.")
    page = text(client.get(url(op)))
    assert "Ont changé depuis la version 1 : Articles de la convention." in page
    assert "La co-conception a changé" not in page
    assert "Soumettre une nouvelle version aux signatures" in page
    # The design it quotes changed too (read from the database, as the snapshot does).
    with committed(app):
        section = load_design(op.id).section(SectionKey.MEANS)
        section.content = {"text": "Un plateau technique de plus."}
    page = text(client.get(url(op), headers=HTMX))
    assert "La co-conception a changé depuis la version 1." in page
    assert "Articles de la convention, Annexe : la formation co-conçue" in page
