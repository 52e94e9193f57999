"""The dashboard's counts per group of operations, kept at each commit with the counts per
operation (``reporting.summary``), so that the Région's dashboard reads a number of rows
bounded by the groups, not by the operations (issue #16).

A group is every operation sharing the values the dashboard filters on (``scope.Filters``):
its year (``scope.year_sql``: the session's, else the need's), bassin, category, lot,
organisme porteur and status. ``dashboard_groups`` holds, per group, the number of
operations, their target headcount and the sums of their ``operation_figures``;
``dashboard_group_years`` the sums of their ``operation_year_figures``; ``TALLIES`` the
sums of counts kept per operation and per value (the standing signatures per organisation,
the awaited follow-ups per due date), which the signatory employers (distinct) and the
overdue follow-ups (due before a date that moves with the day) need. Any combination of
filters, and a referent's bassins, is a condition on the group's columns.

How they are kept: each operation's ``operation_figures`` row remembers the group and the
target headcount it was last added with. When ``summary.refresh`` recounts an operation
(its row locked), the old counts leave the old group and the new ones join the group of the
operation's current values: a delta per group, written as one upsert (``INSERT … ON
CONFLICT … DO UPDATE SET n = n + excluded.n``) whose row lock makes two concurrent commits
add up rather than overwrite each other. The upserts go in a fixed order (groups by key,
then their years by key, then each tally by group and value), after every operation row
is locked: no two commits can wait on each other in a cycle. ``rebuild`` recounts every
group from the operations' rows (bulk writes, the benchmarks' and the tests' copies).
"""

from dataclasses import dataclass, field

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.reporting.models import (
    COUNTED,
    EMPLOYMENT_COLUMNS,
    DashboardGroup,
    DashboardGroupAwaiting,
    DashboardGroupSignatory,
    DashboardGroupYear,
    OperationAwaiting,
    OperationFigures,
    OperationSignatory,
    OperationYearFigures,
)

KEY = ("year", "territory_id", "category", "lot_id", "provider_id", "status")
GROUPED = ("operations", "target_headcount", *COUNTED)
YEAR_KEY = ("group_id", "exit_year", "kind")


@dataclass(frozen=True)
class Tally:
    """A count kept per operation and value (``kept``: ``operation_id``, ``value``,
    ``count``) and its sum per group and value (``summed``: ``group_id``, ``value``,
    ``count``)."""

    kept: type
    summed: type
    value: str
    count: str


TALLIES = (
    Tally(OperationSignatory, DashboardGroupSignatory, "organisation_id", "signatures"),
    Tally(OperationAwaiting, DashboardGroupAwaiting, "due_on", "milestones"),
)


def group_key(session_start, reported_at, territory_id, category, lot_id, provider_id, status):
    """The group of an operation with these values (no lot or organisme: 0)."""
    year = (session_start or reported_at).year
    return (year, territory_id, category, lot_id or 0, provider_id or 0, status)


def _sort_key(key: tuple) -> tuple:
    return tuple(getattr(part, "value", part) for part in key)


def _add(into: dict, key, values) -> None:
    values = list(values)
    previous = into.get(key)
    into[key] = values if previous is None else [sum(p) for p in zip(previous, values, strict=True)]


def _named(*pairs) -> dict:
    """One row from (names, values) pairs."""
    return {k: v for names, values in pairs for k, v in zip(names, values, strict=True)}


@dataclass
class Deltas:
    """What a recount changes in the groups: per group key, the change of each ``GROUPED``
    column; per (group key, exit year or 0, milestone), of each ``EMPLOYMENT_COLUMNS``."""

    groups: dict = field(default_factory=dict)
    years: dict = field(default_factory=dict)
    tallies: dict = field(default_factory=lambda: {tally: {} for tally in TALLIES})

    def add(self, key, target, counts: dict, years, sign: int = 1, tallies=None) -> None:
        """Add (``sign`` -1: take away) one operation of group ``key``: its target headcount,
        its ``counts`` (``COUNTED`` names), its ``years`` rows (mappings with
        ``exit_year``, ``kind`` and ``EMPLOYMENT_COLUMNS``) and its ``tallies`` rows (per
        ``Tally``, mappings with its ``value`` and ``count``)."""
        _add(self.groups, key, [sign, sign * (target or 0), *(sign * counts[c] for c in COUNTED)])
        for row in years:
            year_key = (key, row["exit_year"] or 0, row["kind"])
            _add(self.years, year_key, [sign * row[c] for c in EMPLOYMENT_COLUMNS])
        for tally, rows in (tallies or {}).items():
            for row in rows:
                _add(self.tallies[tally], (key, row[tally.value]), [sign * row[tally.count]])


