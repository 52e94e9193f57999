"""The load benchmark's replication (tests/bench_scale.py, ``make bench``): copies of the
demo's operations are whole, consistent operations of the same people, so the pages the
benchmark measures open on them as on the originals."""

from sqlalchemy import func, select

from portal.conventions.models import Convention
from portal.extensions import db
from portal.operations.models import Operation, Participant
from portal.recruitment.models import Trainee
from tests.bench_scale import replicate, rows_under
from tests.support import load_demo_copy, login_as


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_replicated_operations_are_whole_and_open_like_the_originals(app, client):
    load_demo_copy(app)
    with app.app_context():
        originals = {o.id: o.title for o in db.session.scalars(select(Operation))}
        before = {m: count(m) for m in (Operation, Participant, Trainee, Convention)}
        conn = db.session.connection()
        written = replicate(conn, rows_under(conn, "operations", set(originals)), 2)
        db.session.commit()
        assert written > 3 * len(originals)
        for model, n in before.items():
            assert count(model) == 3 * n, model
        # The copies keep the people and organisations, and their own unique keys.
        references = db.session.scalars(select(Convention.reference)).all()
        assert len(set(references)) == len(references)
        copy_of = {}
        for operation in db.session.scalars(
            select(Operation).where(Operation.id.not_in(originals))
        ):
            copy_of.setdefault(operation.title, []).append(operation.id)
        assert sorted(copy_of) == sorted(originals.values())
        running = next(i for i, t in originals.items() if "session de Saran" in t)
        copied = max(copy_of[originals[running]])
        trainees = count(Trainee)
    login_as(client, "of@demo.defi.test")
    for operation_id in (running, copied):
        page = client.get(f"/operations/{operation_id}/recrutement")
        assert page.status_code == 200
        assert "Saran" in page.get_data(as_text=True)
    with app.app_context():
        conn = db.session.connection()
        ids = set(db.session.scalars(select(Trainee.id).where(Trainee.operation_id == copied)))
        replicate(conn, rows_under(conn, "trainees", ids), 1)
        db.session.commit()
        assert count(Trainee) == trainees + len(ids)
    assert client.get(f"/operations/{copied}/immersions").status_code == 200
