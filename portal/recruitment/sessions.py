"""Information sessions and job datings (the sheet: recruitment « associant notamment les
entreprises », with suitable means of communication and outreach).

The organisme porteur plans a session (when, a place or a video link), invites candidates
and the operation's employers, then records who came. Who sees what:

- the organisme porteur and the Région: every session, every candidate invited;
- an employer invited: the session; its admins (who speak for its promises) the
  candidates presented there — invited and not recorded absent — by name only, never
  their public category nor their contact (``recruitment/access.py``), as long as the
  employer itself is not recorded absent;
- a prescriber: the sessions its candidates are invited to, and only those candidates.

Each page showing candidates writes the access log (``log_trainees_shown``).
"""

from dataclasses import dataclass
from datetime import datetime

from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event
from portal.operations.models import Operation
from portal.operations.needs import employer_participants
from portal.recruitment.models import (
    Attendance,
    RecruitmentSession,
    SessionCandidate,
    SessionEmployer,
    SessionKind,
    Trainee,
    TraineeStatus,
)
from portal.recruitment.services import check_can_record

PLACE_MAX = RecruitmentSession.place.type.length
LINK_MAX = RecruitmentSession.video_link.type.length
DETAILS_MAX = 2000
# Who may be invited: a candidate still to decide on, or retained (to meet the employers).
INVITABLE = (TraineeStatus.CANDIDATE, TraineeStatus.RETAINED)


def when(session: RecruitmentSession) -> str:
    """The session's date and time in French (Paris time)."""
    return format_datetime(session.starts_at, _("EEEE d MMMM y 'à' HH:mm"))


def has_started(session: RecruitmentSession, now: datetime | None = None) -> bool:
    """Attendance and opinions are recorded from the session's start on."""
    return session.starts_at <= (now or utcnow())


def _check_details(data: dict) -> dict:
    place = (data.get("place") or "").strip()
    link = (data.get("video_link") or "").strip()
    details = (data.get("details") or "").strip()
    if data.get("kind") not in list(SessionKind):
        raise RuleError(_("Choisissez le type de session."), "kind")
    if data.get("starts_at") is None:
        raise RuleError(_("Indiquez la date et l'heure."), "starts_at")
    if not place and not link:
        raise RuleError(_("Indiquez le lieu ou le lien de la visioconférence."), "place")
    if link and not link.startswith("https://"):
        raise RuleError(_("Le lien doit commencer par https://."), "video_link")
    for name, value, limit in (
        ("place", place, PLACE_MAX),
        ("video_link", link, LINK_MAX),
        ("details", details, DETAILS_MAX),
    ):
        if len(value) > limit:
            raise RuleError(_("%(n)d caractères au plus.", n=limit), name)
    return {
        "kind": SessionKind(data["kind"]),
        "starts_at": data["starts_at"],
        "place": place,
        "video_link": link,
        "details": details,
    }


def plan_session(
    operation: Operation, data: dict, *, by: User, org: Organisation
) -> RecruitmentSession:
    """The organisme porteur plans an information session or a job dating. ``data``: kind,
    starts_at (naive UTC; a past date records a session held already), place and/or
    video_link, details."""
    check_can_record(operation, org)
    session = RecruitmentSession(operation_id=operation.id, created_by_id=by.id)
    for name, value in _check_details(data).items():
        setattr(session, name, value)
    db.session.add(session)
    db.session.flush()
    log_event(
        operation,
        "recruitment_session_planned",
        by=by,
        org=org,
        session_kind=session.kind.value,
        when=when(session),
    )
    return session


