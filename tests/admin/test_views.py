"""The Région's administration over HTTP: organisations, users, territories."""

import pytest
from sqlalchemy import func, select

from portal.accounts import services
from portal.accounts.models import Organisation, OrgKind, PartnerType, Territory, User
from portal.demo import demo_siret
from portal.extensions import db
from tests.factories import make_territory
from tests.support import HTMX, form_login, login_as

VALID_SIRET = demo_siret(42)
BAD_KEY_SIRET = VALID_SIRET[:-1] + str((int(VALID_SIRET[-1]) + 1) % 10)


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def org_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Organisation))


def get(app, model, ident):
    with app.app_context():
        obj = db.session.get(model, ident)
        db.session.expunge(obj)
        return obj


@pytest.fixture
def region_admin(client, world):
    """``client`` logged in as the Région's admin."""
    login_as(client, world.emails["region_admin"])
    return client


def org_form(**fields) -> dict:
    data = {"kind": "provider", "name": "Formations du Berry", "siret": "", "partner_type": ""}
    data.update(fields)
    return data


# --- Organisations -----------------------------------------------------------------------


def test_create_organisation(app, region_admin, world):
    with app.app_context():
        territory_id = make_territory(name="Bourges", code="BRG").id
        db.session.commit()
    page = region_admin.get("/administration/organisations/nouvelle")
    assert page.status_code == 200
    assert "<h1>Nouvelle organisation</h1>" in text(page)

    spaced = " ".join([VALID_SIRET[:3], VALID_SIRET[3:6], VALID_SIRET[6:9], VALID_SIRET[9:]])
    response = region_admin.post(
        "/administration/organisations/nouvelle",
        data=org_form(siret=spaced, postal_code="18000", city="Bourges", territory_id=territory_id),
    )
    assert response.status_code == 303
    with app.app_context():
        created = db.session.scalar(
            select(Organisation).where(Organisation.name == "Formations du Berry")
        )
        assert (created.kind, created.siret, created.territory_id) == (
            OrgKind.PROVIDER,
            VALID_SIRET,
            territory_id,
        )
        assert response.headers["Location"] == f"/organisations/{created.id}/membres"
    next_page = text(region_admin.get(response.headers["Location"]))
    assert "Organisation « Formations du Berry » créée." in next_page


@pytest.mark.parametrize(
    ("siret", "message"),
    [
        (BAD_KEY_SIRET, "Ce SIRET n'est pas valide (clé de contrôle incorrecte)."),
        ("1234", "Le SIRET doit comporter exactement 14 chiffres."),
    ],
)
def test_invalid_siret_creates_nothing(app, region_admin, world, siret, message):
    before = org_count(app)
    response = region_admin.post(
        "/administration/organisations/nouvelle", data=org_form(siret=siret)
    )
    assert response.status_code == 422
    assert message in text(response)
    assert org_count(app) == before


def test_duplicate_siret_is_refused_in_french(app, region_admin, world):
    with app.app_context():
        db.session.get(Organisation, world.of_a).siret = VALID_SIRET
        db.session.commit()
    before = org_count(app)
    response = region_admin.post(
        "/administration/organisations/nouvelle", data=org_form(siret=VALID_SIRET)
    )
    assert response.status_code == 422
    assert "Ce SIRET est déjà celui d'Organisme A." in text(response)
    assert org_count(app) == before


def test_partner_needs_a_domain(app, region_admin, world):
    before = org_count(app)
    response = region_admin.post(
        "/administration/organisations/nouvelle", data=org_form(kind="partner")
    )
    assert response.status_code == 422
    assert "Précisez le domaine du partenaire." in text(response)
    assert org_count(app) == before


