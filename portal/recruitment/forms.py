"""Forms of recruitment; every message is French.

A candidate's fields live in ``TraineeFields``, shared by the record's form and by each row
of the bulk form (a sub-form without its own CSRF token). A bulk row left blank is ignored.
"""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
)

from portal.accounts.forms import EMAIL_INVALID, REQUIRED
from portal.core.forms import PortalForm, PortalSubForm, append_row, optional_row_id
from portal.core.validators import EmailAddress, Phone
from portal.operations.needs import TARGET_PUBLICS
from portal.recruitment import rules
from portal.recruitment.models import ExitReason, TraineeStatus

BULK_ROWS = 5
BULK_MAX_ROWS = 50
BULK_TOO_MANY = _l(
    "%(n)d candidatures au plus par envoi : enregistrez celles-ci, puis ajoutez les suivantes "
    "(ou importez un fichier CSV).",
    n=BULK_MAX_ROWS,
)
MAX_IMPORT_BYTES = 1024 * 1024
BIRTH_YEAR_MESSAGE = _l(
    "Année de naissance attendue entre %(a)d et %(b)d.",
    a=rules.BIRTH_YEAR_MIN,
    b=rules.BIRTH_YEAR_MAX,
)


def _int_or_none(value):
    try:
        return optional_row_id(value)
    except (TypeError, ValueError):
        return None


def _choices(pairs, placeholder=None) -> list[SelectChoice]:
    first = [SelectChoice("", placeholder)] if placeholder is not None else []
    return first + [SelectChoice(value, label) for value, label in pairs]


def public_choices() -> list[SelectChoice]:
    return _choices(TARGET_PUBLICS.items(), _l("— Non précisé —"))


def prescriber_choices(taking_part, others) -> list[SelectChoice]:
    """The select's choices: partners of the operation first, then the other partners."""
    return (
        _choices([], _l("— Non précisé —"))
        + [
            SelectChoice(o.id, o.name, optgroup=_l("Partenaires de l'opération"))
            for o in taking_part
        ]
        + [
            SelectChoice(
                o.id,
                o.name,
                optgroup=_l("Autres partenaires (associés à l'opération, la Région est informée)"),
            )
            for o in others
        ]
    )


class Filled:
    """Like DataRequired, without the ``required`` flag: a bulk row may be left blank, so
    its inputs must not announce themselves as required."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if not (field.data or "").strip():
            raise StopValidation(self.message)


class TraineeFields:
    """The minimum personal data recruitment needs."""

    last_name = StringField(_l("Nom"), validators=[Filled(REQUIRED), Length(max=100)])
    first_name = StringField(_l("Prénom"), validators=[Filled(REQUIRED), Length(max=100)])
    email = EmailField(
        _l("Adresse électronique"),
        validators=[Optional(), EmailAddress(EMAIL_INVALID), Length(max=254)],
    )
    phone = TelField(_l("Téléphone"), validators=[Optional(), Phone(), Length(max=30)])
    birth_year = IntegerField(
        _l("Année de naissance"),
        invalid_value_message=_l("Indiquez l'année sur quatre chiffres, par exemple 1998."),
        validators=[
            Optional(),
            NumberRange(rules.BIRTH_YEAR_MIN, rules.BIRTH_YEAR_MAX, BIRTH_YEAR_MESSAGE),
        ],
    )
    prescriber_id = SelectField(_l("Prescripteur"), coerce=_int_or_none)
    public_category = SelectField(_l("Public"), choices=public_choices(), default="")

    def set_choices(self, taking_part, others) -> None:
        self.prescriber_id.choices = prescriber_choices(taking_part, others)

    def to_data(self) -> dict:
        return {
            "last_name": self.last_name.data,
            "first_name": self.first_name.data,
            "email": self.email.data or "",
            "phone": self.phone.data or "",
            "birth_year": self.birth_year.data,
            "prescriber_id": self.prescriber_id.data if self.prescriber_id else None,
            "public_category": self.public_category.data or "",
        }


class TraineeForm(TraineeFields, PortalForm):
    """The trainee's record, edited by the organisme porteur."""

    last_name = StringField(_l("Nom"), validators=[DataRequired(REQUIRED), Length(max=100)])
    first_name = StringField(_l("Prénom"), validators=[DataRequired(REQUIRED), Length(max=100)])


class TraineeRowForm(TraineeFields, PortalSubForm):
    """One candidate of the bulk form (the CSRF token is the parent's)."""

    TYPED = ("last_name", "first_name", "email", "phone", "birth_year")

    @property
    def blank(self) -> bool:
        """Nothing typed in the row: it is ignored, not refused."""
        return not any((self[name].raw_data or [""])[0].strip() for name in self.TYPED)


