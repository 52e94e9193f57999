"""Forms of the co-design sections; every message is French.

Each section's form is prefixed with the section key (``objectives-text``,
``skills-items-0-label``), so that several sections open for editing on one page never
share an id. The version the edit started from travels as a plain ``base_version`` input
(see the views), outside these forms.

A list section's form has one sub-form per item and one blank row for a new item; a blank
row, or a row marked « Supprimer », is not validated.
"""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from portal.core.forms import PortalForm, PortalSubForm
from portal.design.content import TEXT_MAX
from portal.design.models import SectionKey
from portal.design.rhythm import MODULE_PLACES, PERIOD_KINDS
from portal.operations.forms import MultiCheckboxField

MAX_ITEMS = 200
HOURS_MAX = 2000
HOURS_RANGE = _l("Entre 0 et 2 000 heures.")
HOURS_INVALID = _l("Indiquez un nombre entier d'heures.")
DATE_INVALID = _l("Date attendue au format JJ/MM/AAAA.")


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _hours_range(form, field):
    # An unreadable number already has its message: do not add the range's.
    if field.data is not None and not 0 <= field.data <= HOURS_MAX:
        raise ValidationError(HOURS_RANGE)


def _hours() -> IntegerField:
    return IntegerField(
        _l("Heures"),
        invalid_value_message=HOURS_INVALID,
        validators=[InputRequired(_l("Indiquez le nombre d'heures.")), _hours_range],
    )


def _employer(label) -> SelectField:
    # Choices are checked in validate_employer_id, with a French message.
    return SelectField(label, validate_choice=False)


class ItemForm(PortalSubForm):
    """One item of a list section (a sub-form: the CSRF token is the parent's)."""

    # Fields whose emptiness makes a row without id a blank "new item" row.
    TYPED_FIELDS: tuple[str, ...] = ()

    id = HiddenField()
    delete = BooleanField(_l("Supprimer"))

    @property
    def blank(self) -> bool:
        """A new row left empty: it is ignored, not refused."""
        if self.id.data:
            return False
        for name in self.TYPED_FIELDS:
            field = self[name]
            raw = field.raw_data if field.raw_data is not None else [field.data]
            if any(str(value).strip() for value in raw if value is not None):
                return False
        return True

    def validate(self, extra_validators=None) -> bool:
        if self.delete.data or self.blank:
            for field in self:
                field.errors = []
            return True
        return super().validate(extra_validators)

    def employer_required(self) -> bool:
        """Whether this row must name an employer (a company platform)."""
        return False

    employer_message = _l("Choisissez l'employeur.")

    def validate_employer_id(self, field):
        valid = {choice.value for choice in field.choices if choice.value}
        if field.data and field.data not in valid:
            raise ValidationError(_l("Choisissez un employeur participant à l'opération."))
        if self.employer_required() and not field.data:
            raise ValidationError(self.employer_message)

    def row(self) -> dict:
        """The row's data for ``content.items_content``."""
        data = {name: field.data for name, field in self._fields.items()}
        data["blank"] = self.blank
        return data


class SkillItemForm(ItemForm):
    TYPED_FIELDS = ("label", "block_code")

    label = StringField(
        _l("Intitulé de la compétence"),
        validators=[
            DataRequired(_l("Indiquez l'intitulé de la compétence.")),
            Length(max=300, message=_l("300 caractères au plus.")),
        ],
    )
    block_code = StringField(
        _l("Code du bloc de certification (facultatif)"),
        validators=[Length(max=40, message=_l("40 caractères au plus."))],
    )
    employer_id = _employer(_l("Demandée par (facultatif)"))
    # The other employers whose needs said the same skill (the prefill merged them): kept
    # as the portal wrote them, those no longer taking part dropped (``set_choices``).
    also_asked_by = HiddenField()

    def also_ids(self) -> list[int]:
        """The other employers who asked for the skill, as ids."""
        return [int(i) for i in (self.also_asked_by.data or "").split(",") if i.isdigit()]

    def keep_participants(self, employer_ids: set[int]) -> None:
        """Drop from ``also_asked_by`` what is not an employer taking part."""
        kept = [i for i in self.also_ids() if i in employer_ids]
        self.also_asked_by.data = ",".join(map(str, kept))


