"""The minutes of a meeting (« Compte rendu du comité de pilotage ») as a Word document:
the meeting, its members and their attendance, the agenda, the minutes' text, the
decisions, the action items and the approval.

Deterministic like the evaluation and the bilan (``start_document``, ``normalise``): fixed
document properties and zip entry dates taken from the last change the document shows,
so the same state of the meeting gives the same bytes.
"""

from datetime import datetime
from io import BytesIO

from flask_babel import force_locale, format_date, format_datetime
from flask_babel import gettext as _

from portal.assessment.documents import start_document
from portal.conventions.documents import normalise
from portal.design.documents import _table, render_text
from portal.steering.minutes import minutes_section
from portal.steering.models import SteeringMeeting


def filename(meeting: SteeringMeeting) -> str:
    return f"compte-rendu-comite-{meeting.id}.docx"


def _stamp(meeting: SteeringMeeting, section) -> datetime:
    """The last change the document shows: its fixed date."""
    moments = [meeting.updated_at, meeting.minutes_approved_at, section and section.updated_at]
    moments += [a.recorded_at for a in meeting.attendances]
    moments += [d.created_at for d in meeting.decisions]
    moments += [m for a in meeting.actions for m in (a.created_at, a.done_at)]
    return max(m for m in moments if m).replace(microsecond=0)


def _meeting(document, meeting: SteeringMeeting) -> None:
    rows = [
        [_("Opération"), meeting.committee.operation.title],
        [_("Date"), format_datetime(meeting.starts_at, _("EEEE d MMMM y 'à' HH:mm"))],
        [_("Fin"), format_datetime(meeting.ends_at, "HH:mm")],
        [_("Lieu"), meeting.place or "—"],
        [_("Visioconférence"), meeting.video_url or "—"],
        [_("État"), meeting.status.title],
    ]
    if meeting.is_cancelled:
        rows.append([_("Motif de l'annulation"), meeting.cancel_reason])
    _table(document, [_("Réunion"), meeting.title], rows)


def _attendance(document, meeting: SteeringMeeting) -> None:
    document.add_heading(_("Membres et présences"), level=1)
    recorded = {a.member_id: a.presence.title for a in meeting.attendances}
    members = meeting.committee.active_members()
    listed = {m.id for m in members}
    members += [a.member for a in meeting.attendances if a.member_id not in listed]
    _table(
        document,
        [_("Membre"), _("Présence")],
        [[m.label, recorded.get(m.id, _("non relevée"))] for m in members],
    )


def _outcomes(document, meeting: SteeringMeeting) -> None:
    document.add_heading(_("Décisions"), level=1)
    if not meeting.decisions:
        document.add_paragraph(_("Aucune décision."))
    for decision in meeting.decisions:
        document.add_paragraph(decision.text, style="List Number")
    document.add_heading(_("Actions"), level=1)
    if not meeting.actions:
        document.add_paragraph(_("Aucune action."))
        return
    _table(
        document,
        [_("Action"), _("Responsable"), _("Échéance"), _("État")],
        [
            [
                a.title,
                a.owner_label,
                format_date(a.due_on, "d MMMM y"),
                _("faite le %(d)s", d=format_date(a.done_at, "d MMMM y"))
                if a.is_done
                else _("à faire"),
            ]
            for a in meeting.actions
        ],
    )


def minutes_docx(meeting: SteeringMeeting) -> bytes:
    """The minutes of ``meeting`` as they stand; the same state gives the same bytes."""
    return render_minutes(meeting, minutes_section(meeting))


def render_minutes(meeting: SteeringMeeting, section) -> bytes:
    """The minutes' document from ``meeting`` and its minutes ``section`` (None when not
    opened), both already loaded: the archive reads every meeting's section at once."""
    stamp = _stamp(meeting, section)
    with force_locale("fr"):
        document = start_document(
            _("Compte rendu du comité de pilotage — %(t)s", t=meeting.title),
            _("Comité de pilotage de l'opération DEFI"),
            "DEFI; comité de pilotage; compte rendu",
            stamp,
        )
        document.add_heading(_("Compte rendu du comité de pilotage"), level=0)
        document.add_paragraph(meeting.title, style="Subtitle")
        _meeting(document, meeting)
        _attendance(document, meeting)
        document.add_heading(_("Ordre du jour"), level=1)
        render_text(document, meeting.agenda or _("Non renseigné"))
        document.add_heading(_("Compte rendu"), level=1)
        render_text(document, section.content.get("text") if section else None)
        _outcomes(document, meeting)
        document.add_heading(_("Approbation"), level=1)
        if meeting.minutes_approved:
            who = meeting.minutes_approved_by.full_name if meeting.minutes_approved_by else "?"
            document.add_paragraph(
                _(
                    "Approuvé par l'organisme porteur (%(who)s) le %(d)s.",
                    who=who,
                    d=format_date(meeting.minutes_approved_at, "d MMMM y"),
                )
            )
        else:
            document.add_paragraph(_("Projet : pas encore approuvé par l'organisme porteur."))
        buffer = BytesIO()
        document.save(buffer)
    return normalise(buffer.getvalue(), stamp)
