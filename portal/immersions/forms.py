"""Forms of immersions, assessments, debriefs and evaluations; every message is French.

Forms whose fields depend on the data (a level per skill, a result per trainee) are built
by a function that adds one field per row to a subclass: ``level-<skill id>``,
``skill-<trainee id>-<skill id>``, ``outcome-<trainee id>``…
"""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.accounts.forms import REQUIRED
from portal.core.forms import PortalForm
from portal.core.french import de
from portal.immersions.models import (
    DebriefKind,
    EvaluationKind,
    Presence,
    SkillLevel,
    WouldHire,
)
from portal.operations.forms import MultiCheckboxField

TEXT_MAX = 5000
COMMENT_MAX = 1000
DATE_INVALID = _l("Date attendue au format JJ/MM/AAAA.")
CHOICE_INVALID = _l("Choisissez une valeur de la liste.")
TOO_LONG = _l("%(max)d caractères au plus.")


def choices(pairs) -> list[SelectChoice]:
    """``SelectChoice`` objects from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def _text(label, max_length: int = TEXT_MAX) -> TextAreaField:
    return TextAreaField(label, validators=[Optional(), Length(max=max_length, message=TOO_LONG)])


def _date(label, message) -> DateField:
    return DateField(label, invalid_value_message=DATE_INVALID, validators=[InputRequired(message)])


def _level(label, blank) -> SelectField:
    return SelectField(
        label,
        choices=choices([("", blank), *SkillLevel.choices()]),
        default="",
        invalid_choice_message=CHOICE_INVALID,
    )


def _comment(label) -> StringField:
    return StringField(label, validators=[Optional(), Length(max=COMMENT_MAX, message=TOO_LONG)])


# --- Immersions ------------------------------------------------------------------------------


class ImmersionForm(PortalForm):
    """Host, suggested tutor, dates and objectives of an immersion (choices set by the view);
    the host employer designates the tutor."""

    employer_id = SelectField(
        _l("Entreprise d'accueil"),
        validators=[DataRequired(REQUIRED)],
        invalid_choice_message=CHOICE_INVALID,
    )
    tutor_id = SelectField(
        _l("Tuteur·rice suggéré·e à l'entreprise"),
        default="",
        invalid_choice_message=CHOICE_INVALID,
    )
    starts_on = _date(_l("Du"), _l("Indiquez la date de début."))
    ends_on = _date(_l("Au"), _l("Indiquez la date de fin."))
    objectives = MultiCheckboxField(
        _l("Objectifs : compétences à travailler"), invalid_choice_message=CHOICE_INVALID
    )

    def set_choices(self, employers, tutors_by_employer: dict, skills: list[dict]) -> None:
        """Signatory employers, their tutors grouped by employer, the design's skills."""
        self.employer_id.choices = choices([("", _l("— Choisir —"))]) + choices(
            (e.id, e.name) for e in employers
        )
        self.tutor_id.choices = choices([("", _l("Aucune suggestion"))]) + [
            SelectChoice(str(user.id), user.full_name, optgroup=e.name)
            for e in employers
            for user in tutors_by_employer.get(e.id, [])
        ]
        self.objectives.choices = choices((s["id"], s["label"]) for s in skills)


class DesignateTutorForm(PortalForm):
    """The host employer's choice of tutor for one immersion (tutors set by the view)."""

    tutor_id = SelectField(_l("Tuteur·rice"), default="", invalid_choice_message=CHOICE_INVALID)

    def set_tutors(self, tutors, label) -> None:
        """The employer's tutors; ``label`` names the trainee (several forms on one page)."""
        self.tutor_id.label.text = label
        self.tutor_id.choices = choices([("", _l("— Aucun·e —"))]) + choices(
            (user.id, user.full_name) for user in tutors
        )