def invite(
    session: RecruitmentSession,
    trainee_ids: list[int],
    employer_ids: list[int],
    *,
    by: User,
    org: Organisation,
) -> tuple[int, int]:
    """Invite candidates and employers of the operation (those invited already are kept);
    the employers' admins and the candidates' prescribers are told. Returns how many
    candidates and employers were newly invited."""
    lock(session)
    operation = session.operation
    check_can_record(operation, org)
    invited_trainees = {c.trainee_id for c in session.candidates}
    invited_employers = {e.organisation_id for e in session.employers}
    trainees = db.session.scalars(
        select(Trainee)
        .where(Trainee.operation_id == operation.id, Trainee.id.in_(trainee_ids))
        .order_by(Trainee.id)
    ).all()
    if len(trainees) != len(set(trainee_ids)):
        raise RuleError(_("Ce ou cette candidat·e ne relève pas de l'opération."), "trainee_ids")
    refused = [t for t in trainees if t.status not in INVITABLE]
    if refused:
        raise RuleError(
            _(
                "Seul·e·s les candidat·e·s à examiner ou retenu·e·s sont invité·e·s (%(name)s "
                "est « %(status)s »).",
                name=refused[0].full_name,
                status=refused[0].status.title,
            ),
            "trainee_ids",
        )
    employers = {e.id: e for e in employer_participants(operation)}
    if set(employer_ids) - set(employers):
        raise RuleError(_("Seuls les employeurs de l'opération sont invités."), "employer_ids")
    new_trainees = [t for t in trainees if t.id not in invited_trainees]
    new_employers = [employers[i] for i in sorted(set(employer_ids) - invited_employers)]
    if not new_trainees and not new_employers:
        raise RuleError(_("Choisissez au moins une personne ou un employeur à inviter."))
    for trainee in new_trainees:
        db.session.add(SessionCandidate(session_id=session.id, trainee_id=trainee.id))
    for employer in new_employers:
        db.session.add(SessionEmployer(session_id=session.id, organisation_id=employer.id))
    db.session.flush()
    record(
        "recruitment_session.invited",
        actor=by,
        organisation=org,
        obj=session,
        trainees=[t.id for t in new_trainees],
        employers=[e.id for e in new_employers],
    )
    log_event(
        operation,
        "recruitment_session_invited",
        by=by,
        org=org,
        when=when(session),
        candidates=len(new_trainees),
        employers=len(new_employers),
    )
    _tell_invited(session, new_trainees, new_employers)
    return len(new_trainees), len(new_employers)


def _tell_invited(session: RecruitmentSession, trainees: list, employers: list) -> None:
    operation = session.operation
    where = session.place or _("en visioconférence")
    link = {"endpoint": "recruitment.show_session", "operation_id": operation.id}
    for employer in employers:
        notify(
            organisation_members(employer.id, admins_only=True),
            kind="recruitment_session_invited",
            operation=operation,
            message=_(
                "%(kind)s de « %(title)s » le %(when)s (%(where)s) : votre entreprise y est "
                "invitée pour rencontrer les candidat·e·s.",
                kind=session.kind.title,
                title=operation.title,
                when=when(session),
                where=where,
            ),
            email_subject=_(
                "Invitation : %(kind)s, %(title)s", kind=session.kind.title, title=operation.title
            ),  # fmt: skip
            session_id=session.id,
            **link,
        )
    by_prescriber: dict[int, int] = {}
    for trainee in trainees:
        if trainee.prescriber_id:
            by_prescriber[trainee.prescriber_id] = by_prescriber.get(trainee.prescriber_id, 0) + 1
    for prescriber_id, count in sorted(by_prescriber.items()):
        notify(
            organisation_members(prescriber_id),
            kind="recruitment_session_invited",
            operation=operation,
            message=_(
                "%(n)d de vos candidat·e·s invité·e·s : %(kind)s de « %(title)s » le %(when)s "
                "(%(where)s). Prévenez-les.",
                n=count,
                kind=session.kind.title,
                title=operation.title,
                when=when(session),
                where=where,
            ),
            session_id=session.id,
            **link,
        )


def record_attendance(
    session: RecruitmentSession,
    candidates: dict[int, Attendance | None],
    employers: dict[int, Attendance | None],
    seen_version: int,
    *,
    by: User,
    org: Organisation,
) -> None:
    """The organisme porteur records who came (by trainee id and employer id; None: not
    said). A sheet posted from an older version than the session's is refused: someone
    recorded the attendance meanwhile."""
    lock(session)
    check_can_record(session.operation, org)
    if not has_started(session):
        raise RuleError(
            _("La présence se note à partir du début de la session (%(when)s).", when=when(session))
        )
    if seen_version != session.attendance_version:
        who = session.attendance_recorded_by
        raise RuleError(
            _(
                "%(name)s vient d'enregistrer la feuille de présence : rechargez-la avant de "
                "la modifier.",
                name=who.full_name if who else _("Quelqu'un"),
            )
        )
    for row in session.candidates:
        if row.trainee_id in candidates:
            row.attendance = candidates[row.trainee_id]
    for row in session.employers:
        if row.organisation_id in employers:
            row.attendance = employers[row.organisation_id]
    session.attendance_version += 1
    session.attendance_recorded_at = utcnow()
    session.attendance_recorded_by_id = by.id
    db.session.flush()
    record(
        "recruitment_session.attendance",
        actor=by,
        organisation=org,
        obj=session,
        version=session.attendance_version,
        present=sum(r.attendance == Attendance.PRESENT for r in session.candidates),
        absent=sum(r.attendance == Attendance.ABSENT for r in session.candidates),
    )


