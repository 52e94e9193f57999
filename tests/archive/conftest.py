"""The demo, loaded for each test of the archive: Fleury (closed, the final archive) and
Saran (in training: immersions, a debrief and an amendment; a provisional archive)."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.operations.models import Operation
from tests.support import load_demo_copy

FLEURY = "Préparateur·rice de commandes — session de Fleury"
SARAN = "Préparateur·rice de commandes — session de Saran"


@pytest.fixture
def demo(app):
    """Ids of the demo's closed and running operations."""
    load_demo_copy(app)
    with app.app_context():
        ids = dict(db.session.execute(select(Operation.title, Operation.id)).all())
    return SimpleNamespace(fleury=ids[FLEURY], saran=ids[SARAN])