class ChecklistForm(PortalForm):
    """The preparation checklist of an immersion."""

    objectives_agreed = BooleanField(_l("Objectifs fixés avec le ou la stagiaire"))
    tutor_briefed = BooleanField(_l("Tuteur·rice informé·e et préparé·e"))
    practical_details = TextAreaField(
        _l("Informations pratiques (horaires, lieu, tenue, contact)"),
        validators=[Optional(), Length(max=2000, message=TOO_LONG)],
    )
    safety_ppe = BooleanField(_l("Consignes de sécurité et équipements de protection (EPI)"))
    agreement_reference = StringField(
        _l("Référence de la convention de stage"),
        validators=[Optional(), Length(max=80, message=TOO_LONG)],
    )


# --- The tutor's assessment ---------------------------------------------------------------------


class AssessmentBase(PortalForm):
    presence = RadioField(
        _l("Assiduité"),
        choices=choices(Presence.choices()),
        validators=[InputRequired(_l("Indiquez l'assiduité."))],
        invalid_choice_message=CHOICE_INVALID,
    )
    feedback = _text(_l("Appréciation générale"))
    would_hire = RadioField(
        _l("Embaucheriez-vous ce ou cette stagiaire ?"),
        choices=choices(WouldHire.choices()),
        validators=[InputRequired(_l("Répondez à la question de l'embauche."))],
        invalid_choice_message=CHOICE_INVALID,
    )

    skill_ids: list[str] = []

    def ratings(self) -> list[dict]:
        """The rows for ``assessments.record_assessment``."""
        return [
            {
                "skill_id": skill_id,
                "level": self[f"level-{skill_id}"].data or None,
                "comment": self[f"comment-{skill_id}"].data or "",
            }
            for skill_id in self.skill_ids
        ]


def assessment_form(skills: list[dict], **kwargs) -> AssessmentBase:
    """The assessment form with a level and a comment per skill."""

    class AssessmentForm(AssessmentBase):
        pass

    for skill in skills:
        setattr(AssessmentForm, f"level-{skill['id']}", _level(skill["label"], _l("Non observé")))
        setattr(
            AssessmentForm,
            f"comment-{skill['id']}",
            _comment(_l("Commentaire sur « %(s)s »", s=skill["label"])),
        )
    AssessmentForm.skill_ids = [s["id"] for s in skills]
    return AssessmentForm(**kwargs)


# --- Debriefs ---------------------------------------------------------------------------------


class DebriefBase(PortalForm):
    kind = RadioField(
        _l("Type de retour"),
        choices=choices(DebriefKind.choices()),
        validators=[InputRequired(_l("Choisissez le type de retour."))],
        invalid_choice_message=CHOICE_INVALID,
    )
    held_on = _date(_l("Date du retour d'expérience"), _l("Indiquez la date du retour."))
    attendee_ids = MultiCheckboxField(
        _l("Autres présent·es (organisme, tuteur·rices)"),
        coerce=int,
        invalid_choice_message=CHOICE_INVALID,
    )
    went_well = _text(_l("Ce qui a bien fonctionné"))
    difficulties = _text(_l("Difficultés rencontrées"))
    decisions = _text(_l("Décisions"))
    next_steps = _text(_l("Prochaines étapes"))

    grid: list[tuple[int, str]] = []  # (trainee id, skill id)
    immersion_ids: list[int] = []

    def absent(self) -> set[int]:
        """Ids of the immersions whose trainee did not attend."""
        return {i for i in self.immersion_ids if not self[f"attended-{i}"].data}

    def skills(self) -> list[dict]:
        """The rows for ``debriefs.record_debrief``."""
        return [
            {
                "trainee_id": trainee_id,
                "skill_id": skill_id,
                "level": self[f"skill-{trainee_id}-{skill_id}"].data or None,
                "comment": self[f"comment-{trainee_id}-{skill_id}"].data or "",
            }
            for trainee_id, skill_id in self.grid
        ]


