"""The kinds of « À faire » across operations (``across.py``): each a ``select`` of rows
(``Rows``) or, where Python decides, a list (``Listed``), over the visible open
operations (``operations``)."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Select, exists, select

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.operations.access import visible_operations
from portal.operations.models import Operation, Participant, Status
from portal.todo.base import WORK, Duty, link


@dataclass(frozen=True)
class OperationRef:
    """What a duty shows of its operation until the page's operations are read."""

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
