"""The immersions pages run a fixed number of SQL queries at 10 and at 1,000 trainees.

Run with ``-s`` to print the counts for the closing note.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from portal.extensions import db
from portal.immersions.models import Immersion
from portal.recruitment.models import Trainee, TraineeStatus
from tests.immersions.factories import NEXT, PAST, TODAY, TUTOR_E
from tests.operations.factories import EMPLOYER, OF_A, REGION_ADMIN
from tests.support import count_queries, login_as


def add_trainees(app, site, n: int) -> None:
    """``n`` trainees in training, each with a finished and a coming immersion, hosted in
    turn by Entreprise E (tutored by Paul) and Entreprise F."""
    with app.app_context():
        first = (
            db.session.scalar(select(Trainee.id).order_by(Trainee.id.desc()).limit(1)) or 0
        ) + 1
        db.session.execute(
            insert(Trainee),
            [
                {
                    "operation_id": site.operation,
                    "first_name": f"Prénom{first + i}",
                    "last_name": f"Nom{first + i:05d}",
                    "status": TraineeStatus.IN_TRAINING,
                }
                for i in range(n)
            ],
        )
        ids = db.session.scalars(
            select(Trainee.id).where(Trainee.first_name.like("Prénom%")).order_by(Trainee.id)
        ).all()[-n:]
        rows = []
        for index, trainee_id in enumerate(ids):
            at_e = index % 2 == 0
            for start, end in (PAST, NEXT):
                rows.append(
                    {
                        "operation_id": site.operation,
                        "trainee_id": trainee_id,
                        "employer_id": site.employer if at_e else site.employer2,
                        "tutor_id": site.tutor_e if at_e else None,
                        "starts_on": start,
                        "ends_on": end,
                        "objectives": site.skills[:1],
                    }
                )
        db.session.execute(insert(Immersion), rows)
        db.session.commit()


def statements(app, client, path: str) -> list[str]:
    assert client.get(path).status_code == 200, path  # warm-up
    with count_queries(app) as sent:
        assert client.get(path).status_code == 200
    return list(sent)


PAGES = ["/immersions", "/retours", "/evaluations", "", "/tutorat"]


@pytest.mark.parametrize("email", [OF_A, EMPLOYER, REGION_ADMIN, TUTOR_E])
def test_pages_do_not_grow_with_trainees(app, client, site, email):
    add_trainees(app, site, 7)  # 10 trainees
    login_as(client, email)
    paths = [p if p == "/tutorat" else site.base + p for p in PAGES]
    small = {p: statements(app, client, p) for p in paths}
    add_trainees(app, site, 990)  # 1,000 trainees
    large = {p: statements(app, client, p) for p in paths}
    for path in paths:
        extra = [s.split("\n")[0][:100] for s in large[path][len(small[path]) :]]
        assert len(small[path]) == len(large[path]), (path, extra)
        print(f"\n{email} {path}: {len(small[path])} queries at 10 and 1,000 trainees")


def test_the_path_does_not_grow_with_periods(app, client, site):
    login_as(client, OF_A)
    path = f"{site.base}/stagiaires/{site.alice}/parcours"
    small = statements(app, client, path)
    with app.app_context():
        db.session.execute(
            insert(Immersion),
            [
                {
                    "operation_id": site.operation,
                    "trainee_id": site.alice,
                    "employer_id": site.employer,
                    "starts_on": TODAY + timedelta(days=30 + 7 * i),
                    "ends_on": TODAY + timedelta(days=32 + 7 * i),
                    "objectives": [],
                }
                for i in range(20)
            ],
        )
        db.session.commit()
    assert len(statements(app, client, path)) == len(small)


def test_the_tutor_space_shows_fifty_immersions_a_page(app, client, site):
    """Issue #16: the tutor space listed every immersion (0.5 s at 1,000 trainees); now a
    page of fifty, the assessments due the fifty oldest with how many in all."""
    add_trainees(app, site, 120)  # 60 at Entreprise E tutored by Paul: 120 immersions
    login_as(client, TUTOR_E)
    first = client.get("/tutorat").get_data(as_text=True)
    names = set(re.findall(r'<th scope="row">(Prénom\d+ Nom\d+)</th>', first))
    assert 0 < len(re.findall(r'<th scope="row">Prénom', first)) <= 50
    assert re.search(r"Page 1 sur 3 — 1\d\d éléments", first)
    assert re.search(r"Les 50 plus anciennes sur 6\d :", first)
    second = client.get("/tutorat?page=2").get_data(as_text=True)
    assert "Page 2 sur 3" in second
    assert set(re.findall(r'<th scope="row">(Prénom\d+ Nom\d+)</th>', second)) - names
