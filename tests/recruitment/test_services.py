"""Recruitment services: promises from positions, candidates all-or-nothing, status
transitions, matching one promise to one trainee, and the start of the training."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import OrgKind
from portal.audit.models import AuditEvent
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.operations import lifecycle
from portal.operations.models import OperationEvent, ParticipantRole, Position, Status
from portal.recruitment import services
from portal.recruitment.models import (
    ExitReason,
    JobPromise,
    Trainee,
    TraineeStatus,
    TraineeStatusChange,
)
from tests.factories import make_org, make_user
from tests.operations.factories import Market
from tests.recruitment.factories import (
    add_positions,
    make_recruiting_operation,
    make_trainee,
    promises_of,
)

S = TraineeStatus


@pytest.fixture
def market(ctx):
    return Market()


@pytest.fixture
def op(market):
    return make_recruiting_operation(market)


def events(operation, kind):
    return db.session.scalars(
        select(OperationEvent).where(
            OperationEvent.operation_id == operation.id, OperationEvent.kind == kind
        )
    ).all()


def row(**overrides):
    data = {
        "last_name": "Moreau",
        "first_name": "Inès",
        "email": "ines.moreau@example.fr",
        "phone": "06 12 34 56 78",
        "birth_year": 1998,
        "prescriber_id": None,
        "public_category": "youth",
    }
    data.update(overrides)
    return data


def add(market, op, *rows):
    return services.add_trainees(op, list(rows), by=market.a_user, org=market.of_a)


# --- Promises --------------------------------------------------------------------------


def test_one_promise_per_promised_job(op, market):
    promises = promises_of(op)
    assert len(promises) == 3
    mine = promises_of(op, market.employer)
    assert [(p.rank, p.job_title) for p in mine] == [(1, "Agent·e de propreté")] * 1 + [
        (2, "Agent·e de propreté")
    ]
    [other] = promises_of(op, market.employer2)
    assert (other.contract_type.value, other.duration_months) == ("cdd", 12)
    assert other.contract_label == "CDD de 12 mois" and other.is_lasting
    assert len(events(op, "promises_created")) == 1


def test_create_promises_is_idempotent(op):
    before = [(p.id, p.rank) for p in promises_of(op)]
    assert services.create_promises(op) == []
    assert [(p.id, p.rank) for p in promises_of(op)] == before
    assert events(op, "promises_updated") == []


def test_a_count_that_grew_adds_the_missing_ranks(op, market):
    position = promises_of(op, market.employer)[0].position
    position.count = 4
    position.planned_start = date(2031, 1, 5)
    assert services.create_promises(op) == []
    mine = promises_of(op, market.employer)
    assert [p.rank for p in mine] == [1, 2, 3, 4]
    assert {p.planned_start for p in mine} == {date(2031, 1, 5)}
    [event] = events(op, "promises_updated")
    assert event.detail == {"created": 2, "removed": 0}


def test_a_count_that_shrank_removes_the_unmatched_surplus(op, market):
    position = promises_of(op, market.employer)[0].position
    position.count = 1
    assert services.create_promises(op) == []
    assert [p.rank for p in promises_of(op, market.employer)] == [1]


def test_a_matched_surplus_moves_to_a_free_rank_of_the_same_position(op, market):
    first, second = promises_of(op, market.employer)
    trainee = make_trainee(op, status=S.RETAINED, promise=second)
    first.position.count = 1
    assert services.create_promises(op) == []
    [kept] = promises_of(op, market.employer)
    assert kept.id == first.id and trainee.promise_id == first.id


def test_a_matched_promise_is_never_removed(op, market):
    first, second = promises_of(op, market.employer)
    make_trainee(op, status=S.RETAINED, promise=first)
    make_trainee(op, status=S.IN_TRAINING, promise=second)
    first.position.count = 1
    [warning] = services.create_promises(op)
    assert "n'est plus prévue" in warning and "Entreprise E" in warning
    assert [p.id for p in promises_of(op, market.employer)] == [first.id, second.id]


def test_promises_of_a_removed_position_go_unless_matched(op, market):
    [other] = promises_of(op, market.employer2)
    db.session.delete(other.position)
    db.session.flush()
    db.session.expire_all()
    services.create_promises(op)
    assert promises_of(op, market.employer2) == []


def test_entering_recruitment_creates_the_promises(market, monkeypatch):
    operation = market.report(employers=[market.employer])
    add_positions(operation, market.employer, count=3)
    operation.status = Status.CONVENTION
    monkeypatch.setitem(
        lifecycle.TRANSITIONS, (Status.CONVENTION, Status.RECRUITMENT), lambda o: []
    )
    lifecycle.advance(operation, Status.RECRUITMENT, by=market.a_user, org=market.of_a)
    assert len(promises_of(operation)) == 3


# --- Candidates ------------------------------------------------------------------------


def test_candidates_are_recorded_with_their_history_and_an_audit_without_personal_data(op, market):
    first, second = add(market, op, row(), row(last_name="Garnier", first_name="Yanis", email=""))
    assert first.status == S.CANDIDATE and first.created_by_id == market.a_user.id
    changes = db.session.scalars(select(TraineeStatusChange)).all()
    assert {(c.trainee_id, c.from_status, c.to_status) for c in changes} == {
        (first.id, None, S.CANDIDATE),
        (second.id, None, S.CANDIDATE),
    }
    audits = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "trainee.created"))
    details = [a.detail for a in audits]
    assert len(details) == 2
    assert all(set(d) == {"operation"} for d in details)
    [event] = events(op, "trainees_added")
    assert event.detail == {"count": 2, "via": "form"}


def test_one_bad_row_refuses_them_all(op, market):
    with pytest.raises(services.RowErrors) as refused:
        add(
            market,
            op,
            row(),
            row(last_name="", email="autre@example.fr"),
            row(birth_year=1900),
            row(email="autre.adresse@example.fr"),
        )
    assert refused.value.errors == {
        1: [("last_name", "Indiquez le nom.")],
        2: [
            ("birth_year", "Année de naissance attendue entre 1940 et 2015."),
            ("email", "Adresse déjà saisie ligne 1."),
        ],
        3: [("last_name", "Personne déjà saisie ligne 1.")],
    }
    assert "aucun·e candidat·e n'a été enregistré·e" in refused.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count(Trainee.id))) == 0


def test_a_person_already_recorded_is_refused(op, market):
    add(market, op, row())
    with pytest.raises(services.RowErrors) as refused:
        add(market, op, row(email="INES.moreau@example.fr "), row(email="", first_name="INÈS"))
    assert refused.value.errors[0] == [
        ("email", "Une candidature avec cette adresse existe déjà."),
        ("last_name", "Cette personne est déjà enregistrée dans l'opération."),
    ]
    assert refused.value.errors[1] == [
        ("last_name", "Cette personne est déjà enregistrée dans l'opération.")
    ]


def test_the_prescriber_must_be_a_partner(op, market):
    [trainee] = add(market, op, row(prescriber_id=market.partner.id))
    assert trainee.prescriber_id == market.partner.id
    with pytest.raises(services.RowErrors) as refused:
        add(market, op, row(last_name="Autre", email="", prescriber_id=market.employer.id))
    assert refused.value.errors == {
        0: [("prescriber_id", "Le prescripteur doit être une organisation partenaire.")]
    }


def test_a_prescriber_outside_the_operation_is_enlisted_and_the_region_told(op, market):
    """Issue #11 L16: a partner that takes no part in the operation does not read a
    trainee's record as its prescriber without taking part: it is added as an orientation
    partner, and the Région's referent is told."""
    other = make_org(OrgKind.PARTNER, "Mission locale M")
    admin = make_user(other, admin=True, email="m.admin@example.fr")
    [trainee] = add(market, op, row(prescriber_id=other.id))
    [participant] = [p for p in op.active_participants() if p.organisation_id == other.id]
    assert participant.role == ParticipantRole.PARTNER_ORIENTATION
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(
                # the referent's notice goes through tell_region (participant_added_later)
                Notification.kind.in_(["participant_added", "participant_added_later"])
            )
        )
    )
    assert {market.referent.id, admin.id} <= told
    # Correcting the record to yet another partner enlists that one too.
    third = make_org(OrgKind.PARTNER, "Cap emploi C")
    data = {name: getattr(trainee, name) for name in services.TRAINEE_FIELDS}
    services.update_trainee(
        trainee, {**data, "prescriber_id": third.id}, by=market.a_user, org=market.of_a
    )
    assert third.id in {p.organisation_id for p in op.active_participants()}


