"""A committed follow-up world for the HTTP tests of this folder.

Organisme A's operation, in « Suivi dans l'emploi »: Alice and Bob hold Entreprise E's
promises (Alice prescribed by Partenaire P), Chloé Entreprise F's. They left the training
a hundred days ago: the exit follow-ups are past, the +3 months ones due, the +6 months
ones to come. Alice's +3 months follow-up disagrees (the organisme says CDI at E, E says a
CDD of 4 months).
"""

from types import SimpleNamespace

import pytest

from portal.operations.models import Status
from tests.followup.factories import EXIT, Training, milestone_of
from tests.support import committed


@pytest.fixture
def site(app):
    """Ids of the committed world described in the module's docstring."""
    with committed(app):
        world = Training(started=300)
        world.exit_all(EXIT)
        world.operation.status = Status.FOLLOW_UP
        e = world.market.employer.id
        world.answer(world.alice, "m3", world.of, employer_id=e)
        world.answer(world.alice, "m3", world.employer, situation="cdd", duration_months=4,
                     employer_id=e)  # fmt: skip
        ids = SimpleNamespace(
            operation=world.operation.id,
            alice=world.alice.id,
            bob=world.bob.id,
            chloe=world.chloe.id,
            alice_exit=milestone_of(world.alice, "exit").id,
            alice_m3=milestone_of(world.alice, "m3").id,
            bob_m3=milestone_of(world.bob, "m3").id,
            chloe_m3=milestone_of(world.chloe, "m3").id,
            alice_promise=world.alice.promise.id,
            chloe_promise=world.chloe.promise.id,
            employer=e,
            employer2=world.market.employer2.id,
        )
    ids.base = f"/operations/{ids.operation}"
    return ids
