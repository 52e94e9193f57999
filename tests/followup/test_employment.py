"""« Emploi durable », one definition (portal/core/employment.py): the table of cases, its
SQL twin on the real database, and the promises' contract types that rely on it."""

import pytest
from sqlalchemy import Integer, literal, null, select

from portal.core.employment import (
    LASTING_MONTHS,
    Situation,
    employment_sql,
    is_lasting,
    lasting_sql,
)
from portal.extensions import db
from portal.operations.models import ContractType

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


# A promise names a contract type, not a duration: only CDI and « CDD de 6 mois ou plus »
# are known to be lasting (the behaviour promises had before the shared definition).
@pytest.mark.parametrize(
    ("contract", "situation", "lasting"),
    [
        (ContractType.CDI, S.CDI, True),
        (ContractType.CDD_LONG, S.CDD, True),
        (ContractType.CDD_SHORT, S.CDD, False),
        (ContractType.INTERIM, S.INTERIM, False),
        (ContractType.ALTERNANCE, S.ALTERNANCE, False),
    ],
)
def test_promised_contracts_follow_the_shared_rule(contract, situation, lasting):
    assert contract.situation == situation
    assert contract.is_lasting is lasting
    assert contract.is_lasting is is_lasting(contract.situation, contract.minimum_months)