def test_only_the_carrier_records_candidates(op, market):
    with pytest.raises(RuleError, match="Seul l'organisme porteur"):
        services.add_trainees(op, [row()], by=market.b_user, org=market.of_b)
    with pytest.raises(RuleError, match="Seul l'organisme porteur"):
        services.add_trainees(op, [row()], by=market.region_admin, org=market.region)


@pytest.mark.parametrize("status", [Status.CONVENTION, Status.FOLLOW_UP, Status.CANCELLED])
def test_candidates_are_recorded_during_recruitment_and_training_only(op, status, market):
    op.status = status
    with pytest.raises(RuleError, match="pendant le recrutement et la formation"):
        add(market, op, row())


def test_update_records_the_changed_field_names_only(op, market):
    [trainee] = add(market, op, row())
    changed = services.update_trainee(
        trainee, row(phone="07 00 00 00 00", birth_year=1999), by=market.a_user, org=market.of_a
    )
    assert changed == ["birth_year", "phone"]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "trainee.updated"))
    assert audit.detail == {"fields": ["birth_year", "phone"]}
    assert services.update_trainee(trainee, row(phone="07 00 00 00 00", birth_year=1999),
                                   by=market.a_user, org=market.of_a) == []  # fmt: skip


def test_update_refuses_a_duplicate(op, market):
    _first, second = add(market, op, row(), row(last_name="Garnier", email="yanis@example.fr"))
    with pytest.raises(RuleError, match="existe déjà") as refused:
        services.update_trainee(second, row(last_name="Garnier"), by=market.a_user, org=market.of_a)
    assert refused.value.field == "email"


