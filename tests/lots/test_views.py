"""Market lots pages: the list and its filters, the lot form, the CSV import and who sees what."""

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.accounts.models import Organisation, OrgKind, Territory
from portal.extensions import db
from portal.lots.models import Category, MarketLot
from portal.lots.services import CSV_COLUMNS
from tests.factories import make_territory
from tests.lots import OF_SIRET, csv_bytes, lot_row, make_lot
from tests.support import HTMX, CsrfClient, another_app, login_as, queries

WRITE_ROUTES = [
    ("GET", "/lots/nouveau"),
    ("POST", "/lots/nouveau"),
    ("GET", "/lots/{lot}/modification"),
    ("POST", "/lots/{lot}/modification"),
    ("GET", "/lots/import"),
    ("POST", "/lots/import"),
    ("GET", "/lots/modele.csv"),
]


@pytest.fixture
def market(app, world):
    """Bassins ORL and TRS, a SIRET for Organisme A, and three lots (one inactive, one of B)."""
    with app.app_context():
        orl, trs = make_territory("Orléans", "ORL"), make_territory("Tours", "TRS")
        of_a = db.session.get(Organisation, world.of_a)
        of_b = db.session.get(Organisation, world.of_b)
        of_a.siret = OF_SIRET
        lots = {
            "industry": make_lot(of_a, [orl], number="2024-PM-01", title="Prépa Métiers industrie"),
            "care": make_lot(
                of_b,
                [trs],
                number="2024-SF-02",
                title="Se former au métier d'aide à domicile",
                category=Category.SE_FORMER,
                rome_codes=("K1302",),
            ),
            "old": make_lot(
                of_a,
                [orl, trs],
                number="2021-CF-03",
                title="Chantier formation bâtiment",
                category=Category.CHANTIER_FORMATION,
                period=(2021, 2024),
                active=False,
            ),
        }
        db.session.commit()
        ids = {key: lot.id for key, lot in lots.items()}
        ids.update(orl=orl.id, trs=trs.id)
    return type("Market", (), ids)


def lot_numbers(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(MarketLot.number).order_by(MarketLot.number)).all()


def form_data(market, world, **overrides) -> dict:
    data = {
        "number": "2025-PM-09",
        "title": "Prépa Métiers logistique",
        "category": "prepa_metiers",
        "holder_id": str(world.of_b),
        "territory_ids": [str(market.orl), str(market.trs)],
        "period_start": "2025",
        "period_end": "2028",
        "rome_codes": "n1103, N1105",
        "active": "y",
    }
    data.update(overrides)
    return data


def upload(client, raw: bytes, filename: str = "lots.csv", **kwargs):
    """POST ``raw`` as the import form's file (encoded here: the test client would spool a
    large body to a temporary file that it never closes)."""
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(raw), filename)})
    return client.post(
        "/lots/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        **kwargs,
    )


# --- List ----------------------------------------------------------------------------------


def test_region_admin_sees_every_lot_and_the_management_links(client, world, market):
    login_as(client, world.emails["region_admin"])
    page = client.get("/lots")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ("2024-PM-01", "2024-SF-02", "2021-CF-03", "Organisme A", "Organisme B"):
        assert text in html
    assert "2021–2024" in html and "K1302" in html and "Inactif" in html
    assert "/lots/nouveau" in html and "/lots/import" in html
    assert f"/lots/{market.industry}/modification" in html
    assert 'href="/lots" aria-current="page"' in html


def test_htmx_filter_answers_the_results_fragment_only(client, world, market):
    login_as(client, world.emails["region_admin"])
    response = client.get("/lots?categorie=se_former", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="lot-results">')
    assert "<html" not in html and "<form" not in html
    assert "2024-SF-02" in html and "2024-PM-01" not in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("categorie=chantier_formation", {"2021-CF-03"}),
        ("bassin={trs}", {"2024-SF-02", "2021-CF-03"}),
        ("attributaire={of_a}", {"2024-PM-01", "2021-CF-03"}),
        ("etat=actifs", {"2024-PM-01", "2024-SF-02"}),
        ("etat=inactifs", {"2021-CF-03"}),
        ("q=domicile", {"2024-SF-02"}),
        ("q=2024-pm", {"2024-PM-01"}),
        ("q=100%25", set()),
        ("bassin={orl}&etat=actifs&categorie=prepa_metiers", {"2024-PM-01"}),
        ("bassin=abc&categorie=inconnue&attributaire=999999&etat=peut-etre", None),
    ],
)
def test_filters(client, world, market, query, shown):
    login_as(client, world.emails["region_admin"])
    url = "/lots?" + query.format(trs=market.trs, orl=market.orl, of_a=world.of_a)
    html = client.get(url, headers=HTMX).get_data(as_text=True)
    everything = {"2024-PM-01", "2024-SF-02", "2021-CF-03"}
    expected = everything if shown is None else shown  # unknown values are ignored
    assert {n for n in everything if n in html} == expected
    if not expected:
        assert "Aucun lot ne correspond à ces critères." in html


