"""Pages as people see them: home per role, French error pages, headers, demo outbox, and
list pages whose number of SQL queries does not grow with the data."""

import pytest
from markupsafe import escape
from sqlalchemy import select

from portal.accounts import invitations, services
from portal.accounts.models import Organisation, OrgKind, User
from portal.core.time import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.security import CSP
from tests.factories import make_org, make_territory, make_user
from tests.support import HTMX, load_demo_copy, login_as, queries


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


# --- Home page per role ------------------------------------------------------------------

COMMON_HOME = [
    "Bonjour Camille",
    "Mon profil",
    "Mes organisations",
    "Aucune invitation en attente.",
]


@pytest.mark.parametrize(
    ("person", "title", "texts"),
    [
        (
            "region_admin",
            "Accueil — Région",
            [
                "Vous pilotez les opérations DEFI pour Région Centre-Val de Loire.",
                "Nouveaux besoins signalés",
                "Aucun bassin d'emploi n'est encore défini.",
                "Gérer les bassins et les référent·es",
            ],
        ),
        (
            "a_admin",
            "Accueil — Organisme de formation",
            [
                "Espace d'Organisme A, organisme de formation.",
                "Mes opérations DEFI",
                "Vous n'avez pas encore d'opération DEFI.",
            ],
        ),
        (
            "employer_admin",
            "Accueil — Entreprise",
            [
                "Espace d'Entreprise E.",
                "Mes formations DEFI",
                "Votre entreprise ne participe encore à aucune opération DEFI.",
            ],
        ),
        (
            "partner_admin",
            "Accueil — Partenaire",
            [
                "Espace de Partenaire P, partenaire des opérations DEFI.",
                "Opérations suivies",
                "Vous ne participez encore à aucune opération.",
            ],
        ),
    ],
)
def test_home_page_per_role(client, world, person, title, texts):
    login_as(client, world.emails[person])
    response = client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert f"<title>{title} — Portail DEFI</title>" in page
    assert '<html lang="fr">' in page
    for expected in [*texts, *COMMON_HOME]:
        assert expected in page, expected


def test_region_member_home_lists_referents_without_admin_link(app, client, world):
    with app.app_context():
        territory = make_territory(name="Orléans", code="ORL")
        territory.referent = db.session.get(User, world.region_member)
        db.session.commit()
    login_as(client, world.emails["region_member"])
    page = text(client.get("/"))
    assert '<th scope="row">Orléans</th><td>Camille Martin</td>' in page
    assert "Aucun bassin d'emploi n'est encore défini." not in page
    assert "Gérer les bassins et les référent·es" not in page


def test_tutor_home_shows_their_trainees_section(app, client, world):
    with app.app_context():
        make_user(
            db.session.get(Organisation, world.employer), email="tuteur@example.fr", tutor=True
        )
        db.session.commit()
    login_as(client, "tuteur@example.fr")
    page = text(client.get("/"))
    assert "Mes stagiaires en immersion" in page
    assert "Aucun·e stagiaire ne vous est encore confié·e." in page
    assert "Mes formations DEFI" not in page


def test_home_lists_sent_and_received_invitations(app, client, other_client, world):
    with app.test_request_context():
        invitations.invite(
            world.emails["employer_admin"],
            db.session.get(Organisation, world.of_a),
            by=db.session.get(User, world.a_admin),
        )
        db.session.commit()
    login_as(client, world.emails["a_admin"])
    sent = text(client.get("/"))
    assert "Invitations envoyées par Organisme A, pas encore acceptées :" in sent
    assert world.emails["employer_admin"] in sent
    login_as(other_client, world.emails["employer_admin"])
    received = text(other_client.get("/"))
    assert "Vous êtes invité·e à rejoindre :" in received
    assert "Organisme A — expire le" in received


# --- Error pages -------------------------------------------------------------------------


