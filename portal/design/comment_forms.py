"""Forms of the comment threads of a design section; every message is French.

Several sections, and several threads, share one page: each form gets a ``prefix``
(``comment-<section key>``, ``reply-<comment id>``) so that field ids stay unique.
"""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectMultipleField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length

from portal.core.forms import PortalForm

BODY_MAX = 5000
EMPTY_BODY = _l("Le commentaire est vide.")
TOO_LONG = _l("Le commentaire dépasse 5 000 caractères.")
NOT_A_PARTICIPANT = _l("Seuls les participants de l'opération peuvent être mentionnés.")


class MentionField(SelectMultipleField):
    """A multiple select of ids (people or organisations) with a French refusal."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(
            label,
            validators,
            coerce=int,
            invalid_value_message=NOT_A_PARTICIPANT,
            invalid_choice_message=NOT_A_PARTICIPANT,
            **kwargs,
        )

    @property
    def ids(self) -> list[int]:
        """The chosen ids, each once, in the order given."""
        return list(dict.fromkeys(self.data or []))


class CommentForm(PortalForm):
    """A new thread on a section, possibly blocking, mentioning participants."""

    body = TextAreaField(
        _l("Votre commentaire"),
        validators=[DataRequired(EMPTY_BODY), Length(max=BODY_MAX, message=TOO_LONG)],
    )
    blocking = BooleanField(
        _l("Bloquant : la co-conception ne passe pas à la convention tant qu'il est ouvert")
    )
    mention_orgs = MentionField(_l("Mentionner des organisations participantes"))
    mention_users = MentionField(_l("Mentionner des personnes"))


class ReplyForm(PortalForm):
    """A reply in a thread."""

    body = TextAreaField(
        _l("Votre réponse"),
        validators=[DataRequired(EMPTY_BODY), Length(max=BODY_MAX, message=TOO_LONG)],
    )


class ResolveCommentForm(PortalForm):
    """Resolve (1) or reopen (0) a thread."""

    resolved = HiddenField(validators=[AnyOf(["0", "1"], message=_l("Choix inconnu."))])
