"""« Bilan de l'opération » as a Word document (and PDF through LibreOffice): the parties,
the key dates, the figures, the promises per employer, the situations at each follow-up,
the steering committee's meetings with the decisions and action items of its approved
minutes, the evaluation and the prime DEFI when there are some.

Aggregates only — no trainee is named: the document may go to every participant.
Deterministic like the convention and the evaluation: fixed document properties and zip
entry dates taken from the last change the document shows, so the same state of the
operation gives the same bytes (and the PDF is converted once per distinct DOCX).
"""

from datetime import datetime
from io import BytesIO

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.assessment import figures, services
from portal.assessment.documents import (
    EPOCH,
    _bonus,
    _date,
    _parties,
    _stamp,
    _written,
    start_document,
)
from portal.conventions.documents import normalise
from portal.conventions.models import Convention, ConventionVersion
from portal.core.employment import Situation
from portal.design.documents import _table
from portal.extensions import db
from portal.followup.indicators import indicators
from portal.followup.models import Answer, Milestone, MilestoneKind, RetainedAnswer
from portal.followup.outcomes import ledger
from portal.operations.models import Operation
from portal.steering.models import Presence, SteeringMeeting
from portal.steering.queries import committee_record

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def filename(operation: Operation, extension: str = "docx") -> str:
    return f"bilan-operation-{operation.id}.{extension}"


def _validated_at(operation: Operation) -> datetime | None:
    """When the Région first validated the operation's convention, if it did."""
    return db.session.scalar(
        select(func.min(ConventionVersion.validated_at))
        .join(Convention, Convention.id == ConventionVersion.convention_id)
        .where(Convention.operation_id == operation.id)
    )


def _identity(document, operation: Operation) -> None:
    funding = (
        _("Lot n° %(n)s", n=operation.lot.number) if operation.lot else operation.funding.title
    )
    rows = [
        [_("Étape"), operation.status.title],
        [_("Bassin d'emploi"), operation.territory.name],
        [_("Catégorie"), operation.category.title],
        [_("Organisme porteur"), operation.provider.name if operation.provider else "—"],
        [_("Financement"), funding],
        [_("Certification visée"), operation.certification_title or "—"],
        [_("Effectif ciblé"), str(operation.target_headcount or "—")],
    ]
    _table(document, [_("Opération"), operation.title], rows)


def _dates(document, operation: Operation, validated: datetime | None, assessment) -> None:
    document.add_heading(_("Dates clés"), level=1)
    rows = [
        [_("Besoin signalé"), _date(operation.reported_at)],
        [_("Accusé de réception de la Région"), _date(operation.acknowledged_at)],
        [_("Convention validée par la Région"), _date(validated)],
        [_("Début de la session"), _date(operation.session_start)],
        [_("Fin de la session"), _date(operation.session_end)],
    ]
    if assessment is not None:
        rows.append([_("Évaluation acceptée ou renvoyée le"), _date(assessment.decided_at)])
    _table(document, [_("Étape"), _("Date")], rows)


def _promises(document, operation: Operation) -> None:
    document.add_heading(_("Promesses d'embauche par employeur"), level=1)
    rows = ledger(operation)
    if not rows:
        document.add_paragraph(_("Aucune promesse d'embauche."))
        return
    _table(
        document,
        [_("Employeur"), _("Promesses"), _("En emploi durable"), _("Tenues"), _("Non tenues")],
        [
            [r.employer.name, str(r.promised), str(r.lasting), str(r.kept), str(r.not_kept)]
            for r in rows
        ],
    )


def _situations(document, operation: Operation) -> None:
    """How many trainees were in each situation at each follow-up (retained answers)."""
    document.add_heading(_("Situations au suivi dans l'emploi"), level=1)
    counts = dict(
        ((situation, kind), n)
        for situation, kind, n in db.session.execute(
            select(Answer.situation, Milestone.kind, func.count(Milestone.id))
            .join(RetainedAnswer, RetainedAnswer.answer_id == Answer.id)
            .join(Milestone, Milestone.id == RetainedAnswer.milestone_id)
            .where(Milestone.operation_id == operation.id)
            .group_by(Answer.situation, Milestone.kind)
        )
    )
    if not counts:
        document.add_paragraph(_("Aucun suivi renseigné."))
        return
    _table(
        document,
        [_("Situation")] + [kind.title for kind in MilestoneKind],
        [
            [situation.title] + [str(counts.get((situation, kind), 0)) for kind in MilestoneKind]
            for situation in Situation
            if any((situation, kind) in counts for kind in MilestoneKind)
        ],
    )


