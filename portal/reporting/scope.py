"""Which operations a dashboard or an export covers: the filters read from the URL, within
what the current user may see.

The URL carries every filter (``annee``, ``bassin``, ``categorie``, ``lot``, ``organisme``,
``statut``) so that a link, the back button and a plain GET form all give the same page.
Who sees what (issue #14): the Région's admins every operation; a referent the operations
of the bassins they are referent for, and the whole Région on request
(``perimetre=region``); everyone else the operations their organisation takes part in
(``operations.access.visible_operations``). A filter never widens that scope.
"""

from dataclasses import dataclass, fields
from datetime import date, datetime

from flask import request
from sqlalchemy import Select, and_, or_, select
from werkzeug.datastructures import MultiDict

from portal.accounts.access import acting_for_region, current_membership
from portal.accounts.models import Territory
from portal.lots.models import Category
from portal.operations.access import visible_operations
from portal.operations.models import Operation, Status
from portal.reporting.models import DashboardGroup

YEAR_MIN, YEAR_MAX = 2000, 2100


def _enum(enum_cls, value):
    try:
        return enum_cls(value) if value else None
    except ValueError:
        return None


def _year(value) -> int | None:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return None
    return year if YEAR_MIN <= year <= YEAR_MAX else None


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters (invalid values are ignored, never an error)."""

    year: int | None = None
    territory_id: int | None = None
    category: Category | None = None
    lot_id: int | None = None
    provider_id: int | None = None
    status: Status | None = None
    whole_region: bool = False  # a referent asks for every bassin

    # Field name -> URL parameter: French, as the rest of the portal's URLs.
    PARAMS = {
        "year": "annee",
        "territory_id": "bassin",
        "category": "categorie",
        "lot_id": "lot",
        "provider_id": "organisme",
        "status": "statut",
        "whole_region": "perimetre",
    }

    @classmethod
    def from_request(cls) -> "Filters":
        return cls.from_args(request.args)

    @classmethod
    def from_args(cls, args) -> "Filters":
        """The filters from URL parameters (``request.args``, or ``args()`` kept)."""
        args = MultiDict(args)
        return cls(
            year=_year(args.get("annee")),
            territory_id=args.get("bassin", type=int),
            category=_enum(Category, args.get("categorie")),
            lot_id=args.get("lot", type=int),
            provider_id=args.get("organisme", type=int),
            status=_enum(Status, args.get("statut")),
            whole_region=args.get("perimetre") == "region",
        )

    def args(self) -> dict:
        """The filters as URL parameters (for links and exports), empty ones left out."""
        found = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is True:
                found[self.PARAMS[field.name]] = "region"
            elif value not in (None, False):
                found[self.PARAMS[field.name]] = getattr(value, "value", value)
        return found

    @property
    def active(self) -> bool:
        return any(
            getattr(self, f.name) not in (None, False)
            for f in fields(self)
            if f.name != "whole_region"
        )

    def apply(self, query: Select) -> Select:
        """Narrow ``query`` (on ``Operation``) to the filters."""
        if self.year:
            query = query.where(year_sql(self.year))
        for column, value in (
            (Operation.territory_id, self.territory_id),
            (Operation.category, self.category),
            (Operation.lot_id, self.lot_id),
            (Operation.provider_id, self.provider_id),
            (Operation.status, self.status),
        ):
            if value is not None:
                query = query.where(column == value)
        return query

    def on_groups(self) -> list:
        """The filters as conditions on ``DashboardGroup`` (``reporting.groups``)."""
        return [
            getattr(DashboardGroup, name) == value
            for name, value in (
                ("year", self.year),
                ("territory_id", self.territory_id),
                ("category", self.category),
                ("lot_id", self.lot_id),
                ("provider_id", self.provider_id),
                ("status", self.status),
            )
            if value is not None
        ]


def year_sql(year: int):
    """SQL condition: the operation's year is ``year`` — the year its session starts, or
    the year its need was reported while no session date is set. Ranges rather than a
    year function, so that the indexes serve and SQLite and PostgreSQL agree."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return or_(
        and_(Operation.session_start >= start, Operation.session_start < end),
        and_(
            Operation.session_start.is_(None),
            Operation.reported_at >= datetime(year, 1, 1),
            Operation.reported_at < datetime(year + 1, 1, 1),
        ),
    )


def is_referent_view() -> bool:
    """The user acts for the Région without being its admin: a referent's default scope is
    their own bassins."""
    membership = current_membership()
    return acting_for_region() and membership is not None and not membership.is_admin


def scope_query(filters: Filters, query: Select | None = None) -> Select:
    """``select(Operation…)`` limited to what the user may count, then to ``filters``."""
    query = query if query is not None else select(Operation)
    # The Région pilots every operation: a referent may look beyond their bassins.
    whole = acting_for_region() and filters.whole_region
    return filters.apply(query if whole else visible_operations(query))


def group_scope(filters: Filters) -> list | None:
    """``scope_ids(filters)`` as conditions on the dashboard's groups (``reporting.groups``),
    for someone acting for the Région, whose scope is every operation or the operations of
    some bassins (``visible_operations``); None for everyone else, whose scope (the
    operations their organisation takes part in) no group can say."""
    membership = current_membership()
    if membership is None or not acting_for_region():
        return None
    conditions = filters.on_groups()
    if not (filters.whole_region or membership.is_admin):
        referent_of = select(Territory.id).where(Territory.referent_id == membership.user_id)
        conditions.append(DashboardGroup.territory_id.in_(referent_of))
    return conditions


def scope_ids(filters: Filters) -> Select:
    """The ids of the operations in scope, as a subquery for the aggregates. It never
    correlates with the query it sits in (which often selects from ``operations`` too)."""
    return scope_query(filters, select(Operation.id)).correlate(None)
