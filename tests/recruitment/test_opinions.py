"""Employers' opinions of candidates (issue #12 §2): who gives one (an admin of an employer
with promises, present at the session, about a candidate presented there, from the
session's start), one current opinion per employer and candidate changed from the version
read, the organisme porteur told and reading every opinion on the record before it
retains and matches — the employer then told of the match."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.operations.models import Operation, Status
from portal.recruitment import opinions, sessions
from portal.recruitment.models import (
    Attendance,
    CandidateOpinion,
    JobPromise,
    RecruitmentSession,
    Trainee,
    Verdict,
)
from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    OF_B,
    PARTNER,
    REGION_ADMIN,
    set_status,
)
from tests.recruitment.factories import EMPLOYER3, EMPLOYER_MEMBER
from tests.support import HTMX, count, login_as, text, user_with


def opinion_url(rec, trainee_id: int) -> str:
    return f"/operations/{rec.op}/recrutement/sessions/{rec.session}/avis/{trainee_id}"


def post_data(trainee_id: int, verdict="favourable", comment="", version=0) -> dict:
    prefix = f"opinion-{trainee_id}-"
    return {prefix + "verdict": verdict, prefix + "comment": comment, prefix + "version": version}


def _give(rec, who=EMPLOYER, trainee_id=None, verdict=Verdict.FAVOURABLE, version=0, **extra):
    user = user_with(who)
    org = user.memberships[0].organisation
    trainee = db.session.get(Trainee, trainee_id or rec.from_q)
    session = db.session.get(RecruitmentSession, rec.session)
    return opinions.give_opinion(
        trainee, session, verdict, extra.get("comment", ""), version, by=user, org=org
    )


# --- Rules -------------------------------------------------------------------------------


def test_an_opinion_then_a_change_from_the_version_read(app, dating):
    with app.test_request_context():
        first = _give(dating, comment="Bon contact.")
        assert (first.verdict, first.version, first.comment) == (
            Verdict.FAVOURABLE,
            1,
            "Bon contact.",
        )
        same = _give(dating, version=1, comment="Bon contact.")
        assert same.version == 1  # nothing changed, nothing recorded
        changed = _give(dating, verdict=Verdict.RESERVED, version=1)
        assert (changed.id, changed.version, changed.verdict) == (first.id, 2, Verdict.RESERVED)
        with pytest.raises(RuleError, match="vient de donner l'avis de votre entreprise"):
            _give(dating, verdict=Verdict.UNFAVOURABLE, version=1)
        audits = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "candidate.opinion")
        ).all()
        assert [(a["verdict"], a["version"]) for a in audits] == [
            ("favourable", 1),
            ("reserved", 2),
        ]
        assert all("comment" not in a for a in audits)  # about a person: kept in its row
        note = db.session.scalar(
            select(Notification).where(Notification.kind == "candidate_opinion")
        )
        assert note.user_id == user_with(OF_A).id
        assert note.message.startswith("Entreprise E donne un avis « Favorable »")
        db.session.rollback()


def test_one_opinion_per_employer_and_candidate(app, dating):
    with app.test_request_context():
        _give(dating)
        _give(dating, who=EMPLOYER2, verdict=Verdict.UNFAVOURABLE)
        db.session.commit()
    assert count(app, CandidateOpinion) == 2


@pytest.mark.parametrize(
    ("setup", "who", "message"),
    [
        (None, EMPLOYER_MEMBER, "Seul·e un·e administrateur·rice de l'entreprise"),
        (None, OF_A, "Seul·e un·e administrateur·rice de l'entreprise"),
        (None, EMPLOYER3, "Seuls les employeurs qui ont fait des promesses"),
        ("employer absent", EMPLOYER, "Votre entreprise n'a pas participé à cette session."),
        ("candidate absent", EMPLOYER, "n'a pas été présenté·e à cette session"),
        ("tomorrow", EMPLOYER, "Les avis se donnent à partir du début de la session"),
        ("follow-up", EMPLOYER, "Les avis se donnent pendant le recrutement et la formation."),
    ],
)
def test_who_gives_an_opinion(app, dating, setup, who, message):
    if setup == "follow-up":
        set_status(app, dating.op, Status.FOLLOW_UP)
    with app.test_request_context():
        session = db.session.get(RecruitmentSession, dating.session)
        if setup == "employer absent":
            sessions.record_attendance(
                session, {}, {dating.employer: Attendance.ABSENT}, 0, **_carrier()
            )
        elif setup == "candidate absent":
            sessions.record_attendance(
                session, {dating.from_q: Attendance.ABSENT}, {}, 0, **_carrier()
            )
        elif setup == "tomorrow":
            session.starts_at += timedelta(days=2)
        if who == EMPLOYER3:  # Entreprise G, without a promise, invited anyway
            session.employers.append(sessions.SessionEmployer(organisation_id=dating.employer3))
            db.session.flush()
        with pytest.raises(RuleError, match=message):
            _give(dating, who=who)
        db.session.rollback()
    assert count(app, CandidateOpinion) == 0


def _carrier() -> dict:
    user = user_with(OF_A)
    return {"by": user, "org": user.memberships[0].organisation}


# --- Pages -------------------------------------------------------------------------------


def test_an_employer_gives_its_opinion_in_place(app, client, dating):
    login_as(client, EMPLOYER)
    data = post_data(dating.from_q, "reserved", "À revoir en immersion.")
    response = client.post(opinion_url(dating, dating.from_q), data=data, headers=HTMX)
    body = text(response)
    assert response.status_code == 200 and "Vary" in response.headers
    assert body.lstrip().startswith(f'<div id="opinion-{dating.from_q}"')
    assert "Avis enregistré : l'organisme de formation en est informé." in body
    assert "Avis de votre entreprise : Réservé" in body and "À revoir en immersion." in body
    assert "Changer l'avis" in body
    stale = client.post(
        opinion_url(dating, dating.from_q), data=post_data(dating.from_q), headers=HTMX
    )
    assert stale.status_code == 422
    assert "vient de donner l'avis de votre entreprise" in text(stale)
    plain = client.post(
        opinion_url(dating, dating.from_q), data=post_data(dating.from_q, version=1)
    )
    assert plain.status_code == 303
    with app.app_context():
        opinion = db.session.scalar(select(CandidateOpinion))
        assert (opinion.verdict, opinion.version) == (Verdict.FAVOURABLE, 2)


def test_an_opinion_without_a_verdict_is_refused(app, client, dating):
    login_as(client, EMPLOYER)
    data = post_data(dating.from_q, verdict="")
    response = client.post(opinion_url(dating, dating.from_q), data=data, headers=HTMX)
    assert response.status_code == 422 and "Choisissez un avis." in text(response)
    assert count(app, CandidateOpinion) == 0


def test_an_employer_sees_only_its_own_opinions(app, client, dating):
    with app.test_request_context():
        _give(dating, who=EMPLOYER2, verdict=Verdict.UNFAVOURABLE, comment="Horaires.")
        db.session.commit()
    login_as(client, EMPLOYER)
    page = text(client.get(f"/operations/{dating.op}/recrutement/sessions/{dating.session}"))
    widget = page.split(f'id="opinion-{dating.from_q}"', 1)[1].split("</form>", 1)[0]
    assert "Pas encore d'avis de votre entreprise." in widget
    assert "Horaires." not in page and "Entreprise F :" not in page


@pytest.mark.parametrize("who", [OF_A, REGION_ADMIN])
def test_the_organisme_and_the_region_read_every_opinion_on_the_record(app, client, dating, who):
    with app.test_request_context():
        _give(dating, comment="Très motivée.")
        _give(dating, who=EMPLOYER2, verdict=Verdict.RESERVED)
        db.session.commit()
    login_as(client, who)
    record = text(client.get(f"/operations/{dating.op}/recrutement/stagiaires/{dating.from_q}"))
    opinions_block = record.split('id="opinions-title"', 1)[1].split("</section>", 1)[0]
    assert "Entreprise E : Favorable" in opinions_block and "Très motivée." in opinions_block
    assert "Entreprise F : Réservé" in opinions_block
    assert "(Job dating)" in opinions_block
    session = text(client.get(f"/operations/{dating.op}/recrutement/sessions/{dating.session}"))
    row = session.split("Quentin Nora", 1)[1].split("</tr>", 1)[0]
    assert "Entreprise E : <strong>Favorable</strong>" in row


def test_the_prescriber_does_not_read_the_opinions(app, client, dating):
    with app.test_request_context():
        _give(dating, who=EMPLOYER, trainee_id=dating.placed, comment="Ponctuelle.")
        db.session.commit()
    login_as(client, PARTNER)
    record = text(client.get(f"/operations/{dating.op}/recrutement/stagiaires/{dating.placed}"))
    assert "Avis des employeurs" not in record and "Ponctuelle." not in record


@pytest.mark.parametrize(
    ("who", "status"),
    [(OF_A, 403), (PARTNER, 403), (REGION_ADMIN, 403), (EMPLOYER_MEMBER, 403), (EMPLOYER3, 403)],
)
def test_only_an_invited_employers_admin_posts_an_opinion(app, client, dating, who, status):
    login_as(client, who)
    response = client.post(opinion_url(dating, dating.from_q), data=post_data(dating.from_q))
    assert response.status_code == status
    assert count(app, CandidateOpinion) == 0


def test_a_candidate_not_presented_or_unknown_is_not_found(app, client, dating):
    login_as(client, EMPLOYER)
    for trainee_id in (dating.at_f, 999_999):
        response = client.post(opinion_url(dating, trainee_id), data=post_data(trainee_id))
        assert response.status_code == 404
    login_as(client, OF_B)
    response = client.post(opinion_url(dating, dating.from_q), data=post_data(dating.from_q))
    assert response.status_code == 404
    assert count(app, CandidateOpinion) == 0


def test_anonymous_and_csrf(app, client, dating):
    response = client.post(opinion_url(dating, dating.from_q), data=post_data(dating.from_q))
    assert response.location.startswith("/connexion")
    login_as(client, EMPLOYER)
    response = client.post(
        opinion_url(dating, dating.from_q), data=post_data(dating.from_q), csrf=False
    )
    assert response.status_code == 400
    assert count(app, CandidateOpinion) == 0


def test_the_organisme_retains_and_matches_and_the_employer_is_told(app, client, dating):
    with app.test_request_context():
        _give(dating, comment="Très motivée.")
        db.session.commit()
        [promise_id] = db.session.scalars(
            select(JobPromise.id).where(
                JobPromise.organisation_id == dating.employer,
                JobPromise.id.not_in(
                    select(Trainee.promise_id).where(Trainee.promise_id.is_not(None))
                ),
            )
        ).all()
    login_as(client, OF_A)
    base = f"/operations/{dating.op}/recrutement/stagiaires/{dating.from_q}"
    assert client.post(base + "/statut", data={"status": "retained"}).status_code == 303
    assert client.post(base + "/promesse", data={"promise_id": promise_id}).status_code == 303
    with app.app_context():
        note = db.session.scalar(select(Notification).where(Notification.kind == "trainee_matched"))
        assert note.user_id == user_with(EMPLOYER).id
        assert "est positionné·e sur votre promesse d'embauche" in note.message
        assert db.session.get(Operation, dating.op) is not None
