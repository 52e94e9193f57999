"""Forms of the needs analysis: positions, an employer's needs, publics and diagnosis."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from portal.accounts.forms import REQUIRED
from portal.core.employment import ContractType, contract_problem
from portal.core.forms import PortalForm
from portal.operations.forms import MultiCheckboxField, RomeCode
from portal.operations.needs import BARRIERS, TARGET_PUBLICS

TEXT_MAX = 5000
COUNT_MAX = 200


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def _text(label) -> TextAreaField:
    return TextAreaField(label, validators=[Length(max=TEXT_MAX)])


class PositionForm(PortalForm):
    """One line of positions an employer promises to fill."""

    job_title = StringField(
        _l("Intitulé du poste"), validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    rome_code = StringField(_l("Code ROME (facultatif)"), validators=[RomeCode(required=False)])
    count = IntegerField(
        _l("Nombre de postes"),
        default=1,
        invalid_value_message=_l("Indiquez un nombre entier de postes."),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(1, COUNT_MAX, _l("Entre 1 et %(max)s postes.", max=COUNT_MAX)),
        ],
    )
    contract_type = SelectField(
        _l("Type de contrat"),
        choices=_choices(ContractType.offered()),
        validators=[DataRequired(REQUIRED)],
    )
    duration_months = IntegerField(
        _l("Durée du contrat en mois (CDD, intérim, alternance)"),
        invalid_value_message=_l("Indiquez un nombre entier de mois."),
        validators=[Optional()],
    )
    planned_start = DateField(_l("Embauche prévue le (facultatif)"), validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        """Also: a CDD, an intérim or an alternance says its duration (the shared rule of
        « emploi durable » needs it); a CDI or a business creation has none."""
        valid = super().validate(extra_validators)
        if self.duration_months.errors:
            return valid
        try:
            contract = ContractType(self.contract_type.data)
        except ValueError:
            return valid
        problem = contract_problem(contract, self.duration_months.data)
        if problem is None:
            return valid
        self.duration_months.errors = [problem[1]]
        return False

    def contract(self) -> ContractType:
        return ContractType(self.contract_type.data)


class EmployerNeedForm(PortalForm):
    """Skills, constraints and what the employer's technical platform can host."""

    skills = _text(_l("Compétences attendues"))
    constraint_hours = _text(_l("Contraintes d'horaires"))
    constraint_mobility = _text(_l("Contraintes de mobilité"))
    constraint_licence = _text(_l("Permis ou habilitations exigés"))
    constraint_physical = _text(_l("Contraintes physiques du poste"))
    technical_platform = _text(_l("Ce qui peut se faire sur le plateau technique de l'entreprise"))


class AnalysisForm(PortalForm):
    """Public needs, the territorial diagnosis and the desirable adaptations."""

    target_publics = MultiCheckboxField(
        _l("Publics visés"), choices=_choices(TARGET_PUBLICS.items())
    )
    prerequisites = _text(_l("Prérequis à l'entrée en formation"))
    barriers = MultiCheckboxField(
        _l("Freins périphériques repérés"), choices=_choices(BARRIERS.items())
    )
    barriers_detail = _text(_l("Précisions sur les freins"))
    accompaniment = _text(_l("Accompagnement prévu"))
    prescribers = _text(_l("Prescripteurs mobilisés"))
    diagnosis = _text(_l("Diagnostic de territoire"))
    diagnosis_links = _text(_l("Liens vers les sources du diagnostic (un par ligne)"))
    adaptations = _text(_l("Adaptations souhaitables"))


class FigureForm(PortalForm):
    """A key figure of the territorial diagnosis."""

    label = StringField(_l("Indicateur"), validators=[DataRequired(REQUIRED), Length(max=200)])
    value = StringField(_l("Valeur"), validators=[DataRequired(REQUIRED), Length(max=60)])
    source = StringField(_l("Source (facultatif)"), validators=[Length(max=250)])


class AnswerAnalysisForm(PortalForm):
    """The Région acknowledges the analysis and comments on the proposed adaptations."""

    answer = TextAreaField(
        _l("Réponse de la Région sur les adaptations proposées"),
        validators=[Length(max=TEXT_MAX)],
    )
