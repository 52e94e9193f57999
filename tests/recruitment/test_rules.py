"""The rules declared as data: status transitions with their French reasons, who holds a
place, and the warnings of « 1 stagiaire pour 1 promesse, au plus près de l'effectif ciblé »."""

import pytest

from portal.operations.models import Status
from portal.recruitment import rules
from portal.recruitment.models import ExitReason, TraineeStatus

S = TraineeStatus


@pytest.fixture(autouse=True)
def _app(ctx):
    """French messages need the app's Babel."""


def test_every_status_but_the_last_leads_somewhere():
    assert {s for s in S if rules.targets(s)} == set(S) - {S.CERTIFIED}
    assert [t for t, _label in rules.targets(S.CANDIDATE)] == [S.RETAINED, S.NOT_RETAINED]
    assert dict(rules.targets(S.IN_TRAINING))[S.EXITED] == "Sortie de formation (date et motif)"


@pytest.mark.parametrize("pair", list(rules.TRANSITIONS))
def test_declared_transitions_are_allowed(pair):
    source, target = pair
    assert rules.refusal(source, target, exit_reason=ExitReason.END_OF_TRAINING) is None


@pytest.mark.parametrize(
    "pair", [(a, b) for a in S for b in S if a != b and (a, b) not in rules.TRANSITIONS]
)
def test_every_other_change_is_refused_in_french(pair):
    reason = rules.refusal(*pair)
    assert reason and reason.endswith(".") and "Passage de" not in reason, pair


def test_certification_after_an_exit_depends_on_its_reason():
    assert rules.refusal(S.EXITED, S.CERTIFIED, exit_reason=ExitReason.EARLY_HIRE) is None
    assert "ne peut pas être notée" in rules.refusal(
        S.EXITED, S.CERTIFIED, exit_reason=ExitReason.DROPOUT
    )


def test_the_operation_step_limits_the_changes():
    assert rules.refusal(S.CANDIDATE, S.RETAINED, operation_status=Status.FOLLOW_UP) == (
        "À l'étape « Suivi dans l'emploi » de l'opération, le statut « Retenu·e » ne peut pas "
        "être enregistré."
    )
    assert rules.refusal(S.IN_TRAINING, S.EXITED, operation_status=Status.FOLLOW_UP) is None


@pytest.mark.parametrize(
    ("status", "reason", "expected"),
    [
        (S.CANDIDATE, None, False),
        (S.NOT_RETAINED, None, False),
        (S.RETAINED, None, True),
        (S.IN_TRAINING, None, True),
        (S.CERTIFIED, None, True),
        (S.EXITED, ExitReason.END_OF_TRAINING, True),
        (S.EXITED, ExitReason.EARLY_HIRE, True),
        (S.EXITED, ExitReason.DROPOUT, False),
        (S.EXITED, ExitReason.MOVED, False),
    ],
)
def test_who_holds_a_place(status, reason, expected):
    assert rules.holds_place(status, reason) is expected


def figures(**overrides):
    values = {"promises": 10, "matched": 10, "target": 10, "recruited": 10, "unmatched_recruits": 0}
    values.update(overrides)
    return rules.Figures(**values)


def test_no_warning_at_one_trainee_per_promise_on_target():
    assert rules.warnings(figures()) == []


def test_recruitment_over_the_promises():
    [warning] = rules.warnings(figures(promises=8, matched=8, target=None, recruited=9))
    assert warning.startswith(
        "Le recrutement dépasse les promesses d'embauche : 9 stagiaire(s) retenu·e(s) pour "
        "8 promesse(s)."
    )
    assert "1 stagiaire pour 1 promesse, au plus près de l'effectif ciblé" in warning


def test_recruitment_under_the_target():
    [warning] = rules.warnings(figures(recruited=7, matched=7))
    assert warning.startswith(
        "Le recrutement reste sous l'effectif ciblé : 7 stagiaire(s) retenu·e(s) pour un "
        "effectif ciblé de 10."
    )


def test_recruitment_over_the_target_and_the_promises():
    found = rules.warnings(figures(promises=12, recruited=13, target=11))
    assert [w.split(" :")[0] for w in found] == [
        "Le recrutement dépasse les promesses d'embauche",
        "Le recrutement dépasse l'effectif ciblé",
    ]


def test_fewer_promises_than_the_target():
    found = rules.warnings(figures(promises=8, matched=8, recruited=8))
    assert any(w.startswith("Les employeurs ont promis 8 emploi(s)") for w in found)


def test_recruits_without_a_promise():
    found = rules.warnings(figures(matched=8, unmatched_recruits=2))
    assert found == [
        "2 stagiaire(s) retenu·e(s) sans promesse d'embauche : positionnez chacun·e sur une "
        "promesse."
    ]
    assert figures(matched=8).unmatched_promises == 2
