"""« de » and « à » before a name (issue #15, French): « bassin d'Orléans », « Désigner le
signataire d'Entreprise E », « conduisant au Titre professionnel… »."""

import html

import pytest
from flask_babel import force_locale, get_translations

from portal.conventions import clauses
from portal.core.french import a, certification, de
from portal.design.models import SectionKey
from tests.operations.factories import Market
from tests.support import committed, login_as, text


@pytest.mark.parametrize(
    ("name", "of", "to"),
    [
        ("Saran", "de Saran", "à Saran"),
        ("Orléans", "d'Orléans", "à Orléans"),
        ("Ingré", "d'Ingré", "à Ingré"),
        ("Entrepôts Sologne", "d'Entrepôts Sologne", "à Entrepôts Sologne"),
        ("Alice Durand", "d'Alice Durand", "à Alice Durand"),
        ("usine de Fleury", "d'usine de Fleury", "à usine de Fleury"),
    ],
)
def test_a_vowel_elides_de_and_never_a(name, of, to):
    assert de(name) == of
    assert a(name) == to


@pytest.mark.parametrize(
    "name", ["Épernon", "Île-de-France", "Écoles de production", "Œuvres sociales", "Âge d'or"]
)
def test_an_accented_capital_vowel_elides(name):
    assert de(name) == f"d'{name}"
    assert a(name) == f"à {name}"


@pytest.mark.parametrize(
    "name",
    ["Hôpital de Blois", "Habitat et Humanisme", "Hôtel de la Gare", "Humanis", "Hélène Mercier"],
)
def test_a_mute_h_elides(name):
    assert de(name) == f"d'{name}"


@pytest.mark.parametrize("name", ["Hauts-de-France", "Haddad Transports", "Hangar 12", "HLM"])
def test_an_aspirated_h_is_the_default(name):
    assert de(name) == f"de {name}"


def test_y_elides_before_a_consonant_only():
    assert de("Yves Martin") == "d'Yves Martin"
    assert de("Yanis Colin") == "de Yanis Colin"
    assert de("Youssef Haddad") == "de Youssef Haddad"


@pytest.mark.parametrize(
    ("name", "of", "to"),
    [
        ("Le Mans", "du Mans", "au Mans"),
        ("Le Titre pro Cariste", "du Titre pro Cariste", "au Titre pro Cariste"),
        ("Les Compagnons du Devoir", "des Compagnons du Devoir", "aux Compagnons du Devoir"),
        ("les Tilleuls", "des Tilleuls", "aux Tilleuls"),
        ("La Poste", "de la Poste", "à la Poste"),
        ("L'Agence du numérique", "de l'Agence du numérique", "à l'Agence du numérique"),
        ("L\u2019Atelier", "de l'Atelier", "à l'Atelier"),
    ],
)
def test_a_leading_article_contracts_or_stays(name, of, to):
    assert de(name) == of
    assert a(name) == to


@pytest.mark.parametrize("name", ["Leroy Merlin", "Lesage Frères", "Laval Bois", "Le", "Les"])
def test_a_name_that_only_starts_like_an_article_is_left_alone(name):
    assert de(name) == f"de {name}"
    assert a(name) == f"à {name}"


def test_an_acronym_goes_by_its_first_letter():
    assert de("AFPA") == "d'AFPA"
    assert de("EDF") == "d'EDF"
    assert de("SNCF") == "de SNCF"


def test_an_empty_name_leaves_the_preposition_alone():
    assert (de(""), a(""), de("  "), de(None), a(None)) == ("de", "à", "de", "de", "à")


def test_spaces_around_a_name_are_dropped():
    assert de("  Orléans ") == "d'Orléans"


@pytest.mark.parametrize(
    ("title", "with_article", "to"),
    [
        ("Titre professionnel Préparateur de commandes", "le Titre", "au Titre"),
        ("Certificat de qualification professionnelle", "le Certificat", "au Certificat"),
        ("CAP Boulanger", "le CAP", "au CAP"),
        ("Licence professionnelle Logistique", "la Licence", "à la Licence"),
        ("Habilitation électrique", "l'Habilitation", "à l'Habilitation"),
        ("Préparateur de commandes", "Préparateur", "à Préparateur"),
        ("", "", "à"),
    ],
)
def test_a_certification_named_by_a_common_noun_takes_its_article(title, with_article, to):
    assert certification(title).startswith(with_article)
    assert a(certification(title)).startswith(to)


def test_another_locale_reads_the_group_from_its_catalogue(ctx):
    with force_locale("en"):
        assert not de("Orléans").startswith("d'")
        assert de("Orléans").endswith(" Orléans")
        assert a("Le Mans").endswith(" Le Mans")


def test_the_filters_are_registered_for_templates(app):
    template = app.jinja_env.from_string("{{ n|de }} · {{ n|a }} · {{ m|de }}")
    with app.test_request_context():
        rendered = html.unescape(template.render(n="Le Mans", m="Orléans"))
    assert rendered == "du Mans · au Mans · d'Orléans"


# --- Pages and texts ---------------------------------------------------------------------------


def test_the_clauses_lead_to_the_certification_with_its_article(ctx):
    market = Market()
    operation = market.report()
    texts = {key.value: "Une formation conduisant à {certification}." for key in SectionKey}
    operation.certification_title = "Titre professionnel Agent de propreté"
    filled = clauses.fill(texts, operation)[SectionKey.CONV_OBJECT]
    assert filled == "Une formation conduisant au Titre professionnel Agent de propreté."
    operation.certification_title = ""
    filled = clauses.fill(texts, operation)[SectionKey.CONV_OBJECT]
    assert filled == "Une formation conduisant à la certification visée."


def test_the_default_object_clause_reads_au_titre(ctx):
    market = Market()
    operation = market.report()
    operation.certification_title = "Titre professionnel Agent de propreté"
    with force_locale("fr"):
        texts = clauses.default_template()
    filled = clauses.fill(texts, operation)[SectionKey.CONV_OBJECT]
    assert "conduisant au Titre professionnel Agent de propreté, " in filled


def test_the_operation_page_names_the_bassin_d_orleans(app, client):
    with committed(app):
        market = Market()
        operation_id = market.report(territory=market.orleans).id
        email = market.a_user.email
    login_as(client, email)
    page = text(client.get(f"/operations/{operation_id}"))
    assert "bassin d'Orléans" in page
    assert "bassin de Orléans" not in page


def test_the_employer_home_is_the_espace_d_entreprise_e(app, client):
    with committed(app):
        email = Market().employer_user.email
    login_as(client, email)
    page = text(client.get("/"))
    assert "Espace d'Entreprise E." in page


def test_templates_translate_in_the_locale_in_force_at_each_call(app, monkeypatch):
    """Templates look the catalogue up once per locale (issue #16), still per call: a
    template rendered under ``force_locale`` (an e-mail in its reader's language) reads the
    catalogue of that locale, and the request's own locale after it."""
    template = app.jinja_env.from_string(
        "{{ _('Mon compte') }}|{{ ngettext('%(num)d jour', '%(num)d jours', 2) }}"
    )
    with app.test_request_context():
        assert template.render() == "Mon compte|2 jours"
        with force_locale("en"):
            english = get_translations()
            monkeypatch.setattr(english, "ugettext", lambda s: f"EN {s}", raising=False)
            monkeypatch.setattr(
                english, "ungettext", lambda s, p, n: f"EN {s if n == 1 else p}", raising=False
            )
            assert template.render() == "EN Mon compte|EN 2 jours"
        assert template.render() == "Mon compte|2 jours"
