"""Promise outcomes, answers, contact attempts and reconciliation, without HTTP."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.core.employment import Situation
from portal.core.errors import RuleError
from portal.extensions import db
from portal.followup import access, outcomes, services
from portal.followup.models import (
    Answer,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    NotKeptReason,
    Party,
    PromiseOutcome,
    RetainedAnswer,
    RetainedBasis,
)
from portal.notifications.models import Notification
from portal.operations.models import Status
from tests.followup.factories import EXIT, TODAY, Training, milestone_of


@pytest.fixture
def world(ctx):
    world = Training(started=300)
    world.exit_all(EXIT)
    world.operation.status = Status.FOLLOW_UP
    db.session.flush()
    return world


def refused(call, *args, **kwargs) -> RuleError:
    with pytest.raises(RuleError) as error:
        call(*args, **kwargs)
    return error.value


# --- Promise outcomes --------------------------------------------------------------------

KEPT = {"kept": True, "contract": "cdi", "start_date": EXIT + timedelta(days=7)}


def test_a_kept_promise_records_its_contract_and_derives_lasting(world):
    user, org = world.employer
    promise = world.alice.promise
    data = {**KEPT, "contract": "cdd", "duration_months": 4, "weekly_hours": 24.5}
    outcome = outcomes.record_promise_outcome(promise, data, by=user, org=org)
    assert (outcome.kept, outcome.contract, outcome.duration_months) == (True, Situation.CDD, 4)
    assert outcome.weekly_hours == 24.5 and outcome.lasting is False
    # Corrected later: still one outcome for the promise.
    data["duration_months"] = 12
    assert outcomes.record_promise_outcome(promise, data, by=user, org=org).lasting is True
    assert db.session.scalar(select(func.count(PromiseOutcome.id))) == 1
    # The organisme porteur is told, the employer's own admin is not.
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "promise_outcome")
    ).all()
    assert set(told) == {world.market.a_user.id, world.of_staff.id}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kept": None}, "kept", "Indiquez si la promesse a été tenue."),
        ({**KEPT, "contract": None}, "contract", "Indiquez le contrat signé."),
        ({**KEPT, "contract": "training"}, "contract", "Indiquez le contrat signé."),
        (
            {**KEPT, "contract": "interim"},
            "duration_months",
            "Indiquez la durée du contrat en mois.",
        ),
        ({**KEPT, "start_date": None}, "start_date", "Indiquez la date d'embauche."),
        ({**KEPT, "weekly_hours": 60}, "weekly_hours", "Entre 1 et 48 heures par semaine."),
        ({"kept": False}, "reason", "Indiquez pourquoi la promesse n'a pas été tenue."),
        ({"kept": False, "reason": "other"}, "comment", "Précisez le motif dans le commentaire."),
    ],
)
def test_outcome_refusals(world, data, field, message):
    user, org = world.of
    error = refused(outcomes.record_promise_outcome, world.alice.promise, data, by=user, org=org)
    assert (error.field, error.message) == (field, message)


def test_a_promise_without_trainee_cannot_be_kept_but_can_be_not_kept(world):
    user, org = world.of
    free = world.bob.promise
    world.bob.promise = None  # freed (an abandon, say)
    db.session.flush()
    assert refused(outcomes.record_promise_outcome, free, KEPT, by=user, org=org).field == "kept"
    data = {"kept": False, "reason": NotKeptReason.POSITION_CANCELLED}
    assert outcomes.record_promise_outcome(free, data, by=user, org=org).kept is False


def test_who_records_an_outcome(world):
    promise = world.alice.promise  # Entreprise E's
    for user, org in (world.employer2, (world.employer_member, world.market.employer)):
        error = refused(outcomes.record_promise_outcome, promise, KEPT, by=user, org=org)
        assert error.message.startswith("Seuls l'organisme de formation porteur")
    user, org = world.of
    world.operation.status = Status.RECRUITMENT
    assert (
        "pendant la formation et le suivi"
        in refused(outcomes.record_promise_outcome, promise, KEPT, by=user, org=org).message
    )


def test_the_ledger_counts_per_employer(world):
    user, org = world.of
    outcomes.record_promise_outcome(world.alice.promise, KEPT, by=user, org=org)
    not_kept = {"kept": False, "reason": "trainee_declined"}
    outcomes.record_promise_outcome(world.chloe.promise, not_kept, by=user, org=org)
    rows = {row.employer.name: row for row in outcomes.ledger(world.operation)}
    e, f = rows["Entreprise E"], rows["Entreprise F"]
    assert (e.promised, e.lasting, e.kept, e.not_kept, e.pending) == (2, 2, 1, 0, 1)
    assert (f.promised, f.lasting, f.kept, f.not_kept, f.pending) == (1, 1, 0, 1, 0)


def test_the_database_refuses_an_inconsistent_outcome(world):
    refused_by_the_database(
        PromiseOutcome(
            promise_id=world.alice.promise.id, kept=True, contract=None, comment="Sans contrat"
        )
    )


# --- Answers ------------------------------------------------------------------------------


def test_the_parties_who_answer(world):
    m = world.market
    alice, chloe = world.alice, world.chloe
    assert access.answering_party(alice, m.a_user, m.of_a) == Party.PROVIDER
    assert access.answering_party(alice, world.of_staff, m.of_a) == Party.PROVIDER
    assert access.answering_party(alice, m.employer_user, m.employer) == Party.EMPLOYER
    assert access.answering_party(alice, m.partner_user, m.partner) == Party.PRESCRIBER
    # Not the employer's plain member, not another employer, nor the Région.
    assert access.answering_party(alice, world.employer_member, m.employer) is None
    assert access.answering_party(alice, m.employer2_user, m.employer2) is None
    assert access.answering_party(chloe, m.partner_user, m.partner) is None
    assert access.answering_party(alice, m.region_admin, m.region) is None


def test_an_answer_is_retained_alone_and_lasting_is_derived(world):
    answer = world.answer(
        world.alice, "m3", world.of, situation="cdd", duration_months=8,
        employer_id=world.market.employer.id, job_title="Agente de propreté",
        working_time="part_time",
    )  # fmt: skip
    milestone = milestone_of(world.alice, "m3")
    assert answer.party == Party.PROVIDER and answer.lasting
    assert milestone.status == MilestoneStatus.RETAINED
    assert (milestone.retained.answer_id, milestone.retained.basis) == (
        answer.id,
        RetainedBasis.SINGLE,
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"situation": ""}, "situation", "Indiquez la situation."),
        ({"situation": "cdd"}, "duration_months", "Indiquez la durée du contrat en mois."),
        ({"situation": "cdd", "duration_months": 200}, "duration_months", None),
        ({"employer_id": None}, "employer_id", "Indiquez l'employeur."),
        (
            {"employer_id": -1, "employer_name": ""},
            "employer_id",
            "Cet employeur ne participe pas à l'opération.",
        ),
        (
            {"employer_name": "Autre SARL"},
            "employer_name",
            "Choisissez un employeur de l'opération ou nommez-en un autre, pas les deux.",
        ),
        ({"channel": ""}, "channel", "Indiquez comment la personne a été jointe."),
        (
            {"contacted_on": TODAY + timedelta(days=1)},
            "contacted_on",
            "La date ne peut pas être dans le futur.",
        ),
    ],
)
def test_answer_refusals(world, data, field, message):
    values = {"situation": "cdi", "employer_id": world.market.employer.id, **data}
    if values["employer_id"] == -1:
        values["employer_id"] = world.outsider_org.id
    error = refused(world.answer, world.alice, "m3", world.of, **values)
    assert error.field == field
    if message:
        assert error.message == message


def test_an_answer_before_the_window_opens_is_refused(world):
    error = refused(
        world.answer, world.alice, "m6", world.of,
        employer_id=world.market.employer.id, contacted_on=TODAY,
    )  # fmt: skip
    opening = services.rules.opens_on(milestone_of(world.alice, "m6").due_on, 15)
    assert error.field == "contacted_on"
    assert error.message.startswith("Le suivi « à 6 mois » se renseigne à partir du ")
    assert opening > TODAY


def test_no_news_needs_three_attempts_by_the_same_organisation(world):
    world.attempt(world.alice, "m3", world.prescriber, n=3)  # another organisation's
    world.attempt(world.alice, "m3", world.of, n=2)
    error = refused(world.answer, world.alice, "m3", world.of, situation="no_news")
    assert error.message == (
        "« Sans nouvelles » s'enregistre après 3 tentatives de contact : 2 enregistrée(s) "
        "pour Organisme A."
    )
    world.attempt(world.alice, "m3", world.of)
    answer = world.answer(world.alice, "m3", world.of, situation="no_news")
    assert answer.situation == Situation.NO_NEWS and answer.employer_id is None


def test_outsiders_do_not_answer(world):
    for who in (world.employer2, (world.employer_member, world.market.employer)):
        error = refused(world.answer, world.alice, "m3", who, employer_id=None)
        assert error.message == "Vous ne pouvez pas renseigner le suivi de ce ou cette stagiaire."


def test_answering_again_adds_a_row_and_the_latest_counts(world):
    e = world.market.employer.id
    first = world.answer(world.alice, "m3", world.of, employer_id=e)
    second = world.answer(world.alice, "m3", world.of, situation="job_seeking")
    milestone = milestone_of(world.alice, "m3")
    assert [a.id for a in milestone.answers] == [first.id, second.id]
    assert milestone.retained.answer_id == second.id
    assert milestone.version == 3  # created at 1, each answer adds one


def test_the_employer_an_answer_names_may_follow_and_answer(world):
    # Alice's promise is at Entreprise E; the prescriber says she was hired by F.
    f = world.market.employer2
    user, _org = world.employer2
    assert access.answering_party(world.alice, user, f) is None
    world.answer(world.alice, "m3", world.prescriber, employer_id=f.id)
    assert access.answering_party(world.alice, user, f) == Party.EMPLOYER


# --- Reconciliation -------------------------------------------------------------------------


@pytest.fixture
def disputed(world):
    """Alice at +3 months: CDI at E for the organisme, CDD of 5 months for E."""
    e = world.market.employer.id
    ours = world.answer(world.alice, "m3", world.of, employer_id=e)
    theirs = world.answer(
        world.alice, "m3", world.employer, situation="cdd", duration_months=5, employer_id=e
    )
    milestone = milestone_of(world.alice, "m3")
    assert milestone.status == MilestoneStatus.TO_RECONCILE
    assert milestone.retained is None
    return milestone, ours, theirs


def test_disagreeing_answers_tell_the_organisme(world, disputed):
    messages = db.session.scalars(
        select(Notification.message).where(Notification.kind == "followup_to_reconcile")
    ).all()
    assert len(messages) == 2  # Organisme A's two members
    assert "Alice Durand" in messages[0] and "divergent" in messages[0]


def test_the_organisme_chooses_an_answer_with_a_note(world, disputed):
    milestone, ours, _theirs = disputed
    user, org = world.of
    retained = services.reconcile(
        milestone,
        seen_version=milestone.version,
        note="Contrat vu par la conseillère.",
        answer_id=ours.id,
        by=user,
        org=org,
    )
    db.session.refresh(milestone)
    assert milestone.status == MilestoneStatus.RETAINED
    assert (retained.answer_id, retained.basis, retained.decided_by_id) == (
        ours.id,
        RetainedBasis.CHOSEN,
        user.id,
    )
    # A later answer that agrees keeps the decision; one that differs reopens it.
    e = world.market.employer.id
    world.answer(world.alice, "m3", world.prescriber, employer_id=e)
    assert milestone_of(world.alice, "m3").status == MilestoneStatus.RETAINED
    world.answer(world.alice, "m3", world.prescriber, situation="job_seeking")
    reopened = milestone_of(world.alice, "m3")
    assert reopened.status == MilestoneStatus.TO_RECONCILE
    assert reopened.retained.answer_id == ours.id  # still shown meanwhile


def test_the_organisme_may_write_the_retained_answer(world, disputed):
    milestone, _ours, _theirs = disputed
    user, org = world.of
    written = {
        "situation": "cdd",
        "duration_months": 12,
        "employer_id": world.market.employer.id,
        "contacted_on": TODAY,
        "channel": "interview",
    }
    retained = services.reconcile(
        milestone, seen_version=milestone.version, note="Entretien avec la personne.",
        written=written, by=user, org=org,
    )  # fmt: skip
    assert retained.basis == RetainedBasis.WRITTEN
    assert retained.answer.reconciliation and retained.answer.lasting
    assert db.session.scalar(select(func.count(Answer.id))) == 3  # nothing overwritten


def test_a_stale_page_cannot_reconcile(world, disputed):
    milestone, ours, _theirs = disputed
    user, org = world.of
    seen = milestone.version
    world.answer(world.alice, "m3", world.prescriber, employer_id=world.market.employer.id)
    error = refused(
        services.reconcile, milestone, seen_version=seen, note="Vu.", answer_id=ours.id,
        by=user, org=org,
    )  # fmt: skip
    assert isinstance(error, services.StaleMilestone)
    assert error.message.startswith("Ce suivi vient d'être modifié par quelqu'un d'autre")


def test_reconciliation_refusals(world, disputed):
    milestone, ours, _theirs = disputed
    user, org = world.of
    version = milestone.version
    assert refused(
        services.reconcile, milestone, seen_version=version, note=" ", answer_id=ours.id,
        by=user, org=org,
    ).field == "note"  # fmt: skip
    assert refused(
        services.reconcile, milestone, seen_version=version, note="Vu.", answer_id=None,
        by=user, org=org,
    ).field == "choice"  # fmt: skip
    boss, employer = world.employer
    assert refused(
        services.reconcile, milestone, seen_version=version, note="Vu.", answer_id=ours.id,
        by=boss, org=employer,
    ).message == "Seul l'organisme de formation porteur rapproche les réponses."  # fmt: skip


def test_agreeing_answers_need_no_reconciliation(world):
    e = world.market.employer.id
    world.answer(world.alice, "m3", world.of, employer_id=e)
    world.answer(world.alice, "m3", world.employer, employer_id=e)
    milestone = milestone_of(world.alice, "m3")
    assert milestone.retained.basis == RetainedBasis.AGREED
    user, org = world.of
    error = refused(
        services.reconcile, milestone, seen_version=milestone.version, note="Vu.",
        answer_id=milestone.retained.answer_id, by=user, org=org,
    )  # fmt: skip
    assert error.message == "Les réponses de ce suivi concordent : il n'y a rien à rapprocher."


def test_the_database_keeps_one_milestone_per_kind_and_one_retained_answer(world, disputed):
    milestone, ours, theirs = disputed
    rows = [
        RetainedAnswer(milestone_id=milestone.id, answer_id=ours.id, basis="single"),
        RetainedAnswer(milestone_id=milestone.id, answer_id=theirs.id, basis="single"),
    ]
    refused_by_the_database(*rows)
    bob_id = world.bob.id
    refused_by_the_database(
        Milestone(
            operation_id=world.operation.id, trainee_id=bob_id, kind=MilestoneKind.M3, due_on=TODAY
        )
    )


def refused_by_the_database(*rows) -> None:
    """Adding ``rows`` breaks a constraint; the rest of the test's data stays."""
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add_all(rows)
        db.session.flush()


# --- What the closing waits for ----------------------------------------------------------------


def test_m6_problems_name_the_missing_follow_ups(world, disputed):
    assert services.m6_problems(world.operation) == [
        "Suivi à 6 mois non renseigné pour : Alice Durand, Bob Petit, Chloé Roux."
    ]
    for trainee in world.trainees:
        milestone_of(trainee, "m6").due_on = TODAY  # brought forward to answer them now
    db.session.flush()
    e = world.market.employer.id
    world.answer(world.alice, "m6", world.of, employer_id=e)
    world.answer(world.alice, "m6", world.employer, situation="job_seeking")
    world.answer(world.bob, "m6", world.of, employer_id=e)
    assert services.m6_problems(world.operation) == [
        "Suivi à 6 mois non renseigné pour : Chloé Roux.",
        "Suivi à 6 mois aux réponses divergentes, à rapprocher, pour : Alice Durand.",
    ]
