"""Factories for operations tests: a small market with a Région, two OF, lots and employers."""

from portal.accounts.models import OrgKind
from portal.extensions import db
from portal.lots.models import Category, LotTrade, MarketLot
from portal.operations import services
from tests.conftest import make_org, make_territory, make_user


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


class Market:
    """Everything a need report touches, created in the current app context."""

    def __init__(self):
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
