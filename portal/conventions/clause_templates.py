"""The convention type, as the Région's admins edit it: versioned, with its history.

Each save stores a new numbered version holding every clause's text (placeholders such as
``{intitulé}`` included); the highest number is in force, and before any save the DEFI
sheet's wording (``clauses.default_template``, « version d'origine ») is. A new
convention starts from the version in force. Nothing here touches a started convention:
its clauses were copied when it started, and the versions submitted for signature keep
their own frozen text (``snapshot.py``).
"""

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Organisation, OrgKind, User
from portal.audit.services import record
from portal.conventions import clauses
from portal.conventions.models import ClauseTemplate
from portal.core.errors import RuleError
from portal.design.diffs import Chunk, text_diff
from portal.design.models import SectionKey
from portal.extensions import db
from portal.operations.models import Operation

ORIGINAL = 0  # the number of the DEFI sheet's wording, never stored


@dataclass(frozen=True)
class InForce:
    """The convention type in force: its number (0: the original wording) and texts."""

    number: int
    texts: dict[str, str]
    template: ClauseTemplate | None = None


def latest() -> ClauseTemplate | None:
    """The last saved version, if the Région ever edited the convention type."""
    return db.session.scalar(select(ClauseTemplate).order_by(ClauseTemplate.number.desc()))


def original_texts() -> dict[str, str]:
    """The DEFI sheet's wording, in French whatever the reader's language."""
    with force_locale("fr"):
        return clauses.default_template()


def in_force() -> InForce:
    """The convention type a new convention starts from."""
    template = latest()
    if template is None:
        return InForce(ORIGINAL, original_texts())
    return InForce(template.number, dict(template.texts), template)


def texts_for(operation: Operation) -> tuple[int, dict[SectionKey, str]]:
    """The number of the version in force and the clauses it gives ``operation``."""
    current = in_force()
    with force_locale("fr"):
        return current.number, clauses.fill(current.texts, operation)


def history() -> list[ClauseTemplate]:
    """Every saved version, newest first, with its author."""
    return list(db.session.scalars(select(ClauseTemplate).order_by(ClauseTemplate.number.desc())))


def previous_texts(template: ClauseTemplate) -> dict[str, str]:
    """The texts of the version before ``template`` (the original wording before the 1st)."""
    before = db.session.scalar(
        select(ClauseTemplate)
        .where(ClauseTemplate.number < template.number)
        .order_by(ClauseTemplate.number.desc())
    )
    return dict(before.texts) if before is not None else original_texts()


def changes(old: dict[str, str], new: dict[str, str]) -> list[tuple[SectionKey, list[Chunk]]]:
    """Each clause whose text differs, with the word-level changes."""
    return [
        (key, text_diff(old.get(key.value, ""), new.get(key.value, "")))
        for key in SectionKey.clause_keys()
        if old.get(key.value, "") != new.get(key.value, "")
    ]


def _check(texts: dict[str, str]) -> dict[str, str]:
    """Every clause written, with known placeholders only; the texts trimmed."""
    cleaned = {}
    for key in SectionKey.clause_keys():
        text = (texts.get(key.value) or "").replace("\r\n", "\n").strip()
        if not text:
            raise RuleError(_("Rédigez l'article « %(s)s ».", s=key.title), key.value)
        unknown = clauses.unknown_placeholders(text)
        if unknown:
            raise RuleError(
                _(
                    "Champ inconnu dans « %(s)s » : %(names)s. Champs possibles : %(known)s.",
                    s=key.title,
                    names=", ".join("{" + name + "}" for name in unknown),
                    known=", ".join("{" + name + "}" for name in clauses.PLACEHOLDERS),
                ),
                key.value,
            )
        cleaned[key.value] = text
    return cleaned


def save_template(
    texts: dict[str, str], note: str, *, base: int, by: User, org: Organisation
) -> ClauseTemplate:
    """Save a new version of the convention type (the Région's admins).

    ``base`` is the number of the version the editor started from: if another admin saved
    since, the save is refused rather than silently replacing their text.
    """
    if org.kind != OrgKind.REGION or not any(
        m.organisation_id == org.id and m.is_admin for m in by.active_memberships()
    ):
        raise RuleError(_("Seul·es les administrateur·rices de la Région modifient ce modèle."))
    current = in_force()
    if base != current.number:
        raise RuleError(
            _(
                "La version %(n)s a été enregistrée entre-temps : rechargez la page pour "
                "repartir de son texte.",
                n=current.number,
            )
        )
    cleaned = _check(texts)
    if cleaned == {key: text.strip() for key, text in current.texts.items()}:
        raise RuleError(_("Aucun article n'a changé : aucune nouvelle version à enregistrer."))
    number = (db.session.scalar(select(func.max(ClauseTemplate.number))) or ORIGINAL) + 1
    template = ClauseTemplate(
        number=number, texts=cleaned, note=note.strip()[:300], created_by_id=by.id
    )
    db.session.add(template)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise RuleError(
            _("Une autre version vient d'être enregistrée : rechargez la page.")
        ) from None
    record(
        "clause_template.saved",
        actor=by,
        organisation=org,
        obj=template,
        number=number,
        changed=[key.value for key, _chunks in changes(current.texts, cleaned)],
    )
    return template
