"""CSV import of candidates (no HTTP): encodings, separators, French headers, and a report
per line and column when anything is wrong — in which case nothing is imported."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.recruitment.imports import import_trainees_csv, template_csv
from portal.recruitment.models import Trainee
from tests.operations.factories import Market
from tests.recruitment.factories import make_recruiting_operation

HEADER = "nom;prénom;email;téléphone;année de naissance;prescripteur;public"


@pytest.fixture
def market(ctx):
    return Market()


@pytest.fixture
def op(market):
    return make_recruiting_operation(market)


def run(market, op, *lines, header=HEADER, encoding="utf-8-sig", sep=";"):
    text = "\r\n".join([header, *lines]) + "\r\n"
    if sep != ";":
        text = text.replace(";", sep)
    return import_trainees_csv(text.encode(encoding), op, by=market.a_user, org=market.of_a)


def trainees() -> list[Trainee]:
    return db.session.scalars(select(Trainee).order_by(Trainee.id)).all()


def test_a_good_file_with_bom(market, op):
    report = run(
        market,
        op,
        "Moreau;Inès;Ines.Moreau@example.fr;06 12 34 56 78;1998;Partenaire P;"
        "Jeunes de moins de 26 ans",
        "Garnier;Yanis;;;;;",
    )
    assert report.ok and report.created == 2
    first, second = trainees()
    assert (first.last_name, first.first_name, first.email, first.birth_year) == (
        "Moreau",
        "Inès",
        "ines.moreau@example.fr",
        1998,
    )
    assert first.prescriber_id == market.partner.id and first.public_category == "youth"
    assert (second.email, second.birth_year, second.prescriber_id) == ("", None, None)


def test_control_characters_of_a_file_are_cleaned_like_typed_text(market, op):
    """Issue #11 M7: a CSV cell is input too: no control character reaches the database."""
    report = run(market, op, "Mor\x01eau;Ine\u0300s\x0b;;;;;")
    assert report.ok and report.created == 1
    [trainee] = trainees()
    assert (trainee.last_name, trainee.first_name) == ("Moreau", "Inès")


def test_commas_without_bom_and_headers_in_any_form(market, op):
    header = "Prénom,NOM,Annee de naissance,Public,e-mail"
    report = run(market, op, "Léa,Petit,2001,rsa,lea@example.fr", header=header,
                 encoding="utf-8", sep=",")  # fmt: skip
    assert report.ok
    [trainee] = trainees()
    assert (trainee.first_name, trainee.last_name, trainee.birth_year) == ("Léa", "Petit", 2001)
    assert (trainee.public_category, trainee.email) == ("rsa", "lea@example.fr")


def test_windows_1252_is_read(market, op):
    report = run(market, op, "Lefèvre;Chloé;;;;;", encoding="cp1252")
    assert report.ok and trainees()[0].last_name == "Lefèvre"


def test_every_problem_is_reported_by_line_and_column_and_nothing_is_imported(market, op):
    report = run(
        market,
        op,
        "Moreau;Inès;pas-une-adresse;;98;Inconnu SA;Martiens",
        "",  # a blank line: line numbers still follow the file
        ";Yanis;;;;;",
        "Petit;Léa;;;1890;;",
        "Garnier;Yanis;;;;;;en trop",
    )
    assert not report.ok and report.created == 0
    assert report.errors == [
        (2, "email", "adresse électronique invalide"),
        (2, "année de naissance", "année attendue sur quatre chiffres (ex. 1998)"),
        (2, "prescripteur", "aucun partenaire « Inconnu SA » dans le portail"),
        (2, "public", "public inconnu « Martiens »"),
        (4, "nom", "Indiquez le nom"),
        (5, "année de naissance", "Année de naissance attendue entre 1940 et 2015"),
        (6, "", "plus de colonnes que dans l'en-tête"),
    ]
    assert trainees() == []


def test_business_rules_are_reported_per_line_too(market, op):
    report = run(market, op, "Moreau;Inès;;;;;", ";Yanis;;;;;", "Petit;Léa;;;1890;;",
                 "Moreau;Inès;;;;;")  # fmt: skip
    assert report.errors == [
        (3, "nom", "Indiquez le nom"),
        (4, "année de naissance", "Année de naissance attendue entre 1940 et 2015"),
        (5, "nom", "Personne déjà saisie ligne 1"),
    ]
    assert trainees() == []


def test_a_missing_column_is_reported_on_the_header(market, op):
    report = run(market, op, "Moreau;1998", header="nom;année de naissance")
    assert report.errors == [(1, "prénom", "colonne(s) absente(s) de l'en-tête")]


def test_an_empty_file(market, op):
    report = run(market, op, ";;;;;;")
    assert report.errors == [(2, "", "le fichier ne contient aucune ligne de candidat·e")]


def test_unclosed_quotes(market, op):
    report = run(market, op, 'Moreau;"Inès;;;;;', "Petit;Léa;;;;;")
    assert not report.ok
    assert db.session.scalar(select(func.count(Trainee.id))) == 0


def test_a_file_that_is_not_text(market, op):
    from portal.core.errors import RuleError

    with pytest.raises(RuleError, match="ni en UTF-8 ni en Windows-1252"):
        import_trainees_csv(b"\x81\x8d\x8f\x90\x9d", op, by=market.a_user, org=market.of_a)


def test_the_template_reimports_cleanly(market, op):
    raw = template_csv()
    assert raw.startswith("\ufeff".encode()) and HEADER.encode() in raw
    report = import_trainees_csv(raw, op, by=market.a_user, org=market.of_a)
    assert report.ok and report.created == 2
