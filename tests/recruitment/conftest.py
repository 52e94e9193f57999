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

from portal.accounts.models import Organisation, OrgKind
from portal.extensions import db
from portal.operations.models import Operation, ParticipantRole
from portal.operations.services import _add_participant
from portal.recruitment.models import Trainee, TraineeStatus
from tests.factories import make_org, make_user
from tests.operations.factories import Market
from tests.recruitment.factories import (
    EMPLOYER3,
    EMPLOYER_MEMBER,
    PARTNER2,
    TUTOR,
    make_recruiting_operation,
    make_session,
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


@pytest.fixture
def dating(app, rec):
    """The recruitment world with a job dating held yesterday: Partenaire Q, a second
    prescriber (orientation), proposed ``from_q`` (a bénéficiaire du RSA); ``placed``,
    ``candidate`` and ``from_q`` are invited with Entreprise E and F; Entreprise G is not.
    Nothing recorded yet: attendance, opinions. ``e_member``: a non-admin of E."""
    with committed(app):
        operation = db.session.get(Operation, rec.op)
        partner_q = make_org(OrgKind.PARTNER, "Partenaire Q")
        make_user(partner_q, admin=True, email=PARTNER2)
        _add_participant(operation, partner_q, ParticipantRole.PARTNER_EMPLOYMENT, by=None)
        make_user(db.session.get(Organisation, rec.employer), email=EMPLOYER_MEMBER)
        from_q = make_trainee(
            operation,
            prescriber=partner_q,
            first_name="Nora",
            last_name="Quentin",
            email="nora.quentin@example.fr",
            public_category="rsa",
        )
        carrier = db.session.get(Organisation, rec.of_a)
        session = make_session(
            operation,
            carrier_user(carrier),
            carrier,
            [db.session.get(Trainee, i) for i in (rec.placed, rec.candidate)] + [from_q],
            [db.session.get(Organisation, i) for i in (rec.employer, rec.employer2)],
        )
        rec.partner2, rec.from_q, rec.session = partner_q.id, from_q.id, session.id
    return rec


def carrier_user(carrier):
    """The organisme porteur's admin (the Market's ``a.admin``)."""
    return next(m.user for m in carrier.memberships if m.is_admin)
