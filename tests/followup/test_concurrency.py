"""Racing reconciliations on the real database of the run (SQLite file or PostgreSQL).

Organisme A's people reconcile the same disagreeing follow-up at the same moment, each from
the page they loaded (the same version), in threads with their own application context,
session and connection, released by a barrier: one decision wins, the others get the
French message, one retained answer stays, and the audit chain is intact.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Organisation, User
from portal.audit.services import verify_chain
from portal.extensions import db
from portal.followup import services
from portal.followup.models import Milestone, MilestoneStatus, RetainedAnswer
from portal.operations.models import Status
from tests.factories import make_user
from tests.followup.factories import TODAY, Training, milestone_of
from tests.support import committed

BASE_URL = "http://portail.test"


@pytest.fixture
def disputed(app):
    """Committed: the +3 months follow-up of each trainee, the organisme and the employer
    disagreeing; eight members of Organisme A."""
    with committed(app):
        world = Training(started=300)
        world.exit_all(TODAY - timedelta(days=100))
        world.operation.status = Status.FOLLOW_UP
        e, f = world.market.employer.id, world.market.employer2.id
        milestones = []
        for trainee, employer, who in (
            (world.alice, e, world.employer),
            (world.bob, e, world.employer),
            (world.chloe, f, world.employer2),
        ):
            ours = world.answer(trainee, "m3", world.of, employer_id=employer)
            theirs = world.answer(
                trainee, "m3", who, situation="cdd", duration_months=4, employer_id=employer
            )
            milestone = milestone_of(trainee, "m3")
            assert milestone.status == MilestoneStatus.TO_RECONCILE
            milestones.append((milestone.id, milestone.version, ours.id, theirs.id))
        people = [world.market.a_user, world.of_staff] + [
            make_user(world.market.of_a, email=f"formateur{n}@example.fr") for n in range(6)
        ]
        data = {
            "milestones": milestones,
            "people": [u.id for u in people],
            "org": world.market.of_a.id,
        }
    return data


def _attempt(app, milestone_id, version, answer_id, user_id, org_id, barrier) -> str:
    """One reconciliation in a fresh context; returns what happened, never raises."""
    with app.test_request_context(base_url=BASE_URL):
        try:
            barrier.wait()  # before any query: no pooled connection held while waiting
            milestone = db.session.get(Milestone, milestone_id)
            user = db.session.get(User, user_id)
            organisation = db.session.get(Organisation, org_id)
            services.reconcile(
                milestone,
                seen_version=version,
                note=f"Décision de {user.email}.",
                answer_id=answer_id,
                by=user,
                org=organisation,
            )
            db.session.commit()
            return f"won:{answer_id}"
        except services.StaleMilestone as exc:
            db.session.rollback()
            return exc.message
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            db.session.rollback()
            return f"error: {type(exc).__name__}: {exc}"
        finally:
            db.session.remove()


def _race(app, attempts: list[tuple]) -> list[str]:
    barrier = threading.Barrier(len(attempts), timeout=60)
    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        futures = [pool.submit(_attempt, app, *attempt, barrier) for attempt in attempts]
        return [f.result(timeout=120) for f in futures]


def _stale_message(app) -> str:
    with app.test_request_context():
        return services.StaleMilestone().message


def test_two_people_reconciling_at_once_one_wins_the_other_is_told(app, disputed):
    stale = _stale_message(app)
    assert stale.startswith("Ce suivi vient d'être modifié par quelqu'un d'autre")
    org = disputed["org"]
    first, second = disputed["people"][:2]
    for milestone_id, version, ours, theirs in disputed["milestones"]:
        outcomes = _race(
            app,
            [
                (milestone_id, version, ours, first, org),
                (milestone_id, version, theirs, second, org),
            ],
        )
        winners = [o for o in outcomes if o.startswith("won:")]
        assert len(winners) == 1, outcomes
        assert outcomes.count(stale) == 1, outcomes
        with app.app_context():
            rows = db.session.scalars(
                select(RetainedAnswer).where(RetainedAnswer.milestone_id == milestone_id)
            ).all()
            milestone = db.session.get(Milestone, milestone_id)
            assert [r.answer_id for r in rows] == [int(winners[0].split(":")[1])]
            assert (milestone.status, milestone.version) == (
                MilestoneStatus.RETAINED,
                version + 1,
            )
            db.session.remove()
    with app.app_context():
        assert verify_chain() == []
        db.session.remove()


def test_eight_people_at_once_still_give_one_decision(app, disputed):
    stale = _stale_message(app)
    milestone_id, version, ours, theirs = disputed["milestones"][0]
    attempts = [
        (milestone_id, version, ours if n % 2 else theirs, user_id, disputed["org"])
        for n, user_id in enumerate(disputed["people"])
    ]
    outcomes = _race(app, attempts)
    assert [o for o in outcomes if o.startswith("error")] == []
    assert sum(o.startswith("won:") for o in outcomes) == 1
    assert outcomes.count(stale) == len(attempts) - 1
    with app.app_context():
        count = db.session.scalar(
            select(func.count(RetainedAnswer.id)).where(RetainedAnswer.milestone_id == milestone_id)
        )
        assert count == 1
        assert verify_chain() == []
        db.session.remove()


def test_reconciling_again_at_once_is_decided_by_the_version_alone(app, disputed):
    # The decision row exists already (a first reconciliation, then a newer answer that
    # differs): no unique constraint can stop the second writer, the version check does.
    stale = _stale_message(app)
    milestone_id, version, ours, theirs = disputed["milestones"][0]
    with committed(app):
        milestone = db.session.get(Milestone, milestone_id)
        user = db.session.get(User, disputed["people"][0])
        organisation = db.session.get(Organisation, disputed["org"])
        services.reconcile(
            milestone, seen_version=version, note="Première décision.", answer_id=ours,
            by=user, org=organisation,
        )  # fmt: skip
        partner = milestone.trainee.prescriber
        services.record_answer(
            milestone,
            {"situation": "job_seeking", "contacted_on": TODAY, "channel": "email"},
            by=partner.memberships[0].user,
            org=partner,
        )
    with app.app_context():
        milestone = db.session.get(Milestone, milestone_id)
        assert milestone.status == MilestoneStatus.TO_RECONCILE
        version = milestone.version
        db.session.remove()
    first, second = disputed["people"][:2]
    outcomes = _race(
        app,
        [
            (milestone_id, version, theirs, first, disputed["org"]),
            (milestone_id, version, ours, second, disputed["org"]),
        ],
    )
    assert sorted(o.startswith("won:") for o in outcomes) == [False, True], outcomes
    assert stale in outcomes
    with app.app_context():
        [row] = db.session.scalars(
            select(RetainedAnswer).where(RetainedAnswer.milestone_id == milestone_id)
        ).all()
        winner = next(o for o in outcomes if o.startswith("won:"))
        assert row.answer_id == int(winner.split(":")[1])
        assert db.session.get(Milestone, milestone_id).version == version + 1
        db.session.remove()
