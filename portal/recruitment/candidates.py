"""The checks of a candidate's data, shared by every way candidates come in: the organisme's
form and CSV import (``services.add_trainees``, ``imports``) and a prescriber's proposal
(``prescription``). Minimal personal data, no duplicate in the operation.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind
from portal.core.errors import RuleError
from portal.extensions import db
from portal.operations.models import Operation
from portal.operations.needs import TARGET_PUBLICS
from portal.recruitment import rules
from portal.recruitment.models import Trainee

TRAINEE_FIELDS = (
    "last_name",
    "first_name",
    "email",
    "phone",
    "birth_year",
    "prescriber_id",
    "public_category",
)
NAME_MAX = Trainee.first_name.type.length
EMAIL_MAX = Trainee.email.type.length
PHONE_MAX = Trainee.phone.type.length
MAX_ROWS = 500


class RowErrors(RuleError):
    """Some rows are refused: ``errors`` maps a row's index to its (field, French reason)."""

    def __init__(self, errors: dict[int, list[tuple[str, str]]]):
        super().__init__(
            _(
                "%(n)d ligne(s) à corriger : aucun·e candidat·e n'a été enregistré·e.",
                n=len(errors),
            )
        )
        self.errors = errors


def clean(row: dict) -> dict:
    data = {name: row.get(name) for name in TRAINEE_FIELDS}
    for name in ("last_name", "first_name", "email", "phone", "public_category"):
        data[name] = (data[name] or "").strip()
    data["email"] = data["email"].lower()
    return data


def identity(data: dict) -> tuple:
    return (data["last_name"].casefold(), data["first_name"].casefold(), data["birth_year"])


def row_problems(data: dict, partners: set[int]) -> list[tuple[str, str]]:
    problems = []
    for name, label in (("last_name", _("le nom")), ("first_name", _("le prénom"))):
        if not data[name]:
            problems.append((name, _("Indiquez %(what)s.", what=label)))
        elif len(data[name]) > NAME_MAX:
            problems.append((name, _("%(n)d caractères au plus.", n=NAME_MAX)))
    if len(data["email"]) > EMAIL_MAX:
        problems.append(("email", _("%(n)d caractères au plus.", n=EMAIL_MAX)))
    if len(data["phone"]) > PHONE_MAX:
        problems.append(("phone", _("%(n)d caractères au plus.", n=PHONE_MAX)))
    year = data["birth_year"]
    if year is not None and not rules.BIRTH_YEAR_MIN <= year <= rules.BIRTH_YEAR_MAX:
        problems.append(
            (
                "birth_year",
                _(
                    "Année de naissance attendue entre %(a)d et %(b)d.",
                    a=rules.BIRTH_YEAR_MIN,
                    b=rules.BIRTH_YEAR_MAX,
                ),
            )
        )
    if data["prescriber_id"] is not None and data["prescriber_id"] not in partners:
        problems.append(
            ("prescriber_id", _("Le prescripteur doit être une organisation partenaire."))
        )
    if data["public_category"] and data["public_category"] not in TARGET_PUBLICS:
        problems.append(("public_category", _("Public inconnu.")))
    return problems


def partner_ids() -> set[int]:
    return set(
        db.session.scalars(select(Organisation.id).where(Organisation.kind == OrgKind.PARTNER))
    )


def known(operation: Operation, exclude: Trainee | None = None) -> tuple[set, set]:
    """E-mails and (name, first name, birth year) already recorded in the operation."""
    rows = db.session.execute(
        select(
            Trainee.id, Trainee.email, Trainee.last_name, Trainee.first_name, Trainee.birth_year
        ).where(Trainee.operation_id == operation.id)
    ).all()
    rows = [r for r in rows if exclude is None or r.id != exclude.id]
    emails = {r.email.lower() for r in rows if r.email}
    people = {(r.last_name.casefold(), r.first_name.casefold(), r.birth_year) for r in rows}
    return emails, people


def check_rows(operation: Operation, rows: list[dict]) -> dict[int, list[tuple[str, str]]]:
    """Every problem of ``rows`` (index → [(field, reason)]), duplicates included."""
    partners = partner_ids()
    emails, people = known(operation)
    errors: dict[int, list[tuple[str, str]]] = {}
    seen_emails: dict[str, int] = {}
    seen_people: dict[tuple, int] = {}
    for index, row in enumerate(rows):
        data = clean(row)
        problems = row_problems(data, partners)
        if data["email"]:
            if data["email"] in emails:
                problems.append(("email", _("Une candidature avec cette adresse existe déjà.")))
            elif data["email"] in seen_emails:
                problems.append(
                    (
                        "email",
                        _("Adresse déjà saisie ligne %(n)d.", n=seen_emails[data["email"]] + 1),
                    )
                )
            seen_emails.setdefault(data["email"], index)
        person = identity(data)
        if data["last_name"] and data["first_name"]:
            if person in people:
                problems.append(
                    ("last_name", _("Cette personne est déjà enregistrée dans l'opération."))
                )
            elif person in seen_people:
                problems.append(
                    ("last_name", _("Personne déjà saisie ligne %(n)d.", n=seen_people[person] + 1))
                )
            seen_people.setdefault(person, index)
        if problems:
            errors[index] = problems
    return errors