# --- Status ----------------------------------------------------------------------------


def change(market, trainee, target, **kwargs):
    return services.change_status(trainee, target, by=market.a_user, org=market.of_a, **kwargs)


def test_the_path_of_a_trainee(op, market):
    trainee = make_trainee(op)
    change(market, trainee, S.RETAINED)
    change(market, trainee, S.IN_TRAINING, comment="Entrée le lundi")
    op.status = Status.TRAINING
    change(market, trainee, S.CERTIFIED)
    history = db.session.scalars(select(TraineeStatusChange).order_by(TraineeStatusChange.id)).all()
    assert [(h.from_status, h.to_status) for h in history] == [
        (S.CANDIDATE, S.RETAINED),
        (S.RETAINED, S.IN_TRAINING),
        (S.IN_TRAINING, S.CERTIFIED),
    ]
    assert history[1].reason == "Entrée le lundi"
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "trainee.status_changed")
    ).all()
    assert audit[0].detail == {"source": "candidate", "target": "retained", "exit_reason": None}


@pytest.mark.parametrize(
    ("source", "target", "reason"),
    [
        (S.CANDIDATE, S.IN_TRAINING, "doit d'abord être retenue"),
        (S.RETAINED, S.EXITED, "enregistrez un désistement"),
        (S.CANDIDATE, S.CERTIFIED, "suppose d'avoir suivi la formation"),
        (S.IN_TRAINING, S.CANDIDATE, "n'en ressort que par une sortie"),
        (S.CERTIFIED, S.IN_TRAINING, "dernière étape"),
        (S.RETAINED, S.RETAINED, "déjà « Retenu·e »"),
    ],
)
def test_refused_transitions_say_why(op, source, target, reason, market):
    trainee = make_trainee(op, status=source)
    with pytest.raises(RuleError, match=reason):
        change(market, trainee, target)
    assert trainee.status == source


