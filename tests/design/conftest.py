"""Fixtures of the co-design HTTP tests: the committed market and an operation in co-design."""

import pytest

from portal.design.start import start_design
from portal.extensions import db
from portal.operations.models import Operation, Status
from tests.operations.factories import OF_A, build_market, report, set_status
from tests.support import committed, org_named, user_with


@pytest.fixture
def market(app):
    """The Market factory of tests.operations, committed (its ids)."""
    return build_market(app)


@pytest.fixture
def design_op(app, market) -> int:
    """An operation of Organisme A with Entreprise E (and the Région), design started."""
    operation_id = report(app)
    set_status(app, operation_id, Status.CO_DESIGN)
    with committed(app):
        operation = db.session.get(Operation, operation_id)
        start_design(operation, by=user_with(OF_A), org=org_named("Organisme A"))
    return operation_id