def test_filter_form_works_without_javascript(client, world, market):
    login_as(client, world.emails["region_admin"])
    html = client.get(f"/lots?bassin={market.orl}&etat=actifs").get_data(as_text=True)
    assert '<form method="get" action="/lots"' in html
    assert f'<option selected value="{market.orl}">' in html
    assert "2024-PM-01" in html and "2024-SF-02" not in html
    assert "Effacer les filtres" in html


@pytest.mark.parametrize("person", ["a_member", "b_admin"])
def test_organismes_read_every_lot_without_management_links(client, world, market, person):
    login_as(client, world.emails[person])
    html = client.get("/lots").get_data(as_text=True)
    assert "2024-PM-01" in html and "2024-SF-02" in html
    assert "/lots/nouveau" not in html and "/modification" not in html
    assert "Marchés et lots" in html


def test_region_member_reads_the_list(client, world, market):
    login_as(client, world.emails["region_member"])
    html = client.get("/lots").get_data(as_text=True)
    assert "2024-PM-01" in html and "/lots/nouveau" not in html


@pytest.mark.parametrize("person", ["employer_admin", "partner_admin"])
def test_employers_and_partners_are_refused_everywhere(client, world, market, person):
    login_as(client, world.emails[person])
    assert "Marchés et lots" not in client.get("/").get_data(as_text=True)
    assert client.get("/lots").status_code == 403
    for method, url in WRITE_ROUTES:
        assert client.open(url.format(lot=market.industry), method=method).status_code == 403


def test_htmx_request_of_an_employer_gets_the_403_fragment(client, world, market):
    login_as(client, world.emails["employer_admin"])
    response = client.get("/lots", headers=HTMX)
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#htmx-errors"


@pytest.mark.parametrize("person", ["region_member", "a_admin", "a_member"])
def test_only_region_admins_manage_lots(app, client, world, market, person):
    login_as(client, world.emails[person])
    for method, url in WRITE_ROUTES:
        response = client.open(
            url.format(lot=market.industry), method=method, data=form_data(market, world)
        )
        assert response.status_code == 403, (method, url)
    assert lot_numbers(app) == ["2021-CF-03", "2024-PM-01", "2024-SF-02"]


def test_list_query_count_does_not_grow_with_the_lots(app, client, world, market):
    login_as(client, world.emails["region_admin"])

    def add_lots(n: int) -> None:
        with app.app_context():
            holders = db.session.scalars(
                select(Organisation).where(Organisation.kind == OrgKind.PROVIDER)
            ).all()
            bassins = db.session.scalars(select(Territory)).all()
            for i in range(n):
                make_lot(holders[i % 2], bassins, rome_codes=("H2903", f"K{2200 + i:04d}"))
            db.session.commit()

    add_lots(2)  # 5 lots
    with_5 = len(queries(app, client, "/lots"))
    add_lots(45)  # 50 lots
    with_50 = len(queries(app, client, "/lots"))
    assert with_5 == with_50


def test_list_is_paginated(app, client, world, market):
    with app.app_context():
        holder = db.session.get(Organisation, world.of_a)
        territory = db.session.get(Territory, market.orl)
        for i in range(50):
            make_lot(holder, [territory], number=f"2030-{i:03d}")
        db.session.commit()
    login_as(client, world.emails["region_admin"])
    first = client.get("/lots").get_data(as_text=True)
    assert "Page 1 sur 2 — 53 éléments" in first
    assert "2024-PM-01" in first and "2030-049" not in first
    second = client.get("/lots?page=2", headers=HTMX).get_data(as_text=True)
    assert "2030-049" in second and "2024-PM-01" not in second


# --- Create and edit -----------------------------------------------------------------------


