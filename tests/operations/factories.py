"""Factories for operations tests: a small market with a Région, two OF, lots and employers,
operations reported through the service or inserted in bulk."""

from datetime import timedelta
from types import SimpleNamespace

from sqlalchemy import func, insert, select

from portal.accounts.models import OrgKind, Territory
from portal.core.time import utcnow
from portal.extensions import db
from portal.lots.models import Category, LotTrade, MarketLot
from portal.operations import services
from portal.operations.models import (
    Funding,
    Operation,
    OperationEvent,
    Participant,
    ParticipantRole,
    Status,
)
from tests.factories import make_org, make_territory, make_user
from tests.support import CopiedBuild, committed, org_named, user_with


def make_lot(
    holder,
    territories,
    codes=("K2204",),
    category=Category.SE_FORMER,
    number=None,
    start=2020,
    end=2099,
    active=True,
) -> MarketLot:
    lot = MarketLot(
        number=number or f"LOT-{holder.id}-{len(codes)}-{territories[0].id}-{category.value}",
        title="Agent·e de propreté",
        category=category,
        holder=holder,
        period_start=start,
        period_end=end,
        active=active,
        territories=list(territories),
        trades=[LotTrade(rome_code=c) for c in codes],
    )
    db.session.add(lot)
    db.session.flush()
    return lot


class Market(CopiedBuild):
    """Everything a need report touches, created in the current app context.

    Built through the services the first time in a process; after that, in an empty
    database, the rows that first build wrote are copied back (``support.CopiedBuild``):
    a thousand tests start from a market, and its seven accounts with their audited
    memberships cost ~60 ms to build against ~5 ms to copy.
    """

    def _build(self):
        self.tours = make_territory("Tours", "TRS")
        self.orleans = make_territory("Orléans", "ORL")
        self.region = make_org(OrgKind.REGION, "Région Centre-Val de Loire")
        self.of_a = make_org(OrgKind.PROVIDER, "Organisme A")
        self.of_b = make_org(OrgKind.PROVIDER, "Organisme B")
        self.employer = make_org(OrgKind.EMPLOYER, "Entreprise E")
        self.employer2 = make_org(OrgKind.EMPLOYER, "Entreprise F")
        self.partner = make_org(OrgKind.PARTNER, "Partenaire P")
        self.region_admin = make_user(self.region, admin=True, email="region.admin@example.fr")
        self.referent = make_user(self.region, email="referent.tours@example.fr")
        self.tours.referent = self.referent
        self.a_user = make_user(self.of_a, admin=True, email="a.admin@example.fr")
        self.b_user = make_user(self.of_b, admin=True, email="b.admin@example.fr")
        self.employer_user = make_user(self.employer, admin=True, email="e.admin@example.fr")
        self.employer2_user = make_user(self.employer2, admin=True, email="f.admin@example.fr")
        self.partner_user = make_user(self.partner, admin=True, email="p.admin@example.fr")
        self.lot = make_lot(self.of_a, [self.tours], codes=("K2204", "K2201"))
        db.session.flush()

    def need(self, **overrides) -> dict:
        data = {
            "title": "Agent·e de propreté et d'hygiène",
            "category": Category.SE_FORMER,
            "territory": self.tours,
            "rome_code": "K2204",
            "trades": "Agent d'entretien",
            "positions_estimate": 6,
            "desired_start": None,
            "context": "Postes vacants dans les résidences de Tours Nord.",
            "employers": [self.employer],
        }
        data.update(overrides)
        return data

    def report(self, org=None, user=None, **overrides):
        return services.report_need(
            self.need(**overrides), by=user or self.a_user, org=org or self.of_a
        )


# Accounts of the Market factory (tests/operations/factories.py).
REGION_ADMIN = "region.admin@example.fr"

REFERENT = "referent.tours@example.fr"  # Région member, referent of Tours only

OF_A = "a.admin@example.fr"  # holds the Tours lot

OF_B = "b.admin@example.fr"

EMPLOYER = "e.admin@example.fr"

EMPLOYER2 = "f.admin@example.fr"

PARTNER = "p.admin@example.fr"


def build_market(app) -> SimpleNamespace:
    """The Market factory committed; its ids (no operation yet)."""
    with committed(app):
        m = Market()
        db.session.flush()
        ids = SimpleNamespace(
            tours=m.tours.id,
            orleans=m.orleans.id,
            region=m.region.id,
            of_a=m.of_a.id,
            of_b=m.of_b.id,
            employer=m.employer.id,
            employer2=m.employer2.id,
            partner=m.partner.id,
            lot=m.lot.id,
            lot_number=m.lot.number,
            referent=m.referent.id,
        )
    return ids


