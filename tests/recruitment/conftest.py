"""A committed recruitment world for the HTTP tests of this folder.

Operation « Agent·e de propreté » at the recruitment step, carried by Organisme A, with
Entreprise E (2 promises), Entreprise F (1 promise), Entreprise G (no promise, no trainee),
Partenaire P (prescriber). Three trainees:
- ``placed``: retained, prescribed by Partenaire P, matched to Entreprise E's first promise;
- ``at_f``: in training, matched to Entreprise F's promise;
- ``candidate``: a candidate, nobody's.
"""

from types import SimpleNamespace

import pytest

from portal.accounts.models import OrgKind
from portal.extensions import db
from portal.operations.models import ParticipantRole
from portal.operations.services import _add_participant
from portal.recruitment.models import TraineeStatus
from tests.factories import make_org, make_user
from tests.operations.factories import Market
from tests.recruitment.factories import (
    EMPLOYER3,
    TUTOR,
    make_recruiting_operation,
    make_trainee,
    promises_of,
)
from tests.support import committed


@pytest.fixture
def rec(app):
    with committed(app):
        market = Market()
        operation = make_recruiting_operation(market)
        employer3 = make_org(OrgKind.EMPLOYER, "Entreprise G")
        make_user(employer3, admin=True, email=EMPLOYER3)
        tutor = make_user(market.employer, tutor=True, email=TUTOR)
        _add_participant(operation, employer3, ParticipantRole.EMPLOYER, by=None)
        e_promises = promises_of(operation, market.employer)
        [f_promise] = promises_of(operation, market.employer2)
        placed = make_trainee(
            operation,
            status=TraineeStatus.RETAINED,
            promise=e_promises[0],
            prescriber=market.partner,
            first_name="Inès",
            last_name="Moreau",
            email="ines.moreau@example.fr",
            birth_year=1998,
        )
        at_f = make_trainee(
            operation, status=TraineeStatus.IN_TRAINING, promise=f_promise, last_name="Garnier"
        )
        candidate = make_trainee(operation, last_name="Petit", first_name="Léa")
        db.session.flush()
        ids = SimpleNamespace(
            op=operation.id,
            placed=placed.id,
            at_f=at_f.id,
            candidate=candidate.id,
            promises=[p.id for p in e_promises] + [f_promise.id],
            of_a=market.of_a.id,
            partner=market.partner.id,
            employer=market.employer.id,
            employer2=market.employer2.id,
            employer3=employer3.id,
            region=market.region.id,
            tutor=tutor.id,
        )
    return ids
