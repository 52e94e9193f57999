"""The key pages' query budget on the demo (issue #16's target: at most 12 queries a page,
the same whatever the number of operations): the demo's own operations, measured as the
load benchmark measures them (``tests.bench_scale.key_pages``), then again once the demo's
operations are replicated twelve times (``bench_scale.replicate``: whole copies, the same
people) — the same count, pinned per page and viewer on each database. The section save
is still above the target."""

from sqlalchemy import select

from portal.design.models import Design, DesignSection
from portal.extensions import db
from portal.operations.models import Operation
from tests.bench_scale import DOMAIN, designing_operation, key_pages, replicate, rows_under
from tests.support import CsrfClient, count_queries, load_demo_copy, login_as

OPERATION_PAGE = "page d'une opération"
SAVE = "enregistrement d'une section (htmx)"
# (page label, demo login) → queries of one request; PostgreSQL's where they differ.
SQLITE = {
    # The homes: their « À faire » card in one statement, their lists with what they show
    # (35, 30, 37, 32 and 33 queries before, and the header's count 4). Every page one
    # fewer since the user's memberships come with their session row (issue #16).
    ("accueil (Région)", "region"): 11,
    ("accueil (organisme)", "of"): 10,
    ("accueil (employeur)", "employeur"): 9,
    ("accueil (tuteur)", "tuteur"): 10,
    ("accueil (partenaire)", "partenaire"): 9,
    ("compteur « À faire » (fragment)", "of"): 3,
    ("compteur « À faire » (fragment)", "region"): 2,
    (OPERATION_PAGE, "of"): 10,
    (OPERATION_PAGE, "region"): 11,
    (OPERATION_PAGE, "employeur"): 10,
    (OPERATION_PAGE, "partenaire"): 10,
    ("co-conception", "of"): 9,
    ("convention", "of"): 11,
    ("version de la convention", "of"): 10,
    # The section save: the section and its design locked and read once each (issue #16).
    (SAVE, "of"): 18,
    # The operation's areas and the tutor's space, as each viewer sees them.
    ("recrutement", "of"): 10,
    ("recrutement", "partenaire"): 11,
    ("immersions", "of"): 9,
    ("retours d'immersion", "of"): 8,
    ("retours d'immersion", "employeur"): 9,
    ("espace tuteur", "tuteur"): 8,
    ("espace tuteur", "employeur"): 9,
    ("fiche stagiaire", "of"): 11,
    ("fiche stagiaire", "region"): 10,
    ("fiche stagiaire", "tuteur"): 11,
    ("suivi dans l'emploi", "of"): 11,
}
BUDGET = {"sqlite": SQLITE, "postgresql": {**SQLITE, (SAVE, "of"): 17}}


def _measure(app, budget: dict) -> dict:
    """Queries of one request (after a warm-up) of each page and viewer of ``budget``."""
    app.test_client_class = CsrfClient
    with app.test_request_context():
        paths = {label: (path, headers) for label, _who, path, headers in key_pages()}
    found = {}
    for label, who in budget:
        client = app.test_client()
        login_as(client, f"{who}@{DOMAIN}")
        if label == SAVE:
            found[(label, who)] = _save(app, client)
            continue
        path, headers = paths[label]
        assert client.get(path, headers=headers).status_code == 200, (label, who)
        with count_queries(app) as statements:
            assert client.get(path, headers=headers).status_code == 200, (label, who)
        found[(label, who)] = len(statements)
    return found


def _save(app, client) -> int:
    """Queries of a co-design section saved through htmx (after a first save), as the
    benchmark saves it (``bench_scale.measure_actions``)."""
    with app.test_request_context():
        operation_id = designing_operation()
        version = db.session.scalar(
            select(DesignSection.version)
            .join(Design, Design.id == DesignSection.design_id)
            .where(Design.operation_id == operation_id, DesignSection.key == "objectives")
        )
    url = f"/operations/{operation_id}/conception/objectives"
    hx = {"HX-Request": "true"}

    def save(base: int):
        data = {"base_version": base, "objectives-text": f"Objectif {base}"}
        assert client.post(url, data=data, headers=hx).status_code == 200

    save(version)  # warm-up
    with count_queries(app) as statements:
        save(version + 1)
    return len(statements)


def test_key_pages_query_budget_does_not_grow_with_operations(app):
    load_demo_copy(app)
    with app.app_context():
        budget = BUDGET[db.engine.dialect.name]
    small = _measure(app, budget)
    with app.app_context():
        conn = db.session.connection()
        demo = set(db.session.scalars(select(Operation.id)))
        replicate(conn, rows_under(conn, "operations", demo), 12)
        db.session.commit()
    large = _measure(app, budget)
    print(f"\n{len(demo)} operations: {small}\n{13 * len(demo)} operations: {large}")
    assert small == large == budget
