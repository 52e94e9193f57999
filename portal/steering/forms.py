"""Forms of the steering committee; every message is French.

A member or an action's owner is chosen in one list grouped by organisation: the value
``<organisation id>`` is the organisation as a whole, ``<organisation id>:<user id>`` one
of its people (``person_choices``, ``parse_person``). The attendance form has one field per
member (``attendance_form``).
"""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional

from portal.core.forms import PortalForm
from portal.steering.models import Presence, SteeringMember

CHOICE_INVALID = _l("Choisissez une valeur de la liste.")
TOO_LONG = _l("%(max)d caractères au plus.")


def person_choices(candidates) -> list[SelectChoice]:
    """Each organisation as a whole, then its people, grouped under its name."""
    options = [SelectChoice("", _l("— Choisir —"))]
    for organisation, people in candidates:
        group = organisation.name
        whole = _l("%(o)s (toute l'organisation)", o=organisation.name)
        options.append(SelectChoice(str(organisation.id), whole, optgroup=group))
        options.extend(
            SelectChoice(f"{organisation.id}:{user.id}", user.full_name, optgroup=group)
            for user in people
        )
    return options


def parse_person(value: str) -> tuple[int, int | None]:
    """``(organisation id, user id or None)`` from a value of ``person_choices``."""
    organisation, _sep, user = value.partition(":")
    return int(organisation), int(user) if user else None


class MemberForm(PortalForm):
    """An organisation, or a person of it, named to the committee."""

    member = SelectField(
        _l("Membre"),
        validators=[DataRequired(_l("Choisissez une organisation ou une personne."))],
        validate_choice=True,
        invalid_choice_message=CHOICE_INVALID,
    )


class MeetingForm(PortalForm):
    """When and where the committee meets, and its agenda (Paris time)."""

    title = StringField(
        _l("Titre de la réunion"),
        validators=[
            DataRequired(_l("Donnez un titre à la réunion.")),
            Length(max=200, message=TOO_LONG),
        ],
    )
    starts_at = DateTimeLocalField(
        _l("Début (date et heure)"),
        format="%Y-%m-%dT%H:%M",
        invalid_value_message=_l("Date et heure attendues, par exemple 12/05/2026 14:00."),
        validators=[InputRequired(_l("Indiquez la date et l'heure de début."))],
    )
    ends_at = TimeField(
        _l("Heure de fin"),
        invalid_value_message=_l("Heure attendue, par exemple 16:30."),
        validators=[InputRequired(_l("Indiquez l'heure de fin."))],
    )
    place = StringField(_l("Lieu"), validators=[Optional(), Length(max=250, message=TOO_LONG)])
    video_url = StringField(
        _l("Lien de visioconférence"),
        validators=[
            Optional(),
            Length(max=500, message=TOO_LONG),
            URL(require_tld=False, message=_l("Adresse web attendue, commençant par https://")),
        ],
    )
    agenda = TextAreaField(
        _l("Ordre du jour"), validators=[Optional(), Length(max=4000, message=TOO_LONG)]
    )


class CancelMeetingForm(PortalForm):
    reason = TextAreaField(
        _l("Motif de l'annulation"),
        validators=[
            DataRequired(_l("Indiquez le motif de l'annulation.")),
            Length(max=2000, message=TOO_LONG),
        ],
    )


class DecisionForm(PortalForm):
    text = TextAreaField(
        _l("Décision"),
        validators=[DataRequired(_l("Rédigez la décision.")), Length(max=4000, message=TOO_LONG)],
    )


class ActionForm(PortalForm):
    """An action item: what, who, by when (the owner's choices are set by the view)."""

    title = StringField(
        _l("Action"),
        validators=[DataRequired(_l("Décrivez l'action.")), Length(max=300, message=TOO_LONG)],
    )
    owner = SelectField(
        _l("Responsable"),
        validators=[DataRequired(_l("Choisissez qui mène l'action."))],
        invalid_choice_message=CHOICE_INVALID,
    )
    due_on = DateField(
        _l("Échéance"),
        invalid_value_message=_l("Date attendue au format JJ/MM/AAAA."),
        validators=[InputRequired(_l("Indiquez l'échéance."))],
    )


class ApproveMinutesForm(PortalForm):
    """The organisme porteur approves the minutes at the version it read."""

    version = HiddenField()


class AttendanceBase(PortalForm):
    member_ids: list[int] = []

    def presences(self) -> dict[int, Presence]:
        """The presence recorded for each member whose field is filled in."""
        return {
            member_id: Presence(self[f"presence-{member_id}"].data)
            for member_id in self.member_ids
            if self[f"presence-{member_id}"].data
        }


def attendance_form(members: list[SteeringMember], **kwargs) -> AttendanceBase:
    """One choice per member: present, excused, absent, or not recorded."""

    class AttendanceForm(AttendanceBase):
        pass

    options = [SelectChoice("", _l("Non relevée"))] + [
        SelectChoice(value, label) for value, label in Presence.choices()
    ]
    for member in members:
        setattr(
            AttendanceForm,
            f"presence-{member.id}",
            SelectField(
                _l("Présence : %(m)s", m=member.label),
                choices=options,
                default="",
                invalid_choice_message=CHOICE_INVALID,
            ),
        )
    AttendanceForm.member_ids = [m.id for m in members]
    return AttendanceForm(**kwargs)
