"""Realistic French demo data (fictitious people and companies), for ``make run``."""

from portal.accounts import invitations, services
from portal.accounts.models import Organisation, OrgKind, PartnerType, Territory
from portal.core.demo_state import DEMO_DOMAIN
from portal.core.validators import luhn_ok
from portal.demo.closed import load_demo_closed_operation
from portal.demo.exports import load_demo_exports
from portal.demo.followup import load_demo_followup_operation
from portal.demo.history import load_demo_history
from portal.demo.operations import load_demo_operations
from portal.demo.region import load_demo_region
from portal.demo.running import load_demo_running_operation
from portal.demo.steering import load_demo_steering
from portal.extensions import db
from portal.immersions import tutoring
from portal.notifications import digest

DEMO_PASSWORD = "demo-defi-2026"  # noqa: S105 - documented demo password

DEMO_LOGINS = [
    (f"region@{DEMO_DOMAIN}", "Région — administratrice, direction de la formation"),
    (f"referent.orleans@{DEMO_DOMAIN}", "Région — référent territorial formation, Orléans"),
    (f"referente.tours@{DEMO_DOMAIN}", "Région — référente territoriale formation, Tours"),
    (f"of@{DEMO_DOMAIN}", "Organisme de formation — admin (membre de deux organismes)"),
    (f"of2@{DEMO_DOMAIN}", "Organisme de formation — admin, Touraine"),
    (f"employeur@{DEMO_DOMAIN}", "Entreprise — gérante"),
    (f"tuteur@{DEMO_DOMAIN}", "Entreprise — tuteur (nommé par la gérante)"),
    (f"boulangerie@{DEMO_DOMAIN}", "Entreprise — gérant et tuteur (boulangerie)"),
    (f"entrepot@{DEMO_DOMAIN}", "Entreprise — directeur de site, rejoint Saran par avenant"),
    (f"partenaire@{DEMO_DOMAIN}", "Partenaire — France Travail"),
    (f"mission.locale@{DEMO_DOMAIN}", "Partenaire — Mission locale"),
]

TERRITORIES = [
    ("ORL", "Orléans", "45"),
    ("MTG", "Montargis", "45"),
    ("TRS", "Tours", "37"),
    ("BLO", "Blois", "41"),
    ("CHR", "Chartres", "28"),
    ("BRG", "Bourges", "18"),
    ("CHX", "Châteauroux", "36"),
    ("VRZ", "Vierzon", "18"),
]


def demo_siret(seed: int) -> str:
    """A fictitious SIRET with a valid check key (starts with 9 to stay out of real ranges)."""
    base = f"9{seed:012d}"
    for last in range(10):
        candidate = base + str(last)
        if luhn_ok(candidate):
            return candidate
    raise AssertionError("unreachable: one of ten digits always satisfies Luhn")


def _org(kind, name, territory, seed, **fields) -> Organisation:
    organisation = Organisation(
        kind=kind, name=name, territory=territory, siret=demo_siret(seed), **fields
    )
    db.session.add(organisation)
    return organisation


def _person(email, first, last, org, *, admin=False, tutor=False, job="", phone=""):
    user = services.create_user(f"{email}@{DEMO_DOMAIN}", first, last, DEMO_PASSWORD, phone)
    services.add_membership(user, org, is_admin=admin, is_tutor=tutor, job_title=job)
    return user


