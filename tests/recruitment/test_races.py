"""Issue #12 §2 under concurrency: the read-then-write verbs of recruitment with the
prescribers and the employers, served at once in threads (each its own context, session
and connection, released by a barrier) on the run's database — SQLite, or PostgreSQL
with TEST_DATABASE_URL. A loser gets a French ``RuleError``, never a 500 nor a duplicate.

- opinions: the trainee's row lock and the opinion's version — one opinion per employer
  and candidate, a colleague's never overwritten unseen;
- attendance: the session's lock and its sheet version;
- the Région's acceptance of a non-lasting promise: the position's lock;
- a proposal submitted twice: the operation's lock.
"""

from sqlalchemy import func, select

from portal.accounts.models import Organisation, User
from portal.core.employment import ContractType
from portal.extensions import db
from portal.operations.models import Operation, Position
from portal.recruitment import lasting, opinions, prescription, sessions
from portal.recruitment.models import (
    Attendance,
    CandidateOpinion,
    PromiseAcceptance,
    Proposal,
    RecruitmentSession,
    Trainee,
    Verdict,
)
from tests.design.concurrency_helpers import race
from tests.operations.factories import EMPLOYER, EMPLOYER2, OF_A, PARTNER, REFERENT
from tests.recruitment.factories import add_positions
from tests.support import committed

ATTEMPTS = 4


def _acting(email: str) -> dict:
    user = db.session.scalar(select(User).where(User.email == email))
    return {"by": user, "org": user.memberships[0].organisation}


def _rows(app, model, *where) -> list:
    with app.app_context():
        rows = db.session.scalars(select(model).where(*where)).all()
        db.session.remove()
    return rows


def _opinion(dating, email: str, verdict: Verdict):
    def give():
        opinions.give_opinion(
            db.session.get(Trainee, dating.from_q),
            db.session.get(RecruitmentSession, dating.session),
            verdict,
            "",
            0,
            **_acting(email),
        )

    return give


def test_simultaneous_first_opinions_of_one_employer_give_one(app, dating):
    outcomes = race(app, *[_opinion(dating, EMPLOYER, v) for v in list(Verdict) * 2][:ATTEMPTS])
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("done") == 1
    for refused in (o for o in outcomes if o != "done"):
        assert "vient de donner l'avis de votre entreprise sur cette personne" in refused
    [opinion] = _rows(app, CandidateOpinion)
    assert opinion.version == 1


def test_two_employers_give_their_opinions_at_once(app, dating):
    outcomes = race(
        app,
        _opinion(dating, EMPLOYER, Verdict.FAVOURABLE),
        _opinion(dating, EMPLOYER2, Verdict.RESERVED),
    )
    assert outcomes == ["done", "done"]
    assert len(_rows(app, CandidateOpinion)) == 2


def test_simultaneous_attendance_sheets_record_once(app, dating):
    def record(attendance: Attendance):
        def sheet():
            session = db.session.get(RecruitmentSession, dating.session)
            marks = {c.trainee_id: attendance for c in session.candidates}
            sessions.record_attendance(session, marks, {}, 0, **_acting(OF_A))

        return sheet

    outcomes = race(app, *[record(a) for a in list(Attendance) * 2][:ATTEMPTS])
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("done") == 1
    [session] = _rows(app, RecruitmentSession)
    assert session.attendance_version == 1
    with app.app_context():
        marks = {c.attendance for c in db.session.get(RecruitmentSession, session.id).candidates}
        assert len(marks) == 1  # one sheet, whole: never a mix of two
        db.session.remove()


def test_simultaneous_acceptances_of_a_promise_decide_once(app, rec):
    with committed(app):
        operation = db.session.get(Operation, rec.op)
        employer = db.session.get(Organisation, rec.employer)
        position_id = add_positions(
            operation, employer, "Quai", 1, ContractType.INTERIM, duration_months=3
        ).id

    def accept():
        lasting.accept_non_lasting(
            db.session.get(Position, position_id), "Saison.", **_acting(REFERENT)
        )

    outcomes = race(app, *[accept] * ATTEMPTS)
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("done") == 1
    assert set(outcomes) - {"done"} == {
        "refused: La Région a déjà accepté cette promesse : elle compte déjà."
    }
    assert len(_rows(app, PromiseAcceptance)) == 1


def test_a_proposal_submitted_twice_at_once_is_recorded_once(app, rec):
    data = {"last_name": "Lambert", "first_name": "Yasmine", "email": "y.lambert@example.fr"}

    def propose():
        operation = db.session.get(Operation, rec.op)
        who = _acting(PARTNER)
        statement = prescription.consent_text(operation, who["org"])
        prescription.propose_candidate(operation, data, statement, **who)

    outcomes = race(app, propose, propose)
    assert sorted(outcomes) == [
        "done",
        "refused: Une candidature avec cette adresse existe déjà.",
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Proposal)) == 1
        db.session.remove()
