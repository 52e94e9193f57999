"""Information sessions and job datings (issue #12 §2): planning, inviting (who is told),
the attendance sheet, and who sees which candidates — an employer by name only, never the
public category; a prescriber its own; every page writing the access log. Over HTTP: each
role, the refusals (403, 404, anonymous, CSRF) and the htmx attendance widget."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.models import Notification
from portal.operations.models import Operation
from portal.recruitment import sessions
from portal.recruitment.models import (
    Attendance,
    RecruitmentSession,
    SessionCandidate,
    SessionKind,
    Trainee,
    TraineeAccess,
)
from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    OF_B,
    PARTNER,
    REGION_ADMIN,
    Market,
)
from tests.recruitment.factories import (
    EMPLOYER3,
    EMPLOYER_MEMBER,
    PARTNER2,
    make_recruiting_operation,
    make_session,
    make_trainee,
)
from tests.support import HTMX, count, login_as, text, user_with


def sessions_url(rec) -> str:
    return f"/operations/{rec.op}/recrutement/sessions"


def session_url(rec, action: str = "") -> str:
    return f"{sessions_url(rec)}/{rec.session}{action}"


def acting(email: str) -> dict:
    user = user_with(email)
    return {"by": user, "org": user.memberships[0].organisation}


# --- Rules -------------------------------------------------------------------------------


@pytest.fixture
def world(ctx):
    market = Market()
    operation = make_recruiting_operation(market)
    return market, operation


def _plan(operation, **data):
    details = {"kind": SessionKind.JOB_DATING, "starts_at": utcnow(), "place": "Salle 2"}
    return sessions.plan_session(operation, details | data, **acting(OF_A))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"place": "", "video_link": ""}, "place", "Indiquez le lieu ou le lien"),
        ({"place": "", "video_link": "http://visio.example.fr/x"}, "video_link", "https://"),
        ({"starts_at": None}, "starts_at", "Indiquez la date et l'heure."),
        ({"kind": "apero"}, "kind", "Choisissez le type de session."),
        ({"details": "x" * 2001}, "details", "2000 caractères au plus."),
    ],
)
def test_planning_refuses_in_french(world, data, field, message):
    _market, operation = world
    with pytest.raises(RuleError) as refused:
        _plan(operation, **data)
    assert refused.value.field == field and message in refused.value.message


def test_only_the_organisme_porteur_plans_and_a_video_link_is_enough(world):
    market, operation = world
    session = _plan(operation, place="", video_link="https://visio.example.fr/defi")
    assert session.place == "" and session.video_link.startswith("https://")
    with pytest.raises(RuleError, match="Seul l'organisme porteur"):
        sessions.plan_session(
            operation,
            {"kind": SessionKind.INFORMATION, "starts_at": utcnow(), "place": "Agence"},
            by=market.partner_user,
            org=market.partner,
        )


def test_invitations_tell_the_employers_and_the_prescribers(world):
    market, operation = world
    partner_one = make_trainee(operation, prescriber=market.partner, last_name="Un")
    partner_two = make_trainee(operation, prescriber=market.partner, last_name="Deux")
    nobodys = make_trainee(operation, last_name="Trois")
    session = _plan(operation)
    counts = sessions.invite(
        session,
        [partner_one.id, partner_two.id, nobodys.id],
        [market.employer.id],
        **acting(OF_A),
    )
    assert counts == (3, 1)
    notes = db.session.scalars(
        select(Notification).where(Notification.kind == "recruitment_session_invited")
    ).all()
    told = {n.user_id: n.message for n in notes}
    assert set(told) == {market.employer_user.id, market.partner_user.id}
    assert "votre entreprise y est invitée" in told[market.employer_user.id]
    assert told[market.partner_user.id].startswith("2 de vos candidat·e·s invité·e·s : Job dating")
    # Invited again: nothing new to invite.
    with pytest.raises(RuleError, match="Choisissez au moins une personne"):
        sessions.invite(session, [nobodys.id], [market.employer.id], **acting(OF_A))


def test_only_candidates_to_decide_and_employers_of_the_operation_are_invited(world):
    market, operation = world
    session = _plan(operation)
    in_training = make_trainee(operation, status=sessions.TraineeStatus.IN_TRAINING)
    with pytest.raises(RuleError, match="est « En formation »"):
        sessions.invite(session, [in_training.id], [], **acting(OF_A))
    other = make_trainee(make_recruiting_operation(market))
    with pytest.raises(RuleError, match="ne relève pas de l'opération"):
        sessions.invite(session, [other.id], [], **acting(OF_A))
    with pytest.raises(RuleError, match="Seuls les employeurs de l'opération"):
        sessions.invite(session, [], [market.partner.id], **acting(OF_A))


def test_attendance_from_the_start_and_from_the_sheet_read(world):
    market, operation = world
    trainee = make_trainee(operation)
    later = make_session(
        operation,
        market.a_user,
        market.of_a,
        [trainee],
        [market.employer],
        starts_in=timedelta(days=2),
    )
    with pytest.raises(RuleError, match="La présence se note à partir du début de la session"):
        sessions.record_attendance(later, {trainee.id: Attendance.PRESENT}, {}, 0, **acting(OF_A))
    held = make_session(operation, market.a_user, market.of_a, [trainee], [market.employer])
    sessions.record_attendance(
        held,
        {trainee.id: Attendance.ABSENT},
        {market.employer.id: Attendance.PRESENT},
        0,
        **acting(OF_A),
    )
    assert held.attendance_version == 1
    assert [c.attendance for c in held.candidates] == [Attendance.ABSENT]
    assert [e.attendance for e in held.employers] == [Attendance.PRESENT]
    with pytest.raises(RuleError, match="vient d'enregistrer la feuille de présence"):
        sessions.record_attendance(held, {trainee.id: None}, {}, 0, **acting(OF_A))


def test_who_sees_which_candidates(world):
    market, operation = world
    mine = make_trainee(operation, prescriber=market.partner, last_name="Mien")
    absent = make_trainee(operation, last_name="Absent")
    session = make_session(
        operation, market.a_user, market.of_a, [mine, absent], [market.employer, market.employer2]
    )
    sessions.record_attendance(
        session,
        {absent.id: Attendance.ABSENT},
        {market.employer2.id: Attendance.ABSENT},
        0,
        **acting(OF_A),
    )

    def names(viewer):
        return [row.trainee.last_name for row in sessions.shown_candidates(session, viewer)]

    assert names(sessions.Viewer(manages=True)) == ["Absent", "Mien"]
    assert names(sessions.Viewer(region=True)) == ["Absent", "Mien"]
    assert names(sessions.Viewer(employer=market.employer, employer_admin=True)) == ["Mien"]
    assert names(sessions.Viewer(employer=market.employer, employer_admin=False)) == []
    assert names(sessions.Viewer(employer=market.employer2, employer_admin=True)) == []
    assert names(sessions.Viewer(prescriber=market.partner)) == ["Mien"]
    assert sessions.sessions_for(operation, sessions.Viewer(prescriber=market.partner)) == [session]
    outsider = make_recruiting_operation(market)
    assert sessions.sessions_for(outsider, sessions.Viewer(employer=market.employer)) == []


# --- Pages -------------------------------------------------------------------------------


def test_the_organisme_plans_a_session_from_paris_time(app, client, rec):
    login_as(client, OF_A)
    assert "Prévoir une session" in text(client.get(sessions_url(rec)))
    response = client.post(
        sessions_url(rec) + "/nouvelle",
        data={"kind": "information", "starts_at": "2031-03-10T09:30", "place": "Agence"},
    )
    assert response.status_code == 303
    with app.app_context():
        session = db.session.scalar(select(RecruitmentSession))
        assert session.starts_at == datetime(2031, 3, 10, 8, 30)  # stored in UTC
        assert response.location.endswith(f"/sessions/{session.id}")
    page = text(client.get(response.location))
    assert "Réunion d'information collective — lundi 10 mars 2031 à 09:30" in page
    refused = client.post(sessions_url(rec) + "/nouvelle", data={"kind": "job_dating"})
    assert refused.status_code == 422 and "Indiquez la date et l'heure." in text(refused)


@pytest.mark.parametrize("who", [REGION_ADMIN, EMPLOYER, PARTNER])
def test_only_the_organisme_plans(app, client, rec, who):
    login_as(client, who)
    data = {"kind": "information", "starts_at": "2031-03-10T09:30", "place": "Agence"}
    assert client.get(sessions_url(rec) + "/nouvelle").status_code == 403
    assert client.post(sessions_url(rec) + "/nouvelle", data=data).status_code == 403
    assert count(app, RecruitmentSession) == 0


def test_the_organisme_sees_every_candidate_and_records_attendance(app, client, dating):
    login_as(client, OF_A)
    page = text(client.get(session_url(dating)))
    assert "Candidat·e·s invité·e·s" in page
    for name in ("Moreau Inès", "Petit Léa", "Quentin Nora"):
        assert name in page
    data = {
        "version": "0",
        f"candidate-{dating.placed}": "present",
        f"candidate-{dating.candidate}": "absent",
        f"candidate-{dating.from_q}": "",
        f"employer-{dating.employer}": "present",
        f"employer-{dating.employer2}": "absent",
    }
    response = client.post(session_url(dating, "/presences"), data=data, headers=HTMX)
    body = text(response)
    assert response.status_code == 200 and "Vary" in response.headers
    assert body.lstrip().startswith('<section id="session-candidates"')
    assert "Présences enregistrées." in body
    with app.app_context():
        query = select(SessionCandidate.trainee_id, SessionCandidate.attendance)
        marks = {trainee_id: mark for trainee_id, mark in db.session.execute(query)}
        assert marks == {
            dating.placed: Attendance.PRESENT,
            dating.candidate: Attendance.ABSENT,
            dating.from_q: None,
        }
    stale = client.post(session_url(dating, "/presences"), data=data, headers=HTMX)
    assert stale.status_code == 422
    assert "vient d'enregistrer la feuille de présence" in text(stale)
    plain = client.post(session_url(dating, "/presences"), data={**data, "version": "1"})
    assert plain.status_code == 303


def test_an_employer_sees_names_only_and_never_the_public(app, client, dating):
    login_as(client, EMPLOYER)
    page = text(client.get(session_url(dating)))
    assert "Candidat·e·s présenté·e·s" in page
    for name in ("Inès Moreau", "Léa Petit", "Nora Quentin"):
        assert name in page
    for personal in ("Bénéficiaires du RSA", "nora.quentin@example.fr", "Partenaire Q", "1998"):
        assert personal not in page
    assert "Avis sur Nora Quentin" in page  # the opinion forms (test_opinions.py)
    with app.app_context():
        row = db.session.scalar(select(TraineeAccess).where(TraineeAccess.action == "session"))
        assert row.trainee_ids == sorted([dating.placed, dating.candidate, dating.from_q])
        assert row.user_id == user_with(EMPLOYER).id


def test_a_non_admin_of_the_employer_sees_the_session_not_the_candidates(client, dating):
    login_as(client, EMPLOYER_MEMBER)
    page = text(client.get(session_url(dating)))
    assert "Seul·e·s les administrateur·rices de votre entreprise" in page
    assert "Quentin" not in page


def test_a_prescriber_sees_its_own_candidates(client, dating):
    login_as(client, PARTNER2)
    page = text(client.get(session_url(dating)))
    assert "Quentin Nora" in page and "Moreau" not in page and "Petit" not in page
    login_as(client, PARTNER)
    page = text(client.get(session_url(dating)))
    assert "Moreau Inès" in page and "Quentin" not in page


def test_an_employer_not_invited_is_refused_and_an_outsider_learns_nothing(app, client, dating):
    login_as(client, EMPLOYER3)
    assert "Aucune session ne vous concerne" in text(client.get(sessions_url(dating)))
    assert client.get(session_url(dating)).status_code == 403
    login_as(client, OF_B)
    for path in (sessions_url(dating), session_url(dating)):
        assert client.get(path).status_code == 404
    data = {"version": "0", f"candidate-{dating.placed}": "present"}
    assert client.post(session_url(dating, "/presences"), data=data).status_code == 404
    with app.app_context():
        assert db.session.scalars(select(SessionCandidate.attendance)).all() == [None] * 3


def test_a_session_of_another_operation_is_not_found(app, client, dating):
    with app.app_context():
        other = Operation(
            **{
                c: getattr(db.session.get(Operation, dating.op), c)
                for c in ("title", "category", "territory_id", "rome_code", "funding", "lot_id")
            },
            provider_id=dating.of_a,
            reported_by_id=user_with(OF_A).id,
            reported_by_org_id=dating.of_a,
        )
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    login_as(client, REGION_ADMIN)
    assert (
        client.get(f"/operations/{other_id}/recrutement/sessions/{dating.session}").status_code
        == 404
    )


@pytest.mark.parametrize("who", [EMPLOYER, PARTNER, REGION_ADMIN])
def test_only_the_organisme_records_attendance_and_invites(app, client, dating, who):
    login_as(client, who)
    data = {"version": "0", f"candidate-{dating.placed}": "absent"}
    assert client.post(session_url(dating, "/presences"), data=data).status_code == 403
    invite = {"employer_ids": str(dating.employer3)}
    assert client.post(session_url(dating, "/invitations"), data=invite).status_code == 403
    with app.app_context():
        assert db.session.scalars(select(SessionCandidate.attendance)).all() == [None] * 3


def test_the_organisme_invites_from_the_page(app, client, dating):
    login_as(client, OF_A)
    page = text(client.get(session_url(dating)))
    assert "Entreprise G" in page.split('id="invite-title"', 1)[1]
    response = client.post(
        session_url(dating, "/invitations"), data={"employer_ids": dating.employer3}
    )
    assert response.status_code == 303
    assert "1 employeur invité." in text(client.get(response.location))


def test_anonymous_and_csrf(app, client, dating):
    for path in (sessions_url(dating), session_url(dating)):
        assert client.get(path).location.startswith("/connexion")
    login_as(client, OF_A)
    data = {"version": "0", f"candidate-{dating.placed}": "absent"}
    response = client.post(session_url(dating, "/presences"), data=data, csrf=False)
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(Trainee, dating.placed) is not None
        assert db.session.scalars(select(SessionCandidate.attendance)).all() == [None] * 3


def test_the_list_shows_each_viewer_its_sessions(app, client, dating):
    with app.test_request_context():
        operation = db.session.get(Operation, dating.op)
        carrier = db.session.get(Organisation, dating.of_a)
        make_session(operation, user_with(OF_A), carrier, starts_in=timedelta(days=7))
        db.session.commit()
    login_as(client, OF_A)
    assert text(client.get(sessions_url(dating))).count("Job dating — ") == 2
    login_as(client, EMPLOYER2)
    assert text(client.get(sessions_url(dating))).count("Job dating — ") == 1
