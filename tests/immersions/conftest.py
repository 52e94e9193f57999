"""A committed running operation for the HTTP tests of immersions.

Alice and Bob are placed at Entreprise E (Alice's immersions tutored by Paul, Bob's
without a tutor yet), Chloé at Entreprise F (prescribed by Partenaire P, tutored by Omar,
F's only tutor, whom the generation suggested); each has a finished immersion (debrief
overdue) and a coming one. The tutors are written as designated by their employer.
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.immersions.models import Immersion
from tests.immersions.factories import Running, generate, make_trainee
from tests.support import committed


def immersions_of(trainee_id: int) -> list[Immersion]:
    return list(
        db.session.scalars(
            select(Immersion)
            .where(Immersion.trainee_id == trainee_id)
            .order_by(Immersion.starts_on)
        )
    )


@pytest.fixture
def site(app):
    """Ids of the committed running operation, its people, trainees and immersions."""
    with committed(app):
        running = Running()
        m = running.market
        alice = make_trainee(running, "Alice", "Durand", employer=m.employer)
        bob = make_trainee(running, "Bob", "Petit", employer=m.employer)
        chloe = make_trainee(running, "Chloé", "Roux", employer=m.employer2, prescriber=m.partner)
        generate(running)
        for immersion in immersions_of(alice.id):
            immersion.tutor_id = running.tutor_e.id
        for immersion in immersions_of(chloe.id):
            immersion.tutor_id, immersion.suggested_tutor_id = running.tutor_f.id, None
        db.session.flush()
        alice_past, alice_next = immersions_of(alice.id)
        bob_past, _bob_next = immersions_of(bob.id)
        chloe_past, chloe_next = immersions_of(chloe.id)
        ids = SimpleNamespace(
            operation=running.operation.id,
            alice=alice.id,
            bob=bob.id,
            chloe=chloe.id,
            alice_past=alice_past.id,
            alice_next=alice_next.id,
            bob_past=bob_past.id,
            chloe_past=chloe_past.id,
            chloe_next=chloe_next.id,
            tutor_e=running.tutor_e.id,
            tutor_e2=running.tutor_e2.id,
            tutor_f=running.tutor_f.id,
            of_staff=running.of_staff.id,
            employer=m.employer.id,
            employer2=m.employer2.id,
            skills=running.skill_ids,
        )
    ids.base = f"/operations/{ids.operation}"
    return ids
