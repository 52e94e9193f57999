"""Rules of the follow-up without HTTP: due dates, the window of « à faire » and « en
retard » (and its SQL twin), which answer counts when several parties answer."""

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.core.employment import Situation
from portal.extensions import db
from portal.followup import rules
from portal.followup.models import (
    Answer,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    RetainedAnswer,
    RetainedBasis,
)
from portal.followup.rules import Progress, add_months, decide, due_on, progress
from tests.followup.factories import Training
from tests.recruitment.factories import make_trainee

# --- Due dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 15), 0, date(2026, 1, 15)),
        (date(2026, 1, 15), 3, date(2026, 4, 15)),
        (date(2026, 10, 31), 3, date(2027, 1, 31)),  # across the year
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # a shorter month: its last day
        (date(2027, 8, 31), 6, date(2028, 2, 29)),  # a leap year
        (date(2026, 3, 31), 6, date(2026, 9, 30)),
        (date(2026, 12, 1), 6, date(2027, 6, 1)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


def test_the_three_milestones_are_due_at_exit_three_and_six_months():
    exit_date = date(2026, 6, 12)
    assert [due_on(exit_date, kind) for kind in MilestoneKind] == [
        date(2026, 6, 12),
        date(2026, 9, 12),
        date(2026, 12, 12),
    ]


# --- The window --------------------------------------------------------------------------

DUE = date(2026, 9, 12)
AWAITING = MilestoneStatus.AWAITING


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (-40, Progress.UPCOMING),
        (-16, Progress.UPCOMING),  # the day before the window opens
        (-15, Progress.DUE),  # due - window: « à faire »
        (0, Progress.DUE),
        (15, Progress.DUE),  # due + window: still « à faire »
        (16, Progress.OVERDUE),  # the day after: « en retard »
        (200, Progress.OVERDUE),
    ],
)
def test_a_milestone_is_due_within_the_window_and_late_after(offset, expected):
    today = DUE + timedelta(days=offset)
    assert progress(AWAITING, DUE, today=today, window=15) == expected


def test_answered_or_disputed_milestones_read_so_whatever_the_day():
    for offset in (-40, 0, 40):
        today = DUE + timedelta(days=offset)
        assert progress(MilestoneStatus.RETAINED, DUE, today=today, window=15) == Progress.DONE
        assert (
            progress(MilestoneStatus.TO_RECONCILE, DUE, today=today, window=15)
            == Progress.TO_RECONCILE
        )


def test_opening_and_late_days():
    assert rules.opens_on(DUE, 15) == date(2026, 8, 28)
    assert rules.late_from(DUE, 15) == date(2026, 9, 28)


def test_the_window_comes_from_the_configuration(app, ctx):
    assert rules.window_days() == 15
    app.config["FOLLOWUP_WINDOW_DAYS"] = 7
    try:
        assert rules.window_days() == 7
    finally:
        app.config["FOLLOWUP_WINDOW_DAYS"] = 15


def test_the_sql_twin_of_progress_agrees(ctx):
    # Each combination of due date (40 days either side of today) and status, on real rows:
    # three milestones (one per kind) for each trainee.
    world = Training()
    today = rules.today()
    cases = [(offset, status) for offset in range(-40, 41) for status in MilestoneStatus]
    milestones = []
    for index in range(0, len(cases), 3):
        trainee = make_trainee(world.operation, first_name=f"T{index}")
        for kind, (offset, status) in zip(MilestoneKind, cases[index : index + 3], strict=False):
            milestone = Milestone(
                operation_id=world.operation.id,
                trainee_id=trainee.id,
                kind=kind,
                due_on=today + timedelta(days=offset),
                status=status,
            )
            db.session.add(milestone)
            milestones.append(milestone)
    db.session.flush()
    for state in Progress:
        condition = rules.progress_sql(state, today=today, window=15)
        found = set(db.session.scalars(select(Milestone.id).where(condition)))
        expected = {
            m.id
            for m in milestones
            if progress(m.status, m.due_on, today=today, window=15) == state
        }
        assert found == expected, state


# --- Which answer counts -----------------------------------------------------------------

NOW = datetime(2026, 9, 14, 10, 0)
_ids = iter(range(1, 10_000))


