"""The site map: the pages the current person can open, grouped as the main navigation.

Each entry carries the condition under which its page opens for the current organisation
and role — the same conditions as ``templates/core/_nav.html`` and the views' guards — so
that nobody is shown a link to a page that would refuse them (tests/public/ follows every
link of the map for each role and expects a page).
"""

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.accounts.access import current_membership, is_region_admin
from portal.accounts.models import OrgKind
from portal.core.demo_state import demo_mode
from portal.extensions import db
from portal.operations.queries import Filters, operations_query


@dataclass(frozen=True)
class Entry:
    """A page of the map: its title, its endpoint, and who may open it."""

    title: str
    endpoint: str
    allowed: Callable[[], bool] = lambda: True
    values: Callable[[], dict] = dict


@dataclass(frozen=True)
class Link:
    """An entry the current person may open, with its URL."""

    title: str
    url: str


def _kind(*kinds: OrgKind) -> Callable[[], bool]:
    def allowed() -> bool:
        membership = current_membership()
        return membership is not None and membership.organisation.kind in kinds

    return allowed


def _hosts() -> bool:
    """An admin of an employer: the immersions its company hosts (and its tutors)."""
    membership = current_membership()
    return (
        membership is not None
        and membership.organisation.kind == OrgKind.EMPLOYER
        and membership.is_admin
    )


def _tutors_only() -> bool:
    """A tutor who does not manage the company: the trainees they follow."""
    membership = current_membership()
    return membership is not None and membership.is_tutor and not _hosts()


def _own_organisation() -> dict:
    return {"org_id": current_membership().organisation_id}


PUBLIC = (
    Entry(_l("Vérifier une convention ou une archive"), "verification.verify"),
    Entry(_l("Déclaration d'accessibilité"), "public.accessibility"),
    Entry(_l("Mentions légales"), "public.legal_notice"),
    Entry(_l("Données personnelles"), "public.personal_data"),
    Entry(_l("Plan du site"), "public.sitemap"),
)
ANONYMOUS = (
    Entry(_l("Connexion"), "accounts.login"),
    Entry(_l("Mot de passe oublié"), "accounts.forgot_password"),
)
MEMBER = (
    Entry(_l("Accueil"), "core.home"),
    Entry(_l("À faire"), "todo.list_duties"),
    Entry(_l("Opérations DEFI"), "operations.list_operations"),
    Entry(
        _l("Signaler un besoin"),
        "operations.report_need",
        _kind(OrgKind.PROVIDER, OrgKind.REGION),
    ),
    Entry(_l("Immersions et tutorat"), "tutoring.tutor_home", _hosts),
    Entry(_l("Mes stagiaires en immersion"), "tutoring.tutor_home", _tutors_only),
    Entry(_l("Suivi dans l'emploi"), "employment.list_followups"),
    Entry(_l("Pilotage"), "reporting.show_dashboard"),
    Entry(_l("Notifications"), "notifications.list_notifications"),
    Entry(_l("Cumuls à décider"), "operations.list_dual_memberships", _kind(OrgKind.REGION)),
    Entry(_l("Marchés et lots"), "lots.list_lots", _kind(OrgKind.REGION, OrgKind.PROVIDER)),
    Entry(_l("Pour aller plus loin"), "resources.list_documents"),
    Entry(_l("Mon organisation"), "organisations.list_members", values=_own_organisation),
    Entry(_l("Mon compte"), "accounts.account"),
    Entry(_l("Courriels envoyés (démonstration)"), "mail.outbox", demo_mode),
)
ADMINISTRATION = (
    Entry(_l("Organisations"), "admin.list_organisations", is_region_admin),
    Entry(_l("Utilisateurs"), "admin.list_users", is_region_admin),
    Entry(_l("Bassins et référents"), "admin.list_territories", is_region_admin),
    Entry(_l("Convention type"), "admin.edit_clause_template", is_region_admin),
    Entry(_l("Registre des traitements"), "admin.show_register", is_region_admin),
)


SITEMAP_OPERATIONS = 30


def _operations() -> list[Link]:
    """The operations the person takes part in (or pilots), newest first, as on the list."""
    query = operations_query(Filters()).limit(SITEMAP_OPERATIONS)
    return [
        Link(operation.title, url_for("operations.show_operation", operation_id=operation.id))
        for operation in db.session.scalars(query)
    ]


@dataclass(frozen=True)
class Group:
    """A heading of the map and its links."""

    title: str
    links: list[Link]


def _links(entries) -> list[Link]:
    return [Link(str(e.title), url_for(e.endpoint, **e.values())) for e in entries if e.allowed()]


def site_map() -> list[Group]:
    """The groups of links the current person may follow (public pages only when
    anonymous); empty groups are left out."""
    groups = []
    if current_user.is_authenticated and current_membership() is not None:
        groups.append(Group(str(_l("Mon espace")), _links(MEMBER)))
        groups.append(Group(str(_l("Opérations DEFI, les plus récentes")), _operations()))
        groups.append(Group(str(_l("Administration")), _links(ADMINISTRATION)))
    else:
        groups.append(Group(str(_l("Compte")), _links(ANONYMOUS)))
    groups.append(Group(str(_l("Informations publiques")), _links(PUBLIC)))
    return [group for group in groups if group.links]
