"""The follow-up pages run a fixed number of SQL queries at 10 and at 200 trainees.

Run with ``-s`` to print the counts.
"""

from datetime import datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.dialects import sqlite

from portal.core.employment import Situation
from portal.extensions import db
from portal.followup.access import follows_sql
from portal.followup.models import (
    Answer,
    Channel,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    Party,
    RetainedAnswer,
    RetainedBasis,
)
from portal.followup.rules import add_months
from portal.operations.models import ContractType
from portal.recruitment.models import ExitReason, JobPromise, Trainee, TraineeStatus
from tests.followup.factories import EXIT
from tests.operations.factories import EMPLOYER, OF_A, PARTNER, REGION_ADMIN
from tests.support import count_queries, login_as


def add_trainees(app, site, n: int) -> None:
    """``n`` trainees who left on ``EXIT``, each promised a job by Entreprise E and
    prescribed by Partenaire P, with three milestones: the exit one retained (CDI at E),
    the +3 months one answered twice and disputed, the +6 months one awaited."""
    with app.app_context():
        user_id, org_id, partner_id = db.session.execute(
            select(Answer.user_id, Answer.organisation_id, Trainee.prescriber_id)
            .join(Milestone, Milestone.id == Answer.milestone_id)
            .join(Trainee, Trainee.id == Milestone.trainee_id)
            .where(Trainee.id == site.alice)
            .limit(1)
        ).one()
        start = db.session.scalar(select(Trainee.id).order_by(Trainee.id.desc()).limit(1)) + 1
        promises = db.session.scalars(
            insert(JobPromise).returning(JobPromise.id),
            [
                {
                    "operation_id": site.operation,
                    "organisation_id": site.employer,
                    "job_title": "Agent·e de propreté",
                    "contract_type": ContractType.CDI,
                    "rank": 1,
                }
                for _ in range(n)
            ],
        ).all()
        trainees = db.session.scalars(
            insert(Trainee).returning(Trainee.id),
            [
                {
                    "operation_id": site.operation,
                    "first_name": f"Prénom{start + i}",
                    "last_name": f"Nom{start + i:05d}",
                    "status": TraineeStatus.EXITED,
                    "exit_date": EXIT,
                    "exit_reason": ExitReason.END_OF_TRAINING,
                    "promise_id": promises[i],
                    "prescriber_id": partner_id,
                }
                for i in range(n)
            ],
        ).all()
        statuses = {
            MilestoneKind.EXIT: MilestoneStatus.RETAINED,
            MilestoneKind.M3: MilestoneStatus.TO_RECONCILE,
            MilestoneKind.M6: MilestoneStatus.AWAITING,
        }
        milestones = db.session.execute(
            insert(Milestone).returning(Milestone.id, Milestone.kind),
            [
                {
                    "operation_id": site.operation,
                    "trainee_id": trainee_id,
                    "kind": kind,
                    "due_on": add_months(EXIT, kind.months),
                    "status": statuses[kind],
                }
                for trainee_id in trainees
                for kind in MilestoneKind
            ],
        ).all()
        answer = {
            "party": Party.PROVIDER,
            "organisation_id": org_id,
            "user_id": user_id,
            "situation": Situation.CDI,
            "employer_id": site.employer,
            "contacted_on": EXIT,
            "channel": Channel.PHONE,
        }
        answered = [m for m in milestones if m.kind != MilestoneKind.M6]
        answers = db.session.execute(
            insert(Answer).returning(Answer.id, Answer.milestone_id),
            [{**answer, "milestone_id": m.id} for m in answered]
            + [
                {
                    **answer,
                    "milestone_id": m.id,
                    "situation": Situation.JOB_SEEKING,
                    "employer_id": None,
                }
                for m in answered
                if m.kind == MilestoneKind.M3
            ],  # fmt: skip
        ).all()
        exit_ids = {m.id for m in milestones if m.kind == MilestoneKind.EXIT}
        db.session.execute(
            insert(RetainedAnswer),
            [
                {
                    "milestone_id": a.milestone_id,
                    "answer_id": a.id,
                    "basis": RetainedBasis.SINGLE,
                    "decided_at": datetime.now(),  # noqa: DTZ005 - naive, as stored
                }
                for a in answers
                if a.milestone_id in exit_ids
            ],
        )
        db.session.commit()


def statements(app, client, path: str) -> list[str]:
    assert client.get(path).status_code == 200, path  # warm-up
    with count_queries(app) as sent:
        assert client.get(path).status_code == 200
    return list(sent)


PAGES = ["/suivi-emploi", "/fin-de-formation", "/promesses-tenues", "/suivi-emploi?etat=due"]


@pytest.mark.parametrize("email", [OF_A, EMPLOYER, PARTNER, REGION_ADMIN])
def test_pages_do_not_grow_with_trainees(app, client, site, email):
    add_trainees(app, site, 7)  # 10 trainees
    login_as(client, email)
    paths = [site.base + p for p in PAGES] + [site.base, "/suivi-emploi", "/"]
    small = {p: statements(app, client, p) for p in paths}
    add_trainees(app, site, 190)  # 200 trainees
    large = {p: statements(app, client, p) for p in paths}
    for path in paths:
        extra = [s.split("\n")[0][:100] for s in large[path][len(small[path]) :]]
        assert len(small[path]) == len(large[path]), (path, extra)
        print(f"\n{email} {path}: {len(small[path])} queries at 10 and 200 trainees")  # noqa: T201


def test_the_milestone_page_does_not_grow_with_answers(app, client, site):
    login_as(client, OF_A)
    path = f"{site.base}/suivi-emploi/{site.alice_m3}"
    small = statements(app, client, path)
    with app.app_context():
        template = db.session.scalars(select(Answer).where(Answer.milestone_id == site.alice_m3))
        first = template.first()
        row = {
            c.key: getattr(first, c.key)
            for c in Answer.__table__.columns
            if c.key not in ("id", "created_at")
        }
        db.session.execute(insert(Answer), [row] * 30)
        db.session.commit()
    assert len(statements(app, client, path)) == len(small)


def test_the_hirer_condition_reads_the_employers_hires_once():
    """Issue #16's benchmark: an employer's home took 524 s at 10,000 operations because the
    condition « an answer names this employer » was a subquery correlated to each trainee
    (SQLite read every answer of the employer per trainee). It is an uncorrelated ``IN``."""
    sql = str(follows_sql(4).compile(dialect=sqlite.dialect()))
    hired = sql[sql.index("trainees.id IN (SELECT followup_milestones.trainee_id") :]
    assert "followup_answers.employer_id" in hired
    assert "trainees.id =" not in hired and "= trainees.id" not in hired
