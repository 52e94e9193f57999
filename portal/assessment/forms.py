"""Forms of the evaluation's decision and of the prime DEFI (French messages)."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.assessment.services import AMOUNT_MAX, TEXT_MAX
from portal.core.forms import PortalForm
from portal.immersions.forms import TOO_LONG, choices

GRANT, REFUSE = "grant", "refuse"
ACCEPT, SEND_BACK = "accept", "send_back"
# Both decision forms show on the Région's page at once: their fields need distinct ids.
DECIDE_PREFIX, BONUS_PREFIX = "evaluation", "prime"


class DecideAssessmentForm(PortalForm):
    """The Région accepts the evaluation or sends it back (a comment is then required)."""

    decision = RadioField(
        _l("Décision"),
        choices=choices(
            [(ACCEPT, _l("Accepter l'évaluation")), (SEND_BACK, _l("Demander de la reprendre"))]
        ),
        validators=[InputRequired(message=_l("Choisissez une décision."))],
    )
    comment = TextAreaField(
        _l("Commentaire (requis pour demander une reprise)"),
        validators=[Optional(), Length(max=TEXT_MAX, message=TOO_LONG)],
    )


class RequestBonusForm(PortalForm):
    """The organisme porteur requests the prime DEFI."""

    justification = TextAreaField(
        _l("Justification"),
        validators=[
            DataRequired(message=_l("Justifiez la demande.")),
            Length(max=TEXT_MAX, message=TOO_LONG),
        ],
    )


class DecideBonusForm(PortalForm):
    """The Région grants the prime with an amount or refuses it with a reason."""

    decision = RadioField(
        _l("Décision"),
        choices=choices([(GRANT, _l("Accorder la prime")), (REFUSE, _l("Refuser la prime"))]),
        validators=[InputRequired(message=_l("Choisissez une décision."))],
    )
    amount_euros = IntegerField(
        _l("Montant accordé (euros)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=AMOUNT_MAX, message=_l("Montant entre 1 et %(max)d euros.")),
        ],
    )
    reason = TextAreaField(
        _l("Motif du refus"), validators=[Optional(), Length(max=TEXT_MAX, message=TOO_LONG)]
    )
