"""Factories of the reporting tests: the demo's history (three closed operations whose
figures are a table of facts, ``portal.demo.history.PAST``), built on a small world of
its own — no Argon2 beyond the shared hash, no document.

Usage (inside an app context)::

    world = Pilot()           # Région (admin, Tours referent), Forma'Centre, Touraine
    world.add_history()       # the three operations again (for larger data sets)
"""

from itertools import count

from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind
from portal.demo import demo_siret
from portal.demo.history import PAST, load_demo_history
from portal.demo.operations import load_demo_lots
from portal.extensions import db
from portal.operations.models import Operation, Participant, ParticipantRole
from tests.factories import make_org, make_territory, make_user
from tests.support import CopiedBuild

_SEEDS = count(1000)

REGION_ADMIN = "pilote.region@example.fr"
REFERENT_TOURS = "pilote.tours@example.fr"
REGION_MEMBER = "pilote.membre@example.fr"  # Région, referent of no bassin
OF1 = "pilote.of1@example.fr"  # Forma'Centre Loiret: carries Chartres
OF2 = "pilote.of2@example.fr"  # Touraine Compétences: carries Tours and Blois
GARDENS = "pilote.paysages@example.fr"  # admin of Paysages du Loir-et-Cher (Blois)
GARDENS_TUTOR = "pilote.tuteur@example.fr"  # member of it, tutor of nobody
PARTNER = "pilote.partenaire@example.fr"  # Mission locale, partner of Chartres
OUTSIDER = "pilote.menuiserie@example.fr"  # an employer in no operation

TOURS, BLOIS, CHARTRES = (past.title for past in PAST)


class Pilot(CopiedBuild):
    """The orgs and people of the demo's history, and its three operations (built once
    per process, then copied: ``support.CopiedBuild``)."""

    def _build(self):
        codes = {"ORL": "Orléans", "MTG": "Montargis", "TRS": "Tours", "BLO": "Blois"}
        codes["CHR"] = "Chartres"
        self.territories = {code: make_territory(name, code) for code, name in codes.items()}
        self.region = make_org(OrgKind.REGION, "Région Centre-Val de Loire")
        self.of1 = make_org(OrgKind.PROVIDER, "Forma'Centre Loiret")
        self.of2 = make_org(OrgKind.PROVIDER, "Touraine Compétences Formation")
        self.partner = make_org(OrgKind.PARTNER, "Mission locale de Chartres")
        self.outsider = make_org(OrgKind.EMPLOYER, "Menuiserie Berrichonne")
        make_user(self.region, admin=True, email=REGION_ADMIN)
        self.territories["TRS"].referent = make_user(self.region, email=REFERENT_TOURS)
        make_user(self.region, email=REGION_MEMBER)
        self.people = {
            "of_admin": make_user(self.of1, admin=True, email=OF1),
            "of2_admin": make_user(self.of2, admin=True, email=OF2),
        }
        make_user(self.partner, admin=True, email=PARTNER)
        make_user(self.outsider, admin=True, email=OUTSIDER)
        self.orgs = {"region": self.region, "of1": self.of1, "of2": self.of2}
        load_demo_lots(self.territories, self.orgs)
        self.add_history()
        gardens = db.session.scalar(
            select(Organisation).where(Organisation.name == "Paysages du Loir-et-Cher")
        )
        make_user(gardens, admin=True, email=GARDENS)
        make_user(gardens, email=GARDENS_TUTOR)
        chartres = self.operation(CHARTRES)
        db.session.add(
            Participant(
                operation=chartres,
                organisation=self.partner,
                role=ParticipantRole.PARTNER_ORIENTATION,
            )
        )
        db.session.flush()

    def add_history(self) -> None:
        """The three closed operations (again: the titles repeat, the ids do not)."""
        load_demo_history(
            territories=self.territories,
            orgs=self.orgs,
            people=self.people,
            siret=lambda: demo_siret(next(_SEEDS)),
        )
        db.session.flush()

    def operation(self, title: str) -> Operation:
        return db.session.scalars(
            select(Operation).where(Operation.title == title).order_by(Operation.id)
        ).first()