def test_404_page_is_french(client, world):
    response = client.get("/cette-page-n-existe-pas")
    assert response.status_code == 404
    page = text(response)
    assert "<h1>Page introuvable</h1>" in page
    assert "Cette page n'existe pas ou n'existe plus." in page
    assert "Code d'erreur : 404" in page


def test_403_page_is_french(client, world):
    login_as(client, world.emails["a_member"])
    response = client.get(f"/organisations/{world.of_b}/membres")
    assert response.status_code == 403
    page = text(response)
    assert page.startswith("<!doctype html>")
    assert "<h1>Accès refusé</h1>" in page
    assert "Vous n'avez pas accès à cette page avec l'organisation courante." in page


@pytest.mark.parametrize(
    ("status", "title"), [(403, "Accès refusé (403)"), (404, "Page introuvable (404)")]
)
def test_error_for_htmx_is_a_fragment_retargeted(client, world, status, title):
    login_as(client, world.emails["a_member"])
    url = f"/organisations/{world.of_b}/membres" if status == 403 else "/introuvable"
    response = client.get(url, headers=HTMX)
    assert response.status_code == status
    fragment = text(response)
    assert "<html" not in fragment
    assert fragment.lstrip().startswith('<div class="alert alert--error"')
    assert title in fragment
    assert response.headers["HX-Retarget"] == "#htmx-errors"
    assert response.headers["HX-Reswap"] == "innerHTML"


def test_csrf_error_for_htmx_is_a_french_fragment(client, world):
    login_as(client, world.emails["a_admin"])
    response = client.post(
        f"/organisations/{world.of_a}/invitations",
        data={"email": "recrue@example.fr"},
        headers=HTMX,
        csrf=False,
    )
    assert response.status_code == 400
    assert "Votre session a expiré ou le formulaire est trop ancien." in text(response)
    assert "<html" not in text(response)
    assert response.headers["HX-Retarget"] == "#htmx-errors"


def test_405_page_is_french_and_names_the_allowed_methods(client, world):
    response = client.get("/deconnexion")
    assert response.status_code == 405
    assert "Action non permise" in text(response)
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"OPTIONS", "POST"}


# --- Headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/", "/organisations/{of_a}/membres", "/administration/organisations", "/compte"]
)
def test_authenticated_pages_are_not_stored(client, world, url):
    login_as(client, world.emails["region_admin"])
    response = client.get(url.format(of_a=world.of_a))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_error_pages_of_authenticated_users_are_not_stored(client, world):
    login_as(client, world.emails["a_member"])
    response = client.get(f"/organisations/{world.of_b}/membres")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("url", "logged_in", "headers"),
    [
        ("/connexion", False, {}),
        ("/", False, {}),  # a redirect
        ("/healthz", False, {}),  # JSON
        ("/static/css/app.css", False, {}),
        ("/introuvable", False, {}),
        ("/", True, {}),
        ("/organisations/{of_a}/membres", True, HTMX),  # a fragment
        ("/organisations/{of_b}/membres", True, HTMX),  # an error fragment
    ],
)
def test_every_response_carries_the_security_headers(client, world, url, logged_in, headers):
    if logged_in:
        login_as(client, world.emails["a_admin"])
    with client.get(url.format(of_a=world.of_a, of_b=world.of_b), headers=headers) as response:
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_csp_forbids_inline_scripts(client):
    csp = client.get("/connexion").headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


# --- Demo outbox -------------------------------------------------------------------------


def test_demo_outbox_is_hidden_without_demo_data(client, world):
    login_as(client, world.emails["region_admin"])
    response = client.get("/demo/courriels")
    assert response.status_code == 404
    assert "Données de démonstration" not in text(client.get("/"))


@pytest.fixture
def demo_data(app):
    load_demo_copy(app)