def _upsert(connection, model, keys: tuple, columns: tuple, rows: list[dict]):
    """Insert each row, or add its ``columns`` to the row already holding its ``keys``; the
    rows' ids, in order."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    ids = []
    for row in rows:
        statement = dialect.insert(model).values(**row)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={c: getattr(model, c) + getattr(statement.excluded, c) for c in columns},
        ).returning(model.id)
        ids.append(connection.execute(statement).scalar_one())
    return ids


def apply(connection, deltas: Deltas, known: dict | None = None) -> dict:
    """Write ``deltas`` (groups, then their years, each in key order); the id of every
    group they name, by key. A group whose counts do not change and whose id ``known``
    (key -> id) gives is not written (nor locked)."""
    known = known or {}
    keys = sorted(
        (key for key, values in deltas.groups.items() if any(values) or key not in known),
        key=_sort_key,
    )
    rows = [_named((KEY, key), (GROUPED, deltas.groups[key])) for key in keys]
    ids = {key: known[key] for key in deltas.groups if key in known}
    ids.update(zip(keys, _upsert(connection, DashboardGroup, KEY, GROUPED, rows), strict=True))
    years = sorted(
        ((ids[key], exit_year, kind), values)
        for (key, exit_year, kind), values in deltas.years.items()
        if any(values)
    )  # fmt: skip
    if years:
        _upsert(
            connection,
            DashboardGroupYear,
            YEAR_KEY,
            EMPLOYMENT_COLUMNS,
            [
                _named((YEAR_KEY, key), (EMPLOYMENT_COLUMNS, values))
                for key, values in sorted(years, key=lambda item: _sort_key(item[0]))
            ],
        )
    for tally in TALLIES:
        changed = sorted(
            ((ids[key], value), values)
            for (key, value), values in deltas.tallies[tally].items()
            if any(values)
        )  # fmt: skip
        keys, columns = ("group_id", tally.value), (tally.count,)
        rows = [_named((keys, key), (columns, values)) for key, values in changed]
        _upsert(connection, tally.summed, keys, columns, rows)
    return ids


def keys_of(connection, group_ids) -> dict:
    """The key of each group of ``group_ids``, by id."""
    columns = [getattr(DashboardGroup, name) for name in KEY]
    found = connection.execute(
        select(DashboardGroup.id, *columns).where(DashboardGroup.id.in_(sorted(group_ids)))
    )
    return {group_id: tuple(key) for group_id, *key in found}


def rebuild(connection, keys: dict) -> None:
    """Recount every group from the operations' kept counts (``keys``: each operation's
    (group key, target headcount)): for a database no one else writes to at that moment."""
    connection.execute(update(OperationFigures).values(group_id=None))
    connection.execute(delete(DashboardGroupYear))
    for tally in TALLIES:
        connection.execute(delete(tally.summed))
    connection.execute(delete(DashboardGroup))
    deltas = Deltas()
    years: dict = {}
    for row in connection.execute(select(OperationYearFigures)).mappings():
        years.setdefault(row["operation_id"], []).append(row)
    tallies: dict = {}
    for tally in TALLIES:
        for row in connection.execute(select(tally.kept)).mappings():
            tallies.setdefault(row["operation_id"], {}).setdefault(tally, []).append(row)
    for row in connection.execute(select(OperationFigures)).mappings():
        key, target = keys[row["operation_id"]]
        own = row["operation_id"]
        deltas.add(key, target, row, years.get(own, ()), tallies=tallies.get(own))
    ids = apply(connection, deltas)
    assigned = [
        {"id": operation_id, "group": ids[key], "target": target}
        for operation_id, (key, target) in keys.items()
    ]
    for start in range(0, len(assigned), 5000):
        connection.execute(
            update(OperationFigures)
            .where(OperationFigures.operation_id == bindparam("id"))
            .values(group_id=bindparam("group"), target_headcount=bindparam("target")),
            assigned[start : start + 5000],
        )