def report(
    app,
    org_name="Organisme A",
    email=OF_A,
    *,
    bassin="Tours",
    employers=("Entreprise E",),
    **overrides,
) -> int:
    """Report a need through the service (committed); returns the operation's id."""
    with committed(app):
        data = {
            "title": "Agent·e de propreté et d'hygiène",
            "category": Category.SE_FORMER,
            "territory": db.session.scalar(select(Territory).where(Territory.name == bassin)),
            "rome_code": "K2204",
            "trades": "Agent d'entretien",
            "positions_estimate": 6,
            "desired_start": None,
            "context": "Postes vacants dans les résidences de Tours Nord.",
            "employers": [org_named(name) for name in employers],
            **overrides,
        }
        operation = services.report_need(data, by=user_with(email), org=org_named(org_name))
        return operation.id


def report_out_of_market(app) -> int:
    """Outside any lot, in Orléans, reported by Organisme B with Entreprise F."""
    return report(
        app,
        "Organisme B",
        OF_B,
        title="Opérateur·rice de production",
        rome_code="H2102",
        trades="Conduite de ligne",
        bassin="Orléans",
        employers=("Entreprise F",),
    )


def add_events(app, operation_id: int, n: int) -> None:
    """``n`` more timeline events, older than the report, inserted directly."""
    start = utcnow() - timedelta(days=30)
    with app.app_context():
        db.session.execute(
            insert(OperationEvent),
            [
                {
                    "operation_id": operation_id,
                    "at": start + timedelta(minutes=i),
                    "kind": "updated",
                    "detail": {"fields": [f"champ{i}"]},
                }
                for i in range(n)
            ],
        )
        db.session.commit()


def bulk_operations(
    app,
    n: int,
    *,
    provider_id: int,
    territory_id: int,
    region_id: int,
    user_id: int,
    employer_id: int | None = None,
    lot_id: int | None = None,
) -> list[int]:
    """``n`` operations with their by-right participants and one event, inserted directly
    (the service would be too slow for hundreds); every third one under ``lot_id`` if given."""
    with app.app_context():
        now = utcnow()
        first = (db.session.scalar(select(func.max(Operation.id))) or 0) + 1
        ids = list(range(first, first + n))
        statuses = list(Status)
        db.session.execute(
            insert(Operation),
            [
                {
                    "id": i,
                    "title": f"Opération en série {i}",
                    "category": Category.SE_FORMER,
                    "territory_id": territory_id,
                    "rome_code": "H2102",
                    "trades": "",
                    "status": statuses[i % len(statuses)],
                    "funding": Funding.LOT if lot_id and i % 3 == 0 else Funding.PENDING,
                    "lot_id": lot_id if lot_id and i % 3 == 0 else None,
                    "provider_id": provider_id,
                    "context": "",
                    "reported_by_id": user_id,
                    "reported_by_org_id": provider_id,
                    "reported_at": now - timedelta(minutes=i),
                    "fref_reference": "",
                    "decline_reason": "",
                    "certification_code": "",
                    "certification_title": "",
                    "cancel_reason": "",
                    "acknowledgement_comment": "",
                    "updated_at": now,
                }
                for i in ids
            ],
        )
        roles = [(region_id, ParticipantRole.REGION), (provider_id, ParticipantRole.PROVIDER)]
        if employer_id:
            roles.append((employer_id, ParticipantRole.EMPLOYER))
        db.session.execute(
            insert(Participant),
            [
                {
                    "operation_id": i,
                    "organisation_id": org_id,
                    "role": role,
                    "by_right": role != ParticipantRole.EMPLOYER,
                    "added_at": now,
                    "withdrawal_reason": "",
                }
                for i in ids
                for org_id, role in roles
            ],
        )
        db.session.execute(
            insert(OperationEvent),
            [
                {
                    "operation_id": i,
                    "at": now,
                    "actor_id": user_id,
                    "organisation_id": provider_id,
                    "kind": "need_reported",
                    "detail": {"funding": "pending", "lot": None},
                }
                for i in ids
            ],
        )
        if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequence on
            db.session.execute(select(func.setval("operations_id_seq", func.max(Operation.id))))
        db.session.commit()
    return ids


def add_operations(app, market, n: int) -> list[int]:
    """``n`` operations of Organisme A with Entreprise E in Tours (``bulk_operations``),
    their steps in turn, every third one under its lot; ``market`` from ``build_market``."""
    return bulk_operations(
        app,
        n,
        provider_id=market.of_a,
        territory_id=market.tours,
        region_id=market.region,
        user_id=market.referent,
        employer_id=market.employer,
        lot_id=market.lot,
    )


def set_status(app, operation_id: int, status: Status) -> None:
    with app.app_context():
        db.session.get(Operation, operation_id).status = status
        db.session.commit()


def need_form(market, **overrides) -> dict:
    """The need report form, filled for the Tours market, with ``overrides``."""
    data = {
        "title": "Agent·e de propreté en résidence",
        "category": "se_former",
        "territory_id": str(market.tours),
        "rome_code": "k2204",
        "trades": "Agent d'entretien",
        "positions_estimate": "6",
        "desired_start": "",
        "context": "Postes vacants dans les résidences de Tours Nord.",
        "employer_ids": [str(market.employer)],
        "new_employers-0-name": "",
        "new_employers-0-email": "",
        "new_employers-1-name": "",
        "new_employers-1-email": "",
    }
    data.update(overrides)
    return data
