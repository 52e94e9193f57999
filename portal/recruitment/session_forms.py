"""Forms of information sessions and job datings: planning one, inviting, the attendance
sheet, an employer's opinion of a candidate. Every message is French."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.accounts.forms import REQUIRED
from portal.core.forms import PortalForm, row_id
from portal.operations.forms import MultiCheckboxField
from portal.recruitment.models import Attendance, SessionKind, Verdict


class SessionForm(PortalForm):
    """When and where: a place, a video link, or both."""

    kind = SelectField(
        _l("Type de session"),
        choices=[SelectChoice(v, t) for v, t in SessionKind.choices()],
        validators=[DataRequired(REQUIRED)],
    )
    starts_at = DateTimeLocalField(
        _l("Date et heure"),
        format="%Y-%m-%dT%H:%M",
        invalid_value_message=_l("Date et heure attendues, par exemple 12/05/2026 14:00."),
        validators=[InputRequired(_l("Indiquez la date et l'heure."))],
    )
    place = StringField(_l("Lieu"), validators=[Length(max=300)])
    video_link = URLField(_l("Lien de la visioconférence"), validators=[Length(max=500)])
    details = TextAreaField(_l("Programme, consignes (facultatif)"), validators=[Length(max=2000)])


class InviteForm(PortalForm):
    """Candidates and employers to invite (those not invited yet)."""

    trainee_ids = MultiCheckboxField(_l("Candidat·e·s"), coerce=row_id, validate_choice=False)
    employer_ids = MultiCheckboxField(_l("Employeurs"), coerce=row_id, validate_choice=False)

    def set_choices(self, trainees, employers) -> None:
        self.trainee_ids.choices = [SelectChoice(t.id, t.full_name) for t in trainees]
        self.employer_ids.choices = [SelectChoice(e.id, e.name) for e in employers]


class AttendanceForm(PortalForm):
    """The attendance sheet: one choice per candidate and employer (``candidate-<id>``,
    ``employer-<id>``, read by ``choices``), and the version of the sheet it was read at."""

    version = IntegerField(validators=[InputRequired()])

    @staticmethod
    def choices(formdata, prefix: str, ids) -> dict[int, Attendance | None]:
        """The attendance posted for each id (None: not said)."""
        found = {}
        for ident in ids:
            value = formdata.get(f"{prefix}-{ident}", "")
            found[ident] = Attendance(value) if value in list(Attendance) else None
        return found


class OpinionForm(PortalForm):
    """An employer's opinion of a candidate, from the version of it the form showed."""

    verdict = RadioField(
        _l("Avis de l'entreprise"),
        choices=[SelectChoice(v, t) for v, t in Verdict.choices()],
        validators=[InputRequired(_l("Choisissez un avis."))],
    )
    comment = TextAreaField(_l("Commentaire (facultatif)"), validators=[Length(max=2000)])
    version = IntegerField(validators=[Optional()], default=0)