def _meeting_state(meeting: SteeringMeeting) -> str:
    if meeting.is_cancelled:
        return _("annulée")
    if meeting.minutes_approved:
        return _("compte rendu approuvé le %(d)s", d=_date(meeting.minutes_approved_at))
    return _("compte rendu non approuvé")


def _committee(document, meetings: list[SteeringMeeting]) -> None:
    """The committee's meetings, then the decisions and action items of the approved
    minutes (a draft's are not the committee's yet)."""
    document.add_heading(_("Comité de pilotage"), level=1)
    if not meetings:
        document.add_paragraph(_("Aucune réunion du comité de pilotage."))
        return
    _table(
        document,
        [_("Réunion"), _("Date"), _("Présents"), _("État")],
        [
            [
                m.title,
                _date(m.starts_at),
                str(sum(1 for a in m.attendances if a.presence == Presence.PRESENT)),
                _meeting_state(m),
            ]
            for m in meetings
        ],
    )
    approved = [m for m in meetings if m.minutes_approved]
    document.add_heading(_("Décisions du comité"), level=2)
    decisions = [(m, d) for m in approved for d in m.decisions]
    if not decisions:
        document.add_paragraph(_("Aucune décision dans les comptes rendus approuvés."))
    for meeting, decision in decisions:
        document.add_paragraph(f"{decision.text} ({meeting.title})", style="List Bullet")
    actions = [a for m in approved for a in m.actions]
    if actions:
        document.add_heading(_("Actions décidées"), level=2)
        _table(
            document,
            [_("Action"), _("Responsable"), _("Échéance"), _("Faite le")],
            [[a.title, a.owner_label, _date(a.due_on), _date(a.done_at)] for a in actions],
        )


def _committee_stamp(meetings: list[SteeringMeeting]) -> datetime | None:
    """The last change of the committee that the bilan shows."""
    moments = [m.updated_at for m in meetings] + [m.minutes_approved_at for m in meetings]
    moments += [a.done_at for m in meetings for a in m.actions]
    return max((m for m in moments if m), default=None)


def bilan_docx(operation: Operation) -> bytes:
    """The bilan of ``operation`` as it stands; the same state gives the same bytes."""
    assessment = services.assessment_for(operation)
    bonus = services.bonus_for(operation)
    validated = _validated_at(operation)
    meetings = committee_record(operation)
    moments = [
        operation.updated_at,
        validated,
        _stamp(assessment, bonus),
        _committee_stamp(meetings),
    ]
    stamp = max(m for m in moments if m) if any(moments) else EPOCH
    stamp = stamp.replace(microsecond=0)
    with force_locale("fr"):
        document = start_document(
            _("Bilan de l'opération — %(t)s", t=operation.title),
            _("Bilan de l'opération DEFI"),
            "DEFI; bilan",
            stamp,
        )
        document.add_heading(_("Bilan de l'opération"), level=0)
        document.add_paragraph(operation.title, style="Subtitle")
        _identity(document, operation)
        _parties(document, operation)
        _dates(document, operation, validated, assessment)
        document.add_heading(_("Indicateurs"), level=1)
        for table in figures.tables(indicators(operation)):
            document.add_paragraph(table.caption, style="Caption")
            _table(document, table.headers, table.rows)
        _promises(document, operation)
        _situations(document, operation)
        _committee(document, meetings)
        if assessment is not None:
            _written(document, operation, assessment)
            _bonus(document, bonus)
        buffer = BytesIO()
        document.save(buffer)
    return normalise(buffer.getvalue(), stamp)