def answer(org: int, situation=Situation.CDI, *, employer_id=7, employer_name="", months=None,
           job="Préparateur", at=NOW, reconciliation=False) -> Answer:  # fmt: skip
    """An unsaved answer of organisation ``org`` (ids grow in the order of creation)."""
    return Answer(
        id=next(_ids),
        organisation_id=org,
        situation=situation,
        duration_months=months,
        employer_id=employer_id if situation.is_salaried else None,
        employer_name=employer_name,
        job_title=job,
        reconciliation=reconciliation,
        created_at=at,
    )


def retained(answer_, basis=RetainedBasis.CHOSEN, at=NOW) -> RetainedAnswer:
    return RetainedAnswer(answer=answer_, basis=basis, decided_at=at, note="Vérifié.")


def test_no_answer_awaits():
    assert decide([], None).status == MilestoneStatus.AWAITING


def test_one_answer_is_retained_alone():
    only = answer(1)
    decision = decide([only], None)
    assert (decision.status, decision.answer, decision.basis) == (
        MilestoneStatus.RETAINED,
        only,
        RetainedBasis.SINGLE,
    )


def test_agreeing_answers_retain_the_latest():
    # The job title differs, but not the situation, the employer nor the lasting.
    first, second = answer(1, job="Préparateur"), answer(2, job="Préparatrice de commandes")
    decision = decide([first, second], None)
    assert (decision.status, decision.answer, decision.basis) == (
        MilestoneStatus.RETAINED,
        second,
        RetainedBasis.AGREED,
    )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({"situation": Situation.CDI}, {"situation": Situation.JOB_SEEKING}),  # situation
        ({"employer_id": 7}, {"employer_id": 8}),  # employer
        ({"employer_id": 7}, {"employer_id": None, "employer_name": "Autre SARL"}),
        (  # same situation and employer, but 5 months is not lasting and 8 months is
            {"situation": Situation.CDD, "months": 5},
            {"situation": Situation.CDD, "months": 8},
        ),
    ],
)
def test_answers_that_differ_wait_for_a_reconciliation(ours, theirs):
    decision = decide([answer(1, **ours), answer(2, **theirs)], None)
    assert decision.status == MilestoneStatus.TO_RECONCILE and decision.answer is None


def test_other_employers_are_compared_by_name_whatever_the_case():
    a = answer(1, employer_id=None, employer_name="Intérim Loire Services")
    b = answer(2, employer_id=None, employer_name=" intérim loire services ")
    assert decide([a, b], None).status == MilestoneStatus.RETAINED


def test_a_party_answering_again_replaces_its_own_answer_not_the_history():
    first = answer(1, Situation.CDI)
    again = answer(1, Situation.CDD, months=4)  # same organisation, later
    decision = decide([first, again], None)
    assert decision.answer is again and decision.basis == RetainedBasis.SINGLE
    assert rules.considered([first, again]) == [again]


def test_no_news_gives_way_to_an_answer_that_knows():
    no_news = answer(1, Situation.NO_NEWS)
    cdi = answer(2, Situation.CDI)
    assert decide([no_news, cdi], None).answer is cdi
    assert decide([no_news], None).answer is no_news


def test_a_reconciliation_stands_while_later_answers_agree_with_it():
    ours, theirs = answer(1, Situation.CDI), answer(2, Situation.CDD, months=5)
    decision = retained(ours, at=NOW + timedelta(hours=1))
    agreeing = answer(2, Situation.CDI, at=NOW + timedelta(hours=2))
    assert decide([ours, theirs, agreeing], decision).status == MilestoneStatus.RETAINED
    differing = answer(3, Situation.JOB_SEEKING, at=NOW + timedelta(hours=3))
    result = decide([ours, theirs, agreeing, differing], decision)
    assert result.status == MilestoneStatus.TO_RECONCILE
    assert result.answer is None  # the reconciliation stays shown meanwhile


def test_answers_written_when_reconciling_are_not_a_party_s_answer():
    written = answer(1, Situation.CDI, reconciliation=True)
    party = answer(2, Situation.CDD, months=3)
    assert rules.considered([written, party]) == [party]