def test_an_exit_needs_its_date_and_reason(op, market):
    trainee = make_trainee(op, status=S.IN_TRAINING)
    with pytest.raises(RuleError, match="date de sortie") as refused:
        change(market, trainee, S.EXITED, exit_reason=ExitReason.DROPOUT)
    assert refused.value.field == "exit_date"
    with pytest.raises(RuleError, match="motif de sortie") as refused:
        change(market, trainee, S.EXITED, exit_date=date.today())
    assert refused.value.field == "exit_reason"
    with pytest.raises(RuleError, match="dans le futur"):
        change(market, trainee, S.EXITED, exit_date=date.today() + timedelta(days=2),
               exit_reason=ExitReason.DROPOUT)  # fmt: skip
    assert trainee.status == S.IN_TRAINING and trainee.exit_date is None


def test_a_dropout_frees_the_promise(op, market):
    promise = promises_of(op, market.employer)[0]
    trainee = make_trainee(op, status=S.IN_TRAINING, promise=promise)
    [note] = change(
        market, trainee, S.EXITED, exit_date=date.today(), exit_reason=ExitReason.DROPOUT
    )
    assert "de nouveau à pourvoir" in note
    assert trainee.promise_id is None
    assert (trainee.exit_date, trainee.exit_reason) == (date.today(), ExitReason.DROPOUT)
    op.status = Status.TRAINING
    with pytest.raises(RuleError, match="la certification ne peut pas être notée"):
        change(market, trainee, S.CERTIFIED)


def test_the_end_of_training_keeps_the_promise_and_allows_the_certification(op, market):
    op.status = Status.TRAINING
    promise = promises_of(op, market.employer)[0]
    trainee = make_trainee(op, status=S.IN_TRAINING, promise=promise)
    assert change(market, trainee, S.EXITED, exit_date=date.today(),
                  exit_reason=ExitReason.END_OF_TRAINING) == []  # fmt: skip
    op.status = Status.FOLLOW_UP
    change(market, trainee, S.CERTIFIED)
    assert trainee.status == S.CERTIFIED and trainee.promise_id == promise.id


def test_not_retained_frees_the_promise(op, market):
    trainee = make_trainee(op, status=S.RETAINED, promise=promises_of(op)[0])
    assert len(change(market, trainee, S.NOT_RETAINED)) == 1
    assert trainee.promise_id is None


def test_certification_waits_for_the_training_step(op, market):
    trainee = make_trainee(op, status=S.IN_TRAINING)
    with pytest.raises(RuleError, match="« Recrutement »"):
        change(market, trainee, S.CERTIFIED)


def test_only_the_carrier_changes_a_status(op, market):
    trainee = make_trainee(op)
    with pytest.raises(RuleError, match="Seul l'organisme porteur"):
        services.change_status(trainee, S.RETAINED, by=market.region_admin, org=market.region)


# --- Matching --------------------------------------------------------------------------


def match(market, trainee, promise):
    services.match_trainee(trainee, promise, by=market.a_user, org=market.of_a)


def test_a_retained_trainee_is_matched_and_the_employer_told(op, market):
    promise = promises_of(op, market.employer)[0]
    trainee = make_trainee(op, status=S.RETAINED)
    match(market, trainee, promise)
    assert trainee.promise_id == promise.id
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "trainee.matched"))
    assert audit.detail == {"promise": promise.id, "previous_promise": None}
    note = db.session.scalar(select(Notification).where(Notification.kind == "trainee_matched"))
    assert note.user_id == market.employer_user.id
    assert trainee.last_name not in note.message


def test_one_promise_one_trainee(op, market):
    promise = promises_of(op)[0]
    match(market, make_trainee(op, status=S.RETAINED), promise)
    other = make_trainee(op, status=S.IN_TRAINING)
    with pytest.raises(RuleError, match="déjà pourvue"):
        match(market, other, promise)
    assert other.promise_id is None


def test_a_trainee_moves_to_another_promise(op, market):
    first, second = promises_of(op)[:2]
    trainee = make_trainee(op, status=S.RETAINED, promise=first)
    match(market, trainee, second)
    assert trainee.promise_id == second.id
    assert first.trainee is None


@pytest.mark.parametrize("status", [S.CANDIDATE, S.NOT_RETAINED, S.EXITED, S.CERTIFIED])
def test_only_retained_or_in_training_trainees_are_matched(op, status, market):
    trainee = make_trainee(op, status=status)
    with pytest.raises(RuleError, match="retenu·e ou en formation"):
        match(market, trainee, promises_of(op)[0])


