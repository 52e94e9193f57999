"""Validators for French identifiers and shared form fields."""

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

LA_POSTE_SIREN = "356000000"


def luhn_ok(digits: str) -> bool:
    """The Luhn check used by SIREN and SIRET numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def siret_is_valid(siret: str) -> bool:
    """14 digits with a valid check key.

    La Poste's establishments have too many numbers for the Luhn key: theirs have a digit
    sum that is a multiple of 5, except the head office (35600000000048), which passes Luhn.
    """
    if not re.fullmatch(r"\d{14}", siret):
        return False
    if siret.startswith(LA_POSTE_SIREN) and sum(int(c) for c in siret) % 5 == 0:
        return True
    return luhn_ok(siret)


def normalize_siret(value: str | None) -> str:
    """Drop the spaces people type in SIRET numbers."""
    return re.sub(r"[\s.]", "", value or "")


class Siret:
    """WTForms validator: an optional SIRET must be 14 digits with a valid key."""

    def __call__(self, form, field):
        value = normalize_siret(field.data)
        field.data = value
        if not value:
            return
        if not re.fullmatch(r"\d{14}", value):
            raise ValidationError(_l("Le SIRET doit comporter exactement 14 chiffres."))
        if not siret_is_valid(value):
            raise ValidationError(_l("Ce SIRET n'est pas valide (clé de contrôle incorrecte)."))


class FrenchPostalCode:
    """WTForms validator: an optional French postal code of 5 digits."""

    def __call__(self, form, field):
        if field.data and not re.fullmatch(r"\d{5}", field.data.strip()):
            raise ValidationError(_l("Le code postal doit comporter 5 chiffres."))


class Phone:
    """WTForms validator: an optional phone number made of digits, spaces, dots and +."""

    def __call__(self, form, field):
        value = (field.data or "").strip()
        if value and not re.fullmatch(r"\+?[\d .()-]{6,25}", value):
            raise ValidationError(_l("Ce numéro de téléphone n'est pas valide."))


class EmailAddress:
    """WTForms validator: a syntactically valid e-mail, stored lower-cased.

    Syntax only (no DNS look-up: the portal must work offline). The ``.test`` domain
    stays allowed because the demo accounts live there.
    """

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        value = (field.data or "").strip()
        if not value:
            return
        try:
            result = validate_email(value, check_deliverability=False, test_environment=True)
        except EmailNotValidError as exc:
            raise ValidationError(self.message or str(exc)) from exc
        field.data = result.normalized.lower()
