"""``support.snapshot`` proves that a request changed nothing: it must see every committed
write, from any thread, and nothing else (a rolled-back write, the evidence reading writes)."""

import threading

from portal.accounts.models import OrgKind
from portal.audit.services import record
from portal.extensions import db
from tests.factories import make_org
from tests.support import snapshot


def test_a_committed_insert_is_a_change_and_names_its_table(app):
    before = snapshot(app)
    with app.app_context():
        make_org(OrgKind.EMPLOYER, "Boulangerie Test")
        db.session.commit()
    after = snapshot(app)
    assert after != before
    assert "organisations" in repr(after)


def test_an_update_and_a_delete_are_changes(app):
    with app.app_context():
        organisation = make_org(OrgKind.EMPLOYER, "Garage Test")
        db.session.commit()
        before = snapshot(app)
        organisation.name = "Garage Test renommé"
        db.session.commit()
        assert snapshot(app) != before
        before = snapshot(app)
        db.session.delete(organisation)
        db.session.commit()
        assert snapshot(app) != before


def test_a_rolled_back_write_is_no_change(app):
    before = snapshot(app)
    with app.app_context():
        make_org(OrgKind.EMPLOYER, "Jamais enregistrée")
        db.session.rollback()
    assert snapshot(app) == before


def test_the_evidence_of_reading_is_no_change_but_other_audit_events_are(app):
    before = snapshot(app)
    with app.test_request_context():
        record("convention.opened")
        db.session.commit()
    assert snapshot(app) == before
    with app.test_request_context():
        record("operation.created")
        db.session.commit()
    assert snapshot(app) != before


def test_a_write_committed_by_another_thread_is_a_change(app):
    before = snapshot(app)

    def write():
        with app.app_context():
            make_org(OrgKind.PARTNER, "Mission locale d'un autre fil")
            db.session.commit()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    assert snapshot(app) != before
