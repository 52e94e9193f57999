"""The immersions pages run a fixed number of SQL queries at 10 and at 1,000 trainees.

Run with ``-s`` to print the counts for the closing note.
"""

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from portal.extensions import db
from portal.immersions.models import Evaluation, EvaluationInvitation, EvaluationKind, Immersion
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


def invite_tutor(app, site, n: int) -> None:
    """``n`` more coming juries of the operation, Paul (tutor at Entreprise E) invited."""
    with app.app_context():
        held = datetime.combine(TODAY, datetime.min.time()) + timedelta(days=30)
        first = db.session.scalar(select(func.count()).select_from(Evaluation))
        ids = db.session.scalars(
            insert(Evaluation).returning(Evaluation.id),
            [
                {
                    "operation_id": site.operation,
                    "kind": EvaluationKind.JURY,
                    "held_at": held + timedelta(days=first + i),
                    "place": f"Salle {first + i}",
                }
                for i in range(n)
            ],
        ).all()
        db.session.execute(
            insert(EvaluationInvitation),
            [
                {"evaluation_id": i, "user_id": site.tutor_e, "organisation_id": site.employer}
                for i in ids
            ],
        )
        db.session.commit()


def test_the_tutor_agenda_shows_ten_evaluations_a_page(app, client, site):
    """Issue #16: the coming evaluations a tutor is invited to were all listed (1,000 rows,
    300 KiB at 10,000 operations); now ten a page, paged by their own query argument
    (``rendez_vous``), the immersions' page kept — and the same queries at 2 and at 25."""
    login_as(client, TUTOR_E)
    invite_tutor(app, site, 2)
    small = statements(app, client, "/tutorat")
    first = client.get("/tutorat").get_data(as_text=True)
    assert len(re.findall(r"Salle \d+", first)) == 2
    assert 'aria-label="Pages des rendez-vous"' not in first  # one page: no pager
    invite_tutor(app, site, 23)
    assert len(statements(app, client, "/tutorat")) == len(small)
    first = client.get("/tutorat").get_data(as_text=True)
    rooms = re.findall(r"Salle (\d+)", first)
    assert rooms == sorted(rooms, key=int) and len(rooms) == 10  # the ten soonest
    pager = re.search(r'<nav class="pagination" aria-label="Pages des rendez-vous">.*?</nav>',
                      first, re.S).group(0)  # fmt: skip
    assert "Page 1 sur 3 — 25 éléments" in pager and "rendez_vous=2" in pager
    third = client.get("/tutorat?rendez_vous=3&page=1").get_data(as_text=True)
    assert len(re.findall(r"Salle \d+", third)) == 5 and not set(rooms) & set(
        re.findall(r"Salle (\d+)", third)
    )
    pager = re.search(r'aria-label="Pages des rendez-vous">.*?</nav>', third, re.S).group(0)
    assert "Page 3 sur 3" in pager and "rendez_vous=2" in pager and "page=1" in pager