def test_create_form_page(client, world, market):
    login_as(client, world.emails["region_admin"])
    html = client.get("/lots/nouveau").get_data(as_text=True)
    assert '<form method="post"' in html and 'action="/lots/nouveau"' in html
    assert "Organisme A" in html and "Entreprise E" not in html  # only organismes hold lots
    assert "Orléans (ORL)" in html
    assert '<input checked id="active" name="active" type="checkbox" value="y">' in html


def test_create_lot(app, client, world, market):
    login_as(client, world.emails["region_admin"])
    response = client.post("/lots/nouveau", data=form_data(market, world))
    assert response.status_code == 303
    assert response.headers["Location"] == "/lots"
    assert "Lot n° 2025-PM-09 enregistré." in client.get("/lots").get_data(as_text=True)
    with app.app_context():
        lot = db.session.scalar(select(MarketLot).where(MarketLot.number == "2025-PM-09"))
        assert lot.holder_id == world.of_b
        assert {t.code for t in lot.territories} == {"ORL", "TRS"}
        assert lot.rome_codes == ["N1103", "N1105"]
        assert (lot.period_start, lot.period_end, lot.active) == (2025, 2028, True)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"number": ""}, "Ce champ est obligatoire."),
        ({"number": "2024-PM-01"}, "Le lot n° 2024-PM-01 existe déjà."),
        ({"category": "autre"}, "Choisissez une catégorie de la liste."),
        ({"territory_ids": []}, "Choisissez au moins un bassin d'emploi."),
        ({"territory_ids": ["999999"]}, "Choisissez les bassins dans la liste."),
        ({"territory_ids": ["abc", "{orl}"]}, "Choisissez les bassins dans la liste."),
        ({"holder_id": ""}, "Ce champ est obligatoire."),
        ({"holder_id": "{employer}"}, "Choisissez un organisme de formation de la liste."),
        ({"period_start": "1999"}, "Indiquez une année entre 2000 et 2100."),
        ({"period_end": "2101"}, "Indiquez une année entre 2000 et 2100."),
        ({"period_end": "2024"}, "La fin de période précède son début."),
        ({"rome_codes": "K2204, 12345"}, "Code ROME invalide : 12345"),
        ({"rome_codes": ""}, "Ce champ est obligatoire."),
    ],
)
def test_create_refuses_bad_input_in_french(app, client, world, market, override, message):
    login_as(client, world.emails["region_admin"])

    def fill(value):
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value.format(employer=world.employer, orl=market.orl)

    override = {key: fill(value) for key, value in override.items()}
    response = client.post("/lots/nouveau", data=form_data(market, world, **override))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="error-summary"' in html
    assert "2025-PM-09" not in lot_numbers(app)


def test_edit_form_shows_the_lot(client, world, market):
    login_as(client, world.emails["region_admin"])
    html = client.get(f"/lots/{market.old}/modification").get_data(as_text=True)
    assert "Modifier le lot n° 2021-CF-03" in html
    assert 'value="H2903"' in html
    assert (
        f'checked id="territory_ids-0" name="territory_ids" type="checkbox" value="{market.orl}"'
        in html
    )
    assert '<option selected value="chantier_formation">' in html
    assert 'name="active" type="checkbox" value="y">' in html  # inactive: unchecked


def test_edit_lot(app, client, world, market):
    login_as(client, world.emails["region_admin"])
    data = form_data(market, world, number="2024-PM-01", territory_ids=[str(market.trs)])
    del data["active"]  # unchecked box: the lot is deactivated
    response = client.post(f"/lots/{market.industry}/modification", data=data)
    assert response.status_code == 303
    with app.app_context():
        lot = db.session.get(MarketLot, market.industry)
        assert (lot.title, lot.holder_id, lot.active) == (
            "Prépa Métiers logistique",
            world.of_b,
            False,
        )
        assert [t.code for t in lot.territories] == ["TRS"]


def test_edit_refuses_the_number_of_another_lot(app, client, world, market):
    login_as(client, world.emails["region_admin"])
    response = client.post(
        f"/lots/{market.industry}/modification", data=form_data(market, world, number="2024-SF-02")
    )
    assert response.status_code == 422
    assert "Le lot n° 2024-SF-02 existe déjà." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(MarketLot, market.industry).number == "2024-PM-01"


def test_edit_unknown_lot_is_404(client, world, market):
    login_as(client, world.emails["region_admin"])
    assert client.get("/lots/999999/modification").status_code == 404


# --- Import --------------------------------------------------------------------------------


