"""The « Évaluation de l'opération » as a Word document: parties, key dates, the figures
as tables, the written parts and the prime DEFI decision.

Deterministic like the convention (``portal/conventions/documents.py``): fixed document
properties and zip entry dates taken from the evaluation's last change, so the same state
gives the same bytes.
"""

from datetime import datetime
from io import BytesIO

from docx import Document
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.assessment import figures, services
from portal.assessment.models import Assessment, Bonus, BonusStatus
from portal.conventions.documents import normalise
from portal.design.documents import AUTHOR, _set_language, _table, render_text
from portal.design.models import SectionKey
from portal.design.services import design_for
from portal.extensions import db
from portal.followup.indicators import indicators
from portal.operations.models import Operation, Participant

EPOCH = datetime(2020, 1, 1)  # the stamp of a document with no evaluation yet


def filename(operation: Operation) -> str:
    return f"evaluation-operation-{operation.id}.docx"


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else _("non renseignée")


def _stamp(assessment: Assessment | None, bonus: Bonus | None) -> datetime:
    """The last change the document shows: its fixed date."""
    moments = [
        m
        for m in (
            assessment and assessment.started_at,
            assessment and assessment.submitted_at,
            assessment and assessment.decided_at,
            bonus and bonus.requested_at,
            bonus and bonus.decided_at,
        )
        if m
    ]
    return max(moments) if moments else EPOCH


def _parties(document, operation: Operation) -> None:
    rows = db.session.execute(
        select(Organisation.name, Participant.role)
        .join(Participant, Participant.organisation_id == Organisation.id)
        .where(Participant.operation_id == operation.id, Participant.withdrawn_at.is_(None))
        .order_by(Participant.role, Organisation.name)
    ).all()
    document.add_heading(_("Parties"), level=1)
    _table(document, [_("Organisation"), _("Rôle")], [[name, role.title] for name, role in rows])


def _dates(document, operation: Operation, assessment: Assessment | None) -> None:
    document.add_heading(_("Dates clés"), level=1)
    rows = [
        [_("Début de la session"), _date(operation.session_start)],
        [_("Fin de la session"), _date(operation.session_end)],
    ]
    if assessment is not None:
        rows += [
            [_("Évaluation ouverte le"), _date(assessment.started_at)],
            [_("Soumise à la Région le"), _date(assessment.submitted_at)],
            [_("Décision de la Région le"), _date(assessment.decided_at)],
        ]
    _table(document, [_("Étape"), _("Date")], rows)


def _figures(document, operation: Operation) -> None:
    document.add_heading(_("Indicateurs"), level=1)
    for table in figures.tables(indicators(operation)):
        document.add_paragraph(table.caption, style="Caption")
        _table(document, table.headers, table.rows)


def _written(document, operation: Operation, assessment: Assessment | None) -> None:
    design = design_for(operation)
    texts = {}
    if design is not None:
        texts = {s.key: s.content.get("text", "") for s in design.assessment_sections}
    for key in SectionKey.assessment_keys():
        document.add_heading(key.title, level=1)
        render_text(document, texts.get(key))
    if assessment is not None:
        document.add_heading(_("Décision de la Région sur l'évaluation"), level=1)
        document.add_paragraph(assessment.status.title)
        if assessment.decision_comment:
            document.add_paragraph(assessment.decision_comment)


def _bonus(document, bonus: Bonus | None) -> None:
    document.add_heading(_("Prime DEFI"), level=1)
    if bonus is None or bonus.status == BonusStatus.WITHDRAWN:
        document.add_paragraph(_("Prime DEFI non demandée."))
        return
    document.add_paragraph(_("Demandée le %(d)s :", d=_date(bonus.requested_at)))
    render_text(document, bonus.justification)
    if bonus.status == BonusStatus.GRANTED:
        document.add_paragraph(
            _(
                "Accordée par la Région le %(d)s, pour un montant de %(a)s €.",
                d=_date(bonus.decided_at),
                a=f"{bonus.amount_euros:,}".replace(",", " "),
            )
        )
    elif bonus.status == BonusStatus.REFUSED:
        document.add_paragraph(
            _("Refusée par la Région le %(d)s : %(r)s", d=_date(bonus.decided_at), r=bonus.reason)
        )
    else:
        document.add_paragraph(_("En attente de la décision de la Région."))


def start_document(title: str, subject: str, keywords: str, stamp: datetime):
    """A French Word document whose properties are fixed (``stamp``: its date), so that
    the same content gives the same bytes."""
    document = Document()
    _set_language(document)
    properties = document.core_properties
    properties.title, properties.subject, properties.keywords = title, subject, keywords
    properties.author = properties.last_modified_by = AUTHOR
    properties.language = "fr-FR"
    properties.revision = 1
    properties.created = properties.modified = stamp
    return document


def assessment_docx(operation: Operation) -> bytes:
    """The evaluation of ``operation`` as it stands; the same state gives the same bytes."""
    assessment = services.assessment_for(operation)
    bonus = services.bonus_for(operation)
    stamp = _stamp(assessment, bonus).replace(microsecond=0)
    with force_locale("fr"):
        document = start_document(
            _("Évaluation de l'opération — %(t)s", t=operation.title),
            _("Évaluation et capitalisation de l'opération DEFI"),
            "DEFI; évaluation",
            stamp,
        )
        document.add_heading(_("Évaluation de l'opération"), level=0)
        document.add_paragraph(operation.title, style="Subtitle")
        _parties(document, operation)
        _dates(document, operation, assessment)
        _figures(document, operation)
        _written(document, operation, assessment)
        _bonus(document, bonus)
        buffer = BytesIO()
        document.save(buffer)
    return normalise(buffer.getvalue(), stamp)
