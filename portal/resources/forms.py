"""The form that adds a reference document; every message is French."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.accounts.forms import REQUIRED
from portal.core.forms import PortalForm

TOO_LONG = _l("%(max)d caractères au plus.")


class AddDocumentForm(PortalForm):
    title = StringField(
        _l("Titre"),
        validators=[DataRequired(REQUIRED), Length(max=200, message=TOO_LONG)],
    )
    description = TextAreaField(
        _l("Présentation (facultatif)"),
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
    )
    file = FileField(
        _l("Fichier (PDF ou DOCX)"),
        validators=[FileRequired(_l("Choisissez le fichier à publier."))],
        render_kw={"accept": ".pdf,.docx"},
    )
