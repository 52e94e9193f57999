"""Forms of the end of training and the employment follow-up; every message is French.

The forms check what depends on the other fields (a CDD's duration, a salaried job's
employer, a kept promise's contract) so that the person sees every error at once, on the
field at fault; the services check the same rules again.
"""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.employment import SALARIED, Situation
from portal.core.forms import PortalForm, PortalSubForm
from portal.followup.models import Channel, NotKeptReason, WorkingTime
from portal.followup.rules import Progress
from portal.immersions.forms import CHOICE_INVALID, DATE_INVALID, TOO_LONG, choices
from portal.recruitment.models import ExitReason

MONTHS_INVALID = _l("Nombre entier de mois attendu, par exemple 6.")
MONTHS_RANGE = _l("Durée attendue entre 1 et 120 mois.")
HOURS_INVALID = _l("Nombre d'heures attendu, par exemple 35 ou 17,5.")
BOTH_EMPLOYERS = _l("Choisissez un employeur de l'opération ou nommez-en un autre, pas les deux.")


def _blank(label=None) -> list:
    return [("", label or _l("— Choisir —"))]


def _date(label, message) -> DateField:
    return DateField(label, invalid_value_message=DATE_INVALID, validators=[InputRequired(message)])


def _months() -> IntegerField:
    return IntegerField(
        _l("Durée du contrat (en mois)"),
        invalid_value_message=MONTHS_INVALID,
        validators=[Optional(), NumberRange(1, 120, MONTHS_RANGE)],
    )


def _comment(label, max_length: int = 2000) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=max_length, message=TOO_LONG)])


def _channel(label) -> RadioField:
    return RadioField(
        label,
        choices=choices(Channel.choices()),
        validators=[InputRequired(_l("Indiquez le moyen de contact."))],
        invalid_choice_message=CHOICE_INVALID,
    )


def _require(field, message) -> bool:
    """Add ``message`` to ``field`` when it is empty; True when it was filled."""
    if field.data in (None, ""):
        field.errors = [*field.errors, message]
        return False
    return True


# --- End of training -----------------------------------------------------------------------


class ExitForm(PortalForm):
    """A trainee's exit: date, reason and what explains it (an abandon, an exclusion)."""

    exit_date = _date(_l("Date de sortie"), _l("Indiquez la date de sortie."))
    exit_reason = SelectField(
        _l("Motif de sortie"),
        choices=choices(_blank() + ExitReason.choices()),
        validators=[DataRequired(_l("Indiquez le motif de sortie."))],
        invalid_choice_message=CHOICE_INVALID,
    )
    exit_detail = _comment(_l("Précisions (raison d'un abandon, d'une exclusion…)"), 1000)

    def reason(self) -> ExitReason | None:
        return ExitReason(self.exit_reason.data) if self.exit_reason.data else None


# --- Promise outcomes ------------------------------------------------------------------------


class PromiseOutcomeForm(PortalForm):
    """Was the promise kept (contract, start, hours) or not (why)?"""

    kept = RadioField(
        _l("La promesse d'embauche a-t-elle été tenue ?"),
        choices=choices([("yes", _l("Oui, le contrat est signé")), ("no", _l("Non"))]),
        validators=[InputRequired(_l("Indiquez si la promesse a été tenue."))],
        invalid_choice_message=CHOICE_INVALID,
    )
    contract = SelectField(
        _l("Contrat signé"),
        choices=choices(_blank() + [(s.value, s.lazy_title) for s in Situation if s in SALARIED]),
        default="",
        invalid_choice_message=CHOICE_INVALID,
    )
    duration_months = _months()
    start_date = DateField(
        _l("Date d'embauche"), invalid_value_message=DATE_INVALID, validators=[Optional()]
    )
    weekly_hours = StringField(
        _l("Heures par semaine"), validators=[Optional(), Length(max=10, message=TOO_LONG)]
    )
    reason = SelectField(
        _l("Motif (promesse non tenue)"),
        choices=choices(_blank() + NotKeptReason.choices()),
        default="",
        invalid_choice_message=CHOICE_INVALID,
    )
    comment = _comment(_l("Commentaire"))

    def hours(self) -> float | None:
        """The weekly hours typed, French decimal comma accepted (None when empty)."""
        text = (self.weekly_hours.data or "").strip().replace(",", ".")
        return float(text) if text else None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        try:
            self.hours()
        except ValueError:
            self.weekly_hours.errors = [*self.weekly_hours.errors, HOURS_INVALID]
            valid = False
        if self.kept.data == "yes":
            valid &= _require(self.contract, _l("Indiquez le contrat signé."))
            valid &= _require(self.start_date, _l("Indiquez la date d'embauche."))
            # An unknown contract is already refused by its field (not one of the choices).
            situation = Situation._value2member_map_.get(self.contract.data)
            if situation is not None and situation.needs_duration:
                valid &= _require(self.duration_months, _l("Indiquez la durée du contrat."))
        elif self.kept.data == "no":
            valid &= _require(self.reason, _l("Indiquez pourquoi la promesse n'a pas été tenue."))
            if self.reason.data == NotKeptReason.OTHER.value:
                valid &= _require(self.comment, _l("Précisez le motif dans le commentaire."))
        return valid

    def to_data(self) -> dict:
        return {
            "kept": self.kept.data == "yes",
            "contract": self.contract.data or None,
            "duration_months": self.duration_months.data,
            "start_date": self.start_date.data,
            "weekly_hours": self.hours(),
            "reason": self.reason.data or None,
            "comment": self.comment.data or "",
        }


