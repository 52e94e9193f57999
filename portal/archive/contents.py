"""What an operation's archive holds: one registry entry per kind of document.

``KINDS`` lists them. Each ``DocumentKind`` plans the files of its kind for an operation —
their names, French titles and the trainees they name — and builds each file only when
the archive writes it, one at a time (memory stays flat). A new kind of document (the
steering committees' minutes, say) is one more entry: a key, a folder, a French title and
a ``plan(context)`` returning ``Planned`` files.

Rules a kind follows:

- ``build`` returns the same bytes for the same state: a Word document takes its dates
  from ``context.stamp`` (the date of the state the archive records) or from its own
  data, never from the clock, and goes through ``normalise`` (fixed zip entries);
- titles never name a person: the manifest lists them, and the manifest is what anyone
  shows the public verification page;
- ``trainee_ids``: the trainees a file names, so that the download writes the access log;
- planning reads with a fixed number of queries (eager loads), whatever the number of
  trainees; building reads only what planning loaded (tests/archive checks the count);
- nothing is written while building (a write would hold the database's write lock for
  the whole archive): evidence goes to ``context.after``, written once the zip is done.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.assessment import documents as assessment_documents
from portal.assessment.services import assessment_for
from portal.conventions import documents as convention_documents
from portal.conventions.evidence_page import day, status_text
from portal.conventions.models import Convention, ConventionVersion
from portal.conventions.state import valid_signatures
from portal.design import documents as design_documents
from portal.design.models import DesignSection
from portal.design.services import design_for
from portal.extensions import db
from portal.immersions import documents as immersion_documents
from portal.immersions.models import (
    Debrief,
    DebriefAttendee,
    DebriefSkill,
    DebriefTrainee,
    Immersion,
    TutorAssessment,
)
from portal.immersions.services import design_skills
from portal.operations.models import Operation
from portal.reporting import bilan
from portal.steering import documents as steering_documents
from portal.steering import queries as steering_queries
from portal.steering.models import MeetingStatus, SteeringCommittee, SteeringMeeting

normalise = convention_documents.normalise


@dataclass(frozen=True)
class Planned:
    """One file of the archive, named, titled and built on demand."""

    name: str  # inside its kind's folder
    title: str  # French, naming no one
    build: Callable[[], bytes]
    trainee_ids: tuple[int, ...] = ()


@dataclass
class Context:
    """What the kinds plan with: the operation, the date of its state, who asks, and the
    evidence to write once the archive is built."""

    operation: Operation
    stamp: datetime
    by: User | None = None
    after: list[Callable[[], object]] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentKind:
    """A kind of document in the archive: its folder, French title and planner."""

    key: str
    folder: str
    title: str
    plan: Callable[[Context], list[Planned]]


# ---- the convention: every frozen version, amendments included, with its evidence ------


def _convention_file(context: Context, version: ConventionVersion) -> bytes:
    data = convention_documents.convention_docx(version)
    signatures = len(valid_signatures(version))
    # Recorded like a download, so that the public page recognises the file on its own.
    context.after.append(
        partial(
            convention_documents.record_issued,
            version,
            convention_documents.DOCX,
            data,
            by=context.by,
            signatures=signatures,
        )
    )
    return data


def _conventions(context: Context) -> list[Planned]:
    versions = db.session.scalars(
        select(ConventionVersion)
        .join(Convention, Convention.id == ConventionVersion.convention_id)
        .where(Convention.operation_id == context.operation.id)
        .order_by(ConventionVersion.number)
        .options(selectinload(ConventionVersion.convention))
    ).all()
    files = []
    for version in versions:
        title = _("Version %(n)s", n=version.number)
        if version.is_amendment:
            title = _("Version %(n)s (avenant)", n=version.number)
        files.append(
            Planned(
                convention_documents.filename(version),
                f"{title} — {status_text(version)}",
                partial(_convention_file, context, version),
            )
        )
    return files


# ---- the co-design sheet ------------------------------------------------------------------


def _design(context: Context) -> list[Planned]:
    operation, stamp = context.operation, context.stamp
    design = design_for(operation)
    if design is None:
        return []

    def build() -> bytes:
        return normalise(design_documents.design_docx(operation, design, stamp=stamp), stamp)

    return [Planned(design_documents.filename(operation), _("Fiche de co-conception"), build)]


# ---- debrief sheets and internship certificates (they name trainees) --------------------


def _debriefs(context: Context) -> list[Planned]:
    stamp = context.stamp
    debriefs = db.session.scalars(
        select(Debrief)
        .where(Debrief.operation_id == context.operation.id)
        .order_by(Debrief.held_on, Debrief.id)
        .options(
            selectinload(Debrief.trainees).selectinload(DebriefTrainee.trainee),
            selectinload(Debrief.trainees)
            .selectinload(DebriefTrainee.immersion)
            .selectinload(Immersion.employer),
            selectinload(Debrief.trainees)
            .selectinload(DebriefTrainee.immersion)
            .selectinload(Immersion.tutor),
            selectinload(Debrief.attendees).selectinload(DebriefAttendee.user),
            selectinload(Debrief.attendees).selectinload(DebriefAttendee.organisation),
            selectinload(Debrief.skills).selectinload(DebriefSkill.rating),
        )
    ).all()
    files = []
    for debrief in debriefs:
        for line in debrief.trainees:

            def build(debrief=debrief, trainee=line.trainee) -> bytes:
                sheet = immersion_documents.debrief_sheet_docx(debrief, trainee, stamp=stamp)
                return normalise(sheet, stamp)

            title = _(
                "Retour d'expérience %(kind)s du %(d)s — stagiaire n° %(id)s",
                kind=debrief.kind.title.lower(),
                d=day(debrief.held_on),
                id=line.trainee_id,
            )
            name = immersion_documents.sheet_filename(debrief, line.trainee)
            files.append(Planned(name, title, build, (line.trainee_id,)))
    return files


def _certificates(context: Context) -> list[Planned]:
    """A certificate for each immersion period over by the date of the state."""
    operation, stamp = context.operation, context.stamp
    immersions = db.session.scalars(
        select(Immersion)
        .where(Immersion.operation_id == operation.id, Immersion.ends_on <= stamp.date())
        .order_by(Immersion.starts_on, Immersion.id)
        .options(
            selectinload(Immersion.trainee),
            selectinload(Immersion.employer),
            selectinload(Immersion.tutor),
            selectinload(Immersion.assessment).selectinload(TutorAssessment.ratings),
        )
    ).all()
    skills = design_skills(operation) if immersions else []
    files = []
    for immersion in immersions:

        def build(immersion=immersion) -> bytes:
            certificate = immersion_documents.internship_certificate_docx(
                immersion, stamp=stamp, skills=skills
            )
            return normalise(certificate, stamp)

        title = _(
            "Attestation de stage du %(a)s au %(b)s — stagiaire n° %(id)s",
            a=day(immersion.starts_on),
            b=day(immersion.ends_on),
            id=immersion.trainee_id,
        )
        name = immersion_documents.certificate_filename(immersion)
        files.append(Planned(name, title, build, (immersion.trainee_id,)))
    return files


# ---- the steering committee's minutes -----------------------------------------------------


def _steering(context: Context) -> list[Planned]:
    """The minutes of each meeting held by the date of the state (not the cancelled ones,
    nor those still to come)."""
    meetings = db.session.scalars(
        select(SteeringMeeting)
        .join(SteeringCommittee, SteeringCommittee.id == SteeringMeeting.committee_id)
        .where(
            SteeringCommittee.operation_id == context.operation.id,
            SteeringMeeting.status == MeetingStatus.PLANNED,
            SteeringMeeting.starts_at <= context.stamp,
        )
        .order_by(SteeringMeeting.starts_at, SteeringMeeting.id)
        .options(*steering_queries.meeting_loads())
    ).all()
    if not meetings:
        return []
    sections = {
        s.meeting_id: s
        for s in db.session.scalars(
            select(DesignSection).where(DesignSection.meeting_id.in_([m.id for m in meetings]))
        )
    }
    files = []
    for meeting in meetings:
        build = partial(steering_documents.render_minutes, meeting, sections.get(meeting.id))
        title = _("Compte rendu du comité de pilotage du %(d)s", d=day(meeting.starts_at))
        files.append(Planned(steering_documents.filename(meeting), title, build))
    return files


# ---- the evaluation and the bilan (already deterministic) ---------------------------------


def _evaluation(context: Context) -> list[Planned]:
    operation = context.operation
    assessment = assessment_for(operation)
    if assessment is None:
        return []
    title = _("Évaluation de l'opération (%(s)s)", s=assessment.status.title.lower())
    build = partial(assessment_documents.assessment_docx, operation)
    return [Planned(assessment_documents.filename(operation), title, build)]


def _bilan(context: Context) -> list[Planned]:
    operation = context.operation
    build = partial(bilan.bilan_docx, operation)
    return [Planned(bilan.filename(operation), _("Bilan de l'opération"), build)]


KINDS: list[DocumentKind] = [
    DocumentKind(
        "convention",
        "convention",
        _l("Convention de partenariat : versions et avenants, avec leur dossier de preuve"),
        _conventions,
    ),
    DocumentKind("design", "co-conception", _l("Fiche de co-conception"), _design),
    DocumentKind("debrief", "retours-experience", _l("Feuilles de retour d'expérience"), _debriefs),
    DocumentKind("certificate", "attestations", _l("Attestations de stage"), _certificates),
    DocumentKind(
        "steering", "comite-de-pilotage", _l("Comptes rendus du comité de pilotage"), _steering
    ),
    DocumentKind("evaluation", "evaluation", _l("Évaluation de l'opération"), _evaluation),
    DocumentKind("bilan", "bilan", _l("Bilan de l'opération"), _bilan),
]
