"""The operation's indicators on a small fixed data set: the expected figures are computed
here, in plain Python, from the same table of facts the data is built from."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.employment import EMPLOYMENT, SALARIED, Situation
from portal.extensions import db
from portal.followup import outcomes, services
from portal.followup.models import MilestoneKind
from portal.immersions.models import Evaluation, EvaluationKind, EvaluationResult, Outcome
from portal.operations.models import ContractType
from portal.recruitment import services as recruitment
from portal.recruitment.models import ExitReason
from tests.followup.factories import EXIT, Training
from tests.recruitment.factories import add_positions

# Each trainee: exit reason, jury outcome, promise outcome (True kept, False not kept, None
# none), and the answers: milestone -> [(who, situation, months, employer)]; "E" and "F"
# are the operation's employers, another name an employer outside it.
FACTS = {
    "alice": {
        "exit": ExitReason.END_OF_TRAINING,
        "jury": Outcome.FULL,
        "promise": True,
        "answers": {
            "exit": [("of", "cdi", None, "E")],
            "m3": [("of", "cdi", None, "E"), ("employer", "cdi", None, "E")],
        },
    },
    "bob": {
        "exit": ExitReason.DROPOUT,  # frees his promise
        "jury": None,
        "review": Outcome.FULL,  # at a final evaluation, not a jury: no certification
        "promise": None,
        "answers": {"exit": [("of", "job_seeking", None, None)]},
    },
    "chloe": {
        "exit": ExitReason.END_OF_TRAINING,
        "jury": Outcome.PARTIAL,
        "promise": False,
        "answers": {
            # The organisme and Entreprise F disagree: not retained, not counted.
            "exit": [("of", "interim", 3, "Intérim Loire"), ("employer2", "cdd", 6, "F")],
            "m3": [("of", "cdd", 6, "E")],
        },
    },
}
# Promises: Entreprise E's two CDI (Alice, Bob), F's CDD of 12 months (Chloé), and a CDD of
# 4 months added for F, never matched.
PROMISED = [(ContractType.CDI, None)] * 2 + [(ContractType.CDD, 12), (ContractType.CDD, 4)]
PROMISER = {"alice": "E", "bob": None, "chloe": "F"}  # Bob's promise was freed


def expected_figures() -> dict:
    """The indicators, from ``FACTS`` alone."""
    employment = {}
    for kind in MilestoneKind:
        retained = []
        for name, facts in FACTS.items():
            answers = facts["answers"].get(kind.value, [])
            agree = len({(s, e, _lasting(s, m)) for _who, s, m, e in answers}) == 1
            if answers and agree:
                _who, situation, months, employer = answers[-1]
                retained.append((name, situation, months, employer))
        employment[kind] = (
            len(FACTS),
            len(retained),
            sum(Situation(s) in EMPLOYMENT for _n, s, _m, _e in retained),
            sum(_lasting(s, m) for _n, s, m, _e in retained),
            sum(Situation(s) in SALARIED and e == PROMISER[n] for n, s, _m, e in retained),
        )
    return {
        "promises": len(PROMISED),
        "promises_lasting": sum(_lasting(c.value, m) for c, m in PROMISED),
        "promises_kept": sum(f["promise"] is True for f in FACTS.values()),
        "promises_not_kept": sum(f["promise"] is False for f in FACTS.values()),
        "recruited": sum(
            f["exit"] in (ExitReason.END_OF_TRAINING, ExitReason.EARLY_HIRE) for f in FACTS.values()
        ),
        "exited": len(FACTS),
        "completed": sum(f["exit"] == ExitReason.END_OF_TRAINING for f in FACTS.values()),
        "certified_full": sum(f["jury"] == Outcome.FULL for f in FACTS.values()),
        "certified_partial": sum(f["jury"] == Outcome.PARTIAL for f in FACTS.values()),
        "employment": employment,
    }


def _lasting(situation: str, months) -> bool:
    if situation in ("cdi", "business_creation"):
        return True
    return situation in ("cdd", "interim", "alternance") and (months or 0) >= 6


def _evaluation(world, kind: EvaluationKind, trainee, outcome: Outcome) -> None:
    """``trainee``'s result at the operation's evaluation of ``kind`` (one of each)."""
    evaluation = db.session.scalar(
        select(Evaluation).where(
            Evaluation.operation_id == world.operation.id, Evaluation.kind == kind
        )
    )
    if evaluation is None:
        evaluation = Evaluation(
            operation_id=world.operation.id,
            kind=kind,
            held_at=EXIT - timedelta(days=3),
            place="Centre d'examen",
        )
        db.session.add(evaluation)
        db.session.flush()
    db.session.add(
        EvaluationResult(evaluation_id=evaluation.id, trainee_id=trainee.id, outcome=outcome)
    )


@pytest.fixture
def world(ctx):
    world = Training(started=300)
    add_positions(
        world.operation, world.market.employer2, "Agent", 1, ContractType.CDD, duration_months=4
    )
    recruitment.create_promises(world.operation)
    trainees = {"alice": world.alice, "bob": world.bob, "chloe": world.chloe}
    employers = {"E": world.market.employer, "F": world.market.employer2}
    parties = {"of": world.of, "employer": world.employer, "employer2": world.employer2}
    user, org = world.of
    for name, facts in FACTS.items():
        trainee = trainees[name]
        if facts["jury"]:
            _evaluation(world, EvaluationKind.JURY, trainee, facts["jury"])
        if facts.get("review"):
            _evaluation(world, EvaluationKind.FINAL, trainee, facts["review"])
        if facts["promise"] is not None:
            data = (
                {"kept": True, "contract": "cdi", "start_date": EXIT}
                if facts["promise"]
                else {"kept": False, "reason": "candidate_rejected"}
            )
            outcomes.record_promise_outcome(trainee.promise, data, by=user, org=org)
        world.exit(trainee, EXIT, facts["exit"], "Raison." if facts["exit"] else "")
        for kind, answers in facts["answers"].items():
            for who, situation, months, employer in answers:
                world.answer(
                    trainee,
                    kind,
                    parties[who],
                    situation=situation,
                    duration_months=months,
                    employer_id=employers[employer].id if employer in employers else None,
                    employer_name=employer if employer and employer not in employers else "",
                )
    db.session.flush()
    return world


def test_indicators_match_the_figures_computed_from_the_facts(world):
    found = services.indicators(world.operation)
    expected = expected_figures()
    assert found.target_headcount == 3
    for name, value in expected.items():
        if name != "employment":
            assert getattr(found, name) == value, name
    assert found.promises_not_lasting == 1
    for kind, figures in expected["employment"].items():
        e = found.employment[kind]
        assert (e.followed, e.retained, e.employed, e.lasting, e.with_promiser) == figures, kind


def test_the_expected_figures_are_what_the_story_says():
    # Guards the oracle: read in words, the facts give these numbers.
    expected = expected_figures()
    assert expected["employment"][MilestoneKind.EXIT] == (3, 2, 1, 1, 1)
    assert expected["employment"][MilestoneKind.M3] == (3, 2, 2, 2, 1)
    assert expected["employment"][MilestoneKind.M6] == (3, 0, 0, 0, 0)
    assert (expected["certified_full"], expected["certified_partial"]) == (1, 1)