# --- Who sees what ------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """How the current organisation sees the sessions of an operation."""

    manages: bool = False  # the organisme porteur
    region: bool = False
    employer: Organisation | None = None
    employer_admin: bool = False  # speaks for the employer: sees candidates, gives opinions
    prescriber: Organisation | None = None

    @property
    def sees_all(self) -> bool:
        return self.manages or self.region

    @property
    def allowed(self) -> bool:
        return self.sees_all or self.employer is not None or self.prescriber is not None


def viewer(operation: Operation, membership: Membership | None, *, region: bool) -> Viewer:
    """The current member's view of ``operation``'s sessions (``region``: acting for the
    Région on an operation it sees)."""
    if membership is None:
        return Viewer()
    org = membership.organisation
    if operation.provider_id == org.id:
        return Viewer(manages=True)
    if region:
        return Viewer(region=True)
    if org.kind == OrgKind.EMPLOYER and org in employer_participants(operation):
        return Viewer(employer=org, employer_admin=membership.is_admin)
    if org.kind == OrgKind.PARTNER:
        return Viewer(prescriber=org)
    return Viewer()


def sessions_for(operation: Operation, seen_by: Viewer) -> list[RecruitmentSession]:
    """The sessions ``seen_by`` may open, newest first."""
    query = select(RecruitmentSession).where(RecruitmentSession.operation_id == operation.id)
    if seen_by.employer is not None:
        query = query.where(
            exists().where(
                SessionEmployer.session_id == RecruitmentSession.id,
                SessionEmployer.organisation_id == seen_by.employer.id,
            )
        )
    elif seen_by.prescriber is not None:
        query = query.where(
            exists().where(
                SessionCandidate.session_id == RecruitmentSession.id,
                SessionCandidate.trainee_id == Trainee.id,
                Trainee.prescriber_id == seen_by.prescriber.id,
            )
        )
    elif not seen_by.sees_all:
        return []
    query = query.options(
        selectinload(RecruitmentSession.candidates), selectinload(RecruitmentSession.employers)
    )
    return list(db.session.scalars(query.order_by(RecruitmentSession.starts_at.desc())))


def attends(session: RecruitmentSession, employer: Organisation | None) -> SessionEmployer | None:
    """The employer's invitation to ``session``, unless it is recorded absent."""
    row = next((e for e in session.employers if e.organisation_id == getattr(employer, "id", 0)),
               None)  # fmt: skip
    return row if row is not None and row.attendance != Attendance.ABSENT else None


def presented(session: RecruitmentSession, trainee_id: int) -> bool:
    """The candidate was presented at ``session``: invited, not recorded absent."""
    return any(
        c.trainee_id == trainee_id and c.attendance != Attendance.ABSENT for c in session.candidates
    )


def shown_candidates(session: RecruitmentSession, seen_by: Viewer) -> list[SessionCandidate]:
    """The session's candidates ``seen_by`` may see, by name."""
    rows = db.session.scalars(
        select(SessionCandidate)
        .join(Trainee, Trainee.id == SessionCandidate.trainee_id)
        .where(SessionCandidate.session_id == session.id)
        .options(selectinload(SessionCandidate.trainee).selectinload(Trainee.prescriber))
        .order_by(Trainee.last_name, Trainee.first_name, Trainee.id)
    ).all()
    if seen_by.sees_all:
        return list(rows)
    if seen_by.employer is not None:
        if not seen_by.employer_admin or attends(session, seen_by.employer) is None:
            return []
        return [r for r in rows if r.attendance != Attendance.ABSENT]
    if seen_by.prescriber is not None:
        return [r for r in rows if r.trainee.prescriber_id == seen_by.prescriber.id]
    return []


def invitable(operation: Operation, session: RecruitmentSession) -> tuple[list, list]:
    """(candidates, employers) of the operation not yet invited to ``session``."""
    invited = {c.trainee_id for c in session.candidates}
    trainees = db.session.scalars(
        select(Trainee)
        .where(Trainee.operation_id == operation.id, Trainee.status.in_(INVITABLE))
        .order_by(Trainee.last_name, Trainee.first_name, Trainee.id)
    ).all()
    employers_in = {e.organisation_id for e in session.employers}
    return (
        [t for t in trainees if t.id not in invited],
        [e for e in employer_participants(operation) if e.id not in employers_in],
    )
