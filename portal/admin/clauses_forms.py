"""The form of the convention type: one text per clause, a note, the version edited."""

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from portal.core.forms import PortalForm
from portal.design.models import SectionKey

CLAUSE_MAX = 20_000
TOO_LONG = _l("%(max)d caractères au plus.")


class ClauseTemplateBase(PortalForm):
    base = IntegerField(
        _l("Version de départ"),
        widget=HiddenField.widget,
        validators=[InputRequired(_l("Le formulaire est incomplet : rechargez la page."))],
    )
    note = StringField(
        _l("Ce qui change (pour l'historique)"),
        validators=[Optional(), Length(max=300, message=TOO_LONG)],
    )

    def texts(self) -> dict[str, str]:
        """Clause key -> text, as typed."""
        return {key.value: self[key.value].data or "" for key in SectionKey.clause_keys()}


def clause_template_form(**kwargs) -> ClauseTemplateBase:
    """The form with one text area per clause, named after the clause's key."""

    class ClauseTemplateForm(ClauseTemplateBase):
        pass

    for key in SectionKey.clause_keys():
        setattr(
            ClauseTemplateForm,
            key.value,
            TextAreaField(
                key.lazy_title,
                validators=[Optional(), Length(max=CLAUSE_MAX, message=TOO_LONG)],
                render_kw={"rows": 8},
            ),
        )
    return ClauseTemplateForm(**kwargs)
