"""The pages of issue #12 §2 run as many SQL queries with 5 candidates as with 40: a
session's page (with its attendance sheet, the employers' opinions, the opinion forms),
the list of sessions and the proposals page, whoever looks at them."""

import pytest
from sqlalchemy import func, insert, select

from portal.accounts.models import User
from portal.core.time import utcnow
from portal.extensions import db
from portal.recruitment.models import (
    CandidateOpinion,
    Proposal,
    SessionCandidate,
    Trainee,
    TraineeStatus,
    Verdict,
)
from tests.operations.factories import EMPLOYER, OF_A, PARTNER, REGION_ADMIN
from tests.recruitment.factories import PARTNER2
from tests.support import client_as, explain, queries


def add_candidates(app, dating, n: int) -> None:
    """``n`` more candidates proposed by Partenaire P, invited to the session, each with an
    opinion of Entreprise E and F."""
    with app.app_context():
        start = db.session.scalar(select(func.count(Trainee.id)))
        users = {
            email: db.session.scalar(select(User.id).where(User.email == email))
            for email in (PARTNER, EMPLOYER, "f.admin@example.fr")
        }
        ids = [
            db.session.execute(
                insert(Trainee).values(
                    operation_id=dating.op,
                    first_name="Prénom",
                    last_name=f"Candidat {start + i:03d}",
                    status=TraineeStatus.CANDIDATE,
                    prescriber_id=dating.partner,
                    public_category="youth",
                )
            ).inserted_primary_key[0]
            for i in range(n)
        ]
        now = utcnow()
        db.session.execute(
            insert(Proposal),
            [
                {
                    "trainee_id": i,
                    "organisation_id": dating.partner,
                    "proposed_by_id": users[PARTNER],
                    "proposed_at": now,
                    "consent_text": "Je certifie…",
                }
                for i in ids
            ],
        )
        db.session.execute(
            insert(SessionCandidate),
            [{"session_id": dating.session, "trainee_id": i, "invited_at": now} for i in ids],
        )
        db.session.execute(
            insert(CandidateOpinion),
            [
                {
                    "trainee_id": i,
                    "organisation_id": org,
                    "verdict": Verdict.FAVOURABLE,
                    "comment": "",
                    "version": 1,
                    "given_at": now,
                    "given_by_id": users[email],
                    "session_id": dating.session,
                }
                for i in ids
                for org, email in (
                    (dating.employer, EMPLOYER),
                    (dating.employer2, "f.admin@example.fr"),
                )
            ],
        )
        db.session.commit()


PAGES = {
    "session": ("/sessions/{session}", [OF_A, REGION_ADMIN, EMPLOYER, PARTNER, PARTNER2]),
    "sessions": ("/sessions", [OF_A, EMPLOYER, PARTNER]),
    "proposals": ("/propositions", [OF_A, PARTNER]),
}
CASES = [(name, email) for name, (_path, emails) in PAGES.items() for email in emails]


@pytest.mark.parametrize(("name", "email"), CASES)
def test_queries_do_not_grow_with_candidates(app, dating, name, email):
    path = f"/operations/{dating.op}/recrutement" + PAGES[name][0].format(session=dating.session)
    client = client_as(app, email)
    add_candidates(app, dating, 2)  # 5 with the world's three
    small = queries(app, client, path)
    add_candidates(app, dating, 35)  # 40
    large = queries(app, client, path)
    assert len(small) == len(large), explain(small, large)
    print(f"\n[{name}, {email}] {len(large)} queries at 5 and at 40 candidates")