def test_edit_organisation(app, region_admin, world):
    with app.app_context():
        territory_id = make_territory(name="Tours", code="TRS").id
        db.session.commit()
    url = f"/administration/organisations/{world.of_a}/modification"
    page = region_admin.get(url)
    assert page.status_code == 200
    assert 'value="Organisme A"' in text(page)

    response = region_admin.post(
        url,
        data=org_form(name="Organisme A renommé", siret=VALID_SIRET, territory_id=territory_id),
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/administration/organisations"
    organisation = get(app, Organisation, world.of_a)
    assert (organisation.name, organisation.siret, organisation.territory_id) == (
        "Organisme A renommé",
        VALID_SIRET,
        territory_id,
    )
    # Saving again with its own SIRET is not a clash.
    again = region_admin.post(url, data=org_form(name="Organisme A", siret=VALID_SIRET))
    assert again.status_code == 303


def test_edit_refuses_the_siret_of_another_organisation(app, region_admin, world):
    with app.app_context():
        db.session.get(Organisation, world.of_b).siret = VALID_SIRET
        db.session.commit()
    response = region_admin.post(
        f"/administration/organisations/{world.of_a}/modification",
        data=org_form(name="Organisme A", siret=VALID_SIRET),
    )
    assert response.status_code == 422
    assert "Ce SIRET est déjà celui d'Organisme B." in text(response)
    assert get(app, Organisation, world.of_a).siret is None


def test_changing_a_partner_into_a_provider_drops_its_domain(app, region_admin, world):
    response = region_admin.post(
        f"/administration/organisations/{world.partner}/modification",
        data=org_form(kind="partner", name="Partenaire P", partner_type="employment"),
    )
    assert response.status_code == 303
    assert get(app, Organisation, world.partner).partner_type == PartnerType.EMPLOYMENT
    region_admin.post(
        f"/administration/organisations/{world.partner}/modification",
        data=org_form(kind="provider", name="Partenaire P", partner_type="employment"),
    )
    assert get(app, Organisation, world.partner).partner_type is None


def test_edit_unknown_organisation_is_404(region_admin):
    assert region_admin.get("/administration/organisations/999999/modification").status_code == 404


def test_organisation_list_filters_by_type(region_admin, world):
    full = region_admin.get("/administration/organisations?type=provider")
    assert full.status_code == 200
    page = text(full)
    assert "<h1>Organisations</h1>" in page
    assert "Organisme A" in page and "Organisme B" in page
    assert "Entreprise E" not in page and "Partenaire P" not in page
    assert '<option value="provider" selected>' in page

    rows = region_admin.get("/administration/organisations?type=employer", headers=HTMX)
    assert rows.status_code == 200
    fragment = text(rows)
    assert fragment.lstrip().startswith('<tbody id="organisation-rows">')
    assert "<html" not in fragment
    assert "Entreprise E" in fragment
    assert "Organisme A" not in fragment
    assert "HX-Request" in rows.headers["Vary"]


def test_organisation_list_counts_active_members(app, region_admin, world):
    with app.app_context():
        services.active_membership(
            db.session.get(User, world.a_member), db.session.get(Organisation, world.of_a)
        ).active = False
        db.session.commit()
    fragment = text(region_admin.get("/administration/organisations?type=provider", headers=HTMX))
    row_a = fragment.split("Organisme A</th>")[1].split("</tr>")[0]
    assert "<td>1</td>" in row_a


def test_unknown_type_lists_every_organisation(region_admin, world):
    page = text(region_admin.get("/administration/organisations?type=inconnu"))
    for name in ("Région Centre-Val de Loire", "Organisme A", "Entreprise E", "Partenaire P"):
        assert name in page


def test_empty_filter_says_so(app, region_admin, world):
    with app.app_context():
        db.session.get(Organisation, world.partner).kind = OrgKind.EMPLOYER
        db.session.get(Organisation, world.partner).partner_type = None
        db.session.commit()
    fragment = text(region_admin.get("/administration/organisations?type=partner", headers=HTMX))
    assert "Aucune organisation de ce type." in fragment


# --- Users -------------------------------------------------------------------------------


def test_users_list_shows_accounts_and_their_organisations(region_admin, world):
    response = region_admin.get("/administration/utilisateurs")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Utilisateurs</h1>" in page
    for email in world.emails.values():
        assert email in page
    assert "Organisme B (admin)" in page


def test_users_list_search(region_admin, world):
    page = text(region_admin.get("/administration/utilisateurs?q=B.ADMIN"))
    assert world.emails["b_admin"] in page
    assert world.emails["a_admin"] not in page
    assert "1 compte(s) pour « B.ADMIN »." in page


def test_disable_and_reenable_a_user(app, region_admin, other_client, world):
    email = world.emails["a_member"]
    login_as(other_client, email)
    assert other_client.get("/").status_code == 200
    url = f"/administration/utilisateurs/{world.a_member}/etat"

    disabled = region_admin.post(url, data={"enabled": "0"})
    assert disabled.status_code == 303
    assert disabled.headers["Location"] == "/administration/utilisateurs"
    assert "Compte désactivé ; ses sessions sont fermées." in text(
        region_admin.get(disabled.headers["Location"])
    )
    assert not get(app, User, world.a_member).is_enabled
    follow = other_client.get("/")
    assert follow.status_code == 302 and follow.headers["Location"].startswith("/connexion")
    refused = form_login(other_client, email)
    assert refused.status_code == 422
    assert "Adresse électronique ou mot de passe incorrect." in text(refused)

    enabled = region_admin.post(url, data={"enabled": "1"})
    assert enabled.status_code == 303
    assert get(app, User, world.a_member).is_enabled
    assert form_login(other_client, email).status_code == 302
    assert other_client.get("/").status_code == 200


def test_region_admin_cannot_disable_themselves(app, region_admin, world):
    response = region_admin.post(
        f"/administration/utilisateurs/{world.region_admin}/etat", data={"enabled": "0"}
    )
    assert response.status_code == 303
    assert "Vous ne pouvez pas désactiver votre propre compte." in text(
        region_admin.get(response.headers["Location"])
    )
    assert get(app, User, world.region_admin).is_enabled


def test_disabling_an_unknown_user_is_404(region_admin):
    response = region_admin.post("/administration/utilisateurs/999999/etat", data={"enabled": "0"})
    assert response.status_code == 404


# --- Territories -------------------------------------------------------------------------


def territory_form(prefix: str, **fields) -> dict:
    data = {"code": "ORL", "name": "Orléans", "departments": "45", "referent_id": ""}
    data.update(fields)
    return {f"{prefix}-{key}": value for key, value in data.items()}


def territories(app) -> list[tuple]:
    with app.app_context():
        return [
            (t.code, t.name, t.departments, t.referent_id)
            for t in db.session.scalars(select(Territory).order_by(Territory.code))
        ]


def test_territories_page_starts_empty(region_admin):
    response = region_admin.get("/administration/territoires")
    assert response.status_code == 200
    assert "Aucun bassin défini." in text(response)


def test_create_territory(app, region_admin, world):
    response = region_admin.post(
        "/administration/territoires",
        data=territory_form("new", referent_id=world.region_member),
    )
    assert response.status_code == 303
    assert territories(app) == [("ORL", "Orléans", "45", world.region_member)]
    page = text(region_admin.get(response.headers["Location"]))
    assert "Bassin d'emploi ajouté." in page
    assert '<tr id="territory-' in page


def test_duplicate_territory_code_is_refused(app, region_admin, world):
    with app.app_context():
        make_territory(name="Orléans", code="ORL")
        db.session.commit()
    response = region_admin.post(
        "/administration/territoires", data=territory_form("new", name="Orléans-Est")
    )
    assert response.status_code == 422
    assert "Ce code est déjà utilisé par un autre bassin." in text(response)
    assert [t[1] for t in territories(app)] == ["Orléans"]


def test_territory_code_format_is_checked(app, region_admin, world):
    response = region_admin.post(
        "/administration/territoires", data=territory_form("new", code="orl")
    )
    assert response.status_code == 422
    assert "Majuscules, chiffres et tirets uniquement." in text(response)
    assert territories(app) == []


def test_referent_must_be_a_region_member(app, region_admin, world):
    # Only Région members are offered; anyone else is refused and nothing is saved.
    page = text(region_admin.get("/administration/territoires"))
    assert world.emails["region_member"] in page
    assert world.emails["a_member"] not in page
    response = region_admin.post(
        "/administration/territoires", data=territory_form("new", referent_id=world.a_member)
    )
    assert response.status_code == 422
    assert "N'est pas un choix valide." in text(response)
    assert territories(app) == []


def test_inline_territory_edit_with_htmx(app, region_admin, world):
    with app.app_context():
        territory_id = make_territory(name="Orléans", code="ORL").id
        db.session.commit()
    url = f"/administration/territoires/{territory_id}"
    row_start = f'<tr id="territory-{territory_id}">'

    editing = region_admin.get(url + "?modifier=1", headers=HTMX)
    assert editing.status_code == 200
    fragment = text(editing)
    assert fragment.lstrip().startswith(row_start)
    assert "<html" not in fragment and "<table" not in fragment
    assert f'name="t{territory_id}-code"' in fragment

    saved = region_admin.post(
        url,
        data=territory_form(
            f"t{territory_id}", name="Orléans Métropole", referent_id=world.region_member
        ),
        headers=HTMX,
    )
    assert saved.status_code == 200
    fragment, notice = text(saved).split('<div id="htmx-notices" hx-swap-oob="innerHTML">')
    assert fragment.lstrip().startswith(row_start)
    assert fragment.rstrip().endswith("</tr>")
    # The confirmation goes out of band into the page's live region (issue #15).
    assert notice == '<p class="alert alert--success">Bassin d\'emploi enregistré.</p></div>'
    assert "<html" not in fragment and "<form" not in fragment
    assert '<th scope="row">Orléans Métropole</th>' in fragment
    assert "Camille Martin" in fragment
    assert territories(app) == [("ORL", "Orléans Métropole", "45", world.region_member)]


def test_inline_territory_edit_errors_stay_in_the_row(app, region_admin, world):
    with app.app_context():
        territory_id = make_territory(name="Orléans", code="ORL").id
        make_territory(name="Tours", code="TRS")
        db.session.commit()
    response = region_admin.post(
        f"/administration/territoires/{territory_id}",
        data=territory_form(f"t{territory_id}", name="Tours"),
        headers=HTMX,
    )
    assert response.status_code == 422
    fragment = text(response)
    assert fragment.lstrip().startswith(f'<tr id="territory-{territory_id}">')
    assert "Ce nom est déjà utilisé par un autre bassin." in fragment
    assert ("ORL", "Orléans", "", None) in territories(app)


def test_territory_edit_without_htmx_is_a_page(app, region_admin, world):
    with app.app_context():
        territory_id = make_territory(name="Orléans", code="ORL").id
        db.session.commit()
    url = f"/administration/territoires/{territory_id}"
    page = region_admin.get(url + "?modifier=1")
    assert page.status_code == 200
    assert "<h1>Bassin d'Orléans</h1>" in text(page)
    saved = region_admin.post(url, data=territory_form(f"t{territory_id}", departments="45, 41"))
    assert saved.status_code == 303
    assert saved.headers["Location"] == "/administration/territoires"
    assert territories(app) == [("ORL", "Orléans", "45, 41", None)]


# --- Who reaches the administration ------------------------------------------------------


def test_region_admin_acting_for_another_organisation_is_refused(app, client, world):
    # The admin role belongs to the Région: switched to an OF, the person is an OF member.
    with app.app_context():
        services.add_membership(
            db.session.get(User, world.region_admin), db.session.get(Organisation, world.of_a)
        )
        db.session.commit()
    login_as(client, world.emails["region_admin"])
    assert client.get("/administration/organisations").status_code == 200
    client.post("/organisation-courante", data={"organisation_id": world.of_a})
    response = client.get("/administration/organisations")
    assert response.status_code == 403
    assert "Accès refusé" in text(response)


@pytest.mark.parametrize("person", ["region_member", "a_admin", "employer_admin", "partner_admin"])
def test_administration_is_refused_to_everyone_else(client, world, person):
    login_as(client, world.emails[person])
    for url in (
        "/administration/organisations",
        "/administration/utilisateurs",
        "/administration/territoires",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Accès refusé" in text(response)
