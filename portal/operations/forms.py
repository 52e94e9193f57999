"""Forms of the operations area; every message is French."""

import re

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields import Label
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts.forms import EMAIL_INVALID, REQUIRED
from portal.core.forms import PortalForm, append_row, optional_row_id
from portal.core.validators import EmailAddress, Siret
from portal.lots.models import Category
from portal.operations.models import ParticipantRole, Status

ROME_RE = re.compile(r"^[A-N]\d{4}$")
CERTIFICATION_RE = re.compile(r"^(RNCP|RS)\d{3,6}$")


class RomeCode:
    """A ROME code: one letter (A to N) and four digits, e.g. K2204."""

    def __init__(self, required: bool = True):
        self.required = required

    def __call__(self, form, field):
        value = (field.data or "").strip().upper()
        field.data = value
        if not value and not self.required:
            return
        if not ROME_RE.match(value):
            raise ValidationError(
                _l("Code ROME attendu : une lettre et quatre chiffres (ex. K2204).")
            )


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes for a multiple choice (more usable than a multiple select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


SIRET_REQUIRED = _l("Indiquez le SIRET de l'entreprise : la Région le vérifie.")


NEW_EMPLOYERS_MAX = 20
NEW_EMPLOYERS_TOO_MANY = _l(
    "%(n)d employeurs à inviter au plus par signalement : invitez les suivants depuis la page "
    "des participants de l'opération.",
    n=NEW_EMPLOYERS_MAX,
)


class NewOrganisationForm(PortalForm):
    """A new organisation invited by e-mail with its first admin (sub-form, no CSRF)."""

    class Meta:
        csrf = False

    name = StringField(_l("Nom de l'entreprise"), validators=[Optional(), Length(max=200)])
    email = EmailField(
        _l("Adresse électronique de son ou sa responsable"),
        validators=[Optional(), EmailAddress(EMAIL_INVALID), Length(max=254)],
    )
    siret = StringField(_l("SIRET de l'entreprise"), validators=[Siret()])

    # Optional() stops the chain on an empty field, so each side checks for the other.
    def validate_name(self, field):
        if not self.email.data:
            raise ValidationError(_l("Indiquez à la fois le nom et l'adresse électronique."))

    def validate_email(self, field):
        if bool(self.name.data and self.name.data.strip()) != bool(field.data):
            raise ValidationError(_l("Indiquez à la fois le nom et l'adresse électronique."))

    def validate_siret(self, field):
        if self.name.data and self.name.data.strip() and not field.data:
            raise ValidationError(SIRET_REQUIRED)


class ReportNeedForm(PortalForm):
    title = StringField(
        _l("Intitulé du besoin (métier visé)"),
        validators=[DataRequired(REQUIRED), Length(max=200)],
    )
    category = SelectField(
        _l("Catégorie Parcours Métiers"),
        choices=[SelectChoice(value, title) for value, title in Category.choices()],
        validators=[DataRequired(REQUIRED)],
    )
    territory_id = SelectField(
        _l("Bassin d'emploi"), coerce=optional_row_id, validators=[DataRequired(REQUIRED)]
    )
    rome_code = StringField(_l("Code ROME du métier"), validators=[RomeCode()])
    trades = StringField(_l("Métiers et postes concernés"), validators=[Length(max=300)])
    positions_estimate = IntegerField(
        _l("Nombre de postes envisagés"),
        validators=[Optional(), NumberRange(1, 500, _l("Entre 1 et 500 postes."))],
    )
    desired_start = DateField(
        _l("Démarrage souhaité"),
        validators=[Optional()],
    )
    context = TextAreaField(
        _l("Contexte du besoin"), validators=[DataRequired(REQUIRED), Length(max=5000)]
    )
    employer_ids = MultiCheckboxField(_l("Employeurs déjà inscrits"), coerce=int)
    # No ``max_entries``: WTForms would drop the rows beyond it unsaid; validate_new_employers
    # refuses them in French instead.
    new_employers = FieldList(FormField(NewOrganisationForm), min_entries=1)
    too_many = NEW_EMPLOYERS_TOO_MANY
    new_row: int | None = None  # the index of the row ``add_employer`` added

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.label_new_employers()

    def label_new_employers(self) -> None:
        """Number each new employer's fields, so that a screen reader tells the rows apart
        (« Nom de l'employeur 2 », « SIRET de l'employeur 2 »)."""
        for number, entry in enumerate(self.new_employers.entries, start=1):
            row = entry.form
            row.name.label = Label(row.name.id, _l("Nom de l'employeur %(n)d", n=number))
            row.email.label = Label(
                row.email.id,
                _l("Adresse électronique du ou de la responsable de l'employeur %(n)d", n=number),
            )
            row.siret.label = Label(row.siret.id, _l("SIRET de l'employeur %(n)d", n=number))

    @property
    def may_add_employer(self) -> bool:
        return len(self.new_employers.entries) < NEW_EMPLOYERS_MAX

    def add_employer(self) -> None:
        """One more blank new-employer row (``new_row``), none once at the ceiling."""
        self.new_row = append_row(self.new_employers, NEW_EMPLOYERS_MAX)
        self.label_new_employers()

    def validate_new_employers(self, field):
        if len(field.entries) > NEW_EMPLOYERS_MAX:
            raise ValidationError(NEW_EMPLOYERS_TOO_MANY)

    def set_choices(self, territories, employers) -> None:
        self.territory_id.choices = [("", _l("— Choisir —"))] + [
            (t.id, t.name) for t in territories
        ]
        self.employer_ids.choices = [(e.id, e.name) for e in employers]


class OperationForm(PortalForm):
    title = StringField(_l("Intitulé"), validators=[DataRequired(REQUIRED), Length(max=200)])
    trades = StringField(_l("Métiers et postes concernés"), validators=[Length(max=300)])
    desired_start = DateField(_l("Démarrage souhaité"), validators=[Optional()])
    session_start = DateField(_l("Début de la session"), validators=[Optional()])
    session_end = DateField(_l("Fin de la session"), validators=[Optional()])
    target_headcount = IntegerField(
        _l("Effectif ciblé (stagiaires)"),
        validators=[Optional(), NumberRange(1, 200, _l("Entre 1 et 200 stagiaires."))],
    )
    hours_centre = IntegerField(
        _l("Heures prévues en centre de formation"),
        validators=[Optional(), NumberRange(0, 3000, _l("Entre 0 et 3 000 heures."))],
    )
    hours_company = IntegerField(
        _l("Heures prévues en entreprise"),
        validators=[Optional(), NumberRange(0, 3000, _l("Entre 0 et 3 000 heures."))],
    )
    certification_code = StringField(
        _l("Code de la certification visée (RNCP ou RS)"), validators=[Length(max=20)]
    )
    certification_title = StringField(
        _l("Intitulé de la certification"), validators=[Length(max=250)]
    )
    context = TextAreaField(_l("Contexte du besoin"), validators=[Length(max=5000)])

    def validate_session_end(self, field):
        if field.data and self.session_start.data and field.data < self.session_start.data:
            raise ValidationError(_l("La fin de session précède son début."))

    def validate_certification_code(self, field):
        value = (field.data or "").strip().upper().replace(" ", "")
        field.data = value
        if value and not CERTIFICATION_RE.match(value):
            raise ValidationError(
                _l("Code attendu : RNCP suivi de chiffres (ex. RNCP34567) ou RS (ex. RS5678).")
            )
        if value and not (self.certification_title.data or "").strip():
            raise ValidationError(_l("Indiquez aussi l'intitulé de la certification."))


class AcknowledgeForm(PortalForm):
    comment = TextAreaField(_l("Commentaire (facultatif)"), validators=[Length(max=2000)])


class FrefForm(PortalForm):
    reference = StringField(
        _l("Référence de la consultation FREF"),
        validators=[DataRequired(REQUIRED), Length(max=60)],
    )
    provider_id = SelectField(
        _l("Organisme de formation retenu"),
        coerce=optional_row_id,
        validators=[DataRequired(REQUIRED)],
    )


class ReasonForm(PortalForm):
    reason = TextAreaField(_l("Motif"), validators=[DataRequired(REQUIRED), Length(max=2000)])


class CancelOperationForm(ReasonForm):
    """The reason, then (on the confirmation step, which lists what stops) ``confirmed``."""

    confirmed = HiddenField()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed.data == "1"


class AdvanceForm(PortalForm):
    target = HiddenField(validators=[DataRequired()])

    def target_status(self) -> Status | None:
        try:
            return Status(self.target.data)
        except ValueError:
            return None


PARTICIPANT_ROLES = [
    r for r in ParticipantRole if r not in (ParticipantRole.REGION, ParticipantRole.PROVIDER)
]


class AddParticipantForm(PortalForm):
    organisation_id = SelectField(
        _l("Organisation"), coerce=optional_row_id, validators=[DataRequired(REQUIRED)]
    )
    role = SelectField(
        _l("Rôle dans l'opération"),
        choices=[SelectChoice(r.value, r.lazy_title) for r in PARTICIPANT_ROLES],
        validators=[DataRequired(REQUIRED)],
    )


class InviteOrganisationForm(PortalForm):
    name = StringField(
        _l("Nom de l'organisation"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    siret = StringField(_l("SIRET (obligatoire pour un employeur)"), validators=[Siret()])
    email = EmailField(
        _l("Adresse électronique de son ou sa responsable"),
        validators=[DataRequired(REQUIRED), EmailAddress(EMAIL_INVALID), Length(max=254)],
    )
    role = SelectField(
        _l("Rôle dans l'opération"),
        choices=[
            SelectChoice(r.value, r.lazy_title)
            for r in PARTICIPANT_ROLES
            if r != ParticipantRole.OTHER
        ],
        validators=[DataRequired(REQUIRED)],
        # The add form on the same page has a ``role`` field too: one id each, one label each.
        id="invite-role",
    )


APPROVE, REFUSE = "approve", "refuse"


class DecideDualMembershipForm(PortalForm):
    """The Région approves a person's membership of two parties, or refuses it (issue #11
    M6); a refusal says why. Each situation's form has its own prefix (one page, many)."""

    decision = RadioField(
        _l("Décision"),
        choices=[
            SelectChoice(APPROVE, _l("Approuver le cumul")),
            SelectChoice(REFUSE, _l("Refuser le cumul")),
        ],
        validators=[InputRequired(message=_l("Choisissez une décision."))],
    )
    reason = TextAreaField(
        _l("Motif (obligatoire pour un refus)"), validators=[Optional(), Length(max=2000)]
    )