def load_demo() -> None:
    """Create the Région, two OF, five employers, two partners and their people."""
    territories = {}
    for code, name, departments in TERRITORIES:
        territories[code] = Territory(code=code, name=name, departments=departments)
        db.session.add(territories[code])
    orl, trs, brg = territories["ORL"], territories["TRS"], territories["BRG"]

    region = _org(
        OrgKind.REGION,
        "Région Centre-Val de Loire",
        orl,
        1,
        address="9 rue Saint-Pierre-Lentin",
        postal_code="45000",
        city="Orléans",
        email=f"formation@{DEMO_DOMAIN}",
    )
    of1 = _org(
        OrgKind.PROVIDER,
        "Forma'Centre Loiret",
        orl,
        2,
        address="12 avenue des Droits de l'Homme",
        postal_code="45000",
        city="Orléans",
    )
    of2 = _org(
        OrgKind.PROVIDER,
        "Touraine Compétences Formation",
        trs,
        3,
        address="5 rue Édouard Vaillant",
        postal_code="37000",
        city="Tours",
    )
    logistics = _org(
        OrgKind.EMPLOYER,
        "Transports et Logistique du Loiret",
        orl,
        4,
        address="ZA des Montées, 140 rue des Bruyères",
        postal_code="45100",
        city="Orléans",
    )
    bakery = _org(
        OrgKind.EMPLOYER,
        "Boulangeries du Val de Loire",
        orl,
        5,
        address="3 place du Martroi",
        postal_code="45000",
        city="Orléans",
    )
    joinery = _org(
        OrgKind.EMPLOYER,
        "Menuiserie Berrichonne",
        brg,
        6,
        address="27 route de Nevers",
        postal_code="18000",
        city="Bourges",
    )
    care = _org(
        OrgKind.EMPLOYER,
        "Résidence Les Tilleuls (EHPAD)",
        trs,
        7,
        address="18 boulevard Béranger",
        postal_code="37000",
        city="Tours",
    )
    # Joins the running session of Saran through the amendment being signed.
    warehouse = _org(
        OrgKind.EMPLOYER,
        "Entrepôts Sologne Distribution",
        orl,
        10,
        address="Parc d'activités des Sablons, 8 rue de l'Aérodrome",
        postal_code="45770",
        city="Saran",
    )
    france_travail = _org(
        OrgKind.PARTNER,
        "France Travail — agence Orléans Est",
        orl,
        8,
        partner_type=PartnerType.EMPLOYMENT,
        postal_code="45100",
        city="Orléans",
    )
    mission_locale = _org(
        OrgKind.PARTNER,
        "Mission locale de l'Orléanais",
        orl,
        9,
        partner_type=PartnerType.ORIENTATION,
        postal_code="45000",
        city="Orléans",
    )
    db.session.flush()

    region_admin = _person(
        "region",
        "Sophie",
        "Marchand",
        region,
        admin=True,
        job="Directrice de la formation professionnelle",
    )
    orl.referent = _person(
        "referent.orleans", "Karim", "Benali", region, job="Référent territorial formation"
    )
    trs.referent = _person(
        "referente.tours", "Claire", "Dubois", region, job="Référente territoriale formation"
    )
    of_admin = _person(
        "of",
        "Julien",
        "Moreau",
        of1,
        admin=True,
        job="Responsable de projets DEFI",
        phone="02 38 00 11 22",
    )
    services.add_membership(of_admin, of2, job_title="Coordinateur régional")
    _person("formatrice", "Amélie", "Roux", of1, job="Formatrice conduite et logistique")
    of2_admin = _person("of2", "Mathilde", "Fontaine", of2, admin=True, job="Directrice")
    employer = _person("employeur", "Nathalie", "Girard", logistics, admin=True, job="Gérante")
    tutor = _person("tuteur", "Thomas", "Lefèvre", logistics, job="Chef d'équipe quai")
    baker = _person("boulangerie", "Olivier", "Perrin", bakery, admin=True, job="Gérant")
    # The employers' admins make their tutors through the members page (issue #12).
    tutoring.set_tutor_role(services.active_membership(tutor, logistics), True, by=employer)
    tutoring.set_tutor_role(services.active_membership(baker, bakery), True, by=baker)
    _person("menuiserie", "Sandrine", "Gauthier", joinery, admin=True, job="Responsable RH")
    warehouse_admin = _person(
        "entrepot", "Marc", "Delorme", warehouse, admin=True, job="Directeur de site"
    )
    care_admin = _person("ehpad", "Hélène", "Mercier", care, admin=True, job="Directrice")
    _person(
        "partenaire",
        "Isabelle",
        "Laurent",
        france_travail,
        admin=True,
        job="Conseillère entreprises",
    )
    _person(
        "mission.locale",
        "Youssef",
        "Amara",
        mission_locale,
        admin=True,
        job="Conseiller en insertion",
    )

    # Pending invitations, so the demo outbox has links a newcomer can follow.
    invitations.invite(f"nouvelle.formatrice@{DEMO_DOMAIN}", of1, by=of_admin)
    invitations.invite(f"chef.atelier@{DEMO_DOMAIN}", logistics, by=employer, is_tutor=True)
    invitations.invite(f"cap.emploi@{DEMO_DOMAIN}", france_travail, by=region_admin, is_admin=False)
    db.session.flush()

    orgs = {
        "region": region,
        "of1": of1,
        "of2": of2,
        "logistics": logistics,
        "bakery": bakery,
        "joinery": joinery,
        "care": care,
        "warehouse": warehouse,
        "france_travail": france_travail,
        "mission_locale": mission_locale,
    }
    people = {
        "region_admin": region_admin,
        "referent_orleans": orl.referent,
        "referent_tours": trs.referent,
        "of_admin": of_admin,
        "of2_admin": of2_admin,
        "employer": employer,
        "baker": baker,
        "care_admin": care_admin,
        "warehouse_admin": warehouse_admin,
    }
    load_demo_region(region=region, region_admin=region_admin)
    load_demo_operations(territories=territories, orgs=orgs, people=people)
    # Orléans, running: convention validated with an amendment being signed (it changes the
    # rhythm and brings in Entrepôts Sologne Distribution and its promises), trainees in
    # training, immersions, debriefs and evaluations (portal/demo/running.py).
    running = load_demo_running_operation(territories=territories, orgs=orgs, people=people)
    # Its steering committee: the launch meeting held (minutes approved, decisions, an
    # action item overdue), the mid-term one convened (portal/demo/steering.py).
    load_demo_steering(running, orgs=orgs, people=people)
    # Orléans, a previous session in « Suivi dans l'emploi »: exits, promises kept or not,
    # follow-ups at exit and +3 months, one to reconcile, one overdue (portal/demo/followup.py).
    load_demo_followup_operation(territories=territories, orgs=orgs, people=people)
    # Orléans, last year's session, closed: every +6 months follow-up retained, the
    # evaluation accepted and a prime DEFI granted (portal/demo/closed.py).
    load_demo_closed_operation(territories=territories, orgs=orgs, people=people)
    # Tours, Blois and Chartres, two and three years ago: closed before the portal opened,
    # their figures taken over for the piloting dashboard (portal/demo/history.py).
    seeds = iter(range(30, 60))
    load_demo_history(
        territories=territories, orgs=orgs, people=people, siret=lambda: demo_siret(next(seeds))
    )
    # The Orléans referent heard of more events today than the threshold: the digest of
    # the rest goes out (``flask notifications digest``, run here once).
    digest.send_digests()
    # Last, as it commits: the Région's admin exported the operations from the dashboard.
    load_demo_exports(region=region, region_admin=region_admin)
