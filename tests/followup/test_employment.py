"""« Emploi durable », one definition (portal/core/employment.py): the table of cases, its
SQL twin on the real database, and the promises' contract types that rely on it."""

import pytest
from sqlalchemy import Integer, literal, null, select

from portal.core.employment import (
    LASTING_MONTHS,
    ContractType,
    Situation,
    contract_is_lasting,
    contract_label,
    contract_lasting_sql,
    contract_months,
    contract_problem,
    employment_sql,
    is_lasting,
    lasting_sql,
)
from portal.extensions import db

S = Situation

# (situation, duration in months, lasting?) — as France Travail and the DARES count it.
CASES = [
    (S.CDI, None, True),
    (S.CDI, 2, True),  # a CDI is lasting whatever was typed as a duration
    (S.CDD, None, False),  # unknown duration: not counted
    (S.CDD, 1, False),
    (S.CDD, 5, False),
    (S.CDD, 6, True),
    (S.CDD, 18, True),
    (S.INTERIM, 2, False),
    (S.INTERIM, 6, True),
    (S.ALTERNANCE, None, False),
    (S.ALTERNANCE, 5, False),
    (S.ALTERNANCE, 24, True),
    (S.BUSINESS_CREATION, None, True),
    (S.TRAINING, 12, False),
    (S.JOB_SEEKING, None, False),
    (S.NO_NEWS, None, False),
    (S.OTHER, 12, False),
]


def test_the_threshold_is_six_months():
    assert LASTING_MONTHS == 6


@pytest.mark.parametrize(("situation", "months", "lasting"), CASES)
def test_lasting_employment(situation, months, lasting):
    assert is_lasting(situation, months) is lasting


def test_every_situation_is_in_the_table():
    assert {situation for situation, _months, _lasting in CASES} == set(Situation)


def test_the_sql_twin_agrees_on_the_database(ctx):
    for situation, months, lasting in CASES:
        months_value = literal(months, Integer) if months is not None else null()
        query = select(lasting_sql(literal(situation.value), months_value))
        assert bool(db.session.scalar(query)) is lasting, (situation, months)
        in_employment = db.session.scalar(select(employment_sql(literal(situation.value))))
        assert bool(in_employment) is situation.is_employment, situation


def test_situations_know_what_they_ask_for():
    assert {s for s in Situation if s.needs_duration} == {S.CDD, S.INTERIM, S.ALTERNANCE}
    assert {s for s in Situation if s.is_salaried} == {S.CDI, S.CDD, S.INTERIM, S.ALTERNANCE}
    assert {s for s in Situation if s.is_employment} == {
        S.CDI,
        S.CDD,
        S.INTERIM,
        S.ALTERNANCE,
        S.BUSINESS_CREATION,
    }


# A promise names its contract as the employer says it, with the duration of a CDD, an
# intérim or an alternance (issue #12): the same rule decides.
CONTRACTS = [
    (ContractType.CDI, None, S.CDI, True),
    (ContractType.CDD, 4, S.CDD, False),
    (ContractType.CDD, 6, S.CDD, True),
    (ContractType.CDD, None, S.CDD, False),  # recorded before durations were asked for
    (ContractType.INTERIM, 3, S.INTERIM, False),
    (ContractType.INTERIM, 9, S.INTERIM, True),
    (ContractType.APPRENTICESHIP, 24, S.ALTERNANCE, True),
    (ContractType.PROFESSIONALISATION, 5, S.ALTERNANCE, False),
    (ContractType.BUSINESS_CREATION, None, S.BUSINESS_CREATION, True),
    (ContractType.ALTERNANCE, None, S.ALTERNANCE, False),
]


@pytest.mark.parametrize(("contract", "months", "situation", "lasting"), CONTRACTS)
def test_promised_contracts_follow_the_shared_rule(contract, months, situation, lasting):
    assert contract.situation == situation
    assert contract_is_lasting(contract, months) is lasting
    assert contract_is_lasting(contract, months) is is_lasting(situation, months)


def test_every_contract_type_is_in_the_table():
    assert {contract for contract, *_rest in CONTRACTS} == set(ContractType)


def test_the_contracts_sql_twin_agrees_on_the_database(ctx):
    for contract, months, _situation, lasting in CONTRACTS:
        months_value = literal(months, Integer) if months is not None else null()
        query = select(contract_lasting_sql(literal(contract.value), months_value))
        assert bool(db.session.scalar(query)) is lasting, (contract, months)


@pytest.mark.parametrize(
    ("contract", "months", "problem"),
    [
        (ContractType.CDI, None, None),
        (ContractType.CDI, 12, None),  # a duration typed for a CDI is dropped, not refused
        (ContractType.BUSINESS_CREATION, None, None),
        (ContractType.CDD, 4, None),
        (ContractType.CDD, None, "Indiquez la durée du contrat en mois"),
        (ContractType.APPRENTICESHIP, None, "Indiquez la durée du contrat en mois"),
        (ContractType.INTERIM, 0, "Durée attendue entre 1 et 120 mois."),
        (ContractType.PROFESSIONALISATION, 121, "Durée attendue entre 1 et 120 mois."),
    ],
)
def test_a_contract_that_needs_a_duration_says_it(ctx, contract, months, problem):
    found = contract_problem(contract, months)
    if problem is None:
        assert found is None
    else:
        assert found[0] == "duration_months" and found[1].startswith(problem)
    assert contract_months(contract, months) == (months if contract.needs_duration else None)


@pytest.mark.parametrize(
    ("contract", "months", "label"),
    [
        (ContractType.CDI, None, "CDI"),
        (ContractType.CDD, 4, "CDD de 4 mois"),
        (ContractType.CDD, 1, "CDD de 1 mois"),
        (ContractType.CDD, None, "CDD (durée non précisée)"),
        (ContractType.APPRENTICESHIP, 24, "Contrat d'apprentissage de 24 mois"),
        (ContractType.BUSINESS_CREATION, None, "Création d'entreprise"),
    ],
)
def test_contracts_read_as_people_say_them(ctx, contract, months, label):
    assert contract_label(contract, months) == label


def test_new_positions_are_not_offered_the_unspecified_alternance():
    offered = {value for value, _title in ContractType.offered()}
    assert offered == {c.value for c in ContractType} - {"alternance"}