class ModuleItemForm(ItemForm):
    TYPED_FIELDS = ("title", "hours", "trainer")

    title = StringField(
        _l("Intitulé du module"),
        validators=[
            DataRequired(_l("Indiquez l'intitulé du module.")),
            Length(max=200, message=_l("200 caractères au plus.")),
        ],
    )
    hours = _hours()
    place = SelectField(
        _l("Lieu"), choices=_choices(MODULE_PLACES.items()), default="centre", validate_choice=False
    )
    employer_id = _employer(_l("Entreprise (plateau technique)"))
    skill_ids = MultiCheckboxField(_l("Compétences développées"), validate_choice=False)
    trainer = StringField(
        _l("Assuré par (facultatif)"),
        validators=[Length(max=200, message=_l("200 caractères au plus."))],
    )
    employer_message = _l("Un module sur plateau technique indique l'entreprise qui l'accueille.")

    def validate_place(self, field):
        if field.data not in MODULE_PLACES:
            raise ValidationError(_l("Choisissez le lieu du module."))

    def employer_required(self) -> bool:
        return self.place.data == "platform"

    def row(self) -> dict:
        data = super().row()
        known = {choice.value for choice in self.skill_ids.choices}
        data["skill_ids"] = [s for s in (self.skill_ids.data or []) if s in known]
        return data


class PeriodItemForm(ItemForm):
    TYPED_FIELDS = ("start", "end", "hours", "label")

    kind = SelectField(
        _l("Type de période"),
        choices=_choices(PERIOD_KINDS.items()),
        default="centre",
        validate_choice=False,
    )
    start = DateField(
        _l("Du"),
        invalid_value_message=DATE_INVALID,
        validators=[InputRequired(_l("Indiquez la date de début."))],
    )
    end = DateField(
        _l("Au"),
        invalid_value_message=DATE_INVALID,
        validators=[InputRequired(_l("Indiquez la date de fin."))],
    )
    hours = _hours()
    employer_id = _employer(_l("Entreprise (immersion ou plateau technique)"))
    label = StringField(
        _l("Intitulé (facultatif)"),
        validators=[Length(max=200, message=_l("200 caractères au plus."))],
    )
    employer_message = _l("Une période sur plateau technique indique l'entreprise qui l'accueille.")

    def validate_kind(self, field):
        if field.data not in PERIOD_KINDS:
            raise ValidationError(_l("Choisissez le type de période."))

    def employer_required(self) -> bool:
        return self.kind.data == "platform"

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("La fin de la période précède son début."))


class EditTextSectionForm(PortalForm):
    """A text section."""

    text = TextAreaField(
        _l("Texte"),
        validators=[Length(max=TEXT_MAX, message=_l("%(max)s caractères au plus.", max=TEXT_MAX))],
    )


class _ListSectionForm(PortalForm):
    """A list section: ``items`` holds one sub-form per row."""

    def validate_items(self, field):
        if len([e for e in field.entries if not e.form.blank]) > MAX_ITEMS:
            raise ValidationError(_l("%(n)s lignes au plus.", n=MAX_ITEMS))

    def set_choices(self, employers: list, skills: list) -> None:
        """Employers taking part ``[(id, name)]`` and the design's skills ``[(id, label)]``."""
        for entry in self.items.entries:
            form = entry.form
            if "employer_id" in form._fields:
                form.employer_id.choices = _choices(
                    [("", _l("— Aucun —"))] + [(str(i), name) for i, name in employers]
                )
            if "skill_ids" in form._fields:
                form.skill_ids.choices = _choices(skills)
            if "also_asked_by" in form._fields:
                form.keep_participants({i for i, _name in employers})

    def rows(self) -> list[dict]:
        return [entry.form.row() for entry in self.items.entries]


class EditSkillsForm(_ListSectionForm):
    items = FieldList(FormField(SkillItemForm))


class EditModulesForm(_ListSectionForm):
    items = FieldList(FormField(ModuleItemForm))


class EditRhythmForm(_ListSectionForm):
    items = FieldList(FormField(PeriodItemForm))


FORMS = {
    SectionKey.SKILLS: EditSkillsForm,
    SectionKey.MODULES: EditModulesForm,
    SectionKey.RHYTHM: EditRhythmForm,
}


def section_form(key: SectionKey, **kwargs) -> PortalForm:
    """The edit form of section ``key``, prefixed with the key."""
    return FORMS.get(key, EditTextSectionForm)(prefix=key.value, **kwargs)
