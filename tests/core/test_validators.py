"""Validators for French identifiers (SIRET, postal code, phone) and e-mail addresses."""

import pytest
from wtforms import Form, StringField

from portal.core.validators import (
    EmailAddress,
    FrenchPostalCode,
    Phone,
    Siret,
    luhn_ok,
    normalize_siret,
    siret_is_valid,
)


class SampleForm(Form):
    siret = StringField(validators=[Siret()])
    postal_code = StringField(validators=[FrenchPostalCode()])
    phone = StringField(validators=[Phone()])
    email = StringField(validators=[EmailAddress()])
    email_custom = StringField(validators=[EmailAddress("Adresse invalide.")])


def check(field: str, value: str) -> tuple[list[str], str]:
    """Validate one field; return its French errors and its (normalised) data."""
    form = SampleForm(data={field: value})
    form.validate()
    return [str(error) for error in form.errors.get(field, [])], form[field].data


# --- SIRET ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "siret",
    [
        "73282932000074",
        "35600000000048",  # La Poste's head office: passes Luhn, digit sum not a multiple of 5
        "35600000000010",  # a La Poste establishment: digit sum multiple of 5, not Luhn
    ],
)
def test_valid_sirets(siret):
    assert siret_is_valid(siret)


@pytest.mark.parametrize(
    "siret",
    [
        "73282932000075",  # wrong key
        "73282932000064",  # one digit changed
        "35600000000011",  # La Poste: neither rule holds
        "7328293200007",  # 13 digits
        "732829320000740",  # 15 digits
        "7328293200007A",
        "",
    ],
)
def test_invalid_sirets(siret):
    assert not siret_is_valid(siret)


def test_luhn():
    assert luhn_ok("732829320")  # the SIREN alone
    assert not luhn_ok("732829321")


def test_siret_field_accepts_spaces_and_dots_and_stores_digits(ctx):
    assert normalize_siret(" 732 829.320 00074 ") == "73282932000074"
    assert check("siret", "732 829 320 00074") == ([], "73282932000074")
    assert check("siret", "") == ([], "")


def test_siret_field_explains_in_french(ctx):
    assert check("siret", "73282932000075")[0] == [
        "Ce SIRET n'est pas valide (clé de contrôle incorrecte)."
    ]
    for wrong_length in ("7328293200007", "7328293200007A", "732829320000740"):
        assert check("siret", wrong_length)[0] == [
            "Le SIRET doit comporter exactement 14 chiffres."
        ]


# --- Postal code and phone -----------------------------------------------------------------


@pytest.mark.parametrize("value", ["45000", "37000", " 18000 ", ""])
def test_postal_code_accepted(ctx, value):
    assert check("postal_code", value)[0] == []


@pytest.mark.parametrize("value", ["4500", "450000", "45 000", "ABCDE", "2A004"])
def test_postal_code_refused(ctx, value):
    assert check("postal_code", value)[0] == ["Le code postal doit comporter 5 chiffres."]


@pytest.mark.parametrize(
    "value", ["02 38 00 11 22", "0238001122", "+33 2 38 00 11 22", "(02) 38-00-11.22", ""]
)
def test_phone_accepted(ctx, value):
    assert check("phone", value)[0] == []


@pytest.mark.parametrize("value", ["abc", "12345", "02 38 <b>", "0" * 26, "02 38 00 11 22 poste 3"])
def test_phone_refused(ctx, value):
    assert check("phone", value)[0] == ["Ce numéro de téléphone n'est pas valide."]


# --- E-mail --------------------------------------------------------------------------------


def test_email_is_normalised_to_lower_case(ctx):
    assert check("email", "  Anne.Dupont@Example.FR ") == ([], "anne.dupont@example.fr")


def test_email_accepts_the_demo_test_domain(ctx):
    assert check("email", "region@demo.defi.test") == ([], "region@demo.defi.test")


@pytest.mark.parametrize("value", ["anne", "anne@", "@example.fr", "anne dupont@example.fr"])
def test_email_refused(ctx, value):
    errors, _data = check("email", value)
    assert len(errors) == 1
    assert check("email_custom", value)[0] == ["Adresse invalide."]


def test_empty_email_is_left_to_data_required(ctx):
    assert check("email", "") == ([], "")