def test_demo_outbox_shows_a_region_admin_every_email(client, demo_data):
    login_as(client, "region@demo.defi.test")
    response = client.get("/demo/courriels")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Courriels envoyés (démonstration)</h1>" in page
    assert "vous voyez les courriels de tout le monde" in page
    # The page lists the newest 100 mails: the newest mails to two other people are there.
    with client.application.app_context():
        others = db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient != "region@demo.defi.test")
            .order_by(OutboxMessage.id.desc())
        ).all()
        shown = [(m.recipient, m.subject) for m in others[:40]]
    recipients = {recipient for recipient, _subject in shown}
    assert len(recipients) >= 2
    for recipient, subject in shown[:2]:
        assert recipient in page
        assert escape(subject) in page
    assert "Voir les courriels envoyés" in text(client.get("/"))


def test_demo_outbox_needs_a_login(client, demo_data):
    """Issue #11 M4: in demo mode an anonymous visitor read anyone's reset link there."""
    client.post("/mot-de-passe-oublie", data={"email": "employeur@demo.defi.test"})
    response = client.get("/demo/courriels")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")
    assert "/mot-de-passe/" not in text(response)
    assert "Voir les courriels envoyés" not in text(client.get("/connexion"))


def test_demo_outbox_shows_only_the_users_own_emails(client, other_client, demo_data):
    """Issue #11 M4: a member reads the e-mails addressed to them, nobody else's."""
    other_client.post("/mot-de-passe-oublie", data={"email": "employeur@demo.defi.test"})
    login_as(client, "of@demo.defi.test")
    page = text(client.get("/demo/courriels"))
    assert "Vous voyez les courriels qui vous ont été adressés." in page
    assert "Réinitialisation de votre mot de passe" not in page
    assert "/mot-de-passe/" not in page and "employeur@demo.defi.test" not in page
    login_as(other_client, "employeur@demo.defi.test")
    own = text(other_client.get("/demo/courriels"))
    assert "Réinitialisation de votre mot de passe" in own
    assert "/mot-de-passe/" in own
    assert "nouvelle.formatrice@demo.defi.test" not in own


# --- Query counts on list pages ----------------------------------------------------------


def grow_members(app, world, n: int) -> None:
    """``n`` more active members of Organisme A, ``n`` former members and ``n`` invitations."""
    with app.test_request_context():
        organisation = db.session.get(Organisation, world.of_a)
        admin = db.session.get(User, world.a_admin)
        for _ in range(n):
            make_user(organisation, admin=True)
            former = make_user(organisation)
            membership = services.active_membership(former, organisation)
            membership.active = False
            membership.deactivated_at = utcnow()
            membership.deactivated_by = admin
        for i in range(n):
            invitations.invite(f"invitee-{i}-{n}@example.fr", organisation, by=admin)
        db.session.commit()


def grow_organisations(app, n: int) -> None:
    """``n`` more organisations of every kind, with a bassin and members."""
    with app.app_context():
        for i in range(n):
            territory = make_territory()
            kind = list(OrgKind)[i % len(OrgKind)]
            fields = {"partner_type": "employment"} if kind == OrgKind.PARTNER else {}
            organisation = make_org(kind, territory=territory, **fields)
            make_user(organisation, admin=True)
            make_user(organisation)
        db.session.commit()


N = 4


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "fragment"])
def test_members_page_query_count_is_constant(app, client, world, headers):
    login_as(client, world.emails["a_admin"])
    url = f"/organisations/{world.of_a}/membres"
    grow_members(app, world, N)
    small = len(queries(app, client, url, headers))
    grow_members(app, world, 2 * N)  # 3N in all
    assert len(queries(app, client, url, headers)) == small


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        ("/administration/organisations", {}),
        ("/administration/organisations?type=provider", HTMX),
        ("/administration/utilisateurs", {}),
    ],
)
def test_admin_list_query_count_is_constant(app, client, world, url, headers):
    login_as(client, world.emails["region_admin"])
    grow_organisations(app, N)
    small = len(queries(app, client, url, headers))
    grow_organisations(app, 2 * N)  # 3N in all
    assert len(queries(app, client, url, headers)) == small
