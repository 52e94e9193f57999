"""Forms of the convention pages; every message is French.

Buttons that only act (prepare, submit, remind) use ``EmptyForm`` for their CSRF token.
"""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from portal.accounts.forms import REQUIRED
from portal.accounts.passwords import MAX_LENGTH
from portal.core.forms import PortalForm, optional_row_id


class DesignateSignerForm(PortalForm):
    """Who signs for one party, and in which capacity; prefixed per party on the page."""

    user_id = SelectField(
        _l("Signataire"), coerce=optional_row_id, validators=[DataRequired(REQUIRED)]
    )
    capacity = StringField(
        _l("Qualité du signataire"),
        validators=[
            DataRequired(_l("Indiquez la qualité du signataire (gérant, directrice…).")),
            Length(max=120),
        ],
    )


class SignForm(PortalForm):
    """Consent to the exact text shown, and the password again (re-authentication), with
    a second factor's code where one is enrolled.

    ``consent_text`` carries the text the signer read: if it changed meanwhile (another
    capacity), the signature is refused and the new text shown.
    """

    consent = BooleanField(
        validators=[DataRequired(_l("Cochez la case de consentement pour signer."))]
    )
    consent_text = HiddenField()
    password = PasswordField(
        _l("Votre mot de passe, pour confirmer votre identité"),
        validators=[DataRequired(REQUIRED), Length(max=MAX_LENGTH)],
    )
    # Shown to signers with a second factor, whose code the view then requires.
    code = StringField(_l("Code de vérification"), validators=[Length(max=40)])


class ValidateVersionForm(PortalForm):
    """The Région validates a signed version, with an optional comment."""

    comment = TextAreaField(_l("Commentaire (facultatif)"), validators=[Length(max=2000)])


class RejectVersionForm(PortalForm):
    """The Région sends the version back to drafting; its reason is shown to everyone."""

    reason = TextAreaField(
        _l("Motif du rejet"),
        validators=[DataRequired(_l("Indiquez le motif du rejet.")), Length(max=2000)],
    )
