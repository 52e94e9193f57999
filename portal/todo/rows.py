"""The kinds of « À faire » across operations (``across.py``): each a ``select`` of rows
(``Rows``) or, where Python decides, a list (``Listed``), over the visible open
operations (``operations``)."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, cast, exists, func, literal_column, null, select, union_all
from sqlalchemy.types import NullType

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.extensions import db
from portal.operations.access import visible_operations
from portal.operations.models import Operation, Participant, Status
from portal.todo.base import WORK, Duty, link


@dataclass(frozen=True)
class OperationRef:
    """What a duty across operations shows of its operation, read with the duty: the home
    card and the « À faire » page show its title and link to it, no more."""

    id: int
    title: str


@dataclass(frozen=True)
class Rows:
    """One kind of duty as a ``select`` of ``(operation id, operation title, …)``, one row
    a duty, ``order`` ordering the rows of one operation; ``duty(row)`` builds the duty
    (its label and link lazy)."""

    query: Select
    duty: Callable
    order: tuple = ()


class Listed:
    """One kind of duty decided in Python: every duty of the kind, in the list's order
    (``read()``), read once however often asked (the home card counts and shows them)."""

    def __init__(self, read: Callable[[], list[Duty]]):
        self._read = read
        self._found: list[Duty] | None = None

    def duties(self) -> list[Duty]:
        if self._found is None:
            self._found = self._read()
        return self._found


@dataclass
class Who:
    """Whose duties: the user, acting for ``org`` (``membership``)."""

    user: User
    org: Organisation
    membership: Membership | None

    @property
    def region(self) -> bool:
        return self.org.kind == OrgKind.REGION

    @property
    def is_admin(self) -> bool:
        return self.membership is not None and self.membership.is_admin


def operations() -> Select:
    """``(operation id, title)`` of the visible operations still open: each kind joins its
    rows to it (the visibility rule applies to the joined row itself)."""
    return open_visible(select(Operation.id, Operation.title))


def open_visible(query: Select) -> Select:
    """``query`` (which selects from ``Operation``) on the visible operations still open."""
    return visible_operations(query).where(
        Operation.status.not_in((Status.CLOSED, Status.CANCELLED))
    )


def has_participant(*where):
    return exists().where(
        Participant.operation_id == Operation.id, Participant.withdrawn_at.is_(None), *where
    )


def simple(query, label, endpoint: str, kind: str, urgency: int = WORK, **values) -> Rows:
    """A kind with one fixed label, linked to ``endpoint`` of the operation."""

    def duty(row):
        url = link(endpoint, operation_id=row[0], **values)
        return Duty(label, url, OperationRef(row[0], row[1]), kind, urgency)

    return Rows(query, duty)


class KindRow:
    """A row of one kind read through ``read_rows``: by position, and by the names of the
    kind's own ``select``, as its ``duty`` reads it."""

    __slots__ = ("_names", "_values")

    def __init__(self, names: dict[str, int], values: tuple):
        self._names, self._values = names, values

    def __getitem__(self, index: int):
        return self._values[index]

    def __getattr__(self, name: str):
        try:
            return self._values[self._names[name]]
        except KeyError:
            raise AttributeError(name) from None


def _type_key(column) -> tuple:
    return (type(column.type), getattr(column.type, "enum_class", None))


def read_rows(kinds: list[Rows], limit: int | None, counted: bool) -> list[list[KindRow]]:
    """The first ``limit`` rows of each of ``kinds`` (all of them when None) in the list's
    order (operation title, operation id, then the kind's ``order``), each with the number
    of its kind's rows (``kind_total``) when ``counted`` — in one statement: a ``UNION
    ALL`` of one branch a kind, so that the number of queries does not grow with the kinds.

    The branches share their columns: each kind puts its own in slots of their type (NULL
    in the slots it does not use), and its ``order`` in slots of their own, by position and
    type, which the statement orders by after the kind."""
    if not kinds:
        return []
    subs, placed = [], []
    types: dict[str, object] = {}  # slot name -> its SQL type
    regular: dict[tuple, str] = {}  # (type, n-th of that type in a kind) -> slot
    ordered: dict[tuple, str] = {}  # (position in ``order``, type) -> slot
    for i, kind in enumerate(kinds):
        query = kind.query.add_columns(*(o.label(f"o{j}") for j, o in enumerate(kind.order)))
        if counted:
            query = query.add_columns(func.count().over().label("kind_total"))
        query = query.order_by(Operation.title, Operation.id, *kind.order)
        sub = (query if limit is None else query.limit(limit)).subquery(f"kind{i}")
        subs.append(sub)
        columns = list(sub.c)[2:]
        first_order = len(columns) - counted - len(kind.order)
        seen: dict[tuple, int] = {}
        slots = []
        for position, column in enumerate(columns):
            key = _type_key(column)
            j = position - first_order
            if 0 <= j < len(kind.order):
                name = ordered.setdefault((j, key), f"o{j}_{len(types)}")
            else:
                seen[key] = seen.get(key, -1) + 1
                name = regular.setdefault((key, seen[key]), f"c{len(types)}")
            types.setdefault(name, column.type)
            slots.append(name)
        placed.append(slots)
    names_in_order = [name for (_j, _key), name in sorted(ordered.items(), key=lambda x: x[0][0])]

    def branch(i: int, sub) -> Select:
        own = dict(zip(placed[i], list(sub.c)[2:], strict=True))
        columns = [literal_column(str(i)).label("kind"), sub.c[0].label("operation_id"),
                   sub.c[1].label("operation_title")]  # fmt: skip
        for name, type_ in types.items():
            if name in own:
                columns.append(own[name].label(name))
            elif isinstance(type_, NullType):
                columns.append(null().label(name))
            else:
                columns.append(cast(null(), type_).label(name))
        return select(*columns).select_from(sub)

    union = union_all(*(branch(i, sub) for i, sub in enumerate(subs))).subquery("duties")
    statement = select(union).order_by(
        union.c.operation_title,
        union.c.operation_id,
        union.c.kind,
        *(union.c[n] for n in names_in_order),
    )
    found: list[list[KindRow]] = [[] for _ in kinds]
    names = [{name: index for index, name in enumerate(sub.c.keys())} for sub in subs]
    for row in db.session.execute(statement):
        i = row.kind
        values = (row.operation_id, row.operation_title, *(row._mapping[n] for n in placed[i]))
        found[i].append(KindRow(names[i], values))
    return found
