"""The operation's event log and who the Région tells: the bottom of the operations area.

Every area (design, conventions, recruitment, immersions…) writes its timeline events
and finds the referent through this module, so it imports nothing above the models.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind, Territory, User
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.digest import tell_referents
from portal.notifications.services import region_admins
from portal.operations.models import Operation, OperationEvent


def region_organisation() -> Organisation:
    """The Région (one per portal)."""
    region = db.session.scalar(
        select(Organisation).where(Organisation.kind == OrgKind.REGION).order_by(Organisation.id)
    )
    if region is None:
        raise RuleError(_("Aucune organisation Région n'est définie dans le portail."))
    return region


def log_event(operation: Operation, kind: str, *, by: User | None, org=None, **detail):
    """Append an event to the operation's timeline (and the audit log)."""
    event = OperationEvent(
        operation_id=operation.id,
        actor_id=getattr(by, "id", None),
        organisation_id=getattr(org, "id", None),
        kind=kind,
        detail=detail,
    )
    db.session.add(event)
    record(f"operation.{kind}", actor=by, organisation=org, obj=operation, **detail)
    return event


def referents_for(territory: Territory) -> list[User]:
    """Who the Région must tell at once: the bassin's referent, else the Région's admins."""
    return [territory.referent] if territory.referent else region_admins()


def tell_region(
    territory: Territory,
    *,
    kind: str,
    message: str,
    email_subject: str,
    operation: Operation | None = None,
    endpoint: str | None = None,
    by: User | None = None,
    **url_values,
):
    """Tell the Région « dans tous les cas et au plus tôt »: the bassin's referent (else its
    admins), in the portal at once and by e-mail at once or in the day's digest. ``by``,
    when given, is the person who acted: they are not told of their own action."""
    return tell_referents(
        [user for user in referents_for(territory) if by is None or user.id != by.id],
        kind=kind,
        message=message,
        email_subject=email_subject,
        endpoint=endpoint,
        operation=operation,
        **url_values,
    )
