"""Retention (issue #17): the rules of how long a trainee's data is kept, anonymisation
that keeps the statistics, the purge of access logs, and the audit log's IP and user
agent pseudonymised without breaking the chain's verification."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from portal.accounts.models import LoginFailure, UserSession
from portal.audit.models import AuditEvent
from portal.audit.services import record, verify_chain
from portal.core.employment import Situation
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.followup.models import Answer, Channel, Milestone, MilestoneKind, Party
from portal.mail.models import OutboxAttachment, OutboxMessage
from portal.privacy import purge
from portal.privacy.anonymise import anonymise_trainee, erasure_refusal
from portal.privacy.retention import add_months, kept_until
from portal.recruitment.models import Trainee, TraineeAccess, TraineeStatus, TraineeStatusChange
from tests.operations.factories import Market
from tests.recruitment.factories import make_recruiting_operation, make_trainee

S = TraineeStatus
NOW = datetime(2030, 6, 15, 12, 0)


@pytest.fixture
def market(ctx):
    return Market()


@pytest.fixture
def operation(market):
    return make_recruiting_operation(market)


def _m6(trainee: Trainee, due: date) -> Milestone:
    milestone = Milestone(
        operation_id=trainee.operation_id, trainee_id=trainee.id, kind=MilestoneKind.M6, due_on=due
    )
    db.session.add(milestone)
    db.session.flush()
    return milestone


def test_add_months_keeps_the_day_or_the_month_end():
    assert add_months(date(2030, 1, 31), 1) == date(2030, 2, 28)
    assert add_months(date(2030, 11, 15), 3) == date(2031, 2, 15)
    assert add_months(date(2030, 3, 15), -12) == date(2029, 3, 15)


def test_kept_until_the_six_month_follow_up_plus_the_configured_period(app, operation):
    exited = make_trainee(operation, status=S.EXITED, exit_date=date(2028, 1, 10))
    assert kept_until(exited, date(2028, 7, 10)) == date(2030, 7, 10)  # 24 months by default
    # Without a 6-month milestone: six months after the exit date.
    assert kept_until(exited, None) == date(2030, 7, 10)
    app.config["RETENTION_TRAINEE_MONTHS"] = 6
    try:
        assert kept_until(exited, date(2028, 7, 10)) == date(2029, 1, 10)
    finally:
        app.config["RETENTION_TRAINEE_MONTHS"] = 24
    in_training = make_trainee(operation, status=S.IN_TRAINING)
    assert kept_until(in_training, None) is None
    candidate = make_trainee(operation, status_changed_at=datetime(2028, 2, 1, 9))
    assert kept_until(candidate, None) == date(2030, 2, 1)


def test_erasure_is_refused_while_a_retention_applies_saying_until_when(operation):
    exited = make_trainee(operation, status=S.EXITED, exit_date=date(2030, 1, 10))
    _m6(exited, date(2030, 7, 10))
    refusal = erasure_refusal(exited, date(2030, 8, 1))
    assert "jusqu'au 10 juil. 2032" in refusal or "2032" in refusal
    assert erasure_refusal(exited, date(2032, 7, 11)) is None
    in_training = make_trainee(operation, status=S.IN_TRAINING)
    assert "n'est pas terminé" in erasure_refusal(in_training, date(2030, 8, 1))
    # A candidate who never entered training may withdraw and be erased at once.
    assert erasure_refusal(make_trainee(operation), date(2030, 8, 1)) is None


def test_anonymising_replaces_the_identity_and_keeps_the_statistics(operation, market):
    trainee = make_trainee(
        operation,
        status=S.EXITED,
        first_name="Inès",
        last_name="Moreau",
        email="ines@example.fr",
        phone="0600000000",
        birth_year=1998,
        public_category="rsa",
        exit_detail="Raisons familiales",
    )
    db.session.add(
        TraineeStatusChange(trainee_id=trainee.id, to_status=S.EXITED, reason="Déménage à Lyon")
    )
    milestone = _m6(trainee, date(2030, 1, 1))
    db.session.add(
        Answer(
            milestone_id=milestone.id,
            party=Party.PROVIDER,
            organisation_id=market.of_a.id,
            user_id=market.a_user.id,
            situation=Situation.CDI,
            employer_name="Entreprise E",
            contacted_on=date(2030, 1, 2),
            channel=Channel.PHONE,
            comment="Inès va bien",
        )
    )
    db.session.flush()
    anonymise_trainee(trainee, by=market.a_user, org=market.of_a, basis="request")
    db.session.refresh(trainee)
    assert trainee.full_name == f"Stagiaire n° {trainee.id}"
    assert (trainee.email, trainee.phone, trainee.birth_year, trainee.exit_detail) == (
        "",
        "",
        None,
        "",
    )
    assert trainee.anonymised_at is not None
    # What the reporting counts stays.
    assert (trainee.status, trainee.public_category) == (S.EXITED, "rsa")
    answer = db.session.scalar(select(Answer).where(Answer.milestone_id == milestone.id))
    assert (answer.situation, answer.employer_name, answer.comment) == (
        Situation.CDI,
        "Entreprise E",
        "",
    )
    assert db.session.scalar(select(TraineeStatusChange.reason)) == ""
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "trainee.anonymised"))
    assert event.object_id == trainee.id and event.detail == {"basis": "request"}
    with pytest.raises(RuleError):
        anonymise_trainee(trainee, basis="request")


def test_apply_anonymises_only_the_trainees_past_retention(operation):
    past = make_trainee(operation, status=S.EXITED, last_name="Passé", exit_date=date(2027, 1, 1))
    _m6(past, date(2027, 7, 1))  # kept until 2029-07-01 < NOW
    recent = make_trainee(
        operation, status=S.EXITED, last_name="Récent", exit_date=date(2029, 6, 1)
    )
    training = make_trainee(operation, status=S.IN_TRAINING, last_name="EnFormation")
    plan = purge.plan(NOW)
    assert [t.id for t, _ in plan.trainees] == [past.id]
    assert db.session.get(Trainee, past.id).last_name == "Passé"  # a plan changes nothing
    purge.apply(NOW)
    names = {t.id: t.last_name for t in db.session.scalars(select(Trainee))}
    assert names == {past.id: f"n° {past.id}", recent.id: "Récent", training.id: "EnFormation"}
    assert purge.plan(NOW).trainees == []  # nothing twice


def test_apply_deletes_access_logs_past_their_retention(operation, market):
    trainee = make_trainee(operation)
    old, fresh = NOW - timedelta(days=400), NOW - timedelta(days=30)
    for at in (old, fresh):
        db.session.add(TraineeAccess(trainee_id=trainee.id, user_id=market.a_user.id, at=at))
        db.session.add(LoginFailure(key="ip:203.0.113.9", at=at))
        db.session.add(
            UserSession(
                user_id=market.a_user.id,
                token_hash=f"{at:%j}".ljust(64, "0"),
                created_at=at,
                last_seen_at=at,
                ended_at=at,
            )
        )
        db.session.add(
            OutboxMessage(
                recipient="a@example.fr",
                subject="Envoyé",
                body="…",
                created_at=at,
                sent_at=at,
                attachments=[OutboxAttachment(filename="c.docx", mimetype="x", data=b"1")],
            )
        )
    unsent = OutboxMessage(recipient="b@example.fr", subject="En attente", body="…", created_at=old)
    db.session.add(unsent)
    db.session.flush()
    plan = purge.apply(NOW)
    assert (plan.trainee_accesses, plan.user_sessions, plan.login_failures) == (1, 1, 1)
    assert plan.sent_emails == 1
    subjects = db.session.scalars(
        select(OutboxMessage.subject)
        .where(OutboxMessage.subject.in_(["Envoyé", "En attente"]))
        .order_by(OutboxMessage.id)
    )
    assert subjects.all() == ["Envoyé", "En attente"]  # the recent one; the unsent one waits
    assert db.session.scalar(select(func.count()).select_from(OutboxAttachment)) == 1
    for column in (TraineeAccess.at, LoginFailure.at):
        assert db.session.scalars(select(column)).all() == [fresh]
    assert db.session.scalars(select(UserSession.created_at)).all() == [fresh]


@pytest.fixture
def old_chain(app, monkeypatch):
    """Five committed events with an IP and a user agent, the three first 400 days old."""
    environ = {"REMOTE_ADDR": "198.51.100.7", "HTTP_USER_AGENT": "Firefox/140"}
    with app.test_request_context(environ_base=environ):
        old = utcnow() - timedelta(days=400)
        monkeypatch.setattr("portal.audit.services.utcnow", lambda: old)
        for n in range(3):
            record("test.event", n=n)
        monkeypatch.undo()
        for n in range(3, 5):
            record("test.event", n=n)
        db.session.commit()
        yield
        db.session.rollback()


def _ips() -> list[str]:
    return db.session.scalars(select(AuditEvent.ip).order_by(AuditEvent.seq)).all()


def test_audit_ips_are_pseudonymised_and_the_chain_still_verifies(app, old_chain):
    assert verify_chain() == []
    with app.test_request_context(environ_base={"REMOTE_ADDR": "", "HTTP_USER_AGENT": ""}):
        plan = purge.apply(utcnow())
        db.session.commit()
    assert plan.audit_events == 3
    ips = _ips()
    assert ips[:5] == ["", "", "", "198.51.100.7", "198.51.100.7"]
    agents = db.session.scalars(select(AuditEvent.user_agent).order_by(AuditEvent.seq)).all()
    assert agents[:3] == ["", "", ""]
    redactions = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "audit.redacted")
    ).all()
    assert [sorted(r.detail["digests"]) for r in redactions] == [["1", "2", "3"]]
    assert verify_chain() == []
    assert purge.plan(utcnow()).audit_events == 0  # nothing twice


def test_tampering_with_a_redacted_event_is_still_detected(app, old_chain):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "", "HTTP_USER_AGENT": ""}):
        purge.apply(utcnow())
        db.session.commit()
    with db.engine.begin() as conn:  # as someone with database access would
        conn.execute(text("UPDATE audit_events SET action = 'test.forged' WHERE seq = 2"))
    assert verify_chain() == [f"event 2 (id {_id(2)}): content was altered"]


def test_blanking_an_ip_without_a_recorded_redaction_is_detected(app, old_chain):
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET ip = '' WHERE seq = 4"))
    assert verify_chain() == [f"event 4 (id {_id(4)}): content was altered"]


def test_forging_the_redaction_record_is_detected(app, old_chain):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "", "HTTP_USER_AGENT": ""}):
        purge.apply(utcnow())
        db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET action = 'test.forged' WHERE seq = 2"))
        conn.execute(text("UPDATE audit_events SET ip = '' WHERE seq = 4"))
    seq = db.session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "audit.redacted"))
    redaction = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == seq))
    digests = dict(redaction.detail["digests"])
    digests["4"] = digests["1"]
    with db.engine.begin() as conn:
        conn.execute(
            AuditEvent.__table__.update()
            .where(AuditEvent.__table__.c.seq == seq)
            .values(detail={"digests": digests, "fields": ["ip", "user_agent"]})
        )
    problems = verify_chain()
    assert f"event {seq} (id {redaction.id}): content was altered" in problems
    assert f"event 4 (id {_id(4)}): content was altered" in problems


def test_an_altered_event_is_never_redacted(app, old_chain):
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET action = 'test.forged' WHERE seq = 1"))
    with app.test_request_context(environ_base={"REMOTE_ADDR": "", "HTTP_USER_AGENT": ""}):
        plan = purge.apply(utcnow())
        db.session.commit()
    assert plan.audit_events == 2
    assert _ips()[0] == "198.51.100.7"
    assert verify_chain() == [f"event 1 (id {_id(1)}): content was altered"]


def _id(seq: int) -> int:
    return db.session.scalar(select(AuditEvent.id).where(AuditEvent.seq == seq))
