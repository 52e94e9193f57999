"""``flask --app portal retention apply`` (issue #17): ``--dry-run`` lists by id what would
go and changes nothing; the real run anonymises, deletes, pseudonymises, commits, and
``audit verify`` still passes afterwards."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.core.time import utcnow
from portal.extensions import db
from portal.followup.models import Milestone, MilestoneKind
from portal.recruitment.models import Trainee, TraineeAccess, TraineeStatus
from tests.operations.factories import Market
from tests.recruitment.factories import make_recruiting_operation, make_trainee
from tests.support import committed


@pytest.fixture
def expired(app, monkeypatch):
    """A trainee past retention, an old access log line and old audit events with an IP."""
    with committed(app):
        market = Market()
        operation = make_recruiting_operation(market)
        trainee = make_trainee(
            operation, status=TraineeStatus.EXITED, last_name="Moreau", exit_date=date(2020, 1, 6)
        )
        db.session.add(
            Milestone(
                operation_id=operation.id,
                trainee_id=trainee.id,
                kind=MilestoneKind.M6,
                due_on=date(2020, 7, 6),
            )
        )
        old = utcnow() - timedelta(days=800)
        db.session.add(TraineeAccess(trainee_id=trainee.id, user_id=market.a_user.id, at=old))
        trainee_id = trainee.id
    with app.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.7"}):
        monkeypatch.setattr("portal.audit.services.utcnow", lambda: old)
        record("test.event", n=1)
        db.session.commit()
    return trainee_id


def test_dry_run_lists_ids_and_changes_nothing(app, expired):
    result = app.test_cli_runner().invoke(args=["retention", "apply", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"stagiaire n° {expired} " in result.output
    assert "conservées jusqu'au 06/07/2022" in result.output
    assert "1 accès aux fiches" in result.output and "Moreau" not in result.output
    with app.app_context():
        assert db.session.get(Trainee, expired).last_name == "Moreau"
        assert db.session.scalar(select(TraineeAccess.id)) is not None


def test_apply_commits_and_the_chain_still_verifies(app, expired):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["retention", "apply"])
    assert result.exit_code == 0, result.output
    assert "Stagiaires dont les données ont été anonymisées : 1." in result.output
    with app.app_context():
        assert db.session.get(Trainee, expired).last_name == f"n° {expired}"
        assert db.session.scalar(select(TraineeAccess.id)) is None
        assert "198.51.100.7" not in db.session.scalars(select(AuditEvent.ip)).all()
    verify = runner.invoke(args=["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    assert "Journal d'audit intact" in verify.output


def test_an_anchor_taken_before_retention_still_holds_after_it(app, expired, tmp_path):
    runner = app.test_cli_runner()
    anchors = tmp_path / "ancres.jsonl"
    assert runner.invoke(args=["audit", "anchor", "--append", str(anchors)]).exit_code == 0
    assert runner.invoke(args=["retention", "apply"]).exit_code == 0
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.ip)).all().count("198.51.100.7") == 0
    verify = runner.invoke(args=["audit", "verify", "--anchors", str(anchors)])
    assert verify.exit_code == 0, verify.output