def test_import_page_lists_codes_and_links_the_template(client, world, market):
    login_as(client, world.emails["region_admin"])
    html = client.get("/lots/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html
    assert "/lots/modele.csv" in html
    assert "<td>ORL</td>" in html and f"<td>{OF_SIRET}</td>" in html


def test_csv_template_download(client, world, market):
    login_as(client, world.emails["region_admin"])
    response = client.get("/lots/modele.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="modele-lots.csv"'
    lines = response.get_data().decode("utf-8-sig").splitlines()
    assert lines[0].split(";") == CSV_COLUMNS
    assert len(lines) == 3


def test_import_good_file(app, client, world, market):
    login_as(client, world.emails["region_admin"])
    raw = csv_bytes(
        lot_row("2024-PM-01", intitule="Intitulé mis à jour", bassins="ORL|TRS"),
        lot_row("2025-PM-10"),
        encoding="cp1252",
    )
    response = upload(client, raw)
    assert response.status_code == 303
    assert response.headers["Location"] == "/lots"
    assert "Import terminé : 1 lot(s) créé(s), 1 lot(s) mis à jour." in client.get(
        "/lots"
    ).get_data(as_text=True)
    assert lot_numbers(app) == ["2021-CF-03", "2024-PM-01", "2024-SF-02", "2025-PM-10"]
    with app.app_context():
        lot = db.session.get(MarketLot, market.industry)
        assert lot.title == "Intitulé mis à jour"
        assert [t.code for t in lot.territories] == ["ORL", "TRS"]


def test_import_bad_file_shows_every_bad_line_and_imports_nothing(app, client, world, market):
    login_as(client, world.emails["region_admin"])
    raw = csv_bytes(
        lot_row("2025-PM-10"),
        lot_row("2025-PM-11", categorie="Qualifiante"),
        lot_row("2025-PM-12", bassins="XYZ", periode="2028-2025"),
    )
    response = upload(client, raw)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Fichier refusé : aucun lot n'a été importé" in html
    assert "2 lignes posent problème." in html
    assert '<th scope="row">3</th><td>categorie</td>' in html
    assert '<th scope="row">4</th><td>bassins</td><td>bassin(s) inconnu(s) : XYZ</td>' in html
    assert '<th scope="row">4</th><td>periode</td>' in html
    assert lot_numbers(app) == ["2021-CF-03", "2024-PM-01", "2024-SF-02"]


@pytest.mark.parametrize(
    ("raw", "filename", "message"),
    [
        (b"numero;intitule\n", "lots.xlsx", "extension .csv"),
        (b"numero\x81\x8d\n", "lots.csv", "ni en UTF-8 ni en Windows-1252"),
        (b"", "", "Choisissez un fichier CSV."),
    ],
)
def test_import_refuses_a_file_that_is_not_a_csv(
    app, client, world, market, raw, filename, message
):
    login_as(client, world.emails["region_admin"])
    response = upload(client, raw, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert len(lot_numbers(app)) == 3


def test_a_body_over_the_app_limit_is_refused_before_reading(app, client, world, market):
    login_as(client, world.emails["region_admin"])
    raw = csv_bytes(lot_row("2025-PM-10")) + b"#" * app.config["MAX_CONTENT_LENGTH"]
    response = upload(client, raw)
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.get_data(as_text=True)
    assert len(lot_numbers(app)) == 3


@pytest.fixture
def roomy_client(database_url):
    """A client of a second app, on the same database, whose request limit is 8 MiB."""
    with another_app(database_url, MAX_CONTENT_LENGTH=8 * 1024 * 1024) as roomy:
        assert roomy.config["MAX_CONTENT_LENGTH"] == 8 * 1024 * 1024  # the deployment's choice
        roomy.test_client_class = CsrfClient
        yield roomy.test_client()


def test_import_checks_the_size_even_under_a_larger_app_limit(app, roomy_client, world, market):
    login_as(roomy_client, world.emails["region_admin"])
    response = upload(roomy_client, csv_bytes(lot_row("2025-PM-10")) + b"#" * (1024 * 1024))
    assert response.status_code == 422
    assert "Le fichier dépasse la taille autorisée (1 Mio)." in response.get_data(as_text=True)
    assert len(lot_numbers(app)) == 3


def test_import_without_csrf_token_is_refused(app, client, world, market):
    login_as(client, world.emails["region_admin"])
    response = upload(client, csv_bytes(lot_row("2025-PM-10")), csrf=False)
    assert response.status_code == 400
    assert len(lot_numbers(app)) == 3