def test_a_promise_of_another_operation_is_refused(op, market):
    other = make_recruiting_operation(market)
    trainee = make_trainee(op, status=S.RETAINED)
    with pytest.raises(RuleError, match="autre opération"):
        match(market, trainee, promises_of(other)[0])


def test_the_database_refuses_two_trainees_on_one_promise(op):
    promise = promises_of(op)[0]
    make_trainee(op, status=S.RETAINED, promise=promise)
    db.session.add(
        Trainee(operation_id=op.id, first_name="B", last_name="B", promise_id=promise.id)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_a_match_lost_to_a_concurrent_one_gets_a_french_message(op, market):
    promise = promises_of(op)[0]
    trainee = make_trainee(op, status=S.RETAINED)
    rival = make_trainee(op, status=S.RETAINED)
    assert promise.trainee is None  # loaded now: the other request matches after this read
    db.session.execute(
        update(Trainee)
        .where(Trainee.id == rival.id)
        .values(promise_id=promise.id)
        .execution_options(synchronize_session=False)
    )
    # The trainee's lock reads the promise again (issue #11): the rival is seen.
    with pytest.raises(RuleError, match="déjà pourvue par un·e autre stagiaire"):
        match(market, trainee, promise)


def test_unmatch_opens_the_promise_again(op, market):
    promise = promises_of(op)[0]
    trainee = make_trainee(op, status=S.RETAINED, promise=promise)
    services.unmatch_trainee(trainee, by=market.a_user, org=market.of_a)
    assert trainee.promise_id is None
    with pytest.raises(RuleError, match="aucune promesse"):
        services.unmatch_trainee(trainee, by=market.a_user, org=market.of_a)


# --- Start of the training -------------------------------------------------------------


def test_training_needs_a_trainee_in_training_and_the_session_started(op):
    problems = services.training_start_problems(op)
    assert len(problems) == 2
    assert "Aucun·e stagiaire n'est encore entré·e en formation." in problems
    assert "attendez cette date" in problems[1]
    make_trainee(op, status=S.IN_TRAINING)
    op.session_start = date.today()
    assert services.training_start_problems(op) == []


def test_without_a_session_date_a_decision_is_needed(op):
    make_trainee(op, status=S.IN_TRAINING)
    op.session_start = None
    assert "n'est pas fixée" in services.training_start_problems(op)[0]


def test_an_early_start_decision_lifts_the_date_condition(op, market):
    make_trainee(op, status=S.IN_TRAINING)
    services.decide_early_start(op, " Employeurs prêts ", by=market.region_admin, org=market.region)
    assert services.training_start_problems(op) == []
    [event] = events(op, "training_start_decided")
    assert event.detail == {"reason": "Employeurs prêts"}
    told = db.session.scalars(select(Notification.user_id).where(Notification.kind == event.kind))
    assert set(told) == {market.a_user.id}


def test_the_guard_of_the_lifecycle_uses_it(op, market):
    assert lifecycle.unmet_conditions(op, Status.TRAINING)
    make_trainee(op, status=S.IN_TRAINING)
    services.decide_early_start(op, "Accord des employeurs", by=market.a_user, org=market.of_a)
    lifecycle.advance(op, Status.TRAINING, by=market.a_user, org=market.of_a)
    assert op.status == Status.TRAINING


def test_who_decides_an_early_start(op, market):
    with pytest.raises(RuleError, match="Seuls la Région et l'organisme porteur"):
        services.decide_early_start(op, "x", by=market.employer_user, org=market.employer)
    with pytest.raises(RuleError, match="motif") as refused:
        services.decide_early_start(op, "  ", by=market.a_user, org=market.of_a)
    assert refused.value.field == "reason"
    op.status = Status.TRAINING
    with pytest.raises(RuleError, match="pendant l'étape de recrutement"):
        services.decide_early_start(op, "x", by=market.a_user, org=market.of_a)


def test_positions_counts_are_read_from_the_positions(op):
    # Guards the factory: the promises come from real positions of the employers' needs.
    positions = db.session.scalars(select(Position)).all()
    assert sum(p.count for p in positions) == db.session.scalar(select(func.count(JobPromise.id)))