# --- Follow-up answers ----------------------------------------------------------------------


class AnswerFields(PortalSubForm):
    """What a party knows of the person's situation (choices of employers set by the view).
    Used alone (a party's answer) and inside the reconciliation (the written answer)."""

    situation = SelectField(
        _l("Situation"),
        choices=choices(_blank() + Situation.choices()),
        validators=[DataRequired(_l("Indiquez la situation."))],
        invalid_choice_message=CHOICE_INVALID,
    )
    duration_months = _months()
    employer_id = SelectField(
        _l("Employeur de l'opération"), default="", invalid_choice_message=CHOICE_INVALID
    )
    employer_name = StringField(
        _l("Autre employeur (nom)"), validators=[Optional(), Length(max=200, message=TOO_LONG)]
    )
    job_title = StringField(
        _l("Poste occupé"), validators=[Optional(), Length(max=200, message=TOO_LONG)]
    )
    working_time = SelectField(
        _l("Temps de travail"),
        choices=choices(_blank(_l("Non précisé")) + WorkingTime.choices()),
        default="",
        invalid_choice_message=CHOICE_INVALID,
    )
    contacted_on = _date(_l("Date du contact"), _l("Indiquez la date du contact."))
    channel = _channel(_l("Moyen de contact"))
    comment = _comment(_l("Commentaire"))

    def set_employers(self, employers) -> None:
        self.employer_id.choices = choices(_blank(_l("Aucun, ou un autre employeur")))
        self.employer_id.choices += choices((e.id, e.name) for e in employers)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not self.situation.data or self.situation.errors:
            return False
        situation = Situation(self.situation.data)
        if situation.needs_duration:
            valid &= _require(self.duration_months, _l("Indiquez la durée du contrat."))
        if situation.is_salaried:
            if self.employer_id.data and (self.employer_name.data or "").strip():
                self.employer_name.errors = [*self.employer_name.errors, BOTH_EMPLOYERS]
                valid = False
            elif not self.employer_id.data:
                valid &= _require(self.employer_name, _l("Indiquez l'employeur."))
        return valid

    def to_data(self) -> dict:
        return {
            "situation": self.situation.data,
            "duration_months": self.duration_months.data,
            "employer_id": int(self.employer_id.data) if self.employer_id.data else None,
            "employer_name": self.employer_name.data or "",
            "job_title": self.job_title.data or "",
            "working_time": self.working_time.data or None,
            "contacted_on": self.contacted_on.data,
            "channel": self.channel.data,
            "comment": self.comment.data or "",
        }


class AnswerForm(AnswerFields, PortalForm):
    """A party's answer to a milestone (with its CSRF token)."""


class AttemptForm(PortalForm):
    """A try to reach the person."""

    attempted_on = _date(_l("Date de la tentative"), _l("Indiquez la date de la tentative."))
    channel = _channel(_l("Moyen de contact essayé"))
    note = _comment(_l("Note (message laissé, numéro essayé…)"), 1000)


WRITTEN = "written"


class ReconcileForm(PortalForm):
    """The organisme porteur's decision: one of the answers, or the one it writes, and why.
    ``version`` is the milestone's version the page showed."""

    version = HiddenField()
    choice = RadioField(
        _l("Réponse retenue"),
        validators=[InputRequired(_l("Choisissez la réponse à retenir."))],
        invalid_choice_message=CHOICE_INVALID,
    )
    note = TextAreaField(
        _l("Note : pourquoi cette réponse"),
        validators=[
            DataRequired(_l("Expliquez votre choix dans la note.")),
            Length(max=2000, message=TOO_LONG),
        ],
    )

    def set_answers(self, labels) -> None:
        """``labels``: (answer id, label) of the answers to choose from."""
        self.choice.choices = choices(
            [*labels, (WRITTEN, _l("Aucune : je rédige la réponse retenue"))]
        )

    def seen_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class StateFilterForm(PortalSubForm):
    """The state filter of the follow-up lists (GET, no CSRF)."""

    etat = SelectField(
        _l("État"), choices=choices(_blank(_l("Tous")) + Progress.choices()), validate_choice=False
    )

    def state(self) -> Progress | None:
        try:
            return Progress(self.etat.data) if self.etat.data else None
        except ValueError:
            return None