class BulkTraineesForm(PortalForm):
    """Several candidates at once; blank rows are skipped."""

    # No ``max_entries``: WTForms would drop the rows beyond it unsaid; validate_filled
    # refuses them in French instead, everything typed kept.
    rows = FieldList(FormField(TraineeRowForm), min_entries=BULK_ROWS)
    too_many = BULK_TOO_MANY
    new_row: int | None = None  # the index of the row ``add_row`` added

    @property
    def may_add_row(self) -> bool:
        return len(self.rows.entries) < BULK_MAX_ROWS

    def add_row(self) -> None:
        """One more blank row (``new_row``), none once at the ceiling."""
        self.new_row = append_row(self.rows, BULK_MAX_ROWS)

    def set_choices(self, taking_part, others) -> None:
        for entry in self.rows:
            entry.form.set_choices(taking_part, others)

    def filled(self) -> list[tuple[int, TraineeRowForm]]:
        """(index, row) of the rows someone typed in."""
        return [(i, entry.form) for i, entry in enumerate(self.rows) if not entry.form.blank]

    def validate_filled(self) -> bool:
        """Validate the CSRF token and the typed rows only (blank rows are not errors)."""
        ok = self.csrf_token.validate(self) if self.meta.csrf else True
        for _index, row in self.filled():
            ok = row.validate() and ok
        if len(self.rows.entries) > BULK_MAX_ROWS:
            self.form_errors.append(BULK_TOO_MANY)
            ok = False
        return ok


class StatusForm(PortalForm):
    """Change a trainee's status; leaving the training needs its date and reason."""

    # Any status may be posted: the service refuses a change with the rule's French reason.
    status = SelectField(
        _l("Nouveau statut"), validators=[InputRequired(REQUIRED)], validate_choice=False
    )
    exit_date = DateField(
        _l("Date de sortie"),
        invalid_value_message=_l("Date attendue au format JJ/MM/AAAA."),
        validators=[Optional()],
    )
    exit_reason = SelectField(
        _l("Motif de sortie"), choices=_choices(ExitReason.choices(), _l("— Choisir —")), default=""
    )
    comment = TextAreaField(_l("Commentaire (facultatif)"), validators=[Length(max=2000)])

    def set_choices(self, current: TraineeStatus) -> None:
        self.status.choices = _choices(
            [(target.value, label) for target, label in rules.targets(current)], _l("— Choisir —")
        )

    def target(self) -> TraineeStatus | None:
        try:
            return TraineeStatus(self.status.data)
        except ValueError:
            return None

    def reason(self) -> ExitReason | None:
        try:
            return ExitReason(self.exit_reason.data) if self.exit_reason.data else None
        except ValueError:
            return None


class MatchForm(PortalForm):
    """Place the trainee on an open promise."""

    # A promise taken meanwhile is refused by the service, with its French reason.
    promise_id = SelectField(
        _l("Promesse d'embauche"),
        coerce=_int_or_none,
        validators=[InputRequired(REQUIRED)],
        validate_choice=False,
    )

    def set_choices(self, promises) -> None:
        self.promise_id.choices = _choices([], _l("— Choisir —")) + [
            SelectChoice(p.id, f"{p.job_title} ({p.contract_label})", optgroup=p.organisation.name)
            for p in promises
        ]


class ImportTraineesForm(PortalForm):
    """A CSV file of candidates."""

    file = FileField(
        _l("Fichier CSV des candidat·e·s"),
        validators=[
            FileRequired(_l("Choisissez un fichier CSV.")),
            FileAllowed(["csv"], _l("Le fichier doit être au format CSV (extension .csv).")),
        ],
    )


class EarlyStartForm(PortalForm):
    """The decision to start the training before the session's date, with its reason."""

    reason = TextAreaField(
        _l("Motif du démarrage anticipé"),
        validators=[DataRequired(REQUIRED), Length(max=2000)],
    )


class StatusFilterForm(PortalSubForm):
    """The status filter of the trainees list (GET, no CSRF)."""

    statut = SelectField(
        _l("Statut"),
        choices=_choices(TraineeStatus.choices(), _l("Tous")),
        validate_choice=False,
    )

    def status(self) -> TraineeStatus | None:
        try:
            return TraineeStatus(self.statut.data) if self.statut.data else None
        except ValueError:
            return None


class ProposalForm(TraineeForm):
    """A candidate proposed by a prescriber: the minimum, and the consent statement ticked
    (``consent_text`` carries the statement as it was shown, to compare with today's)."""

    prescriber_id = None  # the prescriber is the one proposing
    consent = BooleanField(
        _l("J'ai informé la personne et recueilli son consentement, dans les termes ci-dessus."),
        validators=[DataRequired(_l("Cochez la déclaration de consentement."))],
    )
    consent_text = HiddenField()

    def to_data(self) -> dict:
        data = super().to_data()
        del data["prescriber_id"]
        return data


class AcceptNonLastingForm(PortalForm):
    """The Région accepts a non-lasting promise, with its reason."""

    reason = TextAreaField(
        _l("Motif de l'acceptation"), validators=[DataRequired(REQUIRED), Length(max=2000)]
    )
