"""Forms of the market lots area: filters of the list, a lot, and the CSV import."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    SearchField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.accounts.forms import REQUIRED
from portal.core.errors import RuleError
from portal.core.forms import PortalForm, optional_row_id
from portal.lots.models import Category, MarketLot
from portal.lots.services import YEAR_MAX, YEAR_MIN, parse_rome_codes

MAX_IMPORT_BYTES = 1024 * 1024
YEAR_MESSAGE = _l("Indiquez une année entre %(min)d et %(max)d.", min=YEAR_MIN, max=YEAR_MAX)


def _optional_int(value):
    """Coerce a select's value: empty or not a number gives None (no filter, no choice)."""
    try:
        return optional_row_id(value)
    except (TypeError, ValueError):
        return None


def _categories() -> list[SelectChoice]:
    """The categories, titled in the request's language (so built per form, not at import)."""
    return [SelectChoice(value, title) for value, title in Category.choices()]


def _values(field) -> set:
    """The values a choice field offers."""
    return {choice.value for choice in field.choices}


class LotFilterForm(PortalForm):
    """The list's filters, read from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Numéro ou intitulé"), validators=[Length(max=100)])
    categorie = SelectField(_l("Catégorie"), validate_choice=False)
    bassin = SelectField(_l("Bassin d'emploi"), coerce=_optional_int, validate_choice=False)
    attributaire = SelectField(_l("Attributaire"), coerce=_optional_int, validate_choice=False)
    etat = SelectField(
        _l("État"),
        choices=[
            SelectChoice("", _l("Actifs et inactifs")),
            SelectChoice("actifs", _l("Actifs")),
            SelectChoice("inactifs", _l("Inactifs")),
        ],
        validate_choice=False,
    )

    def set_choices(self, territories, holders) -> None:
        self.categorie.choices = [SelectChoice("", _l("Toutes les catégories"))] + _categories()
        self.bassin.choices = [SelectChoice("", _l("Tous les bassins"))] + [
            SelectChoice(t.id, t.name) for t in territories
        ]
        self.attributaire.choices = [SelectChoice("", _l("Tous les attributaires"))] + [
            SelectChoice(o.id, o.name) for o in holders
        ]

    def criteria(self) -> dict:
        """The filters that hold a known value; anything else is ignored rather than refused."""
        known = {
            "q": (self.q.data or "").strip()[:100],
            "category": self.categorie.data
            if self.categorie.data in {c.value for c in Category}
            else None,
            "territory_id": self.bassin.data if self.bassin.data in _values(self.bassin) else None,
            "holder_id": self.attributaire.data
            if self.attributaire.data in _values(self.attributaire)
            else None,
            "active": {"actifs": True, "inactifs": False}.get(self.etat.data),
        }
        return {key: value for key, value in known.items() if value not in (None, "")}


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (each with its own label)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LotForm(PortalForm):
    """A market lot, as the Région creates or edits it."""

    number = StringField(_l("Numéro du lot"), validators=[DataRequired(REQUIRED), Length(max=30)])
    title = StringField(_l("Intitulé"), validators=[DataRequired(REQUIRED), Length(max=200)])
    category = SelectField(
        _l("Catégorie Parcours Métiers"),
        validators=[DataRequired(REQUIRED)],
        validate_choice=False,
    )
    territory_ids = MultiCheckboxField(
        _l("Bassins d'emploi couverts"), coerce=_optional_int, validate_choice=False
    )
    holder_id = SelectField(
        _l("Attributaire (organisme de formation)"),
        coerce=_optional_int,
        validators=[DataRequired(REQUIRED)],
        validate_choice=False,
    )
    period_start = IntegerField(
        _l("Début de période (année)"),
        validators=[InputRequired(REQUIRED), NumberRange(YEAR_MIN, YEAR_MAX, YEAR_MESSAGE)],
    )
    period_end = IntegerField(
        _l("Fin de période (année)"),
        validators=[InputRequired(REQUIRED), NumberRange(YEAR_MIN, YEAR_MAX, YEAR_MESSAGE)],
    )
    rome_codes = StringField(
        _l("Codes ROME couverts"), validators=[DataRequired(REQUIRED), Length(max=500)]
    )
    active = BooleanField(_l("Lot actif (ouvre l'exclusivité de son attributaire)"), default=True)

    def set_choices(self, territories, holders) -> None:
        self.category.choices = [SelectChoice("", _l("— Choisir —"))] + _categories()
        self.territory_ids.choices = [
            SelectChoice(t.id, f"{t.name} ({t.code})") for t in territories
        ]
        self.holder_id.choices = [SelectChoice("", _l("— Choisir —"))] + [
            SelectChoice(o.id, o.name) for o in holders
        ]

    def fill_from(self, lot: MarketLot) -> None:
        """Show a lot's current values (on GET; a POST keeps what was typed)."""
        self.category.data = lot.category.value
        self.territory_ids.data = [t.id for t in lot.territories]
        self.rome_codes.data = ", ".join(lot.rome_codes)

    def validate_category(self, field):
        if field.data not in {c.value for c in Category}:
            raise ValidationError(_l("Choisissez une catégorie de la liste."))

    def validate_territory_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Choisissez au moins un bassin d'emploi."))
        if not set(field.data) <= _values(field):  # a tampered or non-numeric value is None
            raise ValidationError(_l("Choisissez les bassins dans la liste."))

    def validate_holder_id(self, field):
        if field.data not in _values(field):
            raise ValidationError(_l("Choisissez un organisme de formation de la liste."))

    def validate_period_end(self, field):
        start = self.period_start.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError(_l("La fin de période précède son début."))

    def validate_rome_codes(self, field):
        try:
            parse_rome_codes(field.data)
        except RuleError as exc:
            raise ValidationError(exc.message) from exc

    def to_data(self, territories_by_id: dict, holders_by_id: dict) -> dict:
        """The validated values as ``save_lot`` expects them."""
        return {
            "number": self.number.data.strip(),
            "title": self.title.data.strip(),
            "category": Category(self.category.data),
            "territories": [territories_by_id[i] for i in self.territory_ids.data],
            "holder": holders_by_id.get(self.holder_id.data),
            "period_start": self.period_start.data,
            "period_end": self.period_end.data,
            "rome_codes": parse_rome_codes(self.rome_codes.data),
            "active": self.active.data,
        }


class ImportLotsForm(PortalForm):
    """The CSV file of the market's lots."""

    file = FileField(
        _l("Fichier CSV des lots"),
        validators=[
            FileRequired(_l("Choisissez un fichier CSV.")),
            FileAllowed(["csv"], _l("Le fichier doit être au format CSV (extension .csv).")),
        ],
    )
