"""The dashboard and the exports send the same queries whatever the number of operations,
trainees and follow-ups (issue #14: SQL aggregates, no operation loaded into Python)."""

import pytest

from tests.reporting import factories as f
from tests.support import HTMX, client_as, committed, count_queries, explain, queries

PAGES = [
    "/pilotage/",
    "/pilotage/?perimetre=region&categorie=prepa_metiers",
    "/pilotage/exports/operations.csv",
    "/pilotage/exports/promesses.xlsx",
    "/pilotage/exports/stagiaires.csv",
    "/pilotage/exports/operations.ods",
    "/pilotage/exports/suivis.xlsx",
]


def statements(app, client, path: str) -> list[str]:
    """The SQL of one GET of ``path``, the body read (exports stream as it is read)."""
    client.get(path).close()
    with count_queries(app) as found:
        response = client.get(path, headers=HTMX if path == "/pilotage/" else None)
        assert response.status_code == 200
        response.get_data()
        response.close()
    return list(found)


@pytest.mark.parametrize("email", [f.REGION_ADMIN, f.REFERENT_TOURS, f.OF2, f.GARDENS])
def test_the_same_queries_at_three_and_at_eighteen_operations(app, email):
    with committed(app):
        world = f.Pilot()
    browser = client_as(app, email)
    small = {path: statements(app, browser, path) for path in PAGES}
    with committed(app):
        for _ in range(5):
            world.add_history()
    large = {path: statements(app, browser, path) for path in PAGES}
    for path in PAGES:
        assert len(small[path]) == len(large[path]), f"{path}: {explain(small[path], large[path])}"


@pytest.mark.parametrize("email", [f.REGION_ADMIN, f.REFERENT_TOURS])
def test_the_dashboard_stays_within_its_budget(app, email):
    with committed(app):
        f.Pilot()
    found = queries(app, client_as(app, email), "/pilotage/")
    # The user and their memberships, the notifications badge, then the dashboard's four
    # aggregates over the kept counts (reporting.summary) and the filters' two options; a
    # referent's bassins are read with the options' ones.
    assert len(found) <= 9, "\n".join(s.split("\n")[0][:100] for s in found)


@pytest.mark.parametrize(
    "path", ["/pilotage/", "/pilotage/?perimetre=region&categorie=prepa_metiers&statut=closed"]
)
@pytest.mark.parametrize("email", [f.REGION_ADMIN, f.REFERENT_TOURS])
def test_the_region_reads_groups_not_operations(app, email, path):
    """Issue #16: the Région's dashboard adds up the groups' counts (``reporting.groups``),
    as many rows as groups, never one row per operation: no statement reads the counts
    per operation, nor the operations, their signatures or their follow-ups (the signatory
    employers and the overdue follow-ups come from the groups' tallies too)."""
    with committed(app):
        f.Pilot()
    found = queries(app, client_as(app, email), path)
    assert not [s for s in found if "operation_figures" in s or "operation_year_figures" in s]
    assert any("FROM dashboard_groups" in s for s in found)
    per_operation = ("operations", "convention_signatures", "followup_milestones",
                     "operation_signatories", "operation_awaiting")  # fmt: skip
    over_operations = [s for s in found if any(f"FROM {t}" in s or f"JOIN {t}" in s
                                               for t in per_operation)]  # fmt: skip
    assert not over_operations, over_operations