def debrief_form(lines: list[dict], **kwargs) -> DebriefBase:
    """The debrief form; ``lines``: ``{"immersion", "skills"}`` per trainee covered."""

    class DebriefForm(DebriefBase):
        pass

    grid = []
    for line in lines:
        immersion = line["immersion"]
        name = immersion.trainee.full_name
        setattr(
            DebriefForm,
            f"attended-{immersion.id}",
            BooleanField(_l("%(t)s était présent·e", t=name), default=True),
        )
        for skill in line["skills"]:
            key = f"{immersion.trainee_id}-{skill['id']}"
            setattr(
                DebriefForm,
                f"skill-{key}",
                _level(_l("%(s)s — %(t)s", s=skill["label"], t=name), _l("Non abordé")),
            )
            setattr(
                DebriefForm,
                f"comment-{key}",
                _comment(_l("Commentaire : %(s)s — %(t)s", s=skill["label"], t=name)),
            )
            grid.append((immersion.trainee_id, skill["id"]))
    DebriefForm.grid = grid
    DebriefForm.immersion_ids = [line["immersion"].id for line in lines]
    return DebriefForm(**kwargs)


# --- Evaluations -----------------------------------------------------------------------------


class EvaluationForm(PortalForm):
    """An evaluation event and whom to invite (choices set by the view)."""

    kind = SelectField(
        _l("Type"),
        choices=choices(EvaluationKind.choices()),
        validators=[DataRequired(REQUIRED)],
        invalid_choice_message=CHOICE_INVALID,
    )
    held_at = DateTimeLocalField(
        _l("Date et heure"),
        format="%Y-%m-%dT%H:%M",
        invalid_value_message=_l("Date et heure attendues, par exemple 12/05/2026 14:00."),
        validators=[InputRequired(_l("Indiquez la date et l'heure."))],
    )
    place = StringField(
        _l("Lieu"),
        validators=[DataRequired(_l("Indiquez le lieu.")), Length(max=200, message=TOO_LONG)],
    )
    notes = _text(_l("Informations pour les invité·es"), 2000)
    invitee_ids = MultiCheckboxField(
        _l("Personnes invitées"), coerce=int, invalid_choice_message=CHOICE_INVALID
    )


class AttendanceForm(PortalForm):
    """Who among the invited attended (choices set by the view)."""

    attended_ids = MultiCheckboxField(
        _l("Présent·es"), coerce=int, invalid_choice_message=CHOICE_INVALID
    )


class ResultsBase(PortalForm):
    trainee_ids: list[int] = []

    def rows(self) -> list[dict]:
        """``{"trainee_id", "outcome", "blocks", "comment"}`` per trainee."""
        return [
            {
                "trainee_id": trainee_id,
                "outcome": self[f"outcome-{trainee_id}"].data or None,
                "blocks": self[f"blocks-{trainee_id}"].data or "",
                "comment": self[f"comment-{trainee_id}"].data or "",
            }
            for trainee_id in self.trainee_ids
        ]


def results_form(trainees, outcomes, **kwargs) -> ResultsBase:
    """A result, blocks (partial certification) and a comment per trainee."""

    class ResultsForm(ResultsBase):
        pass

    outcome_choices = [("", _l("Non évalué·e"))] + [(o.value, o.lazy_title) for o in outcomes]
    for trainee in trainees:
        name = trainee.full_name
        setattr(
            ResultsForm,
            f"outcome-{trainee.id}",
            SelectField(
                _l("Résultat %(of_t)s", of_t=de(name)),
                choices=choices(outcome_choices),
                default="",
                invalid_choice_message=CHOICE_INVALID,
            ),
        )
        setattr(
            ResultsForm,
            f"blocks-{trainee.id}",
            StringField(
                _l("Blocs obtenus par %(t)s", t=name),
                validators=[Optional(), Length(max=500, message=TOO_LONG)],
            ),
        )
        setattr(ResultsForm, f"comment-{trainee.id}", _comment(_l("Commentaire sur %(t)s", t=name)))
    ResultsForm.trainee_ids = [t.id for t in trainees]
    return ResultsForm(**kwargs)
